"""Applying the retention rule to stored records.

Loads the facts the pure rule needs (schedule, audit closures of the record's organisation
and fiscal year, active holds), computes the decision and writes ``retain_until`` and
``retention_basis``. The write itself is conditional — ``retain_until`` is only ever
moved later, in SQL — so concurrent recomputations cannot shorten a date either.
A changed date or hold state queues ``retention_sync_locks`` for the blob, so the store's
lock follows; so does a record joining a hold placed long enough ago that the hold's
object may end before the record's bytes (``"describe"``: even if the record was held
already), so that the catalogue objects describing it are kept as long.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.db import rowcount, upsert_ignore
from archive.evidence.models import Blob, Evidence
from archive.queue.service import enqueue_many
from archive.retention import locks, vouchers
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


def facts(evidence: Evidence) -> RecordFacts:
    return RecordFacts(fiscal_year=evidence.fiscal_year, previous=evidence.retain_until)


def decide(session: Session, evidence: Evidence, *, today: dt.date | None = None,
           rule_map: dict[int, Rule] | None = None) -> Decision:
    """The decision for one record as of ``today``, without writing anything."""
    return decide_many(session, [evidence], today=today or clock.today(),
                       rule_map=rule_map)[evidence.id]


def decide_many(session: Session, rows: list[Evidence], *, today: dt.date,
                rule_map: dict[int, Rule] | None = None) -> dict[uuid.UUID, Decision]:
    """Decisions for several loaded records (a few queries whatever their number). A
    record that supports disbursement vouchers is kept as long as every one of them needs
    it (``retention.vouchers``)."""
    rule_map = rule_map if rule_map is not None else rules(session)
    closures = closures_for(session, [(e.org_id, e.fiscal_year) for e in rows])
    holds = holds_for(session, [e.id for e in rows])
    out = {}
    for e in rows:
        rule = rule_map.get(e.schedule_id) if e.schedule_id else None
        events = Events(closures.get((e.org_id, e.fiscal_year), ()), tuple(holds.get(e.id, [])))
        out[e.id] = compute_retain_until(facts(e), rule, events, today)
    links = vouchers.vouchers_for(session, [e.id for e in rows])
    if links:
        voucher_closures = closures_for(session, [(v.org_id, v.fiscal_year)
                                                  for vs in links.values() for v in vs])
        for e in rows:
            if e.id not in links:
                continue
            rule = rule_map.get(e.schedule_id) if e.schedule_id else None
            out[e.id] = vouchers.combine(out[e.id], [
                (v, compute_retain_until(
                    RecordFacts(fiscal_year=v.fiscal_year), rule,
                    Events(voucher_closures.get((v.org_id, v.fiscal_year), ()), v.holds),
                    today))
                for v in links[e.id]])
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
        before = set(_hold_items(session, ids))
        attach_objection_holds(session, rows)
        vouchers.attach_voucher_holds(session, [e.id for e in rows])
        joined: dict[uuid.UUID, dt.datetime] = {}
        for (evidence_id, hold_id), placed in _hold_items(session, ids).items():
            if (evidence_id, hold_id) not in before:
                joined[evidence_id] = min(placed, joined.get(evidence_id, placed))
        refresh_on_hold(session, [e.id for e in rows])
        rows = list(session.scalars(sa.select(Evidence).where(Evidence.id.in_(was_held))
                                    .execution_options(populate_existing=True)))
        decisions = decide_many(session, rows, today=today, rule_map=rule_map)
        bytes_locks = {b: (u, h) for b, u, h in session.execute(
            sa.select(Blob.id, Blob.retain_until, Blob.legal_hold)
            .where(Blob.id.in_({e.blob_id for e in rows})))}
        sync: dict[int, dict[str, object]] = {}
        for e in rows:
            decision = decisions[e.id]
            changed = _store(session, e, decision)
            outcomes.append(Outcome(e.id, decision, changed))
            lock_until, lock_held = bytes_locks[e.blob_id]
            # The store follows only where it is behind (most new records are already
            # covered by the lock set at ingest) or where the hold state changed.
            behind = changed and decision.retain_until is not None and \
                decision.retain_until > lock_until
            # A record that joined a hold placed before its bytes' lock could be covered
            # by the hold's object (the snapshot lock from the hold's placing): that
            # object, and whatever else describes the record, is extended to the bytes'
            # lock — even if the record was held already and its hold state is unchanged.
            describe = e.id in joined and locks.outlasts(session, lock_until, joined[e.id])
            if behind or describe or was_held[e.id] != e.on_hold or e.on_hold != lock_held:
                payload = sync.setdefault(e.blob_id, {"blob_id": e.blob_id})
                if describe:
                    payload["describe"] = True
        if sync:
            # No dedup key: the sync is idempotent, and a key would have to name the state
            # (a hold placed, released and placed again repeats states).
            enqueue_many(session, [("retention_sync_locks", p, None) for p in sync.values()])
    return outcomes


def _hold_items(session: Session,
                evidence_ids: list[uuid.UUID]) -> dict[tuple[uuid.UUID, uuid.UUID], dt.datetime]:
    """(record, hold) → when the hold was placed, for every hold these records are in."""
    return {(e, h): placed for e, h, placed in session.execute(
        sa.select(LegalHoldItem.evidence_id, LegalHoldItem.hold_id, LegalHold.created_at)
        .join(LegalHold, LegalHold.id == LegalHoldItem.hold_id)
        .where(LegalHoldItem.evidence_id.in_(evidence_ids)))}


def _store(session: Session, evidence: Evidence, decision: Decision) -> bool:
    """Write the decision; the date only ever moves later (checked in the UPDATE)."""
    new = decision.retain_until
    values: dict[str, object] = {"retention_basis": decision.basis[:4000]}
    if new is not None and (evidence.retain_until is None or new > evidence.retain_until):
        done = rowcount(session.execute(
            sa.update(Evidence)
            .where(Evidence.id == evidence.id,
                   sa.or_(Evidence.retain_until.is_(None), Evidence.retain_until < new))
            .values(retain_until=new, **values)
            .execution_options(synchronize_session=False)))
        if done:
            return True
    if evidence.retention_basis != values["retention_basis"]:
        session.execute(sa.update(Evidence).where(Evidence.id == evidence.id).values(**values)
                        .execution_options(synchronize_session=False))
    return False


def ids_where(session: Session, *conditions: sa.ColumnElement[bool]) -> list[uuid.UUID]:
    return list(session.scalars(sa.select(Evidence.id).where(
        Evidence.status != "destroyed", *conditions).order_by(Evidence.id)))
