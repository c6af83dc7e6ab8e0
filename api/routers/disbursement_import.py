"""``POST /api/v1/disbursements/import``: a voucher register (CSV) into an organisation's
vouchers, with a report per row (``archive.disbursements.importing``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.multipart import MalformedMultipart, read_upload
from archive.disbursements import importing, register
from archive.errors import InvalidInput, PayloadTooLarge
from archive.evidence.intake import Spool
from archive.textnorm import safe_filename

router = APIRouter(tags=["disbursements"])

_FORM_OVERHEAD = 64 * 1024


@router.post("/disbursements/import", response_model=importing.ImportOut,
             summary="Import a voucher register (CSV: Thai or English headers, UTF-8 or "
                     "CP874, BE dates) — multipart file + org_code (+ dry_run)")
async def import_register(request: Request, principal: CurrentUser, session: SessionDep,
                          settings: SettingsDep) -> importing.ImportOut:
    """Form fields: ``file`` (the register), ``org_code`` and optional ``dry_run``
    (``true``: validate and report, keep nothing). Re-importing updates, never duplicates;
    each row is reported as created / updated / unchanged / error (with its line and
    reasons); a bad row changes nothing."""
    limit = register.MAX_REGISTER_BYTES
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD:
        raise PayloadTooLarge(f"the register is larger than {limit} bytes; split it")

    def new_spool() -> Spool:
        return Spool(max_bytes=limit, memory_limit=limit, tmp_dir=settings.tmp_dir)

    try:
        form = await read_upload(request.stream(), request.headers.get("content-type"),
                                 new_spool)
    except ClientDisconnect:
        raise MalformedMultipart("the client disconnected during the upload") from None
    if form.spool is None:
        raise InvalidInput([{"field": "file", "message": "required"}], code="invalid_register")
    try:
        form.spool.finish()
        source = form.spool.source()
        data = source.read_bytes() if hasattr(source, "read_bytes") else source.read()
    finally:
        form.spool.close()
    org_code = (form.fields.get("org_code") or "").strip()
    if not org_code:
        raise InvalidInput([{"field": "org_code", "message": "required"}],
                           code="invalid_register")
    dry = (form.fields.get("dry_run") or "false").strip().lower()
    if dry not in ("true", "false", "1", "0", "yes", "no", ""):
        raise InvalidInput([{"field": "dry_run", "message": "true or false"}],
                           code="invalid_register")
    report = await run_in_threadpool(
        importing.import_register, session, principal, org_code=org_code, data=data,
        filename=safe_filename(form.filename), dry_run=dry in ("true", "1", "yes"))
    return importing.ImportOut.model_validate(report.as_dict())
