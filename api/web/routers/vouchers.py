"""Disbursement vouchers on the pages: the officer's voucher (checklist of required roles,
a drop zone per missing role), the new-voucher form, the auditor's list with finding
filters, every file beside its inspection verdict, the review form, and the summary per
organisation (a province's auditor sees one row per LAO). The same services as the API."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from api.deps import SessionDep, SettingsDep
from api.web import present
from api.web.pages import FormDep, PageRoute, PageUser, form_text, lang_of, redirect, render
from archive import clock
from archive.accounts.principal import Principal, require
from archive.disbursements import listing, register, service
from archive.disbursements.models import FINDING_CODES, KINDS, PAYMENT_METHODS
from archive.disbursements.schemas import (
    VOUCHER_FIELDS,
    DisbursementCreate,
    ListFilters,
    ListParams,
    ReviewIn,
    SummaryParams,
)
from archive.errors import InvalidInput
from archive.evidence.schemas import validation_problems
from archive.orgs import service as orgs
from archive.validators import typed_date

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LIST_FILTERS = tuple(ListFilters.model_fields)
# The document type a file uploaded into a voucher in a role gets by default: every role
# of DISBURSEMENT.md has a document type of the same name (archive.doc_types).
ROLE_DOC_TYPE = {
    "receipt": "receipt", "tax_invoice": "tax_invoice", "invoice": "invoice",
    "e_payment_report": "e_payment_report", "contract": "contract",
    "purchase_order": "purchase_order", "inspection_report": "inspection_report",
    "payment_acknowledgement": "payment_acknowledgement",
    "payment_certificate": "payment_certificate", "request_report": "request_report",
    "withholding_certificate": "withholding_certificate", "travel_order": "travel_order",
    "travel_report": "travel_report", "payroll": "payroll",
}
DATE_FIELDS = ("voucher_date", "payment_date")


def _problems(exc: ValidationError | InvalidInput, lang: str) -> list[dict[str, str]]:
    detail = validation_problems(exc) if isinstance(exc, ValidationError) else exc.detail
    if not isinstance(detail, list):
        detail = [{"field": "", "message": str(detail)}]
    return present.field_problems(detail, lang)


# -- the list --------------------------------------------------------------------------

@router.get("/vouchers")
def voucher_list(request: Request, principal: PageUser, session: SessionDep) -> Response:
    require(principal, "disbursements.read")
    raw = {k: v for k, v in request.query_params.items()
           if k in (*LIST_FILTERS, "cursor") and v.strip()}
    problems: list[dict[str, str]] = []
    page = None
    try:
        params = ListParams.model_validate({**raw, "limit": 50})
    except ValidationError as exc:
        problems = _problems(exc, lang_of(request))
    else:
        page = listing.list_page(session, principal, params)
    given = {k: v for k, v in raw.items() if k in LIST_FILTERS}
    next_url = None
    if page is not None and page.next_cursor:
        next_url = "/vouchers?" + urllib.parse.urlencode({**given, "cursor": page.next_cursor})
    return render(request, "vouchers/list.html", status=422 if problems else 200, page=page,
                  values=raw, problems=problems, orgs=orgs.visible(session, principal),
                  kinds=KINDS, findings=FINDING_CODES, next_url=next_url,
                  csv_url="/api/v1/disbursements.csv?" + urllib.parse.urlencode(given),
                  can_create=principal.can("disbursements.create"))


@router.get("/vouchers/summary")
def voucher_summary(request: Request, principal: PageUser, session: SessionDep) -> Response:
    require(principal, "disbursements.read")
    raw = {k: v for k, v in request.query_params.items()
           if k in ("org_code", "fiscal_year") and v.strip()}
    problems: list[dict[str, str]] = []
    result = None
    try:
        params = SummaryParams.model_validate(raw)
    except ValidationError as exc:
        problems = _problems(exc, lang_of(request))
    else:
        result = listing.summary(session, principal, params)
    return render(request, "vouchers/summary.html", status=422 if problems else 200,
                  result=result, values=raw, problems=problems, findings=FINDING_CODES,
                  orgs=orgs.visible(session, principal),
                  csv_url="/api/v1/disbursements/summary.csv?" + urllib.parse.urlencode(raw))


# -- a new voucher ---------------------------------------------------------------------

@router.get("/vouchers/new")
def new_voucher(request: Request, principal: PageUser, session: SessionDep) -> Response:
    require(principal, "disbursements.create")
    return _form(request, principal, session, values={})


def _form(request: Request, principal: Principal, session: SessionDep, *,
          values: dict[str, Any], problems: list[dict[str, str]] | None = None,
          status: int = 200) -> Response:
    return render(request, "vouchers/new.html", status=status, values=values,
                  problems=problems or [], orgs=orgs.visible(session, principal),
                  kinds=KINDS, methods=PAYMENT_METHODS, fields=VOUCHER_FIELDS)


@router.post("/vouchers/new")
def create_voucher(request: Request, principal: PageUser, session: SessionDep,
                   form: FormDep) -> Response:
    require(principal, "disbursements.create")
    values = {k: form_text(form, k) for k in ("org_code", *VOUCHER_FIELDS)}
    data: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
    # Amounts as the register import reads them: thousands separators only where they
    # belong ("1,00" is a typo, not one hundred), Thai digits allowed.
    bad = []
    for name in register.AMOUNT_FIELDS:
        if data.get(name):
            try:
                data[name] = str(register.parse_amount(data[name]))
            except ValueError as exc:
                bad.append({"field": name, "message": str(exc)})
    # Dates as the page's date fields show them (Buddhist Era, D/M/YYYY): the API takes
    # ISO dates of the Christian Era.
    for name in ("voucher_date", "payment_date"):
        if data.get(name):
            try:
                data[name] = typed_date(data[name]).isoformat()
            except ValueError as exc:
                bad.append({"field": name, "message": exc.args[0]})
    if bad:
        return _form(request, principal, session, values=values, status=422,
                     problems=present.field_problems(bad, lang_of(request)))
    if data.get("gross_amount") and not data.get("net_amount"):
        # as the register import does: net = gross − withholding tax
        data["net_amount"] = _net(data["gross_amount"], data.get("withholding_tax"))
    try:
        voucher = service.create(session, principal, DisbursementCreate.model_validate(data))
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        return _form(request, principal, session, values=values, status=422,
                     problems=_problems(exc, lang_of(request)))
    return redirect(f"/vouchers/{voucher.id}?created=1")


def _net(gross: str, withholding: str | None) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        g = Decimal(gross.replace(",", ""))
        w = Decimal((withholding or "0").replace(",", ""))
    except InvalidOperation:
        return gross           # the schema names the bad field
    return str(g - w)


# -- one voucher -----------------------------------------------------------------------

@router.get("/vouchers/{disbursement_id}")
def voucher_page(request: Request, disbursement_id: uuid.UUID, principal: PageUser,
                 session: SessionDep, settings: SettingsDep) -> Response:
    return _voucher(request, disbursement_id, principal, session, settings)


def _voucher(request: Request, disbursement_id: uuid.UUID, principal: Principal,
             session: SessionDep, settings: Any, *, status: int = 200,
             problems: list[dict[str, str]] | None = None,
             review: dict[str, Any] | None = None) -> Response:
    detail = service.detail(session, principal, disbursement_id)
    present_roles = set(detail.completeness.present)
    checklist = [{"roles": group, "done": [r for r in group if r in present_roles],
                  "missing": not any(r in present_roles for r in group)}
                 for group in detail.completeness.required]
    can_add = principal.can("disbursements.update") and principal.can("evidence.create")
    return render(request, "vouchers/detail.html", status=status, d=detail, v=detail.voucher,
                  checklist=checklist, can_add=can_add,
                  can_review=principal.can("disbursements.review"),
                  can_export=principal.can("evidence.export"),
                  role_doc_type=ROLE_DOC_TYPE, max_bytes=settings.max_upload_bytes,
                  files_by_id={str(e.evidence_id): e for e in detail.evidence},
                  created=request.query_params.get("created") == "1",
                  reviewed=request.query_params.get("reviewed") == "1",
                  problems=problems or [], review=review or {},
                  today=clock.today())


@router.post("/vouchers/{disbursement_id}/reviews")
def review_voucher(request: Request, disbursement_id: uuid.UUID, principal: PageUser,
                   session: SessionDep, settings: SettingsDep, form: FormDep) -> Response:
    require(principal, "disbursements.review")
    values = {"outcome": form_text(form, "outcome"), "note": form_text(form, "note")}
    try:
        service.add_review(session, principal, disbursement_id, ReviewIn.model_validate(
            {k: v for k, v in values.items() if v is not None}))
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        return _voucher(request, disbursement_id, principal, session, settings, status=422,
                        problems=_problems(exc, lang_of(request)), review=values)
    return redirect(f"/vouchers/{disbursement_id}?reviewed=1#reviews")


@router.post("/vouchers/{disbursement_id}/export")
def export_voucher(request: Request, disbursement_id: uuid.UUID, principal: PageUser,
                   session: SessionDep) -> Response:
    """The voucher's evidence pack (BagIt), built by the export job."""
    from archive.search import exports
    from archive.search.schemas import ExportRequest

    export = exports.request_export(session, principal,
                                    ExportRequest(disbursement_id=disbursement_id))
    return redirect(f"/exports/{export.id}")
