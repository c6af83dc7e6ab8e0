"""Appending to the hash-chained audit trail.

Every change and every read by an auditor is recorded in the same transaction as the
thing it records. Appending takes the row lock on ``audit_head`` (``UPDATE … RETURNING``
is the first statement, so it also opens the write transaction on SQLite), which makes
sequence numbers gap-free and the chain linear even with many writers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.accounts.principal import Principal
from archive.audit.models import AuditEvent, AuditHead
from archive.db import utcnow

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    """Details in a form whose JSON is stable across both databases (no floats)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, (float, Decimal, UUID)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def canonical(event: dict[str, Any]) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def event_hash(*, prev_hash: str, seq: int, at: dt.datetime, actor: str, role: str,
               action: str, target_type: str | None, target_id: str | None,
               org_id: int | None, details: dict[str, Any], client: str | None,
               outcome: str) -> str:
    body = {
        "prev_hash": prev_hash, "seq": seq,
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor, "role": role, "action": action,
        "target_type": target_type, "target_id": target_id, "org_id": org_id,
        "details": details, "client": client, "outcome": outcome,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


def hash_of(event: AuditEvent) -> str:
    """Recompute the hash of a stored event from its fields."""
    return event_hash(prev_hash=event.prev_hash, seq=event.seq, at=event.at, actor=event.actor,
                      role=event.role, action=event.action, target_type=event.target_type,
                      target_id=event.target_id, org_id=event.org_id, details=event.details,
                      client=event.client, outcome=event.outcome)


def record(session: Session, *, actor: Principal, action: str, target_type: str | None = None,
           target_id: Any = None, org_id: int | None = None,
           details: dict[str, Any] | None = None, outcome: str = "ok") -> AuditEvent:
    """Append one event to the chain (inside the caller's transaction)."""
    seq, prev = session.execute(
        sa.update(AuditHead).where(AuditHead.id == 1)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).one()
    at = utcnow()
    clean = _jsonable(details or {})
    tid = str(target_id) if target_id is not None else None
    digest = event_hash(prev_hash=prev, seq=seq, at=at, actor=actor.name, role=actor.role,
                        action=action, target_type=target_type, target_id=tid, org_id=org_id,
                        details=clean, client=actor.client, outcome=outcome)
    event = AuditEvent(seq=seq, at=at, actor=actor.name, role=actor.role, action=action,
                       target_type=target_type, target_id=tid, org_id=org_id, details=clean,
                       client=actor.client, outcome=outcome, prev_hash=prev, hash=digest)
    session.add(event)
    session.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    return event
