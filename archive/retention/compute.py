"""Applying the retention rule to stored records.

Loads the facts the pure rule needs (schedule, audit closures of the record's organisation
and fiscal year, active holds), computes the decision and writes ``retain_until`` and
``retention_basis``. The write itself is conditional — ``retain_until`` is only ever
moved later, in SQL — so concurrent recomputations cannot shorten a date either.
A changed date or hold state queues ``retention_sync_locks`` for the blob, so the store's
lock follows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.db import upsert_ignore
from archive.evidence.models import Blob, Evidence
from archive.queue.service import enqueue_many
from archive.retention.models import AuditClosure, LegalHold, LegalHoldItem
from archive.retention.rules import (
    Closure,
    Decision,
    Events,
    RecordFacts,
    Rule,
    compute_retain_until,
)
from archive.retention.schedules.models import RetentionSchedule

BATCH = 500


def rules(session: Session) -> dict[int, Rule]:
    return {s.id: Rule.of(s) for s in session.scalars(sa.select(RetentionSchedule))}


def closures_for(session: Session,
                 pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], tuple[Closure, ...]]:
    pairs = set(pairs)
    out: dict[tuple[int, int], list[Closure]] = {}
    if not pairs:
        return {}
    orgs = {o for o, _ in pairs}
    for c in session.scalars(sa.select(AuditClosure).where(AuditClosure.org_id.in_(orgs))):
        if (c.org_id, c.fiscal_year) in pairs:
            out.setdefault((c.org_id, c.fiscal_year), []).append(Closure(c.result, c.closed_on))
    return {k: tuple(v) for k, v in out.items()}


def holds_for(session: Session, evidence_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {}
    if not evidence_ids:
        return out
    rows = session.execute(
        sa.select(LegalHoldItem.evidence_id, LegalHold.id, LegalHold.reason)
        .join(LegalHold, LegalHold.id == LegalHoldItem.hold_id)
        .where(LegalHoldItem.evidence_id.in_(evidence_ids), LegalHold.status == "active")
        .order_by(LegalHold.created_at))
    for evidence_id, hold_id, reason in rows:
        out.setdefault(evidence_id, []).append(f"{reason} (hold {str(hold_id)[:8]})")
    return out


def fiscal_year_for_retention(evidence: Evidence) -> int:
    """The fiscal year a record's retention counts from: the fiscal year *of payment*
    (the default schedule: "end of the fiscal year of payment"; audit closures are per
    organisation and fiscal year).

    Today that is the record's own fiscal year. Hook for disbursements (issue 20 item 1):
    a file linked to a voucher takes the voucher's fiscal year; every use in this module
    (the rule's facts, the audit closures looked up) goes through here."""
    return evidence.fiscal_year


def facts(evidence: Evidence) -> RecordFacts:
    return RecordFacts(fiscal_year=fiscal_year_for_retention(evidence),
                       previous=evidence.retain_until)


def decide(session: Session, evidence: Evidence, *, today: dt.date | None = None,
           rule_map: dict[int, Rule] | None = None) -> Decision:
    """The decision for one record as of ``today``, without writing anything."""
    rule_map = rule_map if rule_map is not None else rules(session)
    key = (evidence.org_id, fiscal_year_for_retention(evidence))
    events = Events(closures_for(session, [key]).get(key, ()),
        tuple(holds_for(session, [evidence.id]).get(evidence.id, [])))
    rule = rule_map.get(evidence.schedule_id) if evidence.schedule_id else None
    return compute_retain_until(facts(evidence), rule, events, today or clock.today())


def decide_many(session: Session, rows: list[Evidence], *, today: dt.date,
                rule_map: dict[int, Rule] | None = None) -> dict[uuid.UUID, Decision]:
    """Decisions for several loaded records (three queries whatever their number)."""
    rule_map = rule_map if rule_map is not None else rules(session)
    closures = closures_for(session, [(e.org_id, fiscal_year_for_retention(e)) for e in rows])
    holds = holds_for(session, [e.id for e in rows])
    out = {}
    for e in rows:
        rule = rule_map.get(e.schedule_id) if e.schedule_id else None
        events = Events(closures.get((e.org_id, fiscal_year_for_retention(e)), ()),
                        tuple(holds.get(e.id, [])))
        out[e.id] = compute_retain_until(facts(e), rule, events, today)
    return out


@dataclass
class Outcome:
    evidence_id: uuid.UUID
    decision: Decision
    changed: bool


def attach_objection_holds(session: Session, evidence: list[Evidence]) -> int:
    """Records archived after an objection closure join that closure's hold."""
    pairs = {(e.org_id, e.fiscal_year) for e in evidence}
    if not pairs:
        return 0
    holds = session.execute(sa.select(LegalHold.id, LegalHold.org_id, LegalHold.fiscal_year).where(
        LegalHold.kind == "audit_objection", LegalHold.status == "active",
        LegalHold.org_id.in_({o for o, _ in pairs}))).all()
    rows = [{"hold_id": hold_id, "evidence_id": e.id, "added_at": clock.now()}
            for hold_id, org_id, fy in holds for e in evidence
            if (e.org_id, e.fiscal_year) == (org_id, fy)]
    if rows:
        upsert_ignore(session, LegalHoldItem, rows, ["hold_id", "evidence_id"])
    return len(rows)


def refresh_on_hold(session: Session, evidence_ids: list[uuid.UUID]) -> None:
    """``evidence.on_hold`` = "an active hold covers it", recomputed in SQL."""
    if not evidence_ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        # Lock the rows first so this statement (a new snapshot) sees holds committed by a
        # concurrent transaction that held them.
        session.execute(sa.select(Evidence.id).where(Evidence.id.in_(evidence_ids))
                        .with_for_update())
    covered = sa.exists().where(
        LegalHoldItem.evidence_id == Evidence.id, LegalHold.id == LegalHoldItem.hold_id,
        LegalHold.status == "active")
    session.execute(sa.update(Evidence).where(Evidence.id.in_(evidence_ids))
                    .values(on_hold=covered).execution_options(synchronize_session=False))


def recompute(session: Session, evidence_ids: list[uuid.UUID], *,
              today: dt.date | None = None) -> list[Outcome]:
    """Recompute and store the retention of these records (destroyed ones are skipped)."""
    today = today or clock.today()
    rule_map = rules(session)
    outcomes: list[Outcome] = []
    for start in range(0, len(evidence_ids), BATCH):
        ids = evidence_ids[start:start + BATCH]
        rows = list(session.scalars(sa.select(Evidence).where(
            Evidence.id.in_(ids), Evidence.status != "destroyed")))
        if not rows:
            continue
        was_held = {e.id: e.on_hold for e in rows}
        attach_objection_holds(session, rows)
        refresh_on_hold(session, [e.id for e in rows])
        rows = list(session.scalars(sa.select(Evidence).where(Evidence.id.in_(was_held))
                                    .execution_options(populate_existing=True)))
        decisions = decide_many(session, rows, today=today, rule_map=rule_map)
        locks = {b: (u, h) for b, u, h in session.execute(
            sa.select(Blob.id, Blob.retain_until, Blob.legal_hold)
            .where(Blob.id.in_({e.blob_id for e in rows})))}
        sync: list[tuple[str, dict[str, object], str | None]] = []
        for e in rows:
            decision = decisions[e.id]
            changed = _store(session, e, decision)
            outcomes.append(Outcome(e.id, decision, changed))
            lock_until, lock_held = locks[e.blob_id]
            # The store follows only where it is behind (most new records are already
            # covered by the lock set at ingest) or where the hold state changed.
            behind = changed and decision.retain_until is not None and \
                decision.retain_until > lock_until
            if behind or was_held[e.id] != e.on_hold or e.on_hold != lock_held:
                sync.append(("retention_sync_locks", {"blob_id": e.blob_id}, None))
        if sync:
            # No dedup key: the sync is idempotent, and a key would have to name the state
            # (a hold placed, released and placed again repeats states).
            enqueue_many(session, list({s[1]["blob_id"]: s for s in sync}.values()))
    return outcomes


def _store(session: Session, evidence: Evidence, decision: Decision) -> bool:
    """Write the decision; the date only ever moves later (checked in the UPDATE)."""
    new = decision.retain_until
    values: dict[str, object] = {"retention_basis": decision.basis[:4000]}
    if new is not None and (evidence.retain_until is None or new > evidence.retain_until):
        done = session.execute(
            sa.update(Evidence)
            .where(Evidence.id == evidence.id,
                   sa.or_(Evidence.retain_until.is_(None), Evidence.retain_until < new))
            .values(retain_until=new, **values)
            .execution_options(synchronize_session=False)).rowcount
        if done:
            return True
    if evidence.retention_basis != values["retention_basis"]:
        session.execute(sa.update(Evidence).where(Evidence.id == evidence.id).values(**values)
                        .execution_options(synchronize_session=False))
    return False


def ids_where(session: Session, *conditions: sa.ColumnElement[bool]) -> list[uuid.UUID]:
    return list(session.scalars(sa.select(Evidence.id).where(
        Evidence.status != "destroyed", *conditions).order_by(Evidence.id)))
