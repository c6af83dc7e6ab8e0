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
from archive.db import upsert_ignore
from archive.doc_types import DOC_TYPE_NAMES
from archive.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from archive.evidence.models import Evidence
from archive.orgs import service as orgs
from archive.orgs.models import Organisation
from archive.queue.service import enqueue
from archive.retention import compute
from archive.retention.models import (
    OPEN_STATUSES,
    AgencyHead,
    CommitteeMember,
    DispositionItem,
    DispositionList,
    DispositionRule,
    DispositionVote,
)
from archive.retention.rules import show
from archive.retention.schemas import (
    ArchivesResponseIn,
    ArchivesSentIn,
    CommitteeIn,
    ConfirmIn,
    RuleUpdate,
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
DOC_TYPE_TH = {code: th for code, (th, _en) in DOC_TYPE_NAMES.items()}


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


# -- rules of the procedure (data with their basis) ---------------------------------------

def rule(session: Session, code: str) -> DispositionRule:
    """The current rule ``code``, seeded with its default on first use."""
    row = session.get(DispositionRule, code)
    if row is None:
        if code not in DEFAULT_RULES:
            raise NotFound(f"no disposition rule {code!r}", code="rule_not_found")
        value, basis_th, basis_en = DEFAULT_RULES[code]
        upsert_ignore(session, DispositionRule, [{
            "code": code, "value": value, "basis_th": basis_th, "basis_en": basis_en,
            "version": 1, "history": [], "updated_by": "system", "updated_at": clock.now()}],
            ["code"])
        row = session.get(DispositionRule, code)
        assert row is not None
    return row


def list_rules(session: Session, principal: Principal) -> list[DispositionRule]:
    require(principal, "retention.read")
    return [rule(session, code) for code in DEFAULT_RULES]


def update_rule(session: Session, principal: Principal, code: str,
                data: RuleUpdate) -> DispositionRule:
    """A new version of a rule (national data: records managers of a top-level
    organisation); the previous value and basis are kept in ``history``."""
    from archive.retention.schedules.service import require_national

    require_national(session, principal, "retention.manage")
    row = rule(session, code)
    if code == ARCHIVES_REVIEW and data.value < 1:
        raise InvalidInput("the review period is at least one day", code="invalid_rule")
    previous = {"version": row.version, "value": row.value, "basis_th": row.basis_th,
                "basis_en": row.basis_en, "updated_by": row.updated_by,
                "updated_at": row.updated_at.isoformat()}
    row.history = [*row.history, previous]
    row.value = data.value
    row.basis_th, row.basis_en = data.basis_th, data.basis_en
    row.version += 1
    row.updated_by, row.updated_at = principal.name, clock.now()
    audit.record(session, actor=principal, action="retention.rule_update",
                 target_type="disposition_rule", target_id=code,
                 details={"value": data.value, "previous": previous["value"],
                          "reason": data.reason, "version": row.version})
    return row


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
    user_id = _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "draft", step="appointing the committee")
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
    log_step(session, principal, "disposition.committee_approve", dl, org, comment=comment,
         to_destroy=sum(1 for i in rows if i.status == "listed" and i.action == "destroy"),
         to_transfer=sum(1 for i in rows if i.status == "listed" and i.action == "transfer"))
    return dl


def _keep_longer(session: Session, principal: Principal, dl: DispositionList,
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
    log_step(session, principal, f"disposition.head_{decision}", dl, org, comment=comment)
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
    period = rule(session, ARCHIVES_REVIEW)
    days = period.value if data.review_days is None else data.review_days
    if days < period.value:
        raise InvalidInput(f"review_days {days} is shorter than the National Archives' review "
                           f"period of {period.value} days ({period.basis_en})",
                           code="review_period_too_short")
    dl.archives_sent_on, dl.archives_reference = data.sent_on, data.reference
    dl.archives_review_days, dl.archives_sent_by = days, principal.name
    dl.archives_review_basis = f"{period.basis_th}\n{period.basis_en}"
    dl.status = "archives_review"
    log_step(session, principal, "disposition.archives_sent", dl, org, sent_on=data.sent_on,
         reference=data.reference, review_days=days, rule_version=period.version)
    return dl


def archives_response(session: Session, principal: Principal, list_id: uuid.UUID,
                      data: ArchivesResponseIn) -> DispositionList:
    """The National Archives' answer (ข้อ 70): approve (items they want are marked for
    transfer), or object to named items — each kept until a date or marked for transfer;
    the rest of the list may then be destroyed."""
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
    today = clock.today()
    rows = items(session, dl.id)
    by_seq = {i.seq: i for i in rows}
    wanted = [*data.transfer_items, *(o.item for o in data.items)]
    for seq in wanted:
        item = by_seq.get(seq)
        if item is None or item.status != "listed":
            raise InvalidInput(f"item {seq} is not on the list", code="no_such_item")
    if len(set(wanted)) != len(wanted):
        raise InvalidInput("an item is named twice in the answer", code="duplicate_item")
    for o in data.items:
        if o.action == "keep" and o.keep_until is not None and o.keep_until <= today:
            raise InvalidInput(f"item {o.item}: keep_until must be in the future",
                               code="invalid_answer")
    for seq in data.transfer_items:
        _mark_transfer(by_seq[seq], "wanted by the National Archives: transfer")
    for o in data.items:
        item = by_seq[o.item]
        note = f"objection of the National Archives: {o.comment}"
        if o.action == "transfer":
            _mark_transfer(item, note)
        else:
            assert o.keep_until is not None
            item.action = "keep"
            item.keep_until = max(filter(None, [item.keep_until, o.keep_until]))
            item.note = f"{item.note}\n{note}" if item.note else note
            _keep_longer(session, principal, dl, org, item,
                         by="the National Archives (Fine Arts Department)")
    result = "consent" if data.result == "consent" else data.result
    dl.archives_result, dl.archives_responded_on = result, data.responded_on
    dl.archives_comment, dl.archives_recorded_by = data.comment, principal.name
    _close_list_if_empty(session, dl, rows, principal, org)
    log_step(session, principal, "disposition.archives_response", dl, org, result=result,
         responded_on=data.responded_on, transfer_items=data.transfer_items,
         objected_items=[o.model_dump(mode="json") for o in data.items],
         comment=data.comment)
    return dl


def _mark_transfer(item: DispositionItem, note: str) -> None:
    if item.action == "destroy":
        item.action = "transfer"
    item.note = f"{item.note}\n{note}" if item.note else note
    item.updated_at = clock.now()


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
    log_step(session, principal, "disposition.item_withdraw", dl, org, item=seq,
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
    if not dl.committee_order_ref or dl.committee_order_date is None:
        problems.append("the committee was not appointed by an order of the head of agency")
    if executable_on(dl) is None:
        problems.append("the National Archives review is not complete")
    unconfirmed = [u.name for m, u in members if m.destruction_confirmed_at is None]
    if unconfirmed:
        problems.append("the committee's joint record of the destruction lacks the "
                        f"confirmation of {', '.join(unconfirmed)}")
    to_destroy = [i for i in items(session, dl.id)
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
    user_id = _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "archives_review", step="confirming the destruction")
    if not is_executable(dl):
        on = executable_on(dl)
        raise Conflict("the list is not executable yet" + (f": the National Archives review "
                       f"period ends on {on}" if on else ""), code="not_executable")
    member = session.get(CommitteeMember, (dl.id, user_id))
    if member is None:
        raise PermissionDenied("only members of this list's committee sign its record of "
                               "the destruction", code="not_on_committee")
    refuse_held(session, dl, "confirming the destruction")
    if member.destruction_confirmed_at is not None:
        raise Conflict("you already confirmed this destruction", code="already_confirmed")
    member.destruction_confirmed_at = clock.now()
    member.destruction_note = data.note if data else None
    log_step(session, principal, "disposition.destruction_confirm", dl, org,
         function=member.function, note=member.destruction_note)
    return dl


def request_execution(session: Session, principal: Principal,
                      list_id: uuid.UUID) -> DispositionList:
    """A committee member asks for the execution; their confirmation is recorded with the
    request, and every other member must have confirmed before."""
    user_id = _named_user(principal)
    dl, org = load(session, principal, list_id, "disposition.manage")
    lock(session, dl)
    _expect(dl, "archives_review", step="execution")
    today = clock.today()
    on = executable_on(dl)
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
    refuse_held(session, dl, "execution")
    not_due = _not_yet_eligible(session, dl, today)
    if not_due:
        raise Conflict({"message": "some records are not eligible for destruction (their "
                        "retention was extended since they were listed); withdraw them first",
                        "items": not_due}, code="not_eligible")
    if confirmed_now:
        log_step(session, principal, "disposition.destruction_confirm", dl, org,
             function=member.function, with_request=True)
    dl.status = "executing"
    dl.execute_requested_by, dl.execute_requested_at = principal.name, clock.now()
    enqueue(session, "disposition_execute", {"list_id": str(dl.id)},
            dedup_key=f"disposition_execute:{dl.id}")
    log_step(session, principal, "disposition.execute_request", dl, org)
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
