"""The finance officer's page: upload several files with their metadata, follow each
file's inspection, and see the organisation's recent uploads."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.deps import SessionDep, SettingsDep, StoreDep
from api.routers import evidence as evidence_api
from api.web import present
from api.web.pages import FormError, PageRoute, PageUser, ScriptUploader, lang_of, render
from archive.accounts.principal import require
from archive.errors import ArchiveError
from archive.evidence import service as evidence
from archive.evidence.models import DOC_TYPES
from archive.inspection import records as inspection
from archive.orgs import service as orgs
from archive.search import service as search
from archive.search.schemas import SearchItem, SearchParams

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RECENT = 20


@router.get("/upload")
def upload_page(request: Request, principal: PageUser, session: SessionDep,
                settings: SettingsDep) -> Response:
    require(principal, "evidence.create")
    return render(request, "upload.html", orgs=orgs.visible(session, principal),
                  doc_types=DOC_TYPES, recent=_recent(session, principal),
                  max_bytes=settings.max_upload_bytes)


@router.get("/upload/recent")
def recent_fragment(request: Request, principal: PageUser, session: SessionDep) -> Response:
    require(principal, "evidence.create")
    return render(request, "partials/recent.html", recent=_recent(session, principal))


def _recent(session: SessionDep, principal: PageUser) -> list[SearchItem]:
    page = search.search(session, principal, SearchParams(sort="-uploaded", limit=RECENT),
                         output="page")
    return page.items


@router.post("/upload/file")
async def upload_file(request: Request, principal: ScriptUploader, store: StoreDep,
                      settings: SettingsDep) -> Response:
    """One file of the upload page (sent by its script with the CSRF token as a header):
    the same ingest as ``POST /api/v1/evidence``, with answers the page can show as they
    are — problems translated, one per field."""
    try:
        out = await evidence_api.receive_upload(request, principal, store, settings)
    except ArchiveError as exc:   # nothing was committed: the ingest's own unit of work
        existing = exc.detail.get("existing") if exc.code == "duplicate_upload" and \
            isinstance(exc.detail, dict) else None
        extra = {"existing_url": f"/records/{existing[0]}"} if existing else {}
        raise FormError(exc, lambda s, status, error, problems, code=exc.code: JSONResponse(
            {"ok": False, "error": code, "message": error, "fields": problems, **extra},
            status_code=status)) from exc
    return JSONResponse({"ok": True, "id": str(out.id), "sha256": out.sha256,
                         "duplicate": out.duplicate,
                         "duplicate_of": [str(i) for i in out.duplicate_of],
                         "result_url": f"/upload/result/{out.id}",
                         "record_url": f"/records/{out.id}"}, status_code=201)


@router.get("/upload/result/{evidence_id}")
def upload_result(request: Request, evidence_id: uuid.UUID, principal: PageUser,
                  session: SessionDep) -> Response:
    """A file's result on the upload page, polled by htmx until the inspection is in (not
    audited as a read, like ``GET /api/v1/evidence/{id}/inspection``)."""
    record, blob, org = evidence.get(session, principal, evidence_id, audit_read=False)
    found = inspection.get(session, principal, evidence_id)
    return render(request, "partials/upload_result.html", record=record, blob=blob, org=org,
                  inspection=found, pdfa_failures=present.pdfa_failures(
                      found.pdfa if found else None, lang_of(request)),
                  # the page refreshes its list of recent uploads when a result is in
                  headers={"HX-Trigger": "inspected"} if found else None)
