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
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts import service as accounts
from archive.accounts.models import User
from archive.accounts.principal import Principal, require
from archive.audit.models import AuditEvent
from archive.doc_types import DOC_TYPE_NAMES
from archive.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from archive.evidence.models import Evidence
from archive.messages import message
from archive.orgs import service as orgs
from archive.orgs.models import Organisation
from archive.queue.service import enqueue
from archive.retention.models import (
    OPEN_STATUSES,
    AgencyHead,
    CommitteeMember,
    DispositionItem,
    DispositionList,
    DispositionVote,
)
from archive.retention.rules import show
from archive.retention.schemas import (
    CommitteeIn,
    VoteIn,
)

DEFAULT_REVIEW_DAYS = 60
ARCHIVES_REVIEW = "archives_review_days"
_REGULATION_TH = "ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ พ.ศ. 2526 และที่แก้ไขเพิ่มเติม"
_REGULATION_EN = "Regulation of the Prime Minister's Office on Correspondence B.E. 2526, as amended"
# The procedure's rules as data, with their basis (seeded; changed like schedules).
DEFAULT_RULES: dict[str, tuple[int, str, str]] = {
    ARCHIVES_REVIEW: (
        DEFAULT_REVIEW_DAYS,
        f"{_REGULATION_TH} ข้อ 70: ก่อนทำลาย ส่งบัญชีหนังสือขอทำลายให้กรมศิลปากรพิจารณา; "
        "ถ้ากรมศิลปากรไม่แจ้งผลภายใน 60 วัน ส่วนราชการดำเนินการทำลายได้. "
        "นโยบายของระบบ (ไม่ใช่ข้อความของระเบียบ): นับจากวันที่ส่งตามที่บันทึกไว้",
        f"{_REGULATION_EN}, clause 70: before destruction the list goes to the Fine Arts "
        "Department (National Archives); if it does not answer within 60 days, the agency "
        "may destroy. Archive policy (not the regulation's words): counted from the recorded "
        "sending date."),
}
# Why the execution did not destroy an item whose record is on legal hold (the item's
# note; the lists' counts tell these apart from other blocked items).
BLOCKED_BY_HOLD = "the record is under legal hold"
DOC_TYPE_TH = {code: th for code, (th, _en) in DOC_TYPE_NAMES.items()}


# -- helpers ---------------------------------------------------------------------------

def named_user(principal: Principal) -> int:
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


def expect_status(dl: DispositionList, *statuses: str, step: str) -> None:
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


def pending_items(rows: list[DispositionItem]) -> list[DispositionItem]:
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


def close_list_if_empty(session: Session, dl: DispositionList, rows: list[DispositionItem],
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
    if dl.archives_result in ("consent", "approve", "object"):
        # An answer was recorded: objected items were kept or marked for transfer, and the
        # rest may be destroyed from the day of the answer.
        return dl.archives_responded_on
    return dl.archives_sent_on + dt.timedelta(days=dl.archives_review_days or
                                              DEFAULT_REVIEW_DAYS)


def is_executable(dl: DispositionList, today: dt.date | None = None) -> bool:
    on = executable_on(dl)
    return dl.status == "archives_review" and on is not None and (today or clock.today()) >= on


def log_step(session: Session, principal: Principal, action: str, dl: DispositionList,
             org: Organisation, **details: Any) -> None:
    audit.record(session, actor=principal, action=action, target_type="disposition_list",
                 target_id=dl.id, org_id=org.id, details={"number": dl.number, **details})


# -- 2. committee (ข้อ 68) -------------------------------------------------------------

def preparers(session: Session, dl: DispositionList) -> set[str]:
    """Who prepared the list: whoever created it or added records to it by a survey."""
    names = {dl.created_by}
    names.update(session.scalars(sa.select(AuditEvent.actor).where(
        AuditEvent.action == "disposition.survey",
        AuditEvent.target_type == "disposition_list",
        AuditEvent.target_id == str(dl.id))))
    return names


def appoint_committee(session: Session, principal: Principal, list_id: uuid.UUID,
                      data: CommitteeIn) -> DispositionList:
    """The head of agency appoints the destruction committee by an order (ข้อ 68): a chair
    and at least two members, none of them the head (who still approves the list as a
    separate step) and none of them a person who prepared the list."""
    user_id = named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    expect_status(dl, "draft", step="appointing the committee")
    head = session.get(AgencyHead, org.id)
    if head is None or head.user_id != user_id:
        raise PermissionDenied(f"the destruction committee is appointed by the head of agency "
                               f"of {org.code}, by an order (ข้อ 68)",
                               code="not_head_of_agency")
    if data.order_date > clock.today():
        raise InvalidInput("order_date (the date of the appointing order) is in the future",
                           code="invalid_date")
    names = [data.chair, *data.members]
    if len(set(names)) != len(names):
        raise InvalidInput("the chair and the members must be different people (one person, "
                           "one function)", code="duplicate_person")
    users = [_eligible_user(session, name, org, "committee member") for name in names]
    if head.user_id in {u.id for u in users}:
        raise InvalidInput("the head of agency approves the list and cannot also sit on its "
                           "committee (one person, one function)", code="duplicate_person")
    prepared = preparers(session, dl)
    clash = [u.name for u in users if u.name in prepared]
    if clash:
        raise InvalidInput(f"{', '.join(clash)} prepared this list and cannot sit on the "
                           "committee that reviews it", code="preparer_on_committee")
    for i, user in enumerate(users):
        session.add(CommitteeMember(list_id=dl.id, user_id=user.id,
                                    function="chair" if i == 0 else "member"))
    dl.committee_order_ref = data.order_ref
    dl.committee_order_date = data.order_date
    dl.committee_appointed_by = principal.name
    dl.committee_appointed_at = clock.now()
    dl.status = "committee_review"
    log_step(session, principal, "disposition.committee_appoint", dl, org, chair=data.chair,
             members=data.members, order_ref=data.order_ref, order_date=data.order_date)
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
    user_id = named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    expect_status(dl, "committee_review", step="voting")
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


def votes_to_cast(session: Session, principal: Principal,
                  list_id: uuid.UUID) -> tuple[list[int], list[int], list[int]]:
    """For "vote on every open item": the open items the caller has not voted on yet, the
    open items they already voted on, and (of the first) those whose record is on legal
    hold — by item number."""
    user_id = named_user(principal)
    dl, _ = load(session, principal, list_id, "disposition.manage")
    rows = pending_items(items(session, dl.id))
    voted = set(session.scalars(sa.select(DispositionVote.item_id).where(
        DispositionVote.user_id == user_id,
        DispositionVote.item_id.in_([i.id for i in rows]))))
    held = {h["item"] for h in held_items(session, dl.id)}
    todo = [i.seq for i in rows if i.id not in voted]
    return todo, [i.seq for i in rows if i.id in voted], [n for n in todo if n in held]


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
    user_id = named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    expect_status(dl, "committee_review", step="closing the committee review")
    members = committee(session, dl.id)
    chair = [m for m, _ in members if m.function == "chair"]
    if not chair or chair[0].user_id != user_id:
        head = session.get(AgencyHead, org.id)
        if head is not None and head.user_id == user_id:
            _committee_not_finished()
        raise PermissionDenied("only the chair of the committee closes its review",
                               code="not_chair")
    rows = items(session, dl.id)
    pending = pending_items(rows)
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
            keep_longer(session, principal, dl, org, item)
    dl.committee_approved_by = user_id
    dl.committee_approved_at = now
    if not close_list_if_empty(session, dl, rows, principal, org):
        dl.status = "committee_approved"
    log_step(session, principal, "disposition.committee_approve", dl, org, comment=comment,
             to_destroy=sum(1 for i in rows if i.status == "listed" and i.action == "destroy"),
             to_transfer=sum(1 for i in rows if i.status == "listed" and i.action == "transfer"))
    return dl


def keep_longer(session: Session, principal: Principal, dl: DispositionList,
                 org: Organisation, item: DispositionItem,
                 by: str = "the destruction committee") -> None:
    """The committee (ข้อ 69) or the National Archives (ข้อ 70) decided to keep the record
    longer: extend its retention."""
    assert item.keep_until is not None
    until = clock.start_of_day(item.keep_until)
    basis = f"kept until {show(item.keep_until)} by decision of {by} on list {dl.number}"
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
    user_id = named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    if dl.status in ("draft", "committee_review"):
        _committee_not_finished()
    expect_status(dl, "committee_approved", step="the head of agency's decision")
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
    log_step(session, principal, f"disposition.head_{decision}", dl, org, comment=comment)
    return dl


def _committee_not_finished() -> None:
    raise Conflict(message("disposition.committee_not_finished", "the committee has not "
                           "finished its review: the head of agency decides once the chair "
                           "has closed it"), code="committee_not_finished")


def _reject(dl: DispositionList, rows: list[DispositionItem], reason: str) -> None:
    dl.status = "rejected"
    dl.closed_reason = reason
    for item in rows:
        if item.status == "listed":
            close_item(item, "removed", reason)


# -- withdrawing an item ---------------------------------------------------------------

def withdraw_item(session: Session, principal: Principal, list_id: uuid.UUID, seq: int, *,
                  reason: str) -> DispositionList:
    """Take an item off a list at any step before execution (it can only make the list
    destroy less)."""
    named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    expect_status(dl, "draft", "committee_review", "committee_approved", "head_approved",
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
        close_list_if_empty(session, dl, rows, principal, org)
    log_step(session, principal, "disposition.item_withdraw", dl, org, item=seq,
             evidence_id=item.evidence_id, reason=reason)
    return dl
