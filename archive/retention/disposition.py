"""The disposition workflow of the Regulation on Correspondence (ระเบียบงานสารบรรณ ข้อ 66–70).

1. **Survey** (ข้อ 66): records past ``retain_until``, not on hold, on no open list, are
   drafted into a list per organisation with the fields of form 25 (แบบที่ 25,
   บัญชีหนังสือขอทำลาย). The scheduled job only proposes: a draft does nothing by itself.
2. **Committee** (ข้อ 68): a chair and at least two members, each a named user with the
   records-manager role in the organisation's scope, are recorded on the list. Each votes
   approve / object on every item, with a comment; an objection takes effect at once —
   the item is removed, kept longer (until a date) or marked for transfer. The chair closes
   the review once every member has voted on every item.
3. **Head of agency** approves (or rejects) the list: the user assigned as head of the
   organisation, who must not sit on its committee.
4. **National Archives** (Fine Arts Department): the list is marked sent on a date; it
   becomes executable when consent is recorded, or when the review period (60 days by
   default, per list) has passed without an objection. Items the archives want are marked
   for transfer.
5. **Execution** is requested by a named user and done by the ``disposition_execute`` job
   (``archive.retention.execution``): tombstone first, then the bytes, then the certificate.

Every step checks the ones before it from the stored facts (not from ``status`` alone),
refuses while any record to be destroyed is on legal hold, and is audited; refused
attempts are audited by the caller (``archive.audit.audited_refusal``). Nobody can skip a step: the
steps need named users in specific functions, so neither an administrator (who holds no
disposition capability) nor the system account can take them. One person holds at most
one function on a list.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts import service as accounts
from archive.accounts.models import User
from archive.accounts.principal import Principal, require
from archive.db import upsert_ignore
from archive.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from archive.evidence.models import Evidence
from archive.orgs import service as orgs
from archive.orgs.models import Organisation
from archive.queue.service import enqueue
from archive.retention import compute, locks
from archive.retention.models import (
    OPEN_STATUSES,
    AgencyHead,
    CommitteeMember,
    DispositionCertificate,
    DispositionItem,
    DispositionList,
    DispositionVote,
)
from archive.retention.rules import Decision, show
from archive.retention.schedules.models import RetentionSchedule
from archive.retention.schedules.service import ensure_defaults
from archive.retention.schemas import ArchivesResponseIn, ArchivesSentIn, CommitteeIn, VoteIn

DEFAULT_REVIEW_DAYS = 60
DOC_TYPE_TH = {
    "receipt": "ใบเสร็จรับเงิน", "tax_invoice": "ใบกำกับภาษี", "invoice": "ใบแจ้งหนี้",
    "e_payment_report": "รายงานการจ่ายเงินทางอิเล็กทรอนิกส์", "payment_voucher": "ใบสำคัญรับเงิน",
    "contract": "สัญญา", "inspection_report": "ใบตรวจรับพัสดุ", "scan": "เอกสารสแกน",
    "other": "เอกสารอื่น",
}


# -- helpers ---------------------------------------------------------------------------

def _named_user(principal: Principal) -> int:
    if principal.user_id is None:
        raise PermissionDenied("disposition steps are taken by named users (their own API "
                               "token), not by the system account", code="named_user_required")
    return principal.user_id


def load(session: Session, principal: Principal, list_id: uuid.UUID,
         capability: str = "retention.read") -> tuple[DispositionList, Organisation]:
    require(principal, capability)
    row = session.execute(sa.select(DispositionList, Organisation)
                          .join(Organisation, Organisation.id == DispositionList.org_id)
                          .where(DispositionList.id == list_id)).first()
    if row is None or not accounts.in_scope(session, principal, row[0].org_id):
        raise NotFound("no such disposition list", code="list_not_found")
    return row[0], row[1]


def lock(session: Session, dl: DispositionList) -> DispositionList:
    """Serialise changes to one list: a write first (SQLite's write lock, PostgreSQL's row
    lock), then fresh reads of the list and everything under it."""
    session.execute(sa.update(DispositionList).where(DispositionList.id == dl.id)
                    .values(version=DispositionList.version + 1)
                    .execution_options(synchronize_session=False))
    session.refresh(dl)
    return dl


def _expect(dl: DispositionList, *statuses: str, step: str) -> None:
    if dl.status not in statuses:
        raise Conflict(f"{step}: the list is {dl.status}; this step needs it to be "
                       f"{' or '.join(statuses)}", code="wrong_step")


def items(session: Session, list_id: uuid.UUID) -> list[DispositionItem]:
    return list(session.scalars(sa.select(DispositionItem).where(
        DispositionItem.list_id == list_id).order_by(DispositionItem.seq)
        .execution_options(populate_existing=True)))


def committee(session: Session, list_id: uuid.UUID) -> list[tuple[CommitteeMember, User]]:
    return [(m, u) for m, u in session.execute(
        sa.select(CommitteeMember, User).join(User, User.id == CommitteeMember.user_id)
        .where(CommitteeMember.list_id == list_id)
        .order_by(CommitteeMember.function, User.name))]


def _pending(rows: list[DispositionItem]) -> list[DispositionItem]:
    return [i for i in rows if i.status == "listed"]


def held_items(session: Session, list_id: uuid.UUID) -> list[dict[str, Any]]:
    """Items still to be destroyed whose record is on legal hold."""
    return [{"item": seq, "evidence_id": str(eid)} for seq, eid in session.execute(
        sa.select(DispositionItem.seq, DispositionItem.evidence_id)
        .join(Evidence, Evidence.id == DispositionItem.evidence_id)
        .where(DispositionItem.list_id == list_id, DispositionItem.status == "listed",
               DispositionItem.action == "destroy", Evidence.on_hold.is_(True))
        .order_by(DispositionItem.seq))]


def refuse_held(session: Session, dl: DispositionList, step: str) -> None:
    held = held_items(session, dl.id)
    if held:
        raise Conflict({"message": f"{step}: records on this list are under legal hold; "
                        "release the hold, or take the items off the list, first",
                        "items": held}, code="record_on_hold")


def close_item(item: DispositionItem, status: str, note: str | None = None) -> None:
    """Take an item off the list's open work (removed, destroyed, transferred, blocked)."""
    item.status = status
    item.open_evidence_id = None
    item.updated_at = clock.now()
    if note:
        item.note = f"{item.note}\n{note}" if item.note else note


def _close_list_if_empty(session: Session, dl: DispositionList, rows: list[DispositionItem],
                         principal: Principal, org: Organisation) -> bool:
    if any(i.status == "listed" for i in rows):
        return False
    dl.status = "empty"
    dl.closed_reason = "no item left to destroy or transfer"
    audit.record(session, actor=principal, action="disposition.list_closed",
                 target_type="disposition_list", target_id=dl.id, org_id=org.id,
                 details={"number": dl.number, "status": "empty"})
    return True


def executable_on(dl: DispositionList) -> dt.date | None:
    """When the list becomes executable (None: not on this path yet, or refused)."""
    if dl.status not in ("archives_review", "executing", "executed") or \
            dl.archives_result == "objection" or dl.archives_sent_on is None:
        return None
    if dl.archives_result == "consent":
        return dl.archives_responded_on
    return dl.archives_sent_on + dt.timedelta(days=dl.archives_review_days or
                                              DEFAULT_REVIEW_DAYS)


def is_executable(dl: DispositionList, today: dt.date | None = None) -> bool:
    on = executable_on(dl)
    return dl.status == "archives_review" and on is not None and (today or clock.today()) >= on


def _log(session: Session, principal: Principal, action: str, dl: DispositionList,
         org: Organisation, **details: Any) -> None:
    audit.record(session, actor=principal, action=action, target_type="disposition_list",
                 target_id=dl.id, org_id=org.id, details={"number": dl.number, **details})


# -- 1. survey (ข้อ 66) ----------------------------------------------------------------

@dataclass
class SurveyResult:
    as_of: dt.date
    dry_run: bool
    note: str | None = None
    lists: list[dict[str, Any]] = field(default_factory=list)
    eligible: int = 0
    listed: int = 0


def survey(session: Session, principal: Principal, *, as_of: dt.date | None = None,
           dry_run: bool = False, org_code: str | None = None) -> SurveyResult:
    """Draft disposition lists of the records eligible on ``as_of`` (default: today).

    Only proposes. A future ``as_of`` is a preview: nothing is listed, because every later
    step checks eligibility against the real calendar anyway.
    """
    require(principal, "disposition.manage")
    ensure_defaults(session)
    today = clock.today()
    as_of = as_of or today
    result = SurveyResult(as_of, dry_run)
    if as_of > today and not dry_run:
        result.dry_run = dry_run = True
        result.note = f"as_of {as_of} is after today ({today}): preview only, nothing listed"
    open_items = sa.select(DispositionItem.open_evidence_id).where(
        DispositionItem.open_evidence_id.is_not(None))
    transferred = sa.select(DispositionItem.evidence_id).where(
        DispositionItem.status == "transferred")
    q = sa.select(Evidence.id).where(
        Evidence.status != "destroyed", Evidence.on_hold.is_(False),
        sa.or_(Evidence.retain_until.is_(None),
               Evidence.retain_until <= clock.start_of_day(as_of)),
        Evidence.id.not_in(open_items), Evidence.id.not_in(transferred))
    q = accounts.limit_to_scope(session, principal, q, Evidence.org_id)
    if org_code:
        org = orgs.get_by_code(session, org_code)
        accounts.ensure_in_scope(session, principal, org.id, "organisation")
        q = q.where(Evidence.org_id == org.id)
    candidates = list(session.scalars(q.order_by(Evidence.org_id, Evidence.id)))
    rule_map = compute.rules(session)
    schedules = {s.id: s for s in session.scalars(sa.select(RetentionSchedule))}
    by_org: dict[int, list[tuple[Evidence, Decision]]] = defaultdict(list)
    for start in range(0, len(candidates), compute.BATCH):
        ids = candidates[start:start + compute.BATCH]
        if not dry_run:
            compute.recompute(session, ids, today=as_of)
        rows = list(session.scalars(sa.select(Evidence).where(Evidence.id.in_(ids))
                                    .order_by(Evidence.org_id, Evidence.issue_date, Evidence.id)
                                    .execution_options(populate_existing=True)))
        decisions = compute.decide_many(session, rows, today=as_of, rule_map=rule_map)
        for e in rows:
            if decisions[e.id].eligible(as_of):
                by_org[e.org_id].append((e, decisions[e.id]))
    result.eligible = sum(len(v) for v in by_org.values())
    org_rows = {o.id: o for o in session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(list(by_org))))}
    for org_id, entries in sorted(by_org.items(), key=lambda kv: org_rows[kv[0]].code):
        org = org_rows[org_id]
        release_day = locks.store_releases_on(session, sorted({e.blob_id for e, _ in entries}))
        releases = release_day.isoformat() if release_day else None
        if dry_run:
            result.lists.append({"org_code": org.code, "records": len(entries),
                                 "evidence_ids": [str(e.id) for e, _ in entries[:100]],
                                 "store_releases_on": releases})
            continue
        dl, created = _draft_list(session, principal, org, as_of)
        lock(session, dl)
        seq = session.scalar(sa.select(sa.func.coalesce(sa.func.max(DispositionItem.seq), 0))
                             .where(DispositionItem.list_id == dl.id)) or 0
        rows_in = []
        for e, decision in entries:
            seq += 1
            rows_in.append(_item_row(dl, seq, e, decision, schedules.get(e.schedule_id or -1)))
        added = upsert_ignore(session, DispositionItem, rows_in, ["open_evidence_id"],
                              returning=DispositionItem)
        result.listed += len(added)
        _log(session, principal, "disposition.survey", dl, org, as_of=as_of, created=created,
             added=len(added), evidence_ids=[str(i.evidence_id) for i in added][:500])
        result.lists.append({"id": str(dl.id), "number": dl.number, "org_code": org.code,
                             "added": len(added), "created": created,
                             "store_releases_on": releases})
    if not result.lists and not dry_run:
        audit.record(session, actor=principal, action="disposition.survey",
                     details={"as_of": as_of, "eligible": 0})
    return result


def _draft_list(session: Session, principal: Principal, org: Organisation,
                as_of: dt.date) -> tuple[DispositionList, bool]:
    year_be = as_of.year + 543
    dl = session.scalar(sa.select(DispositionList).where(
        DispositionList.org_id == org.id, DispositionList.status == "draft",
        DispositionList.year_be == year_be).order_by(DispositionList.created_at.desc()))
    if dl is not None:
        return dl, False
    n = (session.scalar(sa.select(sa.func.count()).select_from(DispositionList).where(
        DispositionList.org_id == org.id, DispositionList.year_be == year_be)) or 0) + 1
    dl = DispositionList(org_id=org.id, number=f"{org.code}/{year_be}/{n}", year_be=year_be,
                         as_of=as_of, status="draft", version=1, created_by=principal.name,
                         created_at=clock.now())
    session.add(dl)
    session.flush()
    return dl, True


def _item_row(dl: DispositionList, seq: int, e: Evidence, decision: Decision,
              schedule: RetentionSchedule | None) -> dict[str, Any]:
    refs = [f"ฎีกา {e.voucher_no}" if e.voucher_no else None, e.doc_number]
    subject = " — ".join(p for p in [
        DOC_TYPE_TH.get(e.doc_type, e.doc_type), e.issuer_name,
        f"{e.amount} {e.currency}" if e.amount is not None else None,
        e.description] if p) or e.original_filename
    until = decision.retain_until
    reason = (f"retention ended on {show(until.astimezone(clock.BANGKOK).date())}: "
              if until else "") + decision.basis
    return {"list_id": dl.id, "seq": seq, "evidence_id": e.id, "open_evidence_id": e.id,
            "file_code": schedule.code if schedule else "-",
            "doc_reference": " / ".join(r for r in refs if r)[:200] or None,
            "doc_date": e.issue_date, "subject": subject[:2000],
            "retention_period": decision.period or "-", "reason": reason[:4000],
            "retain_until": until, "status": "listed", "updated_at": clock.now(),
            "action": "transfer" if schedule is not None and schedule.action == "transfer"
            else "destroy"}


# -- 2. committee (ข้อ 68) -------------------------------------------------------------

def appoint_committee(session: Session, principal: Principal, list_id: uuid.UUID,
                      data: CommitteeIn) -> DispositionList:
    _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "draft", step="appointing the committee")
    names = [data.chair, *data.members]
    if len(set(names)) != len(names):
        raise InvalidInput("the chair and the members must be different people (one person, "
                           "one function)", code="duplicate_person")
    users = [_eligible_user(session, name, org, "committee member") for name in names]
    head = session.get(AgencyHead, org.id)
    if head is not None and head.user_id in {u.id for u in users}:
        raise InvalidInput("the head of agency approves the list and cannot also sit on its "
                           "committee (one person, one function)", code="duplicate_person")
    for i, user in enumerate(users):
        session.add(CommitteeMember(list_id=dl.id, user_id=user.id,
                                    function="chair" if i == 0 else "member"))
    dl.committee_order_ref = data.order_ref
    dl.committee_appointed_by = principal.name
    dl.committee_appointed_at = clock.now()
    dl.status = "committee_review"
    _log(session, principal, "disposition.committee_appoint", dl, org, chair=data.chair,
         members=data.members, order_ref=data.order_ref)
    return dl


def _eligible_user(session: Session, name: str, org: Organisation, function: str) -> User:
    try:
        user = accounts.get_user(session, name)
    except NotFound:
        raise InvalidInput(f"no user {name!r}", code="user_not_found") from None
    if user.disabled or user.role != "records_manager":
        raise InvalidInput(f"{name!r} cannot be a {function}: a {function} must be an active "
                           "user with the records_manager role", code="ineligible_user")
    if not accounts.in_scope(session, accounts.principal_for(session, user), org.id):
        raise InvalidInput(f"{name!r} cannot be a {function}: {org.code} is outside their "
                           "scope", code="ineligible_user")
    return user


def vote(session: Session, principal: Principal, list_id: uuid.UUID,
         votes: list[VoteIn]) -> list[DispositionItem]:
    user_id = _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "committee_review", step="voting")
    if not any(m.user_id == user_id for m, _ in committee(session, dl.id)):
        raise PermissionDenied("only members of this list's committee vote on it",
                               code="not_on_committee")
    rows = {i.seq: i for i in items(session, dl.id)}
    already = set(session.scalars(sa.select(DispositionVote.item_id).where(
        DispositionVote.user_id == user_id,
        DispositionVote.item_id.in_([i.id for i in rows.values()]))))
    held = {h["item"] for h in held_items(session, dl.id)}
    today = clock.today()
    for v in votes:
        item = rows.get(v.item)
        if item is None:
            raise InvalidInput(f"no item {v.item} on this list", code="no_such_item")
        if item.status != "listed":
            raise Conflict(f"item {v.item} is {item.status}; nothing to vote on",
                           code="item_closed")
        if item.id in already:
            raise Conflict(f"you already voted on item {v.item} (votes are final)",
                           code="already_voted")
        if v.vote == "approve" and v.item in held:
            raise Conflict({"message": "the record is under legal hold and cannot be "
                            "approved for destruction", "items": [{"item": v.item}]},
                           code="record_on_hold")
        if v.action == "keep" and v.keep_until is not None and v.keep_until <= today:
            raise InvalidInput(f"item {v.item}: keep_until must be in the future",
                               code="invalid_vote")
        already.add(item.id)
        session.add(DispositionVote(item_id=item.id, user_id=user_id, vote=v.vote,
                                    action=v.action, keep_until=v.keep_until,
                                    comment=v.comment, at=clock.now()))
        if v.vote == "object":
            _apply_objection(item, v, principal.name)
        audit.record(session, actor=principal, action=f"disposition.vote_{v.vote}",
                     target_type="disposition_list", target_id=dl.id, org_id=org.id,
                     details={"number": dl.number, "item": v.item,
                              "evidence_id": item.evidence_id, "comment": v.comment,
                              "action": v.action, "keep_until": v.keep_until})
    return list(rows.values())


def _apply_objection(item: DispositionItem, v: VoteIn, who: str) -> None:
    note = f"objection by {who}: {v.comment}"
    if v.action == "remove":
        item.action = "remove"
        close_item(item, "removed", note)
        return
    if v.action == "keep":
        assert v.keep_until is not None
        item.action = "keep"
        item.keep_until = max(filter(None, [item.keep_until, v.keep_until]))
    elif v.action == "transfer" and item.action != "keep":
        item.action = "transfer"
    item.note = f"{item.note}\n{note}" if item.note else note
    item.updated_at = clock.now()


def committee_approve(session: Session, principal: Principal, list_id: uuid.UUID, *,
                      comment: str | None = None) -> DispositionList:
    user_id = _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "committee_review", step="closing the committee review")
    members = committee(session, dl.id)
    chair = [m for m, _ in members if m.function == "chair"]
    if not chair or chair[0].user_id != user_id:
        raise PermissionDenied("only the chair of the committee closes its review",
                               code="not_chair")
    rows = items(session, dl.id)
    pending = _pending(rows)
    voted = set(session.execute(sa.select(DispositionVote.item_id, DispositionVote.user_id)
                                .where(DispositionVote.item_id.in_([i.id for i in pending]))))
    missing = [{"item": i.seq, "member": u.name} for i in pending for m, u in members
               if (i.id, m.user_id) not in voted]
    if missing:
        raise Conflict({"message": "every committee member must vote on every item first",
                        "missing": missing[:100]}, code="votes_missing")
    refuse_held(session, dl, "closing the committee review")
    now = clock.now()
    for item in pending:
        if item.action == "keep":
            _keep_longer(session, principal, dl, org, item)
    dl.committee_approved_by = user_id
    dl.committee_approved_at = now
    if not _close_list_if_empty(session, dl, rows, principal, org):
        dl.status = "committee_approved"
    _log(session, principal, "disposition.committee_approve", dl, org, comment=comment,
         to_destroy=sum(1 for i in rows if i.status == "listed" and i.action == "destroy"),
         to_transfer=sum(1 for i in rows if i.status == "listed" and i.action == "transfer"))
    return dl


def _keep_longer(session: Session, principal: Principal, dl: DispositionList,
                 org: Organisation, item: DispositionItem) -> None:
    """The committee decided to keep the record longer (ข้อ 69): extend its retention."""
    assert item.keep_until is not None
    until = clock.start_of_day(item.keep_until)
    basis = (f"kept until {show(item.keep_until)} by decision of the destruction committee "
             f"on list {dl.number}")
    session.execute(sa.update(Evidence).where(
        Evidence.id == item.evidence_id,
        sa.or_(Evidence.retain_until.is_(None), Evidence.retain_until < until))
        .values(retain_until=until, retention_basis=basis)
        .execution_options(synchronize_session=False))
    blob_id = session.scalar(sa.select(Evidence.blob_id).where(Evidence.id == item.evidence_id))
    enqueue(session, "retention_sync_locks", {"blob_id": blob_id},
            dedup_key=f"retention_sync_locks:{blob_id}:keep:{dl.id}:{item.seq}")
    close_item(item, "kept", basis)
    audit.record(session, actor=principal, action="retention.extend",
                 target_type="evidence", target_id=item.evidence_id, org_id=org.id,
                 details={"retain_until": until, "basis": basis})


# -- 3. head of agency -----------------------------------------------------------------

def set_head(session: Session, principal: Principal, org_code: str,
             user_name: str) -> AgencyHead:
    """Assign the head of agency of an organisation (an administrator's act: the head
    cannot appoint themself, and administrators cannot approve lists)."""
    require(principal, "users.manage")
    org = orgs.get_by_code(session, org_code)
    user = accounts.get_user(session, user_name)
    if user.role == "admin" or user.disabled:
        raise InvalidInput("the head of agency must be an active non-administrator user "
                           "(administrators cannot approve disposition lists)",
                           code="ineligible_user")
    if not accounts.in_scope(session, accounts.principal_for(session, user), org.id):
        raise InvalidInput(f"{org.code} is outside {user.name!r}'s scope",
                           code="ineligible_user")
    open_lists = session.scalars(sa.select(CommitteeMember.list_id).join(
        DispositionList, DispositionList.id == CommitteeMember.list_id).where(
        CommitteeMember.user_id == user.id, DispositionList.org_id == org.id,
        DispositionList.status.in_(OPEN_STATUSES))).first()
    if open_lists is not None:
        raise Conflict(f"{user.name!r} sits on the committee of an open list of {org.code} "
                       "(one person, one function)", code="duplicate_person")
    head = session.get(AgencyHead, org.id)
    previous = None
    if head is None:
        head = AgencyHead(org_id=org.id, user_id=user.id, assigned_by=principal.name,
                          assigned_at=clock.now())
        session.add(head)
    else:
        previous = head.user_id
        head.user_id, head.assigned_by, head.assigned_at = user.id, principal.name, clock.now()
    audit.record(session, actor=principal, action="retention.head_assign",
                 target_type="organisation", target_id=org.code, org_id=org.id,
                 details={"user": user.name, "previous_user_id": previous})
    return head


def head_decision(session: Session, principal: Principal, list_id: uuid.UUID, *,
                  decision: str, comment: str | None = None) -> DispositionList:
    user_id = _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "committee_approved", step="the head of agency's decision")
    head = session.get(AgencyHead, org.id)
    if head is None or head.user_id != user_id:
        raise PermissionDenied(f"only the head of agency of {org.code} decides on its "
                               "disposition lists", code="not_head_of_agency")
    if any(m.user_id == user_id for m, _ in committee(session, dl.id)):
        raise PermissionDenied("you sit on this list's committee; the head of agency must be "
                               "someone else (one person, one function)",
                               code="duplicate_person")
    if decision == "approve":
        refuse_held(session, dl, "the head of agency's approval")
    dl.head_user_id, dl.head_decision = user_id, decision
    dl.head_comment, dl.head_decided_at = comment, clock.now()
    if decision == "approve":
        dl.status = "head_approved"
    else:
        _reject(dl, items(session, dl.id), "rejected by the head of agency")
    _log(session, principal, f"disposition.head_{decision}", dl, org, comment=comment)
    return dl


def _reject(dl: DispositionList, rows: list[DispositionItem], reason: str) -> None:
    dl.status = "rejected"
    dl.closed_reason = reason
    for item in rows:
        if item.status == "listed":
            close_item(item, "removed", reason)


# -- 4. National Archives --------------------------------------------------------------

def archives_sent(session: Session, principal: Principal, list_id: uuid.UUID,
                  data: ArchivesSentIn) -> DispositionList:
    _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "head_approved", step="sending the list to the National Archives")
    assert dl.head_decided_at is not None
    decided = dl.head_decided_at.astimezone(clock.BANGKOK).date()
    if not decided <= data.sent_on <= clock.today():
        raise InvalidInput(f"sent_on must be between the head's approval ({decided}) and "
                           "today", code="invalid_date")
    refuse_held(session, dl, "sending the list to the National Archives")
    dl.archives_sent_on, dl.archives_reference = data.sent_on, data.reference
    dl.archives_review_days, dl.archives_sent_by = data.review_days, principal.name
    dl.status = "archives_review"
    _log(session, principal, "disposition.archives_sent", dl, org, sent_on=data.sent_on,
         reference=data.reference, review_days=data.review_days)
    return dl


def archives_response(session: Session, principal: Principal, list_id: uuid.UUID,
                      data: ArchivesResponseIn) -> DispositionList:
    _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "archives_review", step="recording the National Archives' answer")
    if dl.archives_result is not None:
        raise Conflict(f"the National Archives' answer is already recorded "
                       f"({dl.archives_result})", code="already_recorded")
    assert dl.archives_sent_on is not None
    if not dl.archives_sent_on <= data.responded_on <= clock.today():
        raise InvalidInput("responded_on must be between the sending date and today",
                           code="invalid_date")
    rows = items(session, dl.id)
    by_seq = {i.seq: i for i in rows}
    for seq in data.transfer_items:
        item = by_seq.get(seq)
        if item is None or item.status != "listed":
            raise InvalidInput(f"item {seq} is not on the list", code="no_such_item")
        if item.action == "destroy":
            item.action = "transfer"
            item.note = ((item.note + "\n") if item.note else "") + \
                "wanted by the National Archives: transfer"
    dl.archives_result, dl.archives_responded_on = data.result, data.responded_on
    dl.archives_comment, dl.archives_recorded_by = data.comment, principal.name
    if data.result == "objection":
        _reject(dl, rows, "the National Archives objected")
    _log(session, principal, "disposition.archives_response", dl, org, result=data.result,
         responded_on=data.responded_on, transfer_items=data.transfer_items,
         comment=data.comment)
    return dl


# -- withdrawing an item ---------------------------------------------------------------

def withdraw_item(session: Session, principal: Principal, list_id: uuid.UUID, seq: int, *,
                  reason: str) -> DispositionList:
    """Take an item off a list at any step before execution (it can only make the list
    destroy less)."""
    _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "draft", "committee_review", "committee_approved", "head_approved",
            "archives_review", step="withdrawing an item")
    rows = items(session, dl.id)
    item = next((i for i in rows if i.seq == seq), None)
    if item is None:
        raise NotFound(f"no item {seq} on this list", code="no_such_item")
    if item.status != "listed":
        raise Conflict(f"item {seq} is already {item.status}", code="item_closed")
    item.action = "remove"
    close_item(item, "removed", f"withdrawn by {principal.name}: {reason}")
    if dl.status != "draft":
        _close_list_if_empty(session, dl, rows, principal, org)
    _log(session, principal, "disposition.item_withdraw", dl, org, item=seq,
         evidence_id=item.evidence_id, reason=reason)
    return dl


# -- 5. execution request --------------------------------------------------------------

def check_approvals(session: Session, dl: DispositionList) -> list[str]:
    """What is missing before ``dl`` may be executed, from the stored facts."""
    problems = []
    members = committee(session, dl.id)
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
    if executable_on(dl) is None:
        problems.append("the National Archives review is not complete")
    to_destroy = [i for i in items(session, dl.id)
                  if i.status == "listed" and i.action == "destroy"]
    votes = {(i, u): v for i, u, v in session.execute(
        sa.select(DispositionVote.item_id, DispositionVote.user_id, DispositionVote.vote)
        .where(DispositionVote.item_id.in_([i.id for i in to_destroy])))}
    for item in to_destroy:
        if any(votes.get((item.id, m.user_id)) != "approve" for m, _ in members):
            problems.append(f"item {item.seq} lacks the approval of every committee member")
    return problems


def request_execution(session: Session, principal: Principal,
                      list_id: uuid.UUID) -> DispositionList:
    _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "archives_review", step="execution")
    today = clock.today()
    on = executable_on(dl)
    if on is None or today < on:
        raise Conflict(f"the list is not executable yet: the National Archives review period "
                       f"ends on {on}" if on else "the list is not executable",
                       code="not_executable")
    problems = check_approvals(session, dl)
    if problems:
        raise Conflict({"message": "steps are missing", "problems": problems},
                       code="steps_missing")
    refuse_held(session, dl, "execution")
    not_due = _not_yet_eligible(session, dl, today)
    if not_due:
        raise Conflict({"message": "some records are not eligible for destruction (their "
                        "retention was extended since they were listed); withdraw them first",
                        "items": not_due}, code="not_eligible")
    dl.status = "executing"
    dl.execute_requested_by, dl.execute_requested_at = principal.name, clock.now()
    enqueue(session, "disposition_execute", {"list_id": str(dl.id)},
            dedup_key=f"disposition_execute:{dl.id}")
    _log(session, principal, "disposition.execute_request", dl, org)
    return dl


def _not_yet_eligible(session: Session, dl: DispositionList,
                      today: dt.date) -> list[dict[str, Any]]:
    rows = [i for i in items(session, dl.id) if i.status == "listed" and i.action == "destroy"]
    evidence = list(session.scalars(sa.select(Evidence).where(
        Evidence.id.in_([i.evidence_id for i in rows]))))
    decisions = compute.decide_many(session, evidence, today=today)
    seq = {i.evidence_id: i.seq for i in rows}
    return [{"item": seq[e.id], "evidence_id": str(e.id),
             "retain_until": e.retain_until.isoformat() if e.retain_until else None}
            for e in evidence if e.status == "destroyed" or not decisions[e.id].eligible(today)]


# -- views -----------------------------------------------------------------------------

def list_lists(session: Session, principal: Principal, *, status: str | None = None,
               org_code: str | None = None) -> list[tuple[DispositionList, Organisation]]:
    require(principal, "retention.read")
    q = sa.select(DispositionList, Organisation).join(
        Organisation, Organisation.id == DispositionList.org_id)
    q = accounts.limit_to_scope(session, principal, q, DispositionList.org_id)
    if status:
        q = q.where(DispositionList.status == status)
    if org_code:
        q = q.where(Organisation.code == org_code)
    return [(d, o) for d, o in session.execute(q.order_by(DispositionList.created_at.desc()))]


def counts(session: Session, list_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """(items, items still to be destroyed) per list."""
    out: dict[uuid.UUID, tuple[int, int]] = {}
    for list_id, total, destroy in session.execute(
            sa.select(DispositionItem.list_id, sa.func.count(),
                      sa.func.sum(sa.case((sa.and_(DispositionItem.status == "listed",
                                                   DispositionItem.action == "destroy"), 1),
                                          else_=0)))
            .where(DispositionItem.list_id.in_(list_ids)).group_by(DispositionItem.list_id)):
        out[list_id] = (total, int(destroy or 0))
    return out


def approvals(session: Session, dl: DispositionList) -> dict[str, Any]:
    """Who approved what and when: the committee, the head, the archives, the request."""
    users = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_(
        [i for i in (dl.head_user_id, dl.committee_approved_by) if i])))}

    def person(u: User | None) -> dict[str, Any] | None:
        return {"user": u.name, "name": u.display_name or u.name} if u else None

    members = committee(session, dl.id)
    return {
        "committee": {
            "order_ref": dl.committee_order_ref,
            "appointed_by": dl.committee_appointed_by,
            "appointed_at": dl.committee_appointed_at,
            "chair": next((person(u) for m, u in members if m.function == "chair"), None),
            "members": [person(u) for m, u in members if m.function == "member"],
            "review_closed_by": person(users.get(dl.committee_approved_by or -1)),
            "review_closed_at": dl.committee_approved_at,
        },
        "head_of_agency": {"head": person(users.get(dl.head_user_id or -1)),
                           "decision": dl.head_decision, "decided_at": dl.head_decided_at,
                           "comment": dl.head_comment},
        "national_archives": {"sent_on": dl.archives_sent_on,
                              "reference": dl.archives_reference,
                              "review_days": dl.archives_review_days,
                              "result": dl.archives_result or (
                                  "no objection within the review period"
                                  if is_executable(dl) else None),
                              "responded_on": dl.archives_responded_on,
                              "comment": dl.archives_comment,
                              "executable_on": executable_on(dl)},
        "execution": {"requested_by": dl.execute_requested_by,
                      "requested_at": dl.execute_requested_at,
                      "executed_at": dl.executed_at, "purge_pending": dl.purge_pending},
    }


def votes_by_item(session: Session, item_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v, name in session.execute(
            sa.select(DispositionVote, User.name).join(User, User.id == DispositionVote.user_id)
            .where(DispositionVote.item_id.in_(item_ids)).order_by(DispositionVote.at)):
        out[v.item_id].append({"user": name, "vote": v.vote, "action": v.action,
                               "keep_until": v.keep_until, "comment": v.comment, "at": v.at})
    return out


def certificates(session: Session, list_id: uuid.UUID) -> list[DispositionCertificate]:
    return list(session.scalars(sa.select(DispositionCertificate).where(
        DispositionCertificate.list_id == list_id).order_by(DispositionCertificate.seq)))
