"""Evidence-pack routes: request an export, follow its progress, download the zip."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from api.deps import CurrentUser, SessionDep, StoreDep
from archive.search import exports
from archive.search.schemas import ExportOut, ExportRequest

router = APIRouter(tags=["exports"])


@router.post("/exports", status_code=202, response_model=ExportOut,
             summary="Request an evidence pack (BagIt zip) of a search or of record ids")
def create_export(body: ExportRequest, principal: CurrentUser, session: SessionDep,
                  response: Response) -> ExportOut:
    export = exports.request_export(session, principal, body)
    response.headers["Location"] = f"/api/v1/exports/{export.id}"
    return exports.to_out(export)


@router.get("/exports/{export_id}", response_model=ExportOut,
            summary="Status and progress of an export")
def get_export(export_id: uuid.UUID, principal: CurrentUser, session: SessionDep) -> ExportOut:
    return exports.to_out(exports.get_export(session, principal, export_id))


@router.get("/exports/{export_id}/download", response_class=StreamingResponse,
            summary="The finished evidence pack (zip), streamed from the store")
def download_export(export_id: uuid.UUID, principal: CurrentUser, session: SessionDep,
                    store: StoreDep) -> StreamingResponse:
    export, chunks = exports.open_download(session, store, principal, export_id)
    return StreamingResponse(chunks, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="evidence-pack-{export.id}.zip"',
        "Content-Length": str(export.result_size),
        "ETag": f'"{export.result_sha256}"',
        "X-Content-Type-Options": "nosniff"})
