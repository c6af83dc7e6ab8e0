"""Writing catalogue objects: staged on the session, written to the store at commit.

A service that changes what the catalogue describes calls :func:`stage` with a builder; the
``before_commit`` listener :func:`write_pending` (registered by
:func:`archive.unit_of_work.make_session_factory`, ahead of the audit chain's) runs every
builder after the last flush and puts its objects into the store before the transaction
commits. A store that refuses makes the commit fail: no row is committed that the store
does not describe. A transaction that rolls back writes nothing; one whose commit fails
after its objects were written leaves objects the database does not know (the rebuild
reports versions the restored audit trail does not confirm).

A savepoint's release runs ``before_commit`` too (SQLAlchemy): what was staged inside it
is written then, so a later savepoint's rollback (which forgets what is still staged)
cannot lose it; if the whole transaction then rolls back, those objects are left like a
failed commit's, and the rebuild tells them apart by the audit trail in the same way.

The store comes from the session factory (:class:`Catalogue` in ``Session.info``); a
session without one refuses to commit staged objects rather than skip them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from archive import clock
from archive.jsonable import jsonable
from archive.storage import ObjectStore

PREFIX = "catalogue/"
RECORDS = PREFIX + "records/"
BATCHES = PREFIX + "batches/"   # a batch upload's version-1 manifests, one object
INSPECTIONS = PREFIX + "inspections/"
LINKS = PREFIX + "links/"
TOMBSTONES = PREFIX + "tombstones/"
ORGS = PREFIX + "orgs/"
SCHEDULES = PREFIX + "schedules/"
VOUCHERS = PREFIX + "vouchers/"
REVIEWS = PREFIX + "reviews/"
PROFILES = PREFIX + "profiles/"
HOLDS = PREFIX + "holds/"
CLOSURES = PREFIX + "closures/"

# Objects of one commit written at once (see write_pending).
PUT_THREADS = 8

_PENDING = "catalogue_pending"
INFO_KEY = "catalogue"


# Tombstones and destruction certificates prove that a destruction was lawful: locked this
# long from their writing, whatever the record they speak of was kept for.
PROOF_YEARS = 30


@dataclass(frozen=True)
class Catalogue:
    """Where catalogue objects go, and the lock of those not tied to a record's bytes:
    ``DEFAULT_RETENTION_YEARS`` from now at least; the lock sync extends them as the
    records they describe need (:mod:`archive.retention.locks`)."""
    store: ObjectStore
    snapshot_years: int = 10

    def snapshot_lock(self) -> dt.datetime:
        return clock.years_after(clock.system_now(), self.snapshot_years)

    def latest_snapshot_lock(self) -> dt.datetime:
        """The lock of a new latest snapshot (an organisation, the schedules, the profile):
        the snapshot lock, or the watermark's if later — the rebuild reads only the latest,
        so it must last as long as the one it succeeds."""
        lock, floor = self.snapshot_lock(), snapshot_watermark(self.store)
        return max(lock, floor) if floor is not None else lock

    def proof_lock(self) -> dt.datetime:
        return clock.years_after(clock.system_now(), PROOF_YEARS)


@dataclass(frozen=True)
class Entry:
    key: str
    document: dict[str, Any]
    retain_until: dt.datetime


Builder = Callable[[Session, Catalogue], list[Entry]]


def encode(document: dict[str, Any]) -> bytes:
    """Canonical JSON: one spelling per document, whichever database it was read from."""
    return json.dumps(jsonable(document), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(encode(document)).hexdigest()


def batch_key(batch: Any) -> str:
    """The object of a batch upload's version-1 manifests (``archive.evidence.manifests``)."""
    return f"{BATCHES}{batch}.json"


def batch_of(key: str) -> str | None:
    """The batch id a batch object's key names (None: not one)."""
    if not key.startswith(BATCHES) or not key.endswith(".json"):
        return None
    name = key[len(BATCHES):-len(".json")]
    return name if name and "/" not in name else None


def stamp(at: dt.datetime | None = None) -> str:
    """A key component that sorts by time: ``YYYYMMDDTHHMMSSffffff`` (UTC)."""
    return (at or clock.now()).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%f")


def stage(session: Session, name: str, builder: Builder) -> None:
    """Have ``builder``'s objects written when ``session`` commits (once per ``name``)."""
    session.info.setdefault(_PENDING, {})[name] = builder


def stage_in_group(session: Session, group: str, name: str, item: Any,
                   build_all: Callable[[Session, Catalogue, list[Any]], list[Entry]]) -> None:
    """Like :func:`stage`, for objects whose builders would each ask the database the same
    question: ``item`` joins the group's list (once per ``name``), and ``build_all`` builds
    the objects of every item staged in the group with one read at commit (a batch upload
    stages fifty record manifests: one query, not fifty)."""
    key = f"{_PENDING}:{group}"
    items: dict[str, Any] = session.info.setdefault(key, {})
    items[name] = item

    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        staged: dict[str, Any] = session.info.pop(key, {})
        return build_all(session, catalogue, list(staged.values()))

    stage(session, group, build)


def write_pending(session: Session) -> None:
    """The ``before_commit`` listener: build and store every staged object."""
    pending: dict[str, Builder] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    catalogue: Catalogue | None = session.info.get(INFO_KEY)
    if catalogue is None:
        raise RuntimeError("this session has no store to write the catalogue to "
                                   "(make sessions with archive.unit_of_work)")
    session.flush()
    floor = clock.system_now() + dt.timedelta(days=1)
    entries = [entry for builder in pending.values() for entry in builder(session, catalogue)]

    def write(entry: Entry) -> None:
        put(catalogue.store, entry.key, entry.document, max(entry.retain_until, floor))

    if len(entries) <= 1:
        for entry in entries:
            write(entry)
        return
    # A batch upload describes many records at once: their objects go to the store
    # PUT_THREADS at a time, as the batch's bytes do (one after the other, 50 small PUTs
    # held the commit for as long as the batch's own bytes took). Any refusal still
    # fails the commit.
    with ThreadPoolExecutor(min(PUT_THREADS, len(entries))) as pool:
        for _ in pool.map(write, entries):
            pass


def put(store: ObjectStore, key: str, document: dict[str, Any],
        retain_until: dt.datetime) -> None:
    data = encode(document)
    store.put(key, io.BytesIO(data), len(data), retain_until=retain_until,
              content_type="application/json")


def drop_pending(session: Session, previous_transaction: Any) -> None:
    """Forget what a rolled-back session staged (its ``after_soft_rollback``)."""
    for key in [k for k in session.info if k.startswith(_PENDING.split("_")[0] + "_")]:
        session.info.pop(key, None)


def snapshot_watermark(store: ObjectStore) -> dt.datetime | None:
    """The lock of the latest schedules snapshot: the lock sync keeps every latest snapshot
    (organisations, schedules, profile) locked at least this long, and extends the schedules'
    last (:func:`archive.retention.locks.sync_snapshots`)."""
    found = list(store.list_objects(SCHEDULES))
    if not found:
        return None
    latest = max(found, key=lambda i: i.key)
    info = store.stat(latest.key, latest.version_id)
    return info.retain_until if info is not None else None


def read(store: ObjectStore, key: str, version_id: str | None = None) -> dict[str, Any]:
    value = json.loads(store.read_all(key, version_id))
    if not isinstance(value, dict):
        raise ValueError(f"{key}: not a JSON object")
    return value
