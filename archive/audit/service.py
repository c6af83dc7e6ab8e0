"""Appending to the hash-chained audit trail.

Every change and every read is recorded in the same transaction as the thing it records.
:func:`record` only queues the event on the session; the events are chained and written
just before that session commits (a ``before_commit`` hook). Chaining takes the row lock
on ``audit_head`` (``UPDATE … RETURNING``), which makes sequence numbers gap-free and the
chain linear with many writers — and because it happens at commit, the lock is held only
for the append and the commit itself, not for the whole request. On PostgreSQL the append
is one call of the database function ``audit_append`` (migrations 0096, 0098: one round
trip under the lock); on SQLite, with one writer at a time, four statements from here.
A transaction that rolls back leaves no event and no gap.

Times never go backwards along the chain: an event's time is the archive's clock, but
never earlier than the time of the event chained before it — decided under the head's
lock, where the previous event is known. (The clock is read before the lock is taken on
PostgreSQL, so a transaction that waited for the lock would otherwise carry a time a
little earlier than the one that held it; clocks of several application servers, or a
clock stepped back, would do the same.) The hash covers the time as stored. A previous
time more than :data:`CLOCK_TOLERANCE` ahead is not copied: a server whose clock is hours
off would otherwise stamp its time on every later event until the clocks met; the event
keeps its own time and ``archive audit verify`` reports the reversal.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.accounts.principal import Principal, require
from archive.audit.chain import (  # noqa: F401
    GENESIS,
    at_text,
    canonical,
    event_hash,
    hash_of,
    hash_parts,
)
from archive.audit.checkpoints import DEFAULT_MAX_GAP, verify_chain
from archive.audit.models import AuditEvent, AuditHead
from archive.db import dialect_name, table_of
from archive.errors import ArchiveError
from archive.failpoints import failpoint
from archive.jsonable import jsonable
from archive.orgs.scope import limit_to_scope

_PENDING = "audit_pending"


def record(session: Session, *, actor: Principal, action: str, target_type: str | None = None,
           target_id: Any = None, org_id: int | None = None,
           details: dict[str, Any] | None = None, outcome: str = "ok") -> None:
    """Queue one event; it is chained and written when ``session`` commits."""
    session.info.setdefault(_PENDING, []).append({
        "actor": actor.name, "role": actor.role, "action": action,
        "target_type": target_type,
        "target_id": str(target_id) if target_id is not None else None,
        "org_id": org_id, "details": jsonable(details or {}, floats_as_text=True),
        "client": actor.client,
        "outcome": outcome})


# Core statements on the tables (not the ORM entities): the append runs in every
# committing transaction, and Core skips the ORM's bulk-persistence machinery.
_HEAD = table_of(AuditHead)
_CLAIM_SEQS = (sa.update(_HEAD).where(_HEAD.c.id == 1)
               .values(seq=_HEAD.c.seq + sa.bindparam("n", type_=sa.BigInteger))
               .returning(_HEAD.c.seq, _HEAD.c.hash))
_EVENTS = table_of(AuditEvent)
_SET_HEAD_HASH = sa.update(_HEAD).where(_HEAD.c.id == 1).values(
    hash=sa.bindparam("head_hash"))
_TIME_OF = sa.select(_EVENTS.c.at).where(_EVENTS.c.seq == sa.bindparam("seq"))
# How far ahead of this clock the previous event's time may be and still be taken (see the
# module's description; migration 0098 says the same in SQL: interval '1 minute').
CLOCK_TOLERANCE = dt.timedelta(minutes=1)


def _not_before(now: dt.datetime, previous: dt.datetime | None) -> dt.datetime:
    """The time of the next event: ``now``, raised to ``previous`` when that is later by
    no more than :data:`CLOCK_TOLERANCE`."""
    if previous is None:
        return now
    return previous if now < previous <= now + CLOCK_TOLERANCE else now


def append_pending(session: Session) -> None:
    """Chain and write the events queued on ``session``: its ``before_commit`` listener,
    registered where sessions are made (:func:`archive.unit_of_work.make_session_factory`)."""
    if session.in_nested_transaction():
        # a savepoint's release: the events are written once, by the outer commit (a
        # savepoint rolled back drops the queue; its owner puts back what it had:
        # :func:`queued`, :func:`requeue`)
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if dialect_name(session) == "postgresql":
        _append_in_database(session, pending)
        return
    failpoint("audit.append.before_head")
    last_seq, prev = session.execute(_CLAIM_SEQS, {"n": len(pending)}).one()
    previous_at = session.execute(_TIME_OF, {"seq": last_seq - len(pending)}).scalar()
    at = _not_before(clock.now(), previous_at)
    rows = []
    for offset, ev in enumerate(pending):
        seq = last_seq - len(pending) + 1 + offset
        digest = event_hash(prev_hash=prev, seq=seq, at=at, **ev)
        rows.append({**ev, "seq": seq, "at": at, "prev_hash": prev, "hash": digest})
        prev = digest
    session.execute(sa.insert(_EVENTS), rows)
    session.execute(_SET_HEAD_HASH, {"head_hash": prev})


_APPEND = sa.text("SELECT audit_append(:at, CAST(:events AS jsonb))").bindparams(
    sa.bindparam("at", type_=sa.DateTime(timezone=True)))
_PARTS = ("before_at", "before_prev", "before_seq", "after_seq")


def _append_in_database(session: Session, pending: list[dict[str, Any]]) -> None:
    """PostgreSQL: the claim, the time, the hashes, the rows and the new head in one call
    of ``audit_append`` (migrations 0096, 0098). The head's row lock is then held for that
    one round trip and the commit, not for three round trips and the Python between them:
    every audited request (each search, read and download) waits for the holder, and
    under load the holder mostly waited for its own API process to be scheduled. The
    clock is read here, before the lock; the function stores the later of that and the
    previous event's time, and hashes the time it stores (so the hash parts leave the
    time out, like the previous hash and the sequence number)."""
    at = clock.now()
    events = [{**ev, **dict(zip(_PARTS, hash_parts(**ev), strict=True))} for ev in pending]
    failpoint("audit.append.before_head")
    session.execute(_APPEND, {"at": at, "events": json.dumps(events, ensure_ascii=False)})


def queued(session: Session) -> list[dict[str, Any]]:
    """The events queued on ``session`` so far (to put back with :func:`requeue` after a
    savepoint rolls back: a rollback, even of a savepoint, drops them all)."""
    return list(session.info.get(_PENDING, []))


def requeue(session: Session, events: list[dict[str, Any]]) -> None:
    session.info[_PENDING] = events


def drop_pending(session: Session, previous_transaction: Any) -> None:
    """Forget the queued events of a rolled-back session (its ``after_soft_rollback``)."""
    session.info.pop(_PENDING, None)


@contextmanager
def audited_refusal(principal: Principal, action: str, *, target_type: str | None = None,
                    target_id: Any = None) -> Iterator[None]:
    """Refused attempts are audited too.

    A refused step raises a core error and the caller's unit of work rolls back, taking
    any event queued in it along. This marks the error with the refusal; the unit of
    work (:func:`archive.unit_of_work.session_scope`) records it after the rollback, in a
    transaction of its own."""
    try:
        yield
    except ArchiveError as exc:
        exc.refused_attempt = {
            "actor": principal, "action": action, "target_type": target_type,
            "target_id": target_id, "outcome": "refused",
            "details": {"error": exc.code, "detail": exc.detail}}
        raise


def refused_attempt(exc: BaseException) -> dict[str, Any] | None:
    """The refusal to record for ``exc`` (or an error it was raised from), if any."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, ArchiveError) and seen.refused_attempt is not None:
            return seen.refused_attempt
        seen = seen.__cause__ or seen.__context__
    return None


def events(session: Session, principal: Principal, *, target_id: str | None = None,
           actor: str | None = None, action: str | None = None,
           since: dt.datetime | None = None, until: dt.datetime | None = None,
           after_seq: int = 0, limit: int = 100) -> list[AuditEvent]:
    """Events the principal may see: those about organisations in their scope."""
    require(principal, "audit.read")
    q = sa.select(AuditEvent).where(AuditEvent.seq > after_seq)
    q = limit_to_scope(session, principal, q, AuditEvent.org_id)
    if target_id:
        q = q.where(AuditEvent.target_id == target_id)
    if actor:
        q = q.where(AuditEvent.actor == actor)
    if action:
        q = q.where(AuditEvent.action == action)
    if since:
        q = q.where(AuditEvent.at >= since)
    if until:
        q = q.where(AuditEvent.at < until)
    return list(session.scalars(q.order_by(AuditEvent.seq).limit(limit)))


def history_of(session: Session, target_type: str, target_id: str) -> list[AuditEvent]:
    """Every event about one target (callers have already checked scope)."""
    return list(session.scalars(
        sa.select(AuditEvent).where(AuditEvent.target_type == target_type,
                                    AuditEvent.target_id == target_id)
        .order_by(AuditEvent.seq)))


def verify(session: Session, store: Any, principal: Principal, *,
           max_gap: dt.timedelta | None = None) -> Any:
    """Recompute the chain against the store's checkpoints; the check itself is audited."""
    require(principal, "audit.verify")
    report = verify_chain(session, store, max_gap=max_gap or DEFAULT_MAX_GAP)
    record(session, actor=principal, action="audit.verify",
           details={"ok": report.ok, "first_bad_seq": report.first_bad_seq,
                    "problem": report.problem, "events": report.events})
    return report
