"""Retention schedules, legal holds, audit closures and the disposition workflow.

Every changing route runs inside :func:`_attempt`: a refusal (403, 404, 409, 422 from the
service) is recorded in the audit trail in its own transaction before the error answer
goes out — every attempt at a disposition step is on record, refused ones included.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import AfterValidator

from api.deps import CurrentUser, SessionDep, StoreDep
from archive.accounts.principal import Principal
from archive.audit import audited_refusal
from archive.errors import InvalidInput
from archive.retention import disposition, execution_request, holds, national_archives, read_models
from archive.retention import survey as surveying
from archive.retention.forecast import forecast as run_forecast
from archive.retention.schedules import service as schedules
from archive.retention.schedules.schemas import (
    DocTypeOut,
    DocTypeUpdate,
    ScheduleCreate,
    ScheduleDetail,
    ScheduleOut,
    ScheduleUpdate,
    ScheduleVersionOut,
)
from archive.retention.schemas import (
    ArchivesResponseIn,
    ArchivesSentIn,
    ClosureIn,
    ClosureOut,
    CommentIn,
    CommitteeIn,
    ConfirmIn,
    DecisionIn,
    HoldDetail,
    HoldIn,
    HoldOut,
    ListDetail,
    ListOut,
    ReasonIn,
    RecordRetentionOut,
    RuleOut,
    RuleUpdate,
    SurveyIn,
    SurveyOut,
    VotesIn,
)
from archive.validators import check_fiscal_year, date_param

router = APIRouter(tags=["retention"])


@contextmanager
def _attempt(request: Request, session: SessionDep, principal: Principal, action: str,
             target_type: str | None = None, target_id: Any = None) -> Iterator[None]:
    with audited_refusal(principal, action, target_type=target_type, target_id=target_id):
        yield


# -- schedules -------------------------------------------------------------------------

def _schedule_out(s: Any, doc_types: dict[int, list[str]]) -> ScheduleOut:
    return ScheduleOut.model_validate(s).model_copy(update={"doc_types": doc_types.get(s.id,
                                                                                       [])})


@router.get("/retention/schedules", response_model=list[ScheduleOut])
def list_schedules(principal: CurrentUser, session: SessionDep) -> list[ScheduleOut]:
    """The retention schedules (one national set) with their legal basis."""
    rows = schedules.list_schedules(session, principal)
    doc_types = schedules.doc_types_by_schedule(session)
    return [_schedule_out(s, doc_types) for s in rows]


@router.post("/retention/schedules", status_code=201, response_model=ScheduleOut)
def create_schedule(request: Request, body: ScheduleCreate, principal: CurrentUser,
                    session: SessionDep) -> ScheduleOut:
    with _attempt(request, session, principal, "retention.schedule_create",
                  "retention_schedule", body.code):
        s = schedules.create_schedule(session, principal, body)
    return _schedule_out(s, {})


@router.get("/retention/schedules/{code}", response_model=ScheduleDetail)
def get_schedule(code: str, principal: CurrentUser, session: SessionDep) -> ScheduleDetail:
    s = schedules.get_schedule(session, principal, code)
    out = _schedule_out(s, schedules.doc_types_by_schedule(session))
    return ScheduleDetail(**out.model_dump(), versions=[
        ScheduleVersionOut(version=v.version, values=v.values, changed_by=v.changed_by,
                           changed_at=v.changed_at, reason=v.reason)
        for v in schedules.versions(session, s.id)])


@router.patch("/retention/schedules/{code}", response_model=ScheduleOut,
              summary="Change a schedule (a new version; records are never shortened)")
def update_schedule(request: Request, code: str, body: ScheduleUpdate,
                    principal: CurrentUser, session: SessionDep) -> ScheduleOut:
    with _attempt(request, session, principal, "retention.schedule_update",
                  "retention_schedule", code):
        s = schedules.update_schedule(session, principal, code, body)
    return _schedule_out(s, schedules.doc_types_by_schedule(session))


@router.get("/retention/doc-types", response_model=list[DocTypeOut])
def list_doc_types(principal: CurrentUser, session: SessionDep) -> list[DocTypeOut]:
    return [DocTypeOut(doc_type=m.doc_type, schedule_code=code, updated_by=m.updated_by,
                       updated_at=m.updated_at)
            for m, code in schedules.list_doc_types(session, principal)]


@router.put("/retention/doc-types/{doc_type}", response_model=DocTypeOut,
            summary="Which schedule records of this type get at ingest (from now on)")
def set_doc_type(request: Request, doc_type: str, body: DocTypeUpdate,
                 principal: CurrentUser, session: SessionDep) -> DocTypeOut:
    with _attempt(request, session, principal, "retention.doc_type_update",
                  "retention_doc_type", doc_type):
        m = schedules.set_doc_type(session, principal, doc_type,
                                   schedule_code=body.schedule_code, reason=body.reason)
    return DocTypeOut(doc_type=m.doc_type, schedule_code=body.schedule_code,
                      updated_by=m.updated_by, updated_at=m.updated_at)


@router.get("/retention/rules", response_model=list[RuleOut],
            summary="Rules of the disposition procedure, with their basis")
def list_rules(principal: CurrentUser, session: SessionDep) -> list[RuleOut]:
    return [RuleOut.model_validate(r, from_attributes=True)
            for r in national_archives.list_rules(session, principal)]


@router.put("/retention/rules/{code}", response_model=RuleOut,
            summary="Change a rule (national: a new version, the previous one kept)")
def update_rule(request: Request, code: str, body: RuleUpdate, principal: CurrentUser,
                session: SessionDep) -> RuleOut:
    with _attempt(request, session, principal, "retention.rule_update", "disposition_rule",
                  code):
        r = national_archives.update_rule(session, principal, code, body)
    return RuleOut.model_validate(r, from_attributes=True)


# -- records and forecast --------------------------------------------------------------

@router.get("/retention/records/{evidence_id}", response_model=RecordRetentionOut)
def record_retention(evidence_id: uuid.UUID, principal: CurrentUser, session: SessionDep,
                     store: StoreDep) -> RecordRetentionOut:
    """A record's schedule, retain-until and why, holds, the store's lock, its lists."""
    return read_models.record_retention(session, store, principal, evidence_id)


@router.get("/retention/forecast")
def forecast(principal: CurrentUser, session: SessionDep,
             until: Annotated[str, Query(description="Up to this date (YYYY-MM-DD; a year "
                                         "of 2400 or more is Buddhist Era).")]
             ) -> dict[str, Any]:
    """What becomes eligible when, by organisation, schedule and year; held records and
    records whose retention cannot be computed are listed apart."""
    day = date_param(until, "until")
    if day is None:
        raise InvalidInput([{"field": "until", "message": "Field required"}],
                           code="invalid_date")
    return run_forecast(session, principal, until=day)


# -- disposition -----------------------------------------------------------------------

@router.post("/retention/survey", response_model=SurveyOut,
             summary="Draft disposition lists of eligible records (proposes only)")
def survey(request: Request, body: SurveyIn, principal: CurrentUser,
           session: SessionDep) -> SurveyOut:
    with _attempt(request, session, principal, "disposition.survey"):
        r = surveying.survey(session, principal, as_of=body.as_of, dry_run=body.dry_run,
                               org_code=body.org_code)
    return SurveyOut(as_of=r.as_of, dry_run=r.dry_run, note=r.note, lists=r.lists,
                     eligible=r.eligible, listed=r.listed)


@router.get("/retention/lists", response_model=list[ListOut])
def lists(principal: CurrentUser, session: SessionDep, status: str | None = None,
          org_code: str | None = None) -> list[ListOut]:
    return read_models.lists(session, principal, status=status, org_code=org_code)


@router.get("/retention/lists/{list_id}", response_model=ListDetail,
            summary="A disposition list: form 25 items, committee, votes, approvals")
def get_list(list_id: uuid.UUID, principal: CurrentUser, session: SessionDep) -> ListDetail:
    return read_models.list_detail(session, principal, list_id)


def _step(request: Request, session: SessionDep, principal: Principal, action: str,
          list_id: uuid.UUID, fn: Any, *args: Any, **kw: Any) -> ListDetail:
    with _attempt(request, session, principal, action, "disposition_list", list_id):
        fn(session, principal, list_id, *args, **kw)
        dl, org = disposition.load(session, principal, list_id)
    return read_models.detail_of(session, dl, org)


@router.put("/retention/lists/{list_id}/committee", response_model=ListDetail)
def appoint_committee(request: Request, list_id: uuid.UUID, body: CommitteeIn,
                      principal: CurrentUser, session: SessionDep) -> ListDetail:
    """The head of agency appoints the destruction committee by an order (reference and
    date): a chair and at least two members, neither the head nor whoever prepared the
    list (ข้อ 68)."""
    return _step(request, session, principal, "disposition.committee_appoint", list_id,
                 disposition.appoint_committee, body)


@router.post("/retention/lists/{list_id}/votes", response_model=ListDetail)
def vote(request: Request, list_id: uuid.UUID, body: VotesIn, principal: CurrentUser,
         session: SessionDep) -> ListDetail:
    """A committee member's approve / object per item (with comment; final)."""
    return _step(request, session, principal, "disposition.vote", list_id, disposition.vote,
                 body.votes)


@router.post("/retention/lists/{list_id}/committee-approval", response_model=ListDetail)
def committee_approval(request: Request, list_id: uuid.UUID, body: CommentIn,
                       principal: CurrentUser, session: SessionDep) -> ListDetail:
    """The chair closes the committee's review once every member voted on every item."""
    return _step(request, session, principal, "disposition.committee_approve", list_id,
                 disposition.committee_approve, comment=body.comment)


@router.post("/retention/lists/{list_id}/head-decision", response_model=ListDetail)
def head_decision(request: Request, list_id: uuid.UUID, body: DecisionIn,
                  principal: CurrentUser, session: SessionDep) -> ListDetail:
    return _step(request, session, principal, f"disposition.head_{body.decision}", list_id,
                 disposition.head_decision, decision=body.decision, comment=body.comment)


@router.post("/retention/lists/{list_id}/archives-sent", response_model=ListDetail)
def archives_sent(request: Request, list_id: uuid.UUID, body: ArchivesSentIn,
                  principal: CurrentUser, session: SessionDep) -> ListDetail:
    """The list was sent to the National Archives (Fine Arts Department) on a date."""
    return _step(request, session, principal, "disposition.archives_sent", list_id,
                 national_archives.archives_sent, body)


@router.post("/retention/lists/{list_id}/archives-response", response_model=ListDetail)
def archives_response(request: Request, list_id: uuid.UUID, body: ArchivesResponseIn,
                      principal: CurrentUser, session: SessionDep) -> ListDetail:
    """The National Archives' answer (ข้อ 70): ``approve`` (items they want marked for
    transfer in ``transfer_items``) or ``object`` to named ``items`` (each kept until a date
    or transferred); the rest of the list may then be destroyed."""
    return _step(request, session, principal, "disposition.archives_response", list_id,
                 national_archives.archives_response, body)


@router.post("/retention/lists/{list_id}/items/{seq}/withdraw", response_model=ListDetail)
def withdraw_item(request: Request, list_id: uuid.UUID, seq: int, body: ReasonIn,
                  principal: CurrentUser, session: SessionDep) -> ListDetail:
    return _step(request, session, principal, "disposition.item_withdraw", list_id,
                 disposition.withdraw_item, seq, reason=body.reason)


@router.post("/retention/lists/{list_id}/destruction-record", response_model=ListDetail,
             summary="A committee member's confirmation in the joint record of the "
                     "destruction")
def confirm_destruction(request: Request, list_id: uuid.UUID, body: ConfirmIn,
                        principal: CurrentUser, session: SessionDep) -> ListDetail:
    """Every member of the destruction committee confirms, before or with the request to
    execute (ข้อ 68–69); the certificate carries the record."""
    return _step(request, session, principal, "disposition.destruction_confirm", list_id,
                 execution_request.confirm_destruction, body)


@router.post("/retention/lists/{list_id}/execute", status_code=202, response_model=ListDetail,
             summary="Request execution of an executable list (a committee member; done by "
                     "a job)")
def execute(request: Request, list_id: uuid.UUID, principal: CurrentUser,
            session: SessionDep) -> ListDetail:
    return _step(request, session, principal, "disposition.execute_request", list_id,
                 execution_request.request_execution)


@router.get("/retention/lists/{list_id}/certificate",
            summary="The destruction certificate (JSON, or the HTML rendering)")
def certificate(list_id: uuid.UUID, principal: CurrentUser, session: SessionDep,
                store: StoreDep, seq: Annotated[int | None, Query(ge=1)] = None,
                format: Literal["json", "html"] = "json") -> Response:
    body, media, name = read_models.certificate(session, store, principal, list_id, seq=seq,
                                          fmt=format)
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff"})


class _HeadIn(CommentIn):
    user: str


@router.put("/retention/heads/{org_code}", summary="Assign the head of agency (admin)")
def set_head(request: Request, org_code: str, body: _HeadIn, principal: CurrentUser,
             session: SessionDep) -> dict[str, Any]:
    with _attempt(request, session, principal, "retention.head_assign", "organisation",
                  org_code):
        head = disposition.set_head(session, principal, org_code, body.user)
    return {"org_code": org_code, "user": body.user, "assigned_by": head.assigned_by,
            "assigned_at": head.assigned_at}


# -- holds and audit closures ----------------------------------------------------------

@router.post("/holds", status_code=201, response_model=HoldDetail)
def create_hold(request: Request, body: HoldIn, principal: CurrentUser,
                session: SessionDep) -> HoldDetail:
    """Place a legal hold on records (by id) or on the records matching a filter."""
    with _attempt(request, session, principal, "hold.create", "legal_hold"):
        hold = holds.create_hold(session, principal, body)
        hold, ids = holds.get_hold(session, principal, hold.id)
    return read_models.hold_detail(session, hold, ids)


@router.get("/holds", response_model=list[HoldOut])
def list_holds(principal: CurrentUser, session: SessionDep,
               status: Literal["active", "released"] | None = None) -> list[HoldOut]:
    return [read_models.hold_out(session, h, n)
            for h, n in holds.list_holds(session, principal, status=status)]


@router.get("/holds/{hold_id}", response_model=HoldDetail)
def get_hold(hold_id: uuid.UUID, principal: CurrentUser, session: SessionDep) -> HoldDetail:
    hold, ids = holds.get_hold(session, principal, hold_id)
    return read_models.hold_detail(session, hold, ids)


@router.post("/holds/{hold_id}/release", response_model=HoldDetail)
def release_hold(request: Request, hold_id: uuid.UUID, body: ReasonIn,
                 principal: CurrentUser, session: SessionDep) -> HoldDetail:
    """Release a hold (with a reason); the records' retention is recomputed."""
    with _attempt(request, session, principal, "hold.release", "legal_hold", hold_id):
        holds.release_hold(session, principal, hold_id, reason=body.reason)
        hold, ids = holds.get_hold(session, principal, hold_id)
    return read_models.hold_detail(session, hold, ids)


@router.post("/audit-closures", status_code=201, response_model=ClosureOut,
             summary="Record a State Audit Office closure (an objection places a hold)")
def record_closure(request: Request, body: ClosureIn, principal: CurrentUser,
                   session: SessionDep) -> ClosureOut:
    with _attempt(request, session, principal, "retention.audit_closure", "organisation",
                  body.org_code):
        c = holds.record_closure(session, principal, body)
    return ClosureOut(id=c.id, org_code=body.org_code, fiscal_year=c.fiscal_year,
                      result=c.result, closed_on=c.closed_on, reference=c.reference,
                      recorded_by=c.recorded_by, recorded_at=c.recorded_at,
                      hold_id=c.hold_id)


@router.get("/audit-closures", response_model=list[ClosureOut])
def list_closures(principal: CurrentUser, session: SessionDep, org_code: str | None = None,
                  fiscal_year: Annotated[int | None, AfterValidator(check_fiscal_year)] = None
                  ) -> list[ClosureOut]:
    return [ClosureOut(id=c.id, org_code=code, fiscal_year=c.fiscal_year, result=c.result,
                       closed_on=c.closed_on, reference=c.reference,
                       recorded_by=c.recorded_by, recorded_at=c.recorded_at,
                       hold_id=c.hold_id)
            for c, code in holds.list_closures(session, principal, org_code=org_code,
                                               fiscal_year=fiscal_year)]
