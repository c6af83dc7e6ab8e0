"""Disbursement vouchers: register, read, correct, link evidence, review, list, summarise,
and the required-evidence profile. Parse, call one service, shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ValidationError

from api.conditional import expected_version
from api.deps import CurrentUser, SessionDep
from archive.disbursements import listing, profile_service, service
from archive.disbursements.schemas import (
    CreatedOut,
    DisbursementCreate,
    DisbursementDetail,
    DisbursementUpdate,
    LinkIn,
    ListPage,
    ListParams,
    ProfileIn,
    ProfileOut,
    ProfileVersionOut,
    ReviewIn,
    ReviewOut,
    Summary,
    SummaryParams,
)
from archive.errors import InvalidInput
from archive.evidence.schemas import validation_problems
from archive.unit_of_work import units_of

router = APIRouter(tags=["disbursements"])

_CSV_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _parse(model: type[BaseModel], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(validation_problems(exc), code="invalid_voucher") from None


def _created(session: SessionDep, voucher_id: uuid.UUID) -> CreatedOut:
    version, codes, complete = service.state(session, voucher_id)
    return CreatedOut(id=voucher_id, version=version, findings=codes, complete=complete)


@router.post("/disbursements", status_code=201, response_model=CreatedOut,
             summary="Register a voucher (ฎีกา)")
def create_disbursement(principal: CurrentUser, session: SessionDep,
                        body: Annotated[dict[str, Any], Body()]) -> CreatedOut:
    """JSON: ``org_code``, ``fiscal_year`` (BE; defaults from ``voucher_date``),
    ``voucher_no``, ``voucher_date``, ``kind``, ``payee_name``, ``payee_tax_id``,
    ``gross_amount``, ``withholding_tax``, ``net_amount``, ``payment_method``,
    ``payment_date``, ``budget_code``, ``expenditure_category``, ``procurement_method``,
    ``egp_project_no``, ``contract_no``, ``description``. 409 for a second voucher with
    the same (organisation, fiscal year, number)."""
    voucher = service.create(session, principal, _parse(DisbursementCreate, body))
    return _created(session, voucher.id)


@router.get("/disbursements", response_model=ListPage,
            summary="Vouchers in your scope with their findings and completeness (pages)")
def list_disbursements(principal: CurrentUser, session: SessionDep,
                       params: Annotated[ListParams, Query()]) -> ListPage:
    """Newest voucher date first. Pass ``next_cursor`` back as ``cursor`` for the next page."""
    return listing.list_page(session, principal, params)


@router.get("/disbursements.csv", response_class=StreamingResponse,
            summary="The same list as CSV (UTF-8 with BOM), every voucher")
def disbursements_csv(request: Request, principal: CurrentUser, session: SessionDep,
                      params: Annotated[ListParams, Query()]) -> StreamingResponse:
    filters = params.filters()
    listing.start_listing(session, principal, filters, output="csv")
    return StreamingResponse(
        listing.list_csv_chunks(units_of(request.app.state.sessions), principal, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="disbursements.csv"',
                 **_CSV_HEADERS})


@router.get("/disbursements/summary", response_model=Summary,
            summary="Vouchers, amounts and findings per organisation in your scope")
def disbursements_summary(principal: CurrentUser, session: SessionDep,
                          params: Annotated[SummaryParams, Query()]) -> Summary:
    return listing.summary(session, principal, params)


@router.get("/disbursements/summary.csv", response_class=Response,
            summary="The summary as CSV (UTF-8 with BOM)")
def disbursements_summary_csv(principal: CurrentUser, session: SessionDep,
                              params: Annotated[SummaryParams, Query()]) -> Response:
    result = listing.summary(session, principal, params)
    return Response(listing.summary_csv(result), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="summary.csv"',
                             **_CSV_HEADERS})


class ProfileDetail(ProfileOut):
    versions: list[ProfileVersionOut]


def _profile_detail(session: SessionDep, principal: CurrentUser) -> ProfileDetail:
    row = profile_service.get_profile(session, principal)
    versions = [ProfileVersionOut(version=v.version, data=v.data, changed_by=v.changed_by,
                                  changed_at=v.changed_at, reason=v.reason)
                for v in profile_service.profile_versions(session, principal)]
    return ProfileDetail(code=row.code, version=row.version, data=row.data,
                         updated_by=row.updated_by, updated_at=row.updated_at,
                         versions=versions)


@router.get("/disbursements/profile", response_model=ProfileDetail,
            summary="The required-evidence profile, split thresholds and window, with every "
                    "version")
def get_profile(principal: CurrentUser, session: SessionDep) -> ProfileDetail:
    return _profile_detail(session, principal)


@router.put("/disbursements/profile", response_model=ProfileDetail,
            summary="Save a new version of the profile (records manager, national scope)")
def put_profile(principal: CurrentUser, session: SessionDep, body: ProfileIn,
                if_match: Annotated[str | None, Header()] = None) -> ProfileDetail:
    profile_service.set_profile(session, principal, body.data, reason=body.reason,
                                expected_version=expected_version(if_match, required=False,
                                                          what="profile"))
    return _profile_detail(session, principal)


@router.get("/disbursements/{disbursement_id}", response_model=DisbursementDetail,
            summary="A voucher with its evidence, completeness, findings, reviews, history")
def get_disbursement(disbursement_id: uuid.UUID, principal: CurrentUser, session: SessionDep,
                     response: Response) -> DisbursementDetail:
    out = service.detail(session, principal, disbursement_id)
    response.headers["ETag"] = f'"{out.voucher.version}"'
    return out


@router.patch("/disbursements/{disbursement_id}", response_model=DisbursementDetail,
              summary="Correct a voucher (If-Match: \"<version>\" required; history is kept)")
def patch_disbursement(disbursement_id: uuid.UUID, principal: CurrentUser,
                       session: SessionDep, response: Response,
                       body: Annotated[dict[str, Any], Body()],
                       if_match: Annotated[str | None, Header()] = None) -> DisbursementDetail:
    changes = _parse(DisbursementUpdate, body)
    service.update(session, principal, disbursement_id, changes,
                   expected_version=expected_version(if_match, what="voucher"))
    out = service.detail(session, principal, disbursement_id)
    response.headers["ETag"] = f'"{out.voucher.version}"'
    return out


class LinkOut(BaseModel):
    disbursement_id: uuid.UUID
    evidence_id: uuid.UUID
    role: str
    findings: list[str]
    complete: bool


@router.post("/disbursements/{disbursement_id}/evidence", status_code=201,
             response_model=LinkOut, summary="Link an archived file to the voucher in a role")
def link_evidence(disbursement_id: uuid.UUID, principal: CurrentUser, session: SessionDep,
                  body: LinkIn) -> LinkOut:
    row = service.link(session, principal, disbursement_id, evidence_id=body.evidence_id,
                       role=body.role)
    created = _created(session, disbursement_id)
    return LinkOut(disbursement_id=row.disbursement_id, evidence_id=row.evidence_id,
                   role=row.role, findings=created.findings, complete=created.complete)


class UnlinkOut(BaseModel):
    disbursement_id: uuid.UUID
    evidence_id: uuid.UUID
    roles: list[str]
    findings: list[str]
    complete: bool


@router.delete("/disbursements/{disbursement_id}/evidence/{evidence_id}",
               response_model=UnlinkOut,
               summary="Unlink a file from the voucher (every role, or ?role=); the file stays")
def unlink_evidence(disbursement_id: uuid.UUID, evidence_id: uuid.UUID,
                    principal: CurrentUser, session: SessionDep,
                    role: Annotated[str | None, Query(max_length=40)] = None) -> UnlinkOut:
    roles = service.unlink(session, principal, disbursement_id, evidence_id, role=role)
    created = _created(session, disbursement_id)
    return UnlinkOut(disbursement_id=disbursement_id, evidence_id=evidence_id, roles=roles,
                     findings=created.findings, complete=created.complete)


@router.post("/disbursements/{disbursement_id}/reviews", status_code=201,
             response_model=ReviewOut, summary="Record an auditor's review (never editable)")
def add_review(disbursement_id: uuid.UUID, principal: CurrentUser, session: SessionDep,
               body: ReviewIn) -> ReviewOut:
    review = service.add_review(session, principal, disbursement_id, body)
    return ReviewOut(id=review.id, outcome=review.outcome, note=review.note,
                     reviewer=review.reviewer, reviewer_role=review.reviewer_role,
                     created_at=review.created_at, current=True)
