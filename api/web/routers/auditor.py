"""Search, the record page, evidence packs and the audit-trail check (auditors first, and
everyone who may read records)."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from api.deps import SessionDep, StoreDep
from api.web import present
from api.web.pages import (
    FormDep,
    FormError,
    PageRoute,
    PageUser,
    form_text,
    lang_of,
    redirect,
    render,
)
from archive.accounts.principal import Principal, require
from archive.audit import service as audit
from archive.errors import InvalidInput
from archive.evidence import service as evidence
from archive.evidence.models import DOC_TYPES, STATUSES
from archive.evidence.schemas import EvidenceUpdate, parse_metadata, validation_problems
from archive.inspection import records as inspection
from archive.inspection import renditions
from archive.orgs import service as orgs
from archive.retention.schedules.service import tombstone_view
from archive.search import exports
from archive.search import service as search
from archive.search.schemas import SORTS, ExportRequest, SearchFilters, SearchParams

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FILTER_NAMES = tuple(SearchFilters.model_fields)
PAGE_SIZES = (25, 50, 100, 200)
EDITABLE = ("doc_type", "fiscal_year", "voucher_no", "doc_number", "issue_date",
            "issuer_name", "issuer_tax_id", "issuer_branch", "amount", "vat_amount",
            "currency", "description")


# -- search ----------------------------------------------------------------------------

@router.get("/search")
def search_page(request: Request, principal: PageUser, session: SessionDep) -> Response:
    require(principal, "evidence.search")
    raw = {k: v for k, v in request.query_params.items()
           if k in (*FILTER_NAMES, "sort", "limit", "cursor") and v.strip()}
    page, problems, params = None, [], None
    if raw or "run" in request.query_params:
        try:
            params = SearchParams.model_validate(raw)
        except ValidationError as exc:
            problems = present.field_problems(validation_problems(exc), lang_of(request))
        else:
            with request.app.state.reads.search(session) as reads:
                page = search.search(session, principal, params, output="page", reads=reads)
    given = {k: v for k, v in raw.items() if k in FILTER_NAMES}
    listing = {**given, "sort": raw.get("sort", "-uploaded")}
    next_url = None
    if page is not None and page.next_cursor:
        next_url = "/search?" + urllib.parse.urlencode({**raw, "cursor": page.next_cursor})
    return render(request, "search.html", status=422 if problems else 200, values=raw,
                  page=page, problems=problems, orgs=orgs.visible(session, principal),
                  doc_types=DOC_TYPES, statuses=STATUSES, sorts=SORTS, page_sizes=PAGE_SIZES,
                  csv_url="/api/v1/evidence.csv?" + urllib.parse.urlencode(listing),
                  next_url=next_url, first_url="/search?" + urllib.parse.urlencode(
                      {k: v for k, v in raw.items() if k != "cursor"}),
                  given=given, can_export=principal.can("evidence.export"),
                  paged="cursor" in raw)


@router.post("/exports")
def request_export(request: Request, principal: PageUser, session: SessionDep,
                   form: FormDep) -> Response:
    """An evidence pack of the search on the page (its filters come in the form)."""
    filters = {k: form_text(form, k) for k in FILTER_NAMES if form_text(form, k)}
    try:
        body = ExportRequest.model_validate({"filters": filters})
    except ValidationError as exc:
        raise InvalidInput(validation_problems(exc), code="invalid_request") from None
    export = exports.request_export(session, principal, body)
    return redirect(f"/exports/{export.id}")


@router.get("/exports/{export_id}")
def export_page(request: Request, export_id: uuid.UUID, principal: PageUser,
                session: SessionDep) -> Response:
    out = exports.to_out(exports.get_export(session, principal, export_id))
    template = "partials/export_status.html" if request.headers.get("hx-request") \
        else "export.html"
    return render(request, template, export=out)


# -- the record ------------------------------------------------------------------------

@router.get("/records/{evidence_id}")
def record_page(request: Request, evidence_id: uuid.UUID, principal: PageUser,
                session: SessionDep, store: StoreDep) -> Response:
    return _record(request, evidence_id, principal, session, store,
                   saved=request.query_params.get("saved") == "1")


def _record(request: Request, evidence_id: uuid.UUID, principal: Principal,
            session: SessionDep, store: StoreDep, *, status: int = 200,
            problems: list[dict[str, str]] | None = None,
            values: dict[str, Any] | None = None, saved: bool = False) -> Response:
    record, blob, org = evidence.get(session, principal, evidence_id)
    found = inspection.get(session, principal, evidence_id)
    retention = None
    if principal.can("retention.read"):
        from archive.retention import read_models

        retention = read_models.record_retention(session, store, principal, evidence_id)
    return render(
        request, "record.html", status=status, record=record, blob=blob, org=org,
        inspection=found, renditions=renditions.list_for(session, principal, evidence_id),
        pdfa_failures=present.pdfa_failures(found.pdfa if found else None,
                                                              lang_of(request)),
        history=evidence.history(session, record.id),
        same_bytes=evidence.same_bytes(session, principal, record),
        events=audit.history_of(session, "evidence", str(record.id)),
        retention=retention,
        tombstone=tombstone_view(session, record.id) if record.status == "destroyed" else None,
        can_edit=principal.can("evidence.update") and record.status != "destroyed",
        can_verify=principal.can("audit.verify"), editable=EDITABLE, doc_types=DOC_TYPES,
        problems=problems or [], saved=saved,
        values=values or {k: _shown(getattr(record, k)) for k in EDITABLE})


@router.post("/records/{evidence_id}")
def correct_record(request: Request, evidence_id: uuid.UUID, principal: PageUser,
                   session: SessionDep, store: StoreDep, form: FormDep) -> Response:
    """An officer corrects metadata (the file never changes; history is kept)."""
    require(principal, "evidence.update")
    values = {k: (form_text(form, k) or "") for k in EDITABLE if k in form}
    reason = form_text(form, "reason")
    version = form_text(form, "version")
    current, _, _ = evidence.get(session, principal, evidence_id, audit_read=False)
    # Only what the officer changed on the form: a field left as it was stays untouched.
    shown = {k: _shown(getattr(current, k)) for k in EDITABLE}
    changes: dict[str, Any] = {k: (v or None) for k, v in values.items() if v != shown[k]}
    values = {**shown, **values}
    try:
        confirm = {"confirm_fiscal_year": True} if form_text(form, "confirm_fiscal_year") \
            else {}
        update = parse_metadata(EvidenceUpdate, {**changes, **confirm, "reason": reason})
        evidence.update(session, principal, evidence_id, update,
                        expected_version=int(version) if version and version.isdigit()
                        else None)
    except InvalidInput as exc:
        raise FormError(exc, lambda s, status, error, problems: _record(
            request, evidence_id, principal, s, store, status=status, problems=problems,
            values=values)) from exc
    return redirect(f"/records/{evidence_id}?saved=1#metadata")


def _shown(value: Any) -> str:
    """A value as the edit form shows it."""
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


# -- the audit trail -------------------------------------------------------------------

@router.get("/audit/verify")
def verify_trail(request: Request, principal: PageUser, session: SessionDep,
                 store: StoreDep) -> Response:
    """Recompute the audit chain against the locked checkpoints (an htmx fragment)."""
    gap = dt.timedelta(hours=request.app.state.settings.audit_checkpoint_max_gap_hours)
    report = audit.verify(session, store, principal, max_gap=gap).to_dict()
    return render(request, "partials/verify.html", report=report)
