"""Step 5 of the disposition workflow: the committee's joint record of the destruction
(every member confirms, ข้อ 68–69) and the request to execute an executable list, checked
against every earlier step from the stored facts. The ``disposition_execute`` job
(:mod:`archive.retention.execution`) checks it again and does the work."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.accounts.principal import Principal
from archive.errors import Conflict, PermissionDenied
from archive.evidence.models import Evidence
from archive.queue.service import enqueue
from archive.retention import compute, disposition
from archive.retention.models import (
    CommitteeMember,
    DispositionList,
    DispositionVote,
)
from archive.retention.schemas import ConfirmIn

# -- 5. execution request --------------------------------------------------------------

def check_approvals(session: Session, dl: DispositionList) -> list[str]:
    """What is missing before ``dl`` may be executed, from the stored facts."""
    problems = []
    members = disposition.committee(session, dl.id)
    chairs = [m for m, _ in members if m.function == "chair"]
    plain = [m for m, _ in members if m.function == "member"]
    if len(chairs) != 1 or len(plain) < 2:
        problems.append("the committee must be a chair and at least two members")
    if dl.committee_approved_at is None or not chairs or \
            dl.committee_approved_by != chairs[0].user_id:
        problems.append("the committee's review is not closed by its chair")
    if dl.head_decision != "approve" or dl.head_user_id is None:
        problems.append("the head of agency has not approved the list")
    elif dl.head_user_id in {m.user_id for m, _ in members}:
        problems.append("the head of agency sits on the committee")
    if not dl.committee_order_ref or dl.committee_order_date is None:
        problems.append("the committee was not appointed by an order of the head of agency")
    if disposition.executable_on(dl) is None:
        problems.append("the National Archives review is not complete")
    unconfirmed = [u.name for m, u in members if m.destruction_confirmed_at is None]
    if unconfirmed:
        problems.append("the committee's joint record of the destruction lacks the "
                        f"confirmation of {', '.join(unconfirmed)}")
    to_destroy = [i for i in disposition.items(session, dl.id)
                  if i.status == "listed" and i.action == "destroy"]
    votes = {(i, u): v for i, u, v in session.execute(
        sa.select(DispositionVote.item_id, DispositionVote.user_id, DispositionVote.vote)
        .where(DispositionVote.item_id.in_([i.id for i in to_destroy])))}
    for item in to_destroy:
        if any(votes.get((item.id, m.user_id)) != "approve" for m, _ in members):
            problems.append(f"item {item.seq} lacks the approval of every committee member")
    return problems


def confirm_destruction(session: Session, principal: Principal, list_id: uuid.UUID,
                        data: ConfirmIn | None = None) -> DispositionList:
    """A committee member's part of the committee's joint record of the destruction
    (ข้อ 68–69: the committee controls the destruction and records it, signed jointly):
    given once the list is executable, before or with the request to execute."""
    user_id = disposition.named_user(principal)
    dl, org = disposition.load(session, principal, list_id, "disposition.manage")
    disposition.lock(session, dl)
    disposition.expect_status(dl, "archives_review", step="confirming the destruction")
    if not disposition.is_executable(dl):
        on = disposition.executable_on(dl)
        raise Conflict("the list is not executable yet" + (f": the National Archives review "
                       f"period ends on {on}" if on else ""), code="not_executable")
    member = session.get(CommitteeMember, (dl.id, user_id))
    if member is None:
        raise PermissionDenied("only members of this list's committee sign its record of "
                               "the destruction", code="not_on_committee")
    disposition.refuse_held(session, dl, "confirming the destruction")
    if member.destruction_confirmed_at is not None:
        raise Conflict("you already confirmed this destruction", code="already_confirmed")
    member.destruction_confirmed_at = clock.now()
    member.destruction_note = data.note if data else None
    disposition.log_step(session, principal, "disposition.destruction_confirm", dl, org,
                         function=member.function, note=member.destruction_note)
    return dl


def request_execution(session: Session, principal: Principal,
                      list_id: uuid.UUID) -> DispositionList:
    """A committee member asks for the execution; their confirmation is recorded with the
    request, and every other member must have confirmed before."""
    user_id = disposition.named_user(principal)
    dl, org = disposition.load(session, principal, list_id, "disposition.manage")
    disposition.lock(session, dl)
    disposition.expect_status(dl, "archives_review", step="execution")
    today = clock.today()
    on = disposition.executable_on(dl)
    if on is None or today < on:
        raise Conflict(f"the list is not executable yet: the National Archives review period "
                       f"ends on {on}" if on else "the list is not executable",
                       code="not_executable")
    member = session.get(CommitteeMember, (dl.id, user_id))
    if member is None:
        raise PermissionDenied("execution is requested by a member of the list's destruction "
                               "committee (who confirms it with the request)",
                               code="not_on_committee")
    confirmed_now = member.destruction_confirmed_at is None
    if confirmed_now:
        member.destruction_confirmed_at = clock.now()
        session.flush()
    problems = check_approvals(session, dl)
    if problems:
        raise Conflict({"message": "steps are missing", "problems": problems},
                       code="steps_missing")
    disposition.refuse_held(session, dl, "execution")
    not_due = _not_yet_eligible(session, dl, today)
    if not_due:
        raise Conflict({"message": "some records are not eligible for destruction (their "
                        "retention was extended since they were listed); withdraw them first",
                        "items": not_due}, code="not_eligible")
    if confirmed_now:
        disposition.log_step(session, principal, "disposition.destruction_confirm", dl, org,
             function=member.function, with_request=True)
    dl.status = "executing"
    dl.execute_requested_by, dl.execute_requested_at = principal.name, clock.now()
    enqueue(session, "disposition_execute", {"list_id": str(dl.id)},
            dedup_key=f"disposition_execute:{dl.id}")
    disposition.log_step(session, principal, "disposition.execute_request", dl, org)
    return dl


def _not_yet_eligible(session: Session, dl: DispositionList,
                      today: dt.date) -> list[dict[str, Any]]:
    rows = [i for i in disposition.items(session, dl.id)
            if i.status == "listed" and i.action == "destroy"]
    evidence = list(session.scalars(sa.select(Evidence).where(
        Evidence.id.in_([i.evidence_id for i in rows]))))
    decisions = compute.decide_many(session, evidence, today=today)
    seq = {i.evidence_id: i.seq for i in rows}
    return [{"item": seq[e.id], "evidence_id": str(e.id),
             "retain_until": e.retain_until.isoformat() if e.retain_until else None}
            for e in evidence if e.status == "destroyed" or not decisions[e.id].eligible(today)]
