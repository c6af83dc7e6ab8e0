"""Anchoring the audit chain in the write-once store, and checking it against the anchors.

A checkpoint is a small JSON object — the chain head (sequence, hash, time) and the
previous checkpoint — written under ``audit/checkpoints/<seq>.json`` with Object Lock.
Someone with full database access can rewrite events and even recompute every hash, but
cannot change or remove a locked checkpoint, so :func:`verify_chain` catches them.

With ``ARCHIVE_TSA_URL`` set, the checkpoint also carries an RFC 3161 time-stamp token
over the SHA-256 of its body, so its time does not rest on our clock alone.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.audit.chain import GENESIS, canonical, hash_of
from archive.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from archive.storage import ObjectStore

PREFIX = "audit/checkpoints/"
FORMAT = "evidence-archive.audit-checkpoint/1"
# The events a checkpoint anchors (those after the previous checkpoint), written just
# before it: with the checkpoints they are the whole trail, so the store alone can give
# it back (``archive rebuild --from-store``) and the checkpoints prove it unaltered.
SEGMENTS = "audit/segments/"
SEGMENT_FORMAT = "evidence-archive.audit-segment/1"

# Given a digest, returns a DER-encoded RFC 3161 TimeStampToken (ContentInfo).
TimeStamper = Callable[[bytes], bytes]


def checkpoint_key(seq: int) -> str:
    return f"{PREFIX}{seq:015d}.json"


def segment_key(seq: int) -> str:
    return f"{SEGMENTS}{seq:015d}.json"


def event_document(event: AuditEvent) -> dict[str, Any]:
    """An event with every field its hash covers, spelled as the hash spells them."""
    return {"seq": event.seq, "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "actor": event.actor, "role": event.role, "action": event.action,
            "target_type": event.target_type, "target_id": event.target_id,
            "org_id": event.org_id, "details": event.details, "client": event.client,
            "outcome": event.outcome, "prev_hash": event.prev_hash, "hash": event.hash}


def write_segment(session: Session, store: ObjectStore, *, after_seq: int, seq: int,
                  retain_until: dt.datetime) -> str:
    """Put the events ``after_seq+1 .. seq`` into the store (locked) under the key of the
    checkpoint that will anchor them."""
    events = [event_document(e) for e in session.scalars(
        sa.select(AuditEvent).where(AuditEvent.seq > after_seq, AuditEvent.seq <= seq)
        .order_by(AuditEvent.seq))]
    body = {"format": SEGMENT_FORMAT, "from_seq": after_seq + 1, "to_seq": seq,
            "events": events}
    data = canonical(body)
    key = segment_key(seq)
    store.put(key, io.BytesIO(data), len(data), retain_until=retain_until,
              content_type="application/json")
    return key


def http_timestamper(url: str, timeout: float = 10) -> TimeStamper:
    """A time-stamper asking the RFC 3161 service at ``url`` (pyHanko's client)."""
    def stamp(digest: bytes) -> bytes:
        import asyncio

        from pyhanko.sign.timestamps import HTTPTimeStamper

        async def request() -> bytes:
            token = await HTTPTimeStamper(url, timeout=timeout).async_timestamp(digest, "sha256")
            return bytes(token.dump())

        # Called from synchronous code (CLI, jobs): run pyHanko's async client to completion.
        return asyncio.run(request())
    return stamp


def write_checkpoint(session: Session, store: ObjectStore, *, retain_until: dt.datetime,
                     timestamper: TimeStamper | None = None) -> AuditCheckpoint | None:
    """Write the current chain head to the store (no-op when it is already anchored)."""
    seq, head_hash = session.execute(
        sa.select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    if seq == 0:
        return None
    existing = session.get(AuditCheckpoint, seq)
    key = checkpoint_key(seq)
    if existing is not None or store.stat(key) is not None:
        return existing
    previous = session.scalar(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc())
                              .limit(1))
    write_segment(session, store, after_seq=previous.seq if previous else 0, seq=seq,
                  retain_until=retain_until)
    at = clock.now()
    body = {"format": FORMAT, "seq": seq, "hash": head_hash, "at": at.isoformat(),
            "previous": {"seq": previous.seq, "hash": previous.hash,
                         "key": previous.store_key} if previous else None}
    digest = hashlib.sha256(canonical(body)).digest()
    document: dict[str, Any] = {"checkpoint": body, "sha256": digest.hex()}
    if timestamper is not None:
        token = timestamper(digest)
        document["timestamp_token"] = base64.b64encode(token).decode()
    data = json.dumps(document, indent=1, ensure_ascii=False).encode()
    info = store.put(key, io.BytesIO(data), len(data), retain_until=retain_until,
                     content_type="application/json")
    row = AuditCheckpoint(seq=seq, hash=head_hash, at=at, store_key=key,
                          version_id=info.version_id, timestamped=timestamper is not None)
    session.add(row)
    return row


# -- verification ----------------------------------------------------------------------

@dataclass
class Anchor:
    seq: int
    hash: str
    at: str
    key: str
    timestamped: bool
    timestamp_ok: bool | None
    previous_seq: int | None = None     # the checkpoint this one names as its predecessor


@dataclass
class ChainReport:
    ok: bool = True
    events: int = 0
    head_seq: int = 0
    first_bad_seq: int | None = None
    problem: str | None = None          # edited | moved | deleted | rewritten | truncated | ...
    detail: str | None = None
    checkpoints: int = 0
    last_checkpoint_seq: int | None = None
    unanchored_events: int = 0           # after the last checkpoint: not yet provable
    anchors: list[Anchor] = field(default_factory=list)
    # Every problem found (``problem``/``detail`` name the first), and what is not tamper
    # evidence but needs an operator: checkpoints written late, events left unanchored.
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Information, not a failure: events whose time is earlier than their predecessor's
    # (appends took their time before waiting for the chain's lock until migration 0098).
    # The hash covers the time as stored, so these events verify like any other.
    earlier_than_previous: int = 0
    earlier_than_previous_seqs: list[int] = field(default_factory=list)   # the first few

    def fail(self, seq: int | None, problem: str, detail: str) -> None:
        self.problems.append(f"{problem}: {detail}")
        if self.ok:
            self.ok, self.first_bad_seq, self.problem, self.detail = False, seq, problem, detail

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["anchors"] = [asdict(a) for a in self.anchors[-5:]]  # the latest few
        return data


def load_anchors(store: ObjectStore) -> tuple[dict[int, Anchor], list[str]]:
    """Checkpoints as the store holds them (every version), with any inconsistencies."""
    anchors: dict[int, Anchor] = {}
    problems: list[str] = []
    for info in store.list_objects(PREFIX):
        try:
            document = json.loads(store.read_all(info.key, info.version_id))
            body = document["checkpoint"]
            digest = hashlib.sha256(canonical(body)).hexdigest()
            if digest != document.get("sha256"):
                problems.append(f"{info.key}: body does not match its own digest")
                continue
            token_ok = _check_token(document, bytes.fromhex(digest))
            previous = body.get("previous")
            anchor = Anchor(int(body["seq"]), body["hash"], body["at"], info.key,
                            "timestamp_token" in document, token_ok,
                            int(previous["seq"]) if previous else None)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{info.key}: unreadable checkpoint ({exc})")
            continue
        other = anchors.get(anchor.seq)
        if other is not None and other.hash != anchor.hash:
            problems.append(f"two checkpoints for seq {anchor.seq} disagree")
        anchors[anchor.seq] = anchor
    return anchors, problems


def _check_token(document: dict[str, Any], digest: bytes) -> bool | None:
    """Does the RFC 3161 token time-stamp exactly this checkpoint? (``None``: no token)"""
    raw = document.get("timestamp_token")
    if not raw:
        return None
    try:
        from asn1crypto import cms, tsp

        info = cms.ContentInfo.load(base64.b64decode(raw))
        tst = info["content"]["encap_content_info"]["content"].parsed
        assert isinstance(tst, tsp.TSTInfo)
        return bytes(tst["message_imprint"]["hashed_message"].native) == digest
    except Exception:  # noqa: BLE001 - any malformed token is simply not a valid one
        return False


# How many sequence numbers of events earlier than their predecessor a report names.
EARLIER_SEQS_SHOWN = 10

# The scheduler writes a checkpoint every hour; an event may wait this long for one
# before the wait is reported (``ARCHIVE_AUDIT_CHECKPOINT_MAX_GAP_HOURS``).
DEFAULT_MAX_GAP = dt.timedelta(hours=3)


def verify_chain(session: Session, store: ObjectStore,
                 progress: Callable[[int], None] | None = None, *,
                 max_gap: dt.timedelta = DEFAULT_MAX_GAP,
                 now: dt.datetime | None = None) -> ChainReport:
    """Recompute the chain and compare it with every checkpoint in the store.

    Reports the first bad sequence number for an edited event (its hash no longer
    matches its fields), a moved or deleted event (a gap, or a link to the wrong
    predecessor), a truncated tail (checkpoints beyond the last event) and a chain
    recomputed by someone with database access (self-consistent, but not what the locked
    checkpoints recorded). Events after the last checkpoint are reported as unanchored.

    The checkpoint table is checked against the store too: every row must have its locked
    object with the same hash (``checkpoint_missing``, ``checkpoint_mismatch``); every
    checkpoint's predecessor must be in the store (``checkpoint_gap``); and a store
    without any checkpoint under a trail older than ``max_gap`` is ``unanchored`` — the
    checkpoints were removed, or this is not the archive's store. Checkpoints written
    more than ``max_gap`` after the events they anchor are warnings (the scheduler was
    down), not failures. Events whose time is earlier than their predecessor's are
    counted (and the first few named) as information: not a failure, not a warning.
    """
    now = now or clock.now()
    report = ChainReport()
    anchors, anchor_problems = load_anchors(store)
    report.anchors = [anchors[s] for s in sorted(anchors)]
    report.checkpoints = len(anchors)
    report.last_checkpoint_seq = max(anchors) if anchors else None
    for problem in anchor_problems:
        report.fail(None, "checkpoint", problem)
    for anchor in report.anchors:
        if anchor.timestamp_ok is False:
            report.fail(anchor.seq, "checkpoint", f"{anchor.key}: time-stamp token does not "
                        "cover this checkpoint")

    expected, prev, last_good_anchor = 1, GENESIS, 0
    first_at: dt.datetime | None = None          # oldest event not yet anchored
    previous_at: dt.datetime | None = None
    events = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)
                             .execution_options(yield_per=2000))
    for event in events:
        report.events += 1
        if first_at is None:
            first_at = event.at
        if progress and report.events % 2000 == 0:
            progress(2000)
        if event.seq != expected:
            if event.seq > expected:
                report.fail(expected, "deleted", f"events {expected}–{event.seq - 1} are missing")
            else:
                report.fail(event.seq, "moved", f"sequence {event.seq} appears twice or out of "
                            "order")
            break
        recomputed = hash_of(event)
        if recomputed != event.hash:
            if _belongs_elsewhere(event):
                report.fail(event.seq, "moved", f"event {event.seq} carries the hash of another "
                            "position: events were reordered or renumbered")
            else:
                report.fail(event.seq, "edited", f"event {event.seq} no longer matches its hash")
            break
        if event.prev_hash != prev:
            report.fail(event.seq, "moved", f"event {event.seq} does not follow event "
                        f"{event.seq - 1}: an event was removed or reordered")
            break
        if previous_at is not None and event.at < previous_at:
            report.earlier_than_previous += 1
            if len(report.earlier_than_previous_seqs) < EARLIER_SEQS_SHOWN:
                report.earlier_than_previous_seqs.append(event.seq)
        previous_at = event.at
        anchored = anchors.get(event.seq)
        if anchored is not None:
            if anchored.hash != event.hash:
                report.fail(last_good_anchor + 1, "rewritten",
                            f"the chain was recomputed: event {event.seq} differs from the locked "
                            f"checkpoint {anchored.key}; the change lies in events "
                            f"{last_good_anchor + 1}–{event.seq}")
                break
            last_good_anchor = event.seq
            _cadence(report, anchored, first_at, max_gap)
            first_at = None
        prev = event.hash
        expected += 1
    # A break above leaves PostgreSQL's server-side cursor (yield_per) open until the
    # result is garbage-collected; the session goes on to other queries.
    events.close()
    last_seq = expected - 1
    report.head_seq = last_seq
    if report.ok and anchors and max(anchors) > last_seq:
        report.fail(last_seq + 1, "truncated",
                    f"checkpoint {max(anchors)} exists but the trail ends at {last_seq}")
    if report.ok:
        head = session.execute(sa.select(AuditHead.seq, AuditHead.hash)).one()
        if (head.seq, head.hash) != (last_seq, prev):
            report.fail(min(head.seq, last_seq) + 1, "truncated",
                        f"the chain head says {head.seq} but the trail ends at {last_seq}")
    report.unanchored_events = max(0, last_seq - (max(anchors) if anchors else 0))
    _check_checkpoint_rows(session, report, anchors)
    if report.unanchored_events and first_at is not None:
        waited = now - first_at
        if not anchors and report.events and waited > max_gap:
            report.fail(1, "unanchored",
                        f"the store holds no checkpoint, but the trail has {report.events} "
                        f"events since {first_at:%Y-%m-%d %H:%M} UTC: checkpoints were "
                        "removed from the store, or this is not the archive's store")
        elif waited > max_gap:
            report.warnings.append(
                f"{report.unanchored_events} events after seq {report.last_checkpoint_seq or 0}"
                f" have waited {_hours(waited)} for a checkpoint (expected within "
                f"{_hours(max_gap)}): is the scheduler running?")
    return report


def _hours(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def _cadence(report: ChainReport, anchor: Anchor, first_at: dt.datetime | None,
             max_gap: dt.timedelta) -> None:
    if first_at is None:
        return
    try:
        written = dt.datetime.fromisoformat(anchor.at)
    except ValueError:
        return
    if written - first_at > max_gap:
        report.warnings.append(
            f"checkpoint {anchor.seq} was written {_hours(written - first_at)} after the "
            f"oldest event it anchors (expected within {_hours(max_gap)})")


def _check_checkpoint_rows(session: Session, report: ChainReport,
                           anchors: dict[int, Anchor]) -> None:
    """The checkpoint table is an index of the store: each row's locked object must be
    there with the same hash, and each checkpoint's predecessor must be there too."""
    for row in session.scalars(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.seq)):
        anchor = anchors.get(row.seq)
        if anchor is None:
            report.fail(row.seq, "checkpoint_missing",
                        f"checkpoint {row.seq} is recorded in the database ({row.store_key}, "
                        f"written {row.at:%Y-%m-%d %H:%M} UTC) but is missing from the store")
        elif anchor.hash != row.hash:
            report.fail(row.seq, "checkpoint_mismatch",
                        f"checkpoint {row.seq}: the database says hash {row.hash}, the locked "
                        f"object {anchor.key} says {anchor.hash}")
    for seq in sorted(anchors):
        previous = anchors[seq].previous_seq
        if previous is not None and previous not in anchors:
            report.fail(previous, "checkpoint_gap",
                        f"checkpoint {seq} names checkpoint {previous} as its predecessor, "
                        "which is not in the store")


def _belongs_elsewhere(event: AuditEvent) -> bool:
    """Would the event's stored hash be right at a nearby sequence number?"""
    return any(hash_of(event, seq=event.seq + delta) == event.hash
               for delta in (-3, -2, -1, 1, 2, 3))
