"""The hash chain itself: how an event is hashed and how the chain starts (no I/O)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from archive.audit.models import AuditEvent

GENESIS = "0" * 64


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


def hash_of(event: AuditEvent, *, seq: int | None = None) -> str:
    """Recompute the hash of a stored event from its fields (as if at ``seq``, if given)."""
    return event_hash(prev_hash=event.prev_hash, seq=event.seq if seq is None else seq,
                      at=event.at, actor=event.actor,
                      role=event.role, action=event.action, target_type=event.target_type,
                      target_id=event.target_id, org_id=event.org_id, details=event.details,
                      client=event.client, outcome=event.outcome)
