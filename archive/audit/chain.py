"""The hash chain itself: how an event is hashed and how the chain starts (no I/O)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from archive.audit.models import AuditEvent

GENESIS = "0" * 64


def canonical(event: Any) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def at_text(at: dt.datetime) -> str:
    """An event's time as its hash covers it (the database function ``audit_at_text``
    writes the same text, migration 0098)."""
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_hash(*, prev_hash: str, seq: int, at: dt.datetime, actor: str, role: str,
               action: str, target_type: str | None, target_id: str | None,
               org_id: int | None, details: dict[str, Any], client: str | None,
               outcome: str) -> str:
    """The definition verification uses: SHA-256 of the event's canonical JSON."""
    body = {
        "prev_hash": prev_hash, "seq": seq, "at": at_text(at),
        "actor": actor, "role": role, "action": action,
        "target_type": target_type, "target_id": target_id, "org_id": org_id,
        "details": details, "client": client, "outcome": outcome,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


def hash_parts(*, actor: str, role: str, action: str, target_type: str | None,
               target_id: str | None, org_id: int | None, details: dict[str, Any],
               client: str | None, outcome: str) -> tuple[str, str, str, str]:
    """The canonical JSON of an event in four parts around the three values only the
    appender holding the chain's head knows — the time, the previous hash and the
    sequence number: :func:`event_hash` is the SHA-256 of ``parts[0] + at_text(at) +
    parts[1] + prev_hash + parts[2] + str(seq) + parts[3]`` (UTF-8). The keys sort as
    ``action``, ``actor``, ``at``, ``client`` … ``outcome``, ``prev_hash``, ``role``,
    ``seq``, ``target_id``, ``target_type``; the database function ``audit_append``
    (migration 0098) joins them."""
    before = canonical({"action": action, "actor": actor}).decode("utf-8")
    after = canonical({"client": client, "details": details, "org_id": org_id,
                       "outcome": outcome}).decode("utf-8")
    before_at = before[:-1] + ',"at":"'
    before_prev = '",' + after[1:-1] + ',"prev_hash":"'
    before_seq = '","role":' + canonical(role).decode("utf-8") + ',"seq":'
    after_seq = (',"target_id":' + canonical(target_id).decode("utf-8")
                 + ',"target_type":' + canonical(target_type).decode("utf-8") + "}")
    return before_at, before_prev, before_seq, after_seq


def hash_of(event: AuditEvent, *, seq: int | None = None) -> str:
    """Recompute the hash of a stored event from its fields (as if at ``seq``, if given)."""
    return event_hash(prev_hash=event.prev_hash, seq=event.seq if seq is None else seq,
                      at=event.at, actor=event.actor,
                      role=event.role, action=event.action, target_type=event.target_type,
                      target_id=event.target_id, org_id=event.org_id, details=event.details,
                      client=event.client, outcome=event.outcome)
