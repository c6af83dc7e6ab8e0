"""Evidence routes: parse, authorise (via ``CurrentUser`` + services), call one service."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
import threading
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from api.conditional import expected_version, version_etag
from api.deps import CurrentUser, SessionDep, SettingsDep, StoreDep, UploadCaller
from api.errors import status_for
from api.multipart import MalformedMultipart, read_batch, read_upload
from api.upload_limits import UploadSlots, timed
from archive.accounts.principal import Principal, require
from archive.audit import service as audit
from archive.audit.schemas import AuditEventOut
from archive.config import Settings
from archive.disbursements import service as disbursements
from archive.errors import InvalidInput, NotFound, PayloadTooLarge
from archive.evidence import batch, service
from archive.evidence.batch import BatchItem
from archive.evidence.intake import Spool
from archive.evidence.schemas import (
    EvidenceMetadata,
    EvidenceOut,
    EvidenceUpdate,
    HistoryOut,
    IngestOut,
    parse_metadata,
)
from archive.inspection import records as inspection
from archive.inspection import renditions
from archive.messages import message
from archive.storage import ObjectStore
from archive.textnorm import safe_filename
from archive.unit_of_work import session_scope, units_of

router = APIRouter(tags=["evidence"])
log = logging.getLogger("api")

# Multipart framing and form fields on top of the file itself.
_FORM_OVERHEAD = 256 * 1024


class EvidenceDetail(EvidenceOut):
    history: list[HistoryOut]
    audit: list[AuditEventOut]


@router.post("/evidence", status_code=201, response_model=IngestOut,
             summary="Upload one file with its metadata (multipart/form-data)")
async def upload(request: Request, principal: UploadCaller, store: StoreDep,
                 settings: SettingsDep) -> IngestOut:
    """Form fields: ``file`` and ``org_code``, ``doc_type``; optional ``fiscal_year``,
    ``voucher_no``, ``doc_number``, ``issue_date``, ``issuer_name``, ``issuer_tax_id``,
    ``issuer_branch``, ``amount``, ``vat_amount``, ``currency``, ``description``. With
    ``disbursement_id`` and ``role`` the file goes straight into that voucher (archived and
    linked in one transaction)."""
    return await receive_upload(request, principal, store, settings)


async def receive_upload(request: Request, principal: Principal, store: ObjectStore,
                         settings: Settings) -> IngestOut:
    """Spool the body (no database connection held), then ingest in a unit of work of its
    own, committed before the answer: a 201 always means "committed"."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and \
            int(declared) > settings.max_upload_bytes + _FORM_OVERHEAD:
        raise PayloadTooLarge(message("upload.too_large", "file is larger than the limit of {n} "
                                      "bytes", n=settings.max_upload_bytes))

    def new_spool() -> Spool:
        return Spool(max_bytes=settings.max_upload_bytes,
                     memory_limit=settings.spool_memory_bytes, tmp_dir=settings.tmp_dir)

    with upload_slots(request, settings).take(principal.name):
        body = timed(request.stream(), idle=settings.upload_idle_timeout_seconds,
                     total=settings.upload_max_seconds)
        try:
            form = await read_upload(body, request.headers.get("content-type"), new_spool)
        except ClientDisconnect:
            raise MalformedMultipart("the client disconnected during the upload") from None
    assert form.spool is not None
    spool = form.spool
    try:
        fields = dict(form.fields)
        into = _voucher_fields(fields)
        meta = parse_metadata(EvidenceMetadata, fields)
        filename = safe_filename(form.filename)

        def ingest() -> IngestOut:
            with session_scope(request.app.state.sessions) as session:
                ingest_args: dict[str, Any] = dict(
                    spool=spool, meta=meta, filename=filename,
                    client_media_type=form.content_type,
                    policy=service.IngestPolicy(settings.allowed_media_types,
                                                settings.default_retention_years,
                                                settings.lock_min_horizon_days))
                if into is None:
                    result = service.ingest(session, store, principal, **ingest_args)
                else:
                    result = disbursements.ingest_into(
                        session, store, principal, disbursement_id=into[0], role=into[1],
                        **ingest_args)
                return service.ingest_out(result)

        return await run_in_threadpool(ingest)
    finally:
        spool.close()


class BatchItemOut(BaseModel):
    index: int
    filename: str
    status: int
    evidence: IngestOut | None = None
    error: str | None = None
    detail: Any = None


class BatchOut(BaseModel):
    created: int
    failed: int
    items: list[BatchItemOut]


@router.post("/evidence/batch", response_model=BatchOut,
             summary="Upload many files in one request (multipart/form-data: a 'meta' part, "
                     "then its 'file' part, for each file)")
async def upload_batch(request: Request, principal: UploadCaller, store: StoreDep,
                       settings: SettingsDep) -> BatchOut:
    """For migrating a backlog: each ``meta`` part is a JSON object of the single upload's
    form fields (``org_code``, ``doc_type``, …), and the ``file`` part after it is its file.
    Each file is archived or refused on its own (``items[].status``: what it would have
    been answered alone: 201, or 409/413/415/422/403/404/503 with ``error`` and
    ``detail``); the answer comes after the commit. At most ``ARCHIVE_BATCH_MAX_ITEMS``
    files and ``ARCHIVE_BATCH_MAX_BYTES`` in all; the batch takes one of the account's
    upload slots while its body arrives, and no database connection until it has."""
    require(principal, "evidence.create")      # before a byte of the body is read
    limit = settings.batch_max_bytes + _FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"a batch is at most {settings.batch_max_bytes} bytes")
    spools: list[Spool] = []

    def new_spool(index: int) -> Spool:
        # the first files of a batch stay in memory, up to four single uploads' worth
        in_memory = sum(sp.size for sp in spools if sp.path is None)
        memory = settings.spool_memory_bytes if \
            in_memory < 4 * settings.spool_memory_bytes else 0
        spool = Spool(max_bytes=settings.max_upload_bytes, memory_limit=memory,
                      tmp_dir=settings.tmp_dir)
        spools.append(spool)
        return spool

    try:
        with upload_slots(request, settings).take(principal.name):
            body = _at_most(timed(request.stream(), idle=settings.upload_idle_timeout_seconds,
                                  total=settings.upload_max_seconds), limit,
                            settings.batch_max_bytes)
            try:
                parts = await read_batch(body, request.headers.get("content-type"), new_spool,
                                         max_items=settings.batch_max_items)
            except ClientDisconnect:
                raise MalformedMultipart("the client disconnected during the upload") \
                    from None
        items = [BatchItem(fields=part.fields, filename=safe_filename(part.filename),
                           client_media_type=part.content_type, spool=part.spool,
                           error=part.error) for part in parts]
        policy = service.IngestPolicy(settings.allowed_media_types,
                                      settings.default_retention_years,
                                      settings.lock_min_horizon_days)
        results = await run_in_threadpool(
            batch.ingest_batch, units_of(request.app.state.sessions), store, principal, items,
            policy)
    finally:
        for spool in spools:
            spool.close()
    out = []
    for res in results:
        if res.result is not None:
            out.append(BatchItemOut(index=res.index, filename=res.filename, status=201,
                                    evidence=service.ingest_out(res.result)))
        else:
            assert res.error is not None
            out.append(BatchItemOut(index=res.index, filename=res.filename,
                                    status=status_for(res.error), error=res.error.code,
                                    detail=res.error.detail))
    created = sum(1 for item in out if item.status == 201)
    return BatchOut(created=created, failed=len(out) - created, items=out)


async def _at_most(chunks: AsyncIterator[bytes], limit: int, shown: int) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"a batch is at most {shown} bytes")
        yield chunk


_SLOTS_LOCK = threading.Lock()


def upload_slots(request: Request, settings: Settings) -> UploadSlots:
    state = request.app.state
    with _SLOTS_LOCK:
        slots = getattr(state, "upload_slots", None)
        if slots is None:
            slots = state.upload_slots = UploadSlots(settings.uploads_per_account)
    return slots  # type: ignore[no-any-return]


def _voucher_fields(fields: dict[str, Any]) -> tuple[uuid.UUID, str] | None:
    """The optional ``disbursement_id`` and ``role`` of an upload straight into a voucher
    (taken out of the metadata fields); both or neither."""
    raw_id = (fields.pop("disbursement_id", None) or "").strip()
    role = (fields.pop("role", None) or "").strip()
    if not raw_id and not role:
        return None
    problems = []
    if not raw_id:
        problems.append({"field": "disbursement_id", "message": "required with role"})
    if not role:
        problems.append({"field": "role", "message": "required with disbursement_id"})
    voucher_id = None
    if raw_id:
        try:
            voucher_id = uuid.UUID(raw_id)
        except ValueError:
            problems.append({"field": "disbursement_id", "message": "not a voucher id"})
    if problems or voucher_id is None:
        raise InvalidInput(problems, code="invalid_metadata")
    return voucher_id, role


@router.get("/evidence/by-hash/{sha256}", response_model=list[EvidenceOut],
            summary="The records in your scope that hold exactly these bytes")
def by_hash(sha256: str, principal: CurrentUser, session: SessionDep) -> list[EvidenceOut]:
    return [service.to_out(*row) for row in service.by_hash(session, principal, sha256)]


@router.get("/evidence/{evidence_id}", response_model=EvidenceDetail)
def get_evidence(evidence_id: uuid.UUID, principal: CurrentUser, session: SessionDep,
                 response: Response) -> EvidenceDetail:
    evidence, blob, org = service.get(session, principal, evidence_id)
    response.headers["ETag"] = version_etag(evidence.version)
    hist = [HistoryOut(version=h.version, values=h.values, changed=h.changed,
                       changed_by=h.changed_by, changed_at=h.changed_at, reason=h.reason)
            for h in service.history(session, evidence.id)]
    events = [AuditEventOut.model_validate(e)
              for e in audit.history_of(session, "evidence", str(evidence.id))]
    return EvidenceDetail(**service.out_fields(evidence, blob, org), history=hist,
                          audit=events)


@router.patch("/evidence/{evidence_id}", response_model=EvidenceOut,
              summary="Correct metadata (the file never changes; history is kept)")
def patch_evidence(evidence_id: uuid.UUID, principal: CurrentUser, session: SessionDep,
                   body: Annotated[dict[str, Any], Body()], response: Response,
                   if_match: Annotated[str | None, Header()] = None) -> EvidenceOut:
    changes = parse_metadata(EvidenceUpdate, body)
    evidence = service.update(session, principal, evidence_id, changes,
                              expected_version=expected_version(if_match))
    _, blob, org = service.get(session, principal, evidence.id, audit_read=False)
    response.headers["ETag"] = version_etag(evidence.version)
    return service.to_out(evidence, blob, org)


class InspectionOut(BaseModel):
    evidence_id: uuid.UUID
    status: str
    pdfa: dict[str, Any] | None
    report: dict[str, Any] | None
    warnings: list[dict[str, Any]]
    filled: list[str]
    error: str | None
    created_at: dt.datetime


@router.get("/evidence/{evidence_id}/inspection", response_model=InspectionOut,
            summary="What the file says about itself: PDF/A per clause, e-invoice fields, "
                    "signatures, scan resolution, cross-check warnings")
def get_inspection(evidence_id: uuid.UUID, principal: CurrentUser,
                   session: SessionDep) -> InspectionOut:
    row = inspection.get(session, principal, evidence_id)
    if row is None:
        raise NotFound("not inspected yet: the inspection job is queued or running",
                       code="not_inspected")
    return InspectionOut(evidence_id=row.evidence_id, status=row.status, pdfa=row.pdfa,
                         report=row.report, warnings=row.warnings, filled=row.filled,
                         error=row.error, created_at=row.created_at)


class RenditionOut(BaseModel):
    id: uuid.UUID
    kind: str
    media_type: str
    sha256: str
    size: int
    pdfa_flavour: str | None
    pdfa_compliant: bool | None
    pdfa_failures: list[dict[str, Any]]
    pdfa_error: str | None
    made_by: dict[str, Any]
    created_at: dt.datetime
    content_url: str


@router.get("/evidence/{evidence_id}/renditions", response_model=list[RenditionOut],
            summary="Files derived from the original and kept beside it (the searchable "
                    "PDF/A-2b rendition of a scan), each with its own PDF/A verdict")
def list_renditions(evidence_id: uuid.UUID, principal: CurrentUser,
                    session: SessionDep) -> list[RenditionOut]:
    return [RenditionOut(id=r.id, kind=r.kind, media_type=b.media_type, sha256=b.sha256,
                         size=b.size, pdfa_flavour=r.pdfa_flavour,
                         pdfa_compliant=r.pdfa_compliant,
                         pdfa_failures=list((r.pdfa or {}).get("failures") or []),
                         pdfa_error=(r.pdfa or {}).get("error"), made_by=r.made_by or {},
                         created_at=r.created_at,
                         content_url=f"/api/v1/evidence/{evidence_id}/renditions/{r.id}"
                                     "/content")
            for r, b in renditions.list_for(session, principal, evidence_id)]


@router.get("/evidence/{evidence_id}/renditions/{rendition_id}/content",
            summary="The rendition's bytes (the original stays at /content)",
            response_class=StreamingResponse)
def get_rendition_content(evidence_id: uuid.UUID, rendition_id: uuid.UUID, request: Request,
                          principal: CurrentUser, session: SessionDep, store: StoreDep,
                          settings: SettingsDep) -> Response:
    evidence, rendition, blob = renditions.get(session, principal, evidence_id, rendition_id)
    stem = evidence.original_filename.rsplit(".", 1)[0]
    headers = {
        "ETag": f'"{blob.sha256}"',
        "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(blob.sha256)).decode()}:",
        "Content-Disposition": _attachment(f"{stem}.ocr.pdf"),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-transform",
        "Content-Length": str(blob.size),
    }
    chunks = renditions.open_content(
        session, store, principal, evidence, rendition, blob,
        verify_limit=settings.verify_before_send_bytes,
        on_mismatch=_integrity_alarm(request, principal, evidence.id, blob.id))
    return StreamingResponse(chunks, media_type=blob.media_type, headers=headers)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@router.get("/evidence/{evidence_id}/content",
            summary="The original bytes (supports Range; ETag and Repr-Digest headers)",
            response_class=StreamingResponse)
def get_content(evidence_id: uuid.UUID, request: Request, principal: CurrentUser,
                session: SessionDep, store: StoreDep, settings: SettingsDep,
                range: Annotated[str | None, Header()] = None,
                if_none_match: Annotated[str | None, Header()] = None) -> Response:
    evidence, blob, _ = service.get(session, principal, evidence_id, audit_read=False)
    etag = f'"{blob.sha256}"'
    headers = {
        "ETag": etag,
        "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(blob.sha256)).decode()}:",
        "Accept-Ranges": "bytes",
        "Content-Disposition": _attachment(evidence.original_filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-transform",
    }
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    offset, length, status = 0, blob.size, 200
    if range:
        parsed = _parse_range(range, blob.size)
        if parsed is None:
            return Response(status_code=416, headers={**headers,
                                                      "Content-Range": f"bytes */{blob.size}"})
        if parsed != (0, blob.size):
            offset, length = parsed
            status = 206
            headers["Content-Range"] = f"bytes {offset}-{offset + length - 1}/{blob.size}"
    chunks = service.open_content(
        session, store, principal, evidence, blob, offset=offset, length=length,
        verify_limit=settings.verify_before_send_bytes,
        on_mismatch=_integrity_alarm(request, principal, evidence.id, blob.id))
    headers["Content-Length"] = str(length)
    return StreamingResponse(chunks, status_code=status, media_type=blob.media_type,
                             headers=headers)


def _integrity_alarm(request: Request, principal: Any, evidence_id: uuid.UUID,
                     blob_id: int) -> Any:
    """Records a failed download check in its own transaction: the request's has rolled
    back (small bodies, answered 502) or already committed (streamed bodies)."""
    def alarm(detail: str) -> None:
        log.error("evidence.integrity_failure evidence=%s blob=%s detail=%s", evidence_id,
                  blob_id, detail)
        with session_scope(request.app.state.sessions) as s:
            service.record_integrity_failure(s, principal, evidence_id=evidence_id,
                                             blob_id=blob_id, detail=detail)
    return alarm


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """(offset, length) for a single byte range; the full file for anything we do not
    serve as a range (several ranges, other units); ``None`` when unsatisfiable."""
    match = _RANGE.match(value.strip())
    if not match:
        return (0, size)
    first, last = match.groups()
    if not first and not last:
        return (0, size)
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            return None
        n = min(n, size)
        return (size - n, n)
    start = int(first)
    if start >= size:
        return None
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return (0, size)
    return (start, end - start + 1)


def _attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return (f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{urllib.parse.quote(filename, safe='')}")
