"""The National Archives' review of a disposition list (ระเบียบงานสารบรรณ ข้อ 70) and the
rules of the procedure kept as data with their basis (the review period).

Step 4 of the workflow described in :mod:`archive.retention.disposition`: the list is
marked sent on a date; the archives approve it, object to named items (kept until a date
or transferred), or let the review period pass."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts.principal import Principal, require
from archive.db import upsert_ignore
from archive.errors import Conflict, InvalidInput, NotFound
from archive.retention import disposition
from archive.retention.models import (
    DispositionItem,
    DispositionList,
    DispositionRule,
)
from archive.retention.schemas import ArchivesResponseIn, ArchivesSentIn, RuleUpdate

# -- rules of the procedure (data with their basis) ---------------------------------------

def rule(session: Session, code: str) -> DispositionRule:
    """The current rule ``code``, seeded with its default on first use."""
    row = session.get(DispositionRule, code)
    if row is None:
        if code not in disposition.DEFAULT_RULES:
            raise NotFound(f"no disposition rule {code!r}", code="rule_not_found")
        value, basis_th, basis_en = disposition.DEFAULT_RULES[code]
        upsert_ignore(session, DispositionRule, [{
            "code": code, "value": value, "basis_th": basis_th, "basis_en": basis_en,
            "version": 1, "history": [], "updated_by": "system", "updated_at": clock.now()}],
            ["code"])
        row = session.get(DispositionRule, code)
        assert row is not None
    return row


def list_rules(session: Session, principal: Principal) -> list[DispositionRule]:
    require(principal, "retention.read")
    return [rule(session, code) for code in disposition.DEFAULT_RULES]


def update_rule(session: Session, principal: Principal, code: str,
                data: RuleUpdate) -> DispositionRule:
    """A new version of a rule (national data: records managers of a top-level
    organisation); the previous value and basis are kept in ``history``."""
    from archive.retention.schedules.service import require_national

    require_national(session, principal, "retention.manage")
    row = rule(session, code)
    if code == disposition.ARCHIVES_REVIEW and data.value < 1:
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


# -- 4. National Archives --------------------------------------------------------------

def archives_sent(session: Session, principal: Principal, list_id: uuid.UUID,
                  data: ArchivesSentIn) -> DispositionList:
    disposition.named_user(principal)
    dl, org = disposition.load(session, principal, list_id, "disposition.manage")
    disposition.lock(session, dl)
    disposition.expect_status(dl, "head_approved", step="sending the list to the National Archives")
    assert dl.head_decided_at is not None
    decided = dl.head_decided_at.astimezone(clock.BANGKOK).date()
    if not decided <= data.sent_on <= clock.today():
        raise InvalidInput(f"sent_on must be between the head's approval ({decided}) and "
                           "today", code="invalid_date")
    disposition.refuse_held(session, dl, "sending the list to the National Archives")
    period = rule(session, disposition.ARCHIVES_REVIEW)
    days = period.value if data.review_days is None else data.review_days
    if days < period.value:
        raise InvalidInput(f"review_days {days} is shorter than the National Archives' review "
                           f"period of {period.value} days ({period.basis_en})",
                           code="review_period_too_short")
    dl.archives_sent_on, dl.archives_reference = data.sent_on, data.reference
    dl.archives_review_days, dl.archives_sent_by = days, principal.name
    dl.archives_review_basis = f"{period.basis_th}\n{period.basis_en}"
    dl.status = "archives_review"
    disposition.log_step(session, principal, "disposition.archives_sent", dl, org,
                         sent_on=data.sent_on, reference=data.reference, review_days=days,
                         rule_version=period.version)
    return dl


def archives_response(session: Session, principal: Principal, list_id: uuid.UUID,
                      data: ArchivesResponseIn) -> DispositionList:
    """The National Archives' answer (ข้อ 70): approve (items they want are marked for
    transfer), or object to named items — each kept until a date or marked for transfer;
    the rest of the list may then be destroyed."""
    disposition.named_user(principal)
    dl, org = disposition.load(session, principal, list_id, "disposition.manage")
    disposition.lock(session, dl)
    disposition.expect_status(dl, "archives_review", step="recording the National Archives' answer")
    if dl.archives_result is not None:
        raise Conflict(f"the National Archives' answer is already recorded "
                       f"({dl.archives_result})", code="already_recorded")
    assert dl.archives_sent_on is not None
    if not dl.archives_sent_on <= data.responded_on <= clock.today():
        raise InvalidInput("responded_on must be between the sending date and today",
                           code="invalid_date")
    today = clock.today()
    rows = disposition.items(session, dl.id)
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
            disposition.keep_longer(session, principal, dl, org, item,
                         by="the National Archives (Fine Arts Department)")
    result = "consent" if data.result == "consent" else data.result
    dl.archives_result, dl.archives_responded_on = result, data.responded_on
    dl.archives_comment, dl.archives_recorded_by = data.comment, principal.name
    disposition.close_list_if_empty(session, dl, rows, principal, org)
    disposition.log_step(session, principal, "disposition.archives_response", dl, org,
                         result=result,
                         responded_on=data.responded_on, transfer_items=data.transfer_items,
                         objected_items=[o.model_dump(mode="json") for o in data.items],
                         comment=data.comment)
    return dl


def _mark_transfer(item: DispositionItem, note: str) -> None:
    if item.action == "destroy":
        item.action = "transfer"
    item.note = f"{item.note}\n{note}" if item.note else note
    item.updated_at = clock.now()
