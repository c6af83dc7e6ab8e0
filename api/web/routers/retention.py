"""Records managers (auditors read): retention schedules, forecast, legal holds, State
Audit Office closures, and the disposition lists with their committee and approval steps.

Every changing step runs inside :func:`archive.audit.audited_refusal`, like the API:
a refused step is on record. A refusal re-renders the page with the reason.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ValidationError

from api.deps import SessionDep
from api.web.pages import (
    FormDep,
    FormError,
    PageRoute,
    PageUser,
    form_list,
    form_text,
    redirect,
    render,
)
from archive import clock
from archive.accounts.principal import Principal
from archive.audit import audited_refusal
from archive.errors import ArchiveError, Conflict, InvalidInput
from archive.evidence.models import DOC_TYPES
from archive.evidence.schemas import validation_problems
from archive.orgs import service as orgs
from archive.retention import (
    disposition,
    execution_request,
    holds,
    national_archives,
    read_models,
    survey,
)
from archive.retention.forecast import forecast as run_forecast
from archive.retention.models import LIST_STATUSES
from archive.retention.rules import add_years
from archive.retention.schedules import service as schedules
from archive.retention.schemas import (
    ArchivesResponseIn,
    ArchivesSentIn,
    ClosureIn,
    CommentIn,
    CommitteeIn,
    ConfirmIn,
    DecisionIn,
    HoldIn,
    ReasonIn,
    VotesIn,
)
from archive.validators import date_param

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Refusals shown on the page they came from (with the reason); "not yours" and "not
# found" become the error pages (403/404), as in the API.
SHOWN: tuple[type[ArchiveError], ...] = (InvalidInput, Conflict)

STEPS = ("draft", "committee_review", "committee_approved", "head_approved",
         "archives_review", "executing", "executed")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _parse(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(validation_problems(exc), code="invalid_request") from None


def _attempt(request: Request, session: SessionDep, principal: Principal, action: str,
             target_type: str | None, target_id: Any, call: Callable[[], Any]) -> Any:
    with audited_refusal(principal, action, target_type=target_type, target_id=target_id):
        return call()


# -- schedules and forecast ------------------------------------------------------------

@router.get("/retention")
def schedules_page(request: Request, principal: PageUser, session: SessionDep) -> Response:
    rows = schedules.list_schedules(session, principal)
    return render(request, "retention/schedules.html", schedules=rows,
                  doc_types=schedules.doc_types_by_schedule(session),
                  mapping=schedules.list_doc_types(session, principal))


@router.get("/retention/forecast")
def forecast_page(request: Request, principal: PageUser, session: SessionDep,
                  until: str | None = None) -> Response:
    day = date_param(until, "until") or add_years(clock.today(), 1)
    return render(request, "retention/forecast.html", until=day,
                  result=run_forecast(session, principal, until=day))


# -- holds -----------------------------------------------------------------------------

@router.get("/retention/holds")
def holds_page(request: Request, principal: PageUser, session: SessionDep) -> Response:
    return _holds(request, principal, session)


def _holds(request: Request, principal: Principal, session: SessionDep, *,
           status: int = 200, problems: list[dict[str, str]] | None = None,
           error: str | None = None, values: dict[str, str] | None = None) -> Response:
    rows = [read_models.hold_out(session, h, n) for h, n in holds.list_holds(session, principal)]
    return render(request, "retention/holds.html", status=status, holds=rows,
                  problems=problems or [], error=error, values=values or {},
                  can_manage=principal.can("holds.manage"),
                  orgs=orgs.visible(session, principal), doc_types=DOC_TYPES)


@router.post("/retention/holds")
def create_hold(request: Request, principal: PageUser, session: SessionDep,
                form: FormDep) -> Response:
    """A hold on the records listed by id, or on those matching the filter fields."""
    values = {k: form_text(form, k) or "" for k in (
        "reason", "record_ids", "org_code", "fiscal_year", "doc_type", "voucher_no",
        "issuer_tax_id", "issue_date_from", "issue_date_to")}
    ids = _UUID.findall(values["record_ids"])
    flt = {k: v for k, v in values.items() if v and k not in ("reason", "record_ids")}
    data: dict[str, Any] = {"reason": values["reason"]}
    if ids or values["record_ids"]:
        data["record_ids"] = ids
    if flt or not ids:
        data["filter"] = flt
    try:
        body = _parse(HoldIn, data)
        hold = _attempt(request, session, principal, "hold.create", "legal_hold", None,
                        lambda: holds.create_hold(session, principal, body))
    except SHOWN as exc:
        raise FormError(exc, lambda s, **shown: _holds(request, principal, s, values=values,
                                                       **shown)) from exc
    return redirect(f"/retention/holds/{hold.id}")


@router.get("/retention/holds/{hold_id}")
def hold_page(request: Request, hold_id: uuid.UUID, principal: PageUser,
              session: SessionDep) -> Response:
    return _hold(request, principal, session, hold_id)


def _hold(request: Request, principal: Principal, session: SessionDep, hold_id: uuid.UUID, *,
          status: int = 200, error: str | None = None) -> Response:
    hold, ids = holds.get_hold(session, principal, hold_id)
    return render(request, "retention/hold.html", status=status,
                  hold=read_models.hold_detail(session, hold, ids),
                  can_manage=principal.can("holds.manage"), error=error)


@router.post("/retention/holds/{hold_id}/release")
def release_hold(request: Request, hold_id: uuid.UUID, principal: PageUser,
                 session: SessionDep, form: FormDep) -> Response:
    try:
        body = _parse(ReasonIn, {"reason": form_text(form, "reason") or ""})
        _attempt(request, session, principal, "hold.release", "legal_hold", hold_id,
                 lambda: holds.release_hold(session, principal, hold_id, reason=body.reason))
    except SHOWN as exc:
        raise FormError(exc, lambda s, status, error, problems: _hold(
            request, principal, s, hold_id, status=status, error=error)) from exc
    return redirect(f"/retention/holds/{hold_id}")


# -- State Audit Office closures -------------------------------------------------------

@router.get("/retention/closures")
def closures_page(request: Request, principal: PageUser, session: SessionDep) -> Response:
    return _closures(request, principal, session)


def _closures(request: Request, principal: Principal, session: SessionDep, *,
              status: int = 200, error: str | None = None,
              problems: list[dict[str, str]] | None = None) -> Response:
    rows = holds.list_closures(session, principal)
    return render(request, "retention/closures.html", status=status, closures=rows,
                  orgs=orgs.visible(session, principal), error=error,
                  problems=problems or [], can_manage=principal.can("retention.manage"))


@router.post("/retention/closures")
def record_closure(request: Request, principal: PageUser, session: SessionDep,
                   form: FormDep) -> Response:
    data = {k: form_text(form, k) for k in ("org_code", "fiscal_year", "result", "closed_on",
                                            "reference")}
    try:
        body = _parse(ClosureIn, {k: v for k, v in data.items() if v is not None})
        _attempt(request, session, principal, "retention.audit_closure", "organisation",
                 body.org_code, lambda: holds.record_closure(session, principal, body))
    except SHOWN as exc:
        raise FormError(exc, lambda s, **shown: _closures(request, principal, s,
                                                          **shown)) from exc
    return redirect("/retention/closures")


# -- disposition lists -----------------------------------------------------------------

@router.get("/retention/lists")
def lists_page(request: Request, principal: PageUser, session: SessionDep,
               status: str | None = None) -> Response:
    return _lists(request, principal, session, status_filter=status)


def _lists(request: Request, principal: Principal, session: SessionDep, *,
           status_filter: str | None = None, status: int = 200, error: str | None = None,
           survey: Any = None) -> Response:
    rows = read_models.lists(session, principal, status=status_filter or None)
    return render(request, "retention/lists.html", status=status, lists=rows, error=error,
                  survey=survey, statuses=LIST_STATUSES, status_filter=status_filter or "",
                  orgs=orgs.visible(session, principal),
                  can_manage=principal.can("disposition.manage"))


@router.post("/retention/survey")
def run_survey(request: Request, principal: PageUser, session: SessionDep,
               form: FormDep) -> Response:
    """Draft disposition lists of the records eligible now (proposes only)."""
    org_code = form_text(form, "org_code")
    dry_run = form_text(form, "dry_run") == "1"
    try:
        result = _attempt(request, session, principal, "disposition.survey", None, None,
                          lambda: survey.survey(session, principal, dry_run=dry_run,
                                                     org_code=org_code))
    except SHOWN as exc:
        raise FormError(exc, lambda s, status, error, problems: _lists(
            request, principal, s, status=status, error=error)) from exc
    return _lists(request, principal, session, survey=result)


@router.get("/retention/lists/{list_id}")
def list_page(request: Request, list_id: uuid.UUID, principal: PageUser,
              session: SessionDep) -> Response:
    return _list(request, principal, session, list_id)


def _list(request: Request, principal: Principal, session: SessionDep, list_id: uuid.UUID,
          *, status: int = 200, error: str | None = None,
          problems: list[dict[str, str]] | None = None) -> Response:
    detail = read_models.list_detail(session, principal, list_id)
    me = principal.name
    committee = detail.committee
    chair = (committee.get("chair") or {}).get("user")
    members = [m.get("user") for m in committee.get("members") or []]
    to_vote = [e for e in detail.entries if e.status == "listed" and
               not any(v.get("user") == me for v in e.votes)]
    done = STEPS.index(detail.status) if detail.status in STEPS else -1
    record = committee.get("destruction_record") or []
    return render(request, "retention/list.html", status=status, dl=detail, error=error,
                  confirmed=[r.get("user") for r in record if r.get("confirmed_at")],
                  review_days=national_archives.rule(session, disposition.ARCHIVES_REVIEW).value,
                  problems=problems or [], steps=STEPS, step_index=done,
                  can_manage=principal.can("disposition.manage"),
                  on_committee=me == chair or me in members, is_chair=me == chair,
                  to_vote=to_vote, today=clock.today(), open_list=detail.status in (
                      "draft", "committee_review", "committee_approved", "head_approved",
                      "archives_review"))


def _list_step(request: Request, principal: Principal, session: SessionDep,
               list_id: uuid.UUID, action: str, call: Callable[[], Any]) -> Response:
    try:
        _attempt(request, session, principal, action, "disposition_list", list_id, call)
    except SHOWN as exc:
        raise FormError(exc, lambda s, **shown: _list(request, principal, s, list_id,
                                                      **shown)) from exc
    return redirect(f"/retention/lists/{list_id}#progress")


@router.post("/retention/lists/{list_id}/committee")
def appoint_committee(request: Request, list_id: uuid.UUID, principal: PageUser,
                      session: SessionDep, form: FormDep) -> Response:
    def call() -> Any:
        body = _parse(CommitteeIn, {"chair": form_text(form, "chair") or "",
                                    "members": form_list(form, "member"),
                                    "order_ref": form_text(form, "order_ref"),
                                    "order_date": form_text(form, "order_date")})
        return disposition.appoint_committee(session, principal, list_id, body)
    return _list_step(request, principal, session, list_id,
                      "disposition.committee_appoint", call)


@router.post("/retention/lists/{list_id}/votes")
def vote(request: Request, list_id: uuid.UUID, principal: PageUser, session: SessionDep,
         form: FormDep) -> Response:
    """The member's vote on every item shown (``vote-<n>`` = approve | object, with
    ``action-<n>``, ``keep-<n>`` and ``comment-<n>`` for objections)."""
    def call() -> Any:
        votes = []
        for key in form:
            if not key.startswith("vote-"):
                continue
            n = key.removeprefix("vote-")
            v: dict[str, Any] = {"item": n, "vote": form_text(form, key),
                                 "comment": form_text(form, f"comment-{n}")}
            if v["vote"] == "object":
                v["action"] = form_text(form, f"action-{n}")
                v["keep_until"] = form_text(form, f"keep-{n}")
            votes.append(v)
        body = _parse(VotesIn, {"votes": votes})
        return disposition.vote(session, principal, list_id, body.votes)
    return _list_step(request, principal, session, list_id, "disposition.vote", call)


@router.post("/retention/lists/{list_id}/committee-approval")
def committee_approval(request: Request, list_id: uuid.UUID, principal: PageUser,
                       session: SessionDep, form: FormDep) -> Response:
    body = CommentIn(comment=form_text(form, "comment"))
    return _list_step(request, principal, session, list_id, "disposition.committee_approve",
                      lambda: disposition.committee_approve(session, principal, list_id,
                                                            comment=body.comment))


@router.post("/retention/lists/{list_id}/head-decision")
def head_decision(request: Request, list_id: uuid.UUID, principal: PageUser,
                  session: SessionDep, form: FormDep) -> Response:
    decision = form_text(form, "decision") or ""
    action = f"disposition.head_{decision if decision in ('approve', 'reject') else 'decide'}"

    def call() -> Any:
        body = _parse(DecisionIn, {"decision": decision, "comment": form_text(form, "comment")})
        return disposition.head_decision(session, principal, list_id,
                                         decision=body.decision, comment=body.comment)
    return _list_step(request, principal, session, list_id, action, call)


@router.post("/retention/lists/{list_id}/archives-sent")
def archives_sent(request: Request, list_id: uuid.UUID, principal: PageUser,
                  session: SessionDep, form: FormDep) -> Response:
    def call() -> Any:
        data = {"sent_on": form_text(form, "sent_on"), "reference": form_text(form, "reference"),
                "review_days": form_text(form, "review_days")}
        body = _parse(ArchivesSentIn, {k: v for k, v in data.items() if v is not None})
        return national_archives.archives_sent(session, principal, list_id, body)
    return _list_step(request, principal, session, list_id, "disposition.archives_sent", call)


@router.post("/retention/lists/{list_id}/archives-response")
def archives_response(request: Request, list_id: uuid.UUID, principal: PageUser,
                      session: SessionDep, form: FormDep) -> Response:
    def call() -> Any:
        result = form_text(form, "result")
        data: dict[str, Any] = {"result": result, "responded_on": form_text(form, "responded_on"),
                                "comment": form_text(form, "comment")}
        if result == "object":
            # One action (keep until a date, or transfer) for the items objected to.
            action = form_text(form, "object_action") or "keep"
            data["items"] = [{"item": n, "action": action, "comment": form_text(form, "comment"),
                              **({"keep_until": form_text(form, "object_keep_until")}
                                 if action == "keep" else {})}
                             for n in form_list(form, "object_item")]
        else:
            data["transfer_items"] = form_list(form, "transfer")
        body = _parse(ArchivesResponseIn, data)
        return national_archives.archives_response(session, principal, list_id, body)
    return _list_step(request, principal, session, list_id, "disposition.archives_response",
                      call)


@router.post("/retention/lists/{list_id}/items/{seq}/withdraw")
def withdraw_item(request: Request, list_id: uuid.UUID, seq: int, principal: PageUser,
                  session: SessionDep, form: FormDep) -> Response:
    def call() -> Any:
        body = _parse(ReasonIn, {"reason": form_text(form, "reason") or ""})
        return disposition.withdraw_item(session, principal, list_id, seq, reason=body.reason)
    return _list_step(request, principal, session, list_id, "disposition.item_withdraw", call)


@router.post("/retention/lists/{list_id}/destruction-record")
def confirm_destruction(request: Request, list_id: uuid.UUID, principal: PageUser,
                        session: SessionDep, form: FormDep) -> Response:
    def call() -> Any:
        body = _parse(ConfirmIn, {"note": form_text(form, "note")})
        return execution_request.confirm_destruction(session, principal, list_id, body)
    return _list_step(request, principal, session, list_id, "disposition.destruction_confirm",
                      call)


@router.post("/retention/lists/{list_id}/execute")
def execute(request: Request, list_id: uuid.UUID, principal: PageUser,
            session: SessionDep) -> Response:
    return _list_step(request, principal, session, list_id, "disposition.execute_request",
                      lambda: execution_request.request_execution(session, principal, list_id))
