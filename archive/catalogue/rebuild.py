"""``archive rebuild --from-store``: the catalogue back from the store alone.

Into an empty database (migrated, nothing else), in this order, one unit of work per step
(records in batches), each step skipping what is already there — so an interrupted rebuild
is resumed by running it again (a ``system_checks`` row of kind ``rebuild`` marks one in
progress; without it a database holding anything is refused; the report of the run that
finishes counts what the database then holds, the whole rebuild):

1. **the audit trail**: the segments (``audit/segments/``) give every event up to the last
   checkpoint; each event's hash is recomputed, each must follow its predecessor, and the
   chain must meet every checkpoint (``audit/checkpoints/``) — or nothing of the trail is
   restored. The checkpoint rows (an index of the store) are restored too. Events after
   the last checkpoint were in no segment: they are lost with the database;
2. **organisations** (their latest state, with their ids: the audit trail and the version
   hashes name organisations by id) and **schedules** (the latest snapshot, with their ids
   and every version, and the document types' mapping);
3. **vouchers**: the required-evidence profile (the latest snapshot, every version), each
   voucher from its latest version's object (fields, organisation, version, history), and
   the auditors' **reviews** (human decisions: restored as written) — less the versions
   and reviews the restored trail shows never committed (as for record versions: the
   version before is restored);
4. **records**: every metadata version from its manifest (each manifest's hash recomputed
   from its fields, each naming its predecessor; a batch upload's first manifests are
   read from its batch object, ``catalogue/batches/``, those records first, each with its
   later versions, and each names its batch again), the current one as the record and the
   earlier ones as its history — less the versions that never committed (their manifest
   was written, then the commit failed: not in the restored trail although older than its
   last checkpoint by more than ``COMMIT_MARGIN``); the **blobs** from the store (key,
   version, lock, hold: bytes no longer in the store were destroyed); **inspection
   reports** (the latest); **tombstones**; and the record's **links**, replayed in time
   order: its roles in vouchers (link, unlink) and its **renditions** (the row, and the
   rendition's blob as the store has it);
5. **legal holds** (each in its latest state, with the records it covered and the date
   each had then — the floor of its recomputed date, dates being only ever extended; the
   records' ``on_hold`` set) and **audit closures** — less a release or closure the
   restored trail shows never committed (as for record versions);
6. the **findings** of every voucher, recomputed by the rules (derived data: never
   stored), and the follow-up work as jobs: text extraction for search (``extract_text``)
   and the retention dates (``retention_compute``: the restored closures, holds and
   vouchers count; records that joined a hold after it was placed join it again);
7. the rebuild itself in the audit trail: one ``archive.rebuild`` event, and one
   ``evidence.restore`` event per record version the restored trail does not confirm (made
   after the last checkpoint), recording its hash — appended after the restored head, so
   the chain stays whole — then a checkpoint anchoring them.

Not restored: users, tokens and sessions (re-created by an administrator; and so the heads
of agency, who are users), disposition lists, exports, jobs and self-check history. The
certificates of executed dispositions stay in the store (``disposition/…``), as do the
restored records' tombstones. An object whose transaction failed after it was written is
told apart by the restored audit trail only when it is older than the trail's last
checkpoint (by ``COMMIT_MARGIN``); one made after that checkpoint is restored as if it had
committed (nothing can tell: its event, if any, was lost with the database). Organisation
and schedule snapshots are not checked against the trail.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts.models import User
from archive.accounts.principal import Principal
from archive.audit.chain import GENESIS, event_hash
from archive.audit.checkpoints import PREFIX as CHECKPOINTS
from archive.audit.checkpoints import SEGMENTS, load_anchors, write_checkpoint
from archive.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from archive.catalogue import objects
from archive.db import table_of
from archive.disbursements.models import (
    Disbursement,
    DisbursementEvidence,
    DisbursementHistory,
    DisbursementProfile,
    DisbursementProfileVersion,
    DisbursementReview,
)
from archive.disbursements.recompute import recompute_all
from archive.disbursements.schemas import VOUCHER_FIELDS
from archive.errors import Conflict
from archive.evidence import manifests, versions
from archive.evidence.models import Blob, Evidence, EvidenceHistory, Inspection, Rendition
from archive.evidence.schemas import METADATA_FIELDS
from archive.failpoints import failpoint
from archive.orgs.models import Organisation
from archive.queue.models import SystemCheck
from archive.queue.service import enqueue_many
from archive.retention import compute
from archive.retention.models import AuditClosure, LegalHold, LegalHoldItem
from archive.retention.schedules.models import (
    DocTypeSchedule,
    RetentionSchedule,
    RetentionScheduleVersion,
    Tombstone,
)
from archive.retention.schedules.service import TOMBSTONE_FIELDS
from archive.storage import ObjectMissing, ObjectStore, blob_key
from archive.unit_of_work import UnitsOfWork

BATCH = 200
# A transaction commits well within this after its manifests were written: a version not
# in the restored trail although this much older than the last checkpoint never committed.
COMMIT_MARGIN = dt.timedelta(hours=1)
MARKER = "rebuild"
NOT_RESTORED = ("users, API tokens and web sessions (create them again: `archive users add`), "
                "and so the heads of agency", "disposition lists (their certificates stay in "
                "the store)", "exports, jobs and self-check history")


class RebuildRefused(Conflict):
    code = "rebuild_refused"


@dataclass
class RebuildReport:
    events: int = 0
    checkpoints: int = 0
    organisations: int = 0
    schedules: int = 0
    records: int = 0
    versions: int = 0
    blobs: int = 0
    blobs_destroyed: int = 0
    inspections: int = 0
    tombstones: int = 0
    # Versions whose manifest was written but whose transaction never committed (older
    # than the last checkpoint by more than COMMIT_MARGIN, yet not in the trail).
    uncommitted_versions: int = 0
    vouchers: int = 0
    voucher_links: int = 0
    reviews: int = 0
    profiles: int = 0
    findings: int = 0                 # recomputed, not restored
    renditions: int = 0
    holds: int = 0
    held_records: int = 0
    closures: int = 0
    # Hold changes and closures whose object was written but whose transaction never
    # committed (not in the restored trail although older than its last checkpoint).
    uncommitted_retention: int = 0
    # Voucher versions and reviews likewise (the voucher's previous version is restored).
    uncommitted_vouchers: int = 0
    unconfirmed_versions: int = 0
    resumed: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | {
            "ok": self.ok, "not_restored": list(NOT_RESTORED)}


# -- reading the store ---------------------------------------------------------------------

def _documents(store: ObjectStore, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    seen: set[str] = set()
    for info in store.list_objects(prefix):
        if info.key in seen:         # another version of the same key: same content
            continue
        seen.add(info.key)
        yield info.key, objects.read(store, info.key, info.version_id)


def _latest_per_folder(store: ObjectStore, prefix: str) -> dict[str, str]:
    """The last key (in key order: the latest time stamp) of each folder under ``prefix``."""
    latest: dict[str, str] = {}
    for info in store.list_objects(prefix):
        folder = info.key[len(prefix):].split("/", 1)[0]
        if folder not in latest or info.key > latest[folder]:
            latest[folder] = info.key
    return latest


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


# -- the steps -----------------------------------------------------------------------------

def check_empty(units: UnitsOfWork) -> bool:
    """Refuse a database that holds anything, unless it holds an interrupted rebuild
    (then ``True``: resume)."""
    with units() as s:
        marker = s.scalar(sa.select(SystemCheck).where(SystemCheck.kind == MARKER)
                          .order_by(SystemCheck.id.desc()).limit(1))
        if marker is not None and not marker.ok:
            return True
        held = {name: s.scalar(sa.select(sa.func.count()).select_from(model))
                for name, model in (("organisations", Organisation), ("records", Evidence),
                                    ("audit events", AuditEvent), ("users", User),
                                    ("retention schedules", RetentionSchedule))}
        held = {k: v for k, v in held.items() if v}
        if held or marker is not None:
            what = ", ".join(f"{n:,} {k}" for k, n in held.items()) or "a finished rebuild"
            raise RebuildRefused(
                f"the database is not empty ({what}): a rebuild only fills an empty "
                "database, it never merges into one. Restore PostgreSQL's own backup if you "
                "have one; otherwise create an empty database, run `archive db upgrade` "
                "against it and rebuild into that.")
        s.add(SystemCheck(kind=MARKER, ok=False, summary="rebuild from the store in progress",
                          details={}))
    return False


def restore_trail(units: UnitsOfWork, store: ObjectStore,
                  report: RebuildReport) -> dt.datetime | None:
    """The audit events from the segments, checked against the checkpoints; the
    checkpoint rows. All or nothing: a trail that does not meet its checkpoints is not
    restored (``archive audit verify`` then reports it truncated). Returns the time of the
    last checkpoint when the whole trail up to it was restored (``None`` otherwise)."""
    anchors, problems = load_anchors(store)
    report.problems += [f"audit checkpoint: {p}" for p in problems]
    events: list[dict[str, Any]] = []
    for _key, segment in sorted(_documents(store, SEGMENTS), key=lambda kv: kv[1]["from_seq"]):
        if events and segment["from_seq"] != events[-1]["seq"] + 1:
            if segment["from_seq"] <= events[-1]["seq"]:
                continue
            report.problems.append(f"audit segments: events {events[-1]['seq'] + 1}–"
                                   f"{segment['from_seq'] - 1} are in no segment")
            break
        if not events and segment["from_seq"] != 1:
            report.problems.append(f"audit segments: events 1–{segment['from_seq'] - 1} are in "
                                   "no segment (checkpoints written before segments existed)")
            break
        events += segment["events"]
    prev, last_anchor = GENESIS, 0
    for i, ev in enumerate(events):
        at = dt.datetime.fromisoformat(ev["at"])
        fields = {k: ev[k] for k in ("actor", "role", "action", "target_type", "target_id",
                                     "org_id", "details", "client", "outcome")}
        if ev["seq"] != i + 1 or ev["prev_hash"] != prev or \
                event_hash(prev_hash=prev, seq=ev["seq"], at=at, **fields) != ev["hash"]:
            report.problems.append(f"audit segments: event {ev['seq']} does not match its hash "
                                   "or predecessor")
            events = []
            break
        anchor = anchors.get(ev["seq"])
        if anchor is not None:
            if anchor.hash != ev["hash"]:
                report.problems.append(f"audit segments: event {ev['seq']} differs from its "
                                       "locked checkpoint")
                events = []
                break
            last_anchor = ev["seq"]
        prev = ev["hash"]
    events = events[:last_anchor]     # only what a checkpoint proves
    with units() as s:
        have = s.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) or 0
        if have == 0 and events:
            table = table_of(AuditEvent)
            for start in range(0, len(events), 2000):
                s.execute(table.insert(), [
                    {**ev, "at": dt.datetime.fromisoformat(ev["at"])}
                    for ev in events[start:start + 2000]])
            s.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(
                seq=events[-1]["seq"], hash=events[-1]["hash"]))
        report.events = len(events) if have == 0 else have
        known = set(s.scalars(sa.select(AuditCheckpoint.seq)))
        for info in store.list_objects(CHECKPOINTS):
            seq = int(info.key[len(CHECKPOINTS):].split(".")[0])
            anchor = anchors.get(seq)
            if anchor is None or seq in known:
                continue
            known.add(seq)
            s.add(AuditCheckpoint(seq=seq, hash=anchor.hash, at=dt.datetime.fromisoformat(
                anchor.at), store_key=info.key, version_id=info.version_id,
                timestamped=anchor.timestamped))
        report.checkpoints = len(known)
    if anchors and max(anchors) > last_anchor:
        report.problems.append(f"audit trail: checkpoints go up to {max(anchors)}, the "
                               f"segments only prove events up to {last_anchor}")
        return None
    return dt.datetime.fromisoformat(anchors[last_anchor].at) if last_anchor else None


def restore_orgs(units: UnitsOfWork, store: ObjectStore, report: RebuildReport) -> None:
    docs = [objects.read(store, key) for key in
            _latest_per_folder(store, objects.ORGS).values()]
    by_id = {d["id"]: d for d in docs}

    def depth(d: dict[str, Any]) -> int:
        n, parent = 0, d.get("parent")
        while parent and n < 10:
            n, parent = n + 1, by_id.get(parent["id"], {}).get("parent")
        return n

    with units() as s:
        have = set(s.scalars(sa.select(Organisation.id)))
        for d in sorted(docs, key=lambda d: (depth(d), d["id"])):
            if d["id"] in have:
                continue
            s.add(Organisation(id=d["id"], code=d["code"], name=d["name"], type=d["type"],
                               parent_id=d["parent"]["id"] if d.get("parent") else None,
                               created_at=_datetime(d["created_at"])))
            s.flush()
        report.organisations = len(docs)
        _reset_sequence(s, "organisations")


def restore_schedules(units: UnitsOfWork, store: ObjectStore, report: RebuildReport) -> None:
    keys = sorted(info.key for info in store.list_objects(objects.SCHEDULES))
    if not keys:
        report.problems.append("no schedules snapshot in the store: the default schedules "
                               "are seeded on first use instead")
        return
    doc = objects.read(store, keys[-1])
    with units() as s:
        if s.scalar(sa.select(sa.func.count()).select_from(RetentionSchedule)):
            report.schedules = len(doc["schedules"])
            return
        for sch in doc["schedules"]:
            values = {k: v for k, v in sch.items() if k not in ("versions", "updated_at")}
            s.add(RetentionSchedule(**values, updated_at=_datetime(sch["updated_at"])))
            s.flush()
            for v in sch["versions"]:
                s.add(RetentionScheduleVersion(
                    schedule_id=sch["id"], version=v["version"], values=v["values"],
                    changed_by=v["changed_by"], changed_at=_datetime(v["changed_at"]),
                    reason=v["reason"]))
        for d in doc["doc_types"]:
            s.add(DocTypeSchedule(doc_type=d["doc_type"], schedule_id=d["schedule_id"],
                                  updated_by=d["updated_by"],
                                  updated_at=_datetime(d["updated_at"])))
        s.flush()
        _reset_sequence(s, "retention_schedules")
        _reset_sequence(s, "retention_schedule_versions")
        report.schedules = len(doc["schedules"])


def restore_profile(units: UnitsOfWork, store: ObjectStore, report: RebuildReport) -> None:
    """The required-evidence profile with every version (the latest object); without one
    the default is seeded on first use, as in a new archive."""
    keys = sorted(info.key for info in store.list_objects(objects.PROFILES))
    if not keys:
        return
    doc = objects.read(store, keys[-1])
    with units() as s:
        if s.scalar(sa.select(sa.func.count()).select_from(DisbursementProfile)):
            report.profiles = len(doc["profiles"])
            return
        for p in doc["profiles"]:
            row = DisbursementProfile(code=p["code"], version=p["version"], data=p["data"],
                                      updated_by=p["updated_by"],
                                      updated_at=_datetime(p["updated_at"]))
            s.add(row)
            s.flush()
            for v in p["versions"]:
                s.add(DisbursementProfileVersion(
                    profile_id=row.id, version=v["version"], data=v["data"],
                    changed_by=v["changed_by"], changed_at=_datetime(v["changed_at"]),
                    reason=v["reason"]))
        report.profiles = len(doc["profiles"])


def _voucher_values(fields: dict[str, Any]) -> dict[str, Any]:
    """A voucher's canonical fields back to the columns' types."""
    out: dict[str, Any] = {f: fields.get(f) for f in VOUCHER_FIELDS}
    for day in ("voucher_date", "payment_date"):
        if out[day]:
            out[day] = dt.date.fromisoformat(str(out[day]))
    for money in ("gross_amount", "withholding_tax", "net_amount"):
        if out[money] is not None:
            out[money] = Decimal(str(out[money]))
    return out


def _version_of(key: str) -> str:
    return key.rsplit("/", 1)[1].split("-", 1)[0]


def _never_committed(confirmed: bool, at: Any, cutoff: dt.datetime | None) -> bool:
    """An object written (its transaction then failed) that the restored trail does not
    record although older than its last checkpoint by more than ``COMMIT_MARGIN``; only
    knowable with the whole trail up to a checkpoint (``cutoff``, its time)."""
    when = _datetime(str(at)) if at is not None else None
    return not confirmed and cutoff is not None and when is not None and \
        when < cutoff - COMMIT_MARGIN


def restore_vouchers(units: UnitsOfWork, store: ObjectStore, report: RebuildReport,
                     cutoff: dt.datetime | None = None) -> None:
    """Each voucher from its latest committed version's object (which holds its history),
    then the reviews; findings are recomputed once the files' links are restored. A
    version (or a review) the restored trail does not record although older than its last
    checkpoint never committed: the version before it is restored (a voucher whose
    registration never committed, not at all)."""
    with units() as s:
        trail = s.execute(sa.select(AuditEvent.action, AuditEvent.target_id, AuditEvent.details)
                          .where(AuditEvent.action.in_(("disbursement.create",
                                                        "disbursement.update",
                                                        "disbursement.review")))).all()
    versions = {(str(target), 1 if action == "disbursement.create" else d.get("version"))
                for action, target, d in trail if action != "disbursement.review"}
    reviewed = {str(d.get("review_id")) for action, _t, d in trail
                if action == "disbursement.review"}
    folders: dict[str, list[str]] = {}
    for info in store.list_objects(objects.VOUCHERS):
        folders.setdefault(info.key[len(objects.VOUCHERS):].split("/", 1)[0], []).append(
            info.key)
    ids = sorted(folders)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        with units() as s:
            have = {str(i) for i in s.scalars(sa.select(Disbursement.id).where(
                Disbursement.id.in_([uuid.UUID(i) for i in chunk])))}
            orgs = set(s.scalars(sa.select(Organisation.id)))
            for vid in chunk:
                # read for a voucher restored by an interrupted run too: what it finds
                # never committed is counted again (the report describes the whole rebuild)
                doc = _committed_voucher(store, vid, sorted(set(folders[vid])), versions,
                                         cutoff, report)
                if doc is None or vid in have:
                    continue
                if doc["org"]["id"] not in orgs:
                    report.problems.append(f"voucher {vid}: its organisation "
                                           f"{doc['org']['code']} is not in the store")
                    continue
                s.add(Disbursement(
                    id=uuid.UUID(vid), org_id=doc["org"]["id"], version=doc["version"],
                    created_by=doc["created_by"], created_at=_datetime(doc["created_at"]),
                    updated_at=_datetime(doc["updated_at"]), complete=False, missing=[],
                    **_voucher_values(doc["fields"])))
                for h in doc["history"]:
                    s.add(DisbursementHistory(
                        disbursement_id=uuid.UUID(vid), version=h["version"], values=h["values"],
                        changed=h["changed"], changed_by=h["changed_by"],
                        changed_at=_datetime(h["changed_at"]), reason=h["reason"]))
        failpoint("rebuild.vouchers.batch")
    with units() as s:
        have_reviews = {str(i) for i in s.scalars(sa.select(DisbursementReview.id))}
        vouchers = {str(i) for i in s.scalars(sa.select(Disbursement.id))}
        for _key, doc in _documents(store, objects.REVIEWS):
            if doc["id"] in have_reviews or doc["voucher"] not in vouchers:
                continue
            if _never_committed(doc["id"] in reviewed, doc["created_at"], cutoff):
                report.uncommitted_vouchers += 1
                continue
            s.add(DisbursementReview(
                id=uuid.UUID(doc["id"]), disbursement_id=uuid.UUID(doc["voucher"]),
                outcome=doc["outcome"], note=doc["note"], reviewer=doc["reviewer"],
                reviewer_role=doc["reviewer_role"], created_at=_datetime(doc["created_at"])))


def _committed_voucher(store: ObjectStore, vid: str, keys: list[str],
                       confirmed: set[tuple[str, Any]], cutoff: dt.datetime | None,
                       report: RebuildReport) -> dict[str, Any] | None:
    """The voucher's latest version that committed, as its object describes it."""
    for version in sorted({_version_of(k) for k in keys}, reverse=True):
        docs = [objects.read(store, k) for k in keys if _version_of(k) == version]
        doc = max(docs, key=lambda d: str(d["updated_at"]))
        if not _never_committed((vid, doc["version"]) in confirmed, doc["updated_at"], cutoff):
            return doc
        report.uncommitted_vouchers += 1
    return None


def _reset_sequence(session: Session, table: str) -> None:
    """Rows inserted with their ids: PostgreSQL's sequence must continue after them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"))


@dataclass
class _Record:
    manifests: list[dict[str, Any]]           # one per version, oldest first
    keys: list[str]


Found = list[tuple[str, dict[str, Any]]]


def _grouped_manifests(store: ObjectStore) -> Iterator[Found]:
    """Each record's manifests ``(key, document)`` (keys sort by record, then version)."""
    current: str | None = None
    found: Found = []
    for key, doc in _documents(store, objects.RECORDS):
        record = key[len(objects.RECORDS):].split("/", 1)[0]
        if record != current and found:
            yield found
            found = []
        current = record
        found.append((key, doc))
    if found:
        yield found


# Record ids (uuid7) that share this many leading characters were made in the same 16 ms:
# their folders are listed with one request (a batch's records: one or two listings).
_SAME_MOMENT = 12


def _batched_manifests(store: ObjectStore, report: RebuildReport) -> Iterator[Found]:
    """Each record whose version-1 manifest a batch object holds (a batch upload's:
    ``catalogue/batches/``): that manifest (its key: the batch's, ``#`` the record) and
    the record's own objects under ``catalogue/records/`` (its later versions), one batch
    object at a time."""
    for key, doc in _documents(store, objects.BATCHES):
        try:
            members = manifests.batch_manifests(doc, key)
        except ValueError as exc:
            report.problems.append(str(exc))
            continue
        ids = {str(m.get("record")) for m in members}
        own: dict[str, Found] = {}
        for prefix in sorted({rid[:_SAME_MOMENT] for rid in ids}):
            for info in store.list_objects(f"{objects.RECORDS}{prefix}"):
                rid = info.key[len(objects.RECORDS):].split("/", 1)[0]
                versions_found = own.setdefault(rid, []) if rid in ids else None
                if versions_found is not None and \
                        all(k != info.key for k, _ in versions_found):
                    versions_found.append(
                        (info.key, objects.read(store, info.key, info.version_id)))
        for member in members:
            rid = str(member.get("record"))
            yield [(f"{key}#{rid}", member), *own.get(rid, [])]


def _chain(found: list[tuple[str, dict[str, Any]]], report: RebuildReport,
           confirmed: set[tuple[str, int, str]]) -> _Record | None:
    """The versions that form a chain from the first, each manifest self-consistent; where
    a version has two manifests (a commit failed after its manifest was written), the one
    the next version names wins, else the one the audit trail confirms, else the later."""
    good: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for key, doc in found:
        expected = versions.version_hash(
            evidence_id=doc["record"], version=doc["version"], fields=doc["fields"],
            blob_sha256=doc["sha256"], previous=doc["previous"])
        if expected != doc["meta_hash"]:
            report.problems.append(f"{key}: the manifest does not match its own hash")
            continue
        good.setdefault(doc["version"], []).append((key, doc))
    if not good:
        return None
    chain: list[tuple[str, dict[str, Any]]] = []
    for version in sorted(good, reverse=True):
        candidates = good[version]
        if chain:
            wanted = chain[-1][1]["previous"]
            candidates = [c for c in candidates if c[1]["meta_hash"] == wanted]
            if not candidates:
                report.problems.append(f"record {found[0][1]['record']}: version {version} "
                                       "is not the one its successor names")
                break
        chain.append(sorted(candidates, key=lambda c: (
            (c[1]["record"], c[1]["version"], c[1]["meta_hash"]) in confirmed,
            c[1]["change"]["at"]))[-1])
    chain.reverse()
    return _Record([d for _, d in chain], [k for k, _ in chain])


def _typed(fields: dict[str, Any]) -> dict[str, Any]:
    """Canonical field values back to the columns' types."""
    out = dict(fields)
    if out.get("issue_date"):
        out["issue_date"] = dt.date.fromisoformat(out["issue_date"])
    for money in ("amount", "vat_amount"):
        if out.get(money) is not None:
            out[money] = Decimal(out[money])
    return out


def restore_records(units: UnitsOfWork, store: ObjectStore, report: RebuildReport,
                    cutoff: dt.datetime | None) -> list[tuple[str, int, str, str]]:
    """Records, history, blobs, inspections, tombstones, in batches of ``BATCH`` records
    (memory stays flat); returns the versions the restored trail does not confirm
    ``(record, version, meta_hash, key)``."""
    unconfirmed: list[tuple[str, int, str, str]] = []
    # First the records whose first manifest a batch object holds (each with all its
    # versions), then every other record's folder (those records' folders are skipped)
    for grouped, batched in ((_batched_manifests(store, report), True),
                             (_grouped_manifests(store), False)):
        batch: list[Found] = []
        for found in grouped:
            batch.append(found)
            if len(batch) >= BATCH:
                _restore_batch(units, store, report, batch, cutoff, unconfirmed, batched)
                failpoint("rebuild.records.batch")
                batch = []
        if batch:
            _restore_batch(units, store, report, batch, cutoff, unconfirmed, batched)
    return unconfirmed


def _drop_uncommitted(record: _Record, report: RebuildReport,
                      confirmed: set[tuple[str, int, str]], cutoff: dt.datetime | None) -> None:
    """Drop the latest versions that never committed (only knowable with the whole trail
    up to a checkpoint: ``cutoff`` is that checkpoint's time)."""
    if cutoff is None:
        return
    while record.manifests:
        last = record.manifests[-1]
        at = _datetime(last["change"]["at"])
        if (last["record"], last["version"], last["meta_hash"]) in confirmed or \
                at is None or at >= cutoff - COMMIT_MARGIN:
            return
        record.manifests.pop()
        record.keys.pop()
        report.uncommitted_versions += 1


def _inspection_of(store: ObjectStore, rid: str) -> dict[str, Any] | None:
    """The record's latest inspection report (asked per record: memory stays flat)."""
    docs = [d for _, d in _documents(store, f"{objects.INSPECTIONS}{rid}/")]
    return max(docs, key=lambda d: (str(d["created_at"]), str(d.get("revised_at") or ""))) \
        if docs else None


def _links_of(store: ObjectStore, rid: str) -> list[dict[str, Any]]:
    """The record's link objects, oldest first (asked per record: memory stays flat)."""
    return [d for _, d in sorted(_documents(store, f"{objects.LINKS}{rid}/"),
                                 key=lambda kv: (str(kv[1]["at"]), kv[0]))]


def _tombstone_of(store: ObjectStore, rid: str) -> dict[str, Any] | None:
    try:
        return objects.read(store, f"{objects.TOMBSTONES}{rid}.json")
    except ObjectMissing:
        return None


def _blob(session: Session, store: ObjectStore, manifest: dict[str, Any],
          destroyed_at: dt.datetime | None, created_at: dt.datetime | None) -> int:
    sha = manifest["sha256"]
    existing = session.scalar(sa.select(Blob.id).where(Blob.sha256 == sha))
    if existing is not None:
        return int(existing)
    key = blob_key(sha)
    stored = store.versions(key)
    info = store.stat(key, stored[-1].version_id) if stored else None
    now = clock.now()
    blob = Blob(sha256=sha, size=manifest["size"], media_type=manifest["media_type"],
                store_key=key, version_id=info.version_id if info else None,
                retain_until=(info.retain_until if info and info.retain_until else now),
                legal_hold=bool(info and info.legal_hold), created_at=created_at or now,
                deleted_at=None if info else (destroyed_at or now))
    session.add(blob)
    session.flush()
    return blob.id


def _restore_batch(units: UnitsOfWork, store: ObjectStore, report: RebuildReport,
                   found: list[Found], cutoff: dt.datetime | None,
                   unconfirmed: list[tuple[str, int, str, str]], batched: bool) -> None:
    with units() as s:
        if not batched:
            # records restored from a batch object, with these versions, a step before
            restored = set(s.scalars(sa.select(Evidence.id).where(
                Evidence.id.in_([uuid.UUID(f[0][1]["record"]) for f in found]),
                Evidence.manifest_batch.is_not(None))))
            found = [f for f in found if uuid.UUID(f[0][1]["record"]) not in restored]
        confirmed = _confirmed_versions(s, [f[0][1]["record"] for f in found])
        batch: list[_Record] = []
        for group in found:
            record = _chain(group, report, confirmed)
            if record is not None:
                _drop_uncommitted(record, report, confirmed, cutoff)
            if record is not None and record.manifests:
                batch.append(record)
        ids = [uuid.UUID(r.manifests[-1]["record"]) for r in batch]
        have = set(s.scalars(sa.select(Evidence.id).where(Evidence.id.in_(ids))))
        schedules = {code: sid for code, sid in s.execute(
            sa.select(RetentionSchedule.code, RetentionSchedule.id))}
        vouchers = {str(i) for i in s.scalars(sa.select(Disbursement.id))}
        jobs: list[tuple[str, dict[str, Any], str | None]] = []
        for record in batch:
            last = record.manifests[-1]
            rid = last["record"]
            for m, key in zip(record.manifests, record.keys, strict=True):
                if (rid, m["version"], m["meta_hash"]) not in confirmed:
                    unconfirmed.append((rid, m["version"], m["meta_hash"], key))
            if uuid.UUID(rid) in have:
                continue
            tomb = _tombstone_of(store, rid)
            destroyed_at = _datetime(tomb["destroyed_at"]) if tomb else None
            created_at = _datetime((last.get("state") or {}).get("created_at"))
            blob_id = _blob(s, store, last, destroyed_at, created_at)
            inspection = None if tomb else _inspection_of(store, rid)
            status = "destroyed" if tomb else "received"
            pdfa_ok = None
            if inspection is not None:
                status = "inspection_failed" if inspection["status"] == "failed" else "inspected"
                pdfa_ok = None if inspection["pdfa"] is None else \
                    bool(inspection["pdfa"].get("compliant"))
            fields = _typed(last["fields"])
            schedule = last.get("schedule")
            state = last.get("state") or {}
            s.add(Evidence(
                id=uuid.UUID(rid), blob_id=blob_id,
                **{f: fields.get(f) for f in versions.HASHED_FIELDS},
                fiscal_year_source=state.get("fiscal_year_source"),
                client_media_type=state.get("client_media_type"),
                duplicate_allowed=bool(state.get("duplicate_allowed")),
                status=status, pdfa_compliant=pdfa_ok, on_hold=False,
                schedule_id=schedules.get(schedule["code"]) if schedule else None,
                retain_until=None, retention_basis=None, version=last["version"],
                meta_hash=last["meta_hash"], manifest_batch=_batch_named(record.keys[0]),
                created_at=_datetime(state.get("created_at")) or
                _datetime(record.manifests[0]["change"]["at"]),
                updated_at=destroyed_at or _datetime(last["change"]["at"])))
            s.flush()
            for older, newer in zip(record.manifests, record.manifests[1:], strict=False):
                values = {f: older["fields"].get(f) for f in METADATA_FIELDS}
                s.add(EvidenceHistory(
                    evidence_id=uuid.UUID(rid), version=older["version"], values=values,
                    changed=newer["change"]["changed"], changed_by=newer["change"]["by"],
                    changed_at=_datetime(newer["change"]["at"]),
                    reason=newer["change"]["reason"], meta_hash=older["meta_hash"]))
            if inspection is not None:
                s.add(Inspection(evidence_id=uuid.UUID(rid), blob_id=blob_id,
                                 status=inspection["status"], pdfa=inspection["pdfa"],
                                 report=inspection["report"], warnings=inspection["warnings"],
                                 filled=inspection["filled"], error=inspection["error"],
                                 created_at=_datetime(inspection["created_at"])))
            _restore_links(s, store, report, rid, blob_id, destroyed_at, vouchers)
            if tomb is not None:
                values = {f: tomb[f] for f in TOMBSTONE_FIELDS}
                values.update(blob_id=blob_id, retain_until=_datetime(tomb["retain_until"]),
                              destroyed_at=destroyed_at,
                              disposition_list_id=uuid.UUID(tomb["disposition_list_id"]))
                s.add(Tombstone(evidence_id=uuid.UUID(rid), **values))
            else:
                jobs += [("extract_text", {"blob_id": blob_id}, f"extract_text:{blob_id}"),
                         ("retention_compute", {"evidence_id": rid}, None)]
        if jobs:
            enqueue_many(s, jobs)


def _batch_named(key: str) -> uuid.UUID | None:
    """The batch of a manifest's key, if a batch object holds it (``<batch key>#<record>``)."""
    batch = objects.batch_of(key.split("#", 1)[0]) if "#" in key else None
    return uuid.UUID(batch) if batch else None


def _restore_links(session: Session, store: ObjectStore, report: RebuildReport, rid: str,
                   blob_id: int, destroyed_at: dt.datetime | None, vouchers: set[str]) -> None:
    """The record's links, replayed in time order: its roles in vouchers (link / unlink)
    and its renditions (the row, and the rendition's blob from the store)."""
    roles: dict[tuple[str, str], dict[str, Any]] = {}
    for link in _links_of(store, rid):
        target = link["target"]
        if link["kind"] == "voucher":
            for role in target.get("roles") or []:
                if link["action"] == "link":
                    roles[(target["id"], role)] = link
                else:
                    roles.pop((target["id"], role), None)
        elif link["kind"] == "rendition" and link["action"] == "link":
            if session.get(Rendition, uuid.UUID(target["rendition_id"])) is not None:
                continue
            facts = {"sha256": target["sha256"], "size": target["size"],
                     "media_type": target.get("media_type") or "application/pdf"}
            at = _datetime(link["at"])
            session.add(Rendition(
                id=uuid.UUID(target["rendition_id"]), evidence_id=uuid.UUID(rid),
                kind=target["kind"], source_blob_id=blob_id,
                blob_id=_blob(session, store, facts, destroyed_at, at),
                pdfa_flavour=target.get("pdfa_flavour"),
                pdfa_compliant=target.get("pdfa_compliant"), pdfa=target.get("pdfa"),
                made_by=target.get("made_by") or {}, created_at=at))
    for (vid, role), link in sorted(roles.items()):
        if vid not in vouchers:
            report.problems.append(
                f"record {rid}: linked as {role} to voucher {link['target'].get('voucher_no')} "
                f"({vid}), which the store does not describe (an archive from before "
                "vouchers were described: run `archive catalogue backfill` on it)")
            continue
        session.add(DisbursementEvidence(
            disbursement_id=uuid.UUID(vid), evidence_id=uuid.UUID(rid), role=role,
            blob_id=blob_id, linked_by=link["by"], linked_at=_datetime(link["at"])))


def restore_retention(units: UnitsOfWork, store: ObjectStore, report: RebuildReport,
                      cutoff: dt.datetime | None) -> None:
    """Legal holds (each in its latest state, with the records it covered) and audit
    closures. A record's date decided before a hold (kept in the hold's object) is restored
    as the floor of its recomputed date: dates are only ever extended. A release or a
    closure that the restored trail does not record although older than its last checkpoint
    never committed: left out (the hold stays as it was, active)."""
    with units() as s:
        trail = s.execute(sa.select(AuditEvent.action, AuditEvent.target_id, AuditEvent.details)
                          .where(AuditEvent.action.in_(("hold.create", "hold.release",
                                                        "retention.audit_closure")))).all()
    events = {(action, str(target)) for action, target, _ in trail}
    closings = {(str(target), d.get("fiscal_year"), d.get("result"), str(d.get("closed_on")))
                for action, target, d in trail if action == "retention.audit_closure"}

    holds: dict[str, dict[str, Any]] = {}
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for key, doc in _documents(store, objects.HOLDS):
        found.setdefault(doc["id"], []).append((key, doc))
    for hid, docs in found.items():
        # A hold is placed, then perhaps released, never active again: a release wins.
        for _key, doc in sorted(docs, key=lambda kd: (kd[1]["status"] == "released", kd[0]),
                                reverse=True):
            action = "hold.release" if doc["status"] == "released" else "hold.create"
            at = doc["released_at"] if doc["status"] == "released" else doc["created_at"]
            if _never_committed((action, hid) in events, at, cutoff):
                report.uncommitted_retention += 1
                continue
            holds[hid] = doc
            break
    closures = []
    for _key, doc in _documents(store, objects.CLOSURES):
        if _never_committed((doc["org_code"], doc["fiscal_year"], doc["result"],
                             str(doc["closed_on"])) in closings, doc["recorded_at"], cutoff):
            report.uncommitted_retention += 1
            continue
        closures.append(doc)
    with units() as s:
        have = {str(i) for i in s.scalars(sa.select(LegalHold.id))}
        for hid, doc in sorted(holds.items()):
            if hid not in have:
                values = {f: doc[f] for f in ("kind", "reason", "criteria", "org_id",
                                              "fiscal_year", "org_ids", "status", "created_by",
                                              "released_by", "release_reason")}
                s.add(LegalHold(id=uuid.UUID(hid), created_at=_datetime(doc["created_at"]),
                                released_at=_datetime(doc["released_at"]), **values))
        s.flush()
        known = set(s.scalars(sa.select(AuditClosure.id)))
        for doc in sorted(closures, key=lambda d: d["id"]):
            if doc["id"] in known:
                continue
            known.add(doc["id"])
            s.add(AuditClosure(
                id=doc["id"], org_id=doc["org_id"], fiscal_year=doc["fiscal_year"],
                result=doc["result"], closed_on=dt.date.fromisoformat(doc["closed_on"]),
                reference=doc["reference"], recorded_by=doc["recorded_by"],
                recorded_at=_datetime(doc["recorded_at"]),
                hold_id=uuid.UUID(doc["hold_id"]) if doc["hold_id"] in holds else None))
        s.flush()
        _reset_sequence(s, "audit_closures")
    for hid, doc in sorted(holds.items()):
        failpoint("rebuild.holds.items")
        _restore_hold_items(units, hid, doc)


def _restore_hold_items(units: UnitsOfWork, hid: str,
                        doc: dict[str, Any]) -> None:
    fields = doc["item_fields"]
    items = [dict(zip(fields, item, strict=True)) for item in doc["items"]]
    for start in range(0, len(items), 1000):
        chunk = items[start:start + 1000]
        with units() as s:
            ids = [uuid.UUID(i["evidence_id"]) for i in chunk]
            live = set(s.scalars(sa.select(Evidence.id).where(Evidence.id.in_(ids))))
            held = set(s.scalars(sa.select(LegalHoldItem.evidence_id).where(
                LegalHoldItem.hold_id == uuid.UUID(hid), LegalHoldItem.evidence_id.in_(ids))))
            rows = [i for i in chunk if uuid.UUID(i["evidence_id"]) in live - held]
            if rows:
                s.execute(sa.insert(LegalHoldItem), [
                    {"hold_id": uuid.UUID(hid), "evidence_id": uuid.UUID(i["evidence_id"]),
                     "added_at": _datetime(i["added_at"])} for i in rows])
            floors = [i for i in chunk if i["retain_until"] and uuid.UUID(i["evidence_id"]) in live]
            for i in floors:
                floor = _datetime(i["retain_until"])
                s.execute(sa.update(Evidence).where(
                    Evidence.id == uuid.UUID(i["evidence_id"]),
                    sa.or_(Evidence.retain_until.is_(None), Evidence.retain_until < floor))
                    .values(retain_until=floor).execution_options(synchronize_session=False))
            compute.refresh_on_hold(s, sorted(live))


def _confirmed_versions(session: Session, ids: list[str]) -> set[tuple[str, int, str]]:
    """``(record, version, meta_hash)`` of the versions of these records that the restored
    trail records."""
    found: set[tuple[str, int, str]] = set()
    for target, details in session.execute(
            sa.select(AuditEvent.target_id, AuditEvent.details)
            .where(AuditEvent.target_type == "evidence", AuditEvent.target_id.in_(ids),
                   AuditEvent.action.in_(versions.HASHED_ACTIONS))):
        if details.get("meta_hash") and details.get("version") is not None:
            found.add((str(target), int(details["version"]), str(details["meta_hash"])))
    return found


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
               or 0)


def _tally(units: UnitsOfWork, report: RebuildReport) -> None:
    """What the rebuilt database holds, counted there: a resumed rebuild restores only
    what the interrupted runs had not, but its report (printed, and in its audit event)
    describes the whole rebuild."""
    with units() as s:
        report.records = _count(s, Evidence)
        report.versions = report.records + _count(s, EvidenceHistory)
        report.blobs = _count(s, Blob)
        report.blobs_destroyed = _count(s, Blob, Blob.deleted_at.is_not(None))
        report.inspections = _count(s, Inspection)
        report.tombstones = _count(s, Tombstone)
        report.renditions = _count(s, Rendition)
        report.vouchers = _count(s, Disbursement)
        report.voucher_links = _count(s, DisbursementEvidence)
        report.reviews = _count(s, DisbursementReview)
        report.holds = _count(s, LegalHold)
        report.held_records = int(s.scalar(
            sa.select(sa.func.count()).select_from(LegalHoldItem)
            .join(LegalHold, LegalHold.id == LegalHoldItem.hold_id)
            .where(LegalHold.status == "active")) or 0)
        report.closures = _count(s, AuditClosure)


def rebuild(units: UnitsOfWork, store: ObjectStore, principal: Principal, *,
            checkpoint_until: dt.datetime,
            step: Callable[[str], None] = lambda _m: None) -> RebuildReport:
    """Fill an empty database from the store (see the module's description)."""
    report = RebuildReport()
    report.resumed = check_empty(units)

    def begin(name: str) -> None:
        failpoint(f"rebuild.before {name}")   # tests crash here, between two steps
        step(name)

    begin("audit trail")
    cutoff = restore_trail(units, store, report)
    begin("organisations and schedules")
    restore_orgs(units, store, report)
    restore_schedules(units, store, report)
    begin("vouchers")
    restore_profile(units, store, report)
    restore_vouchers(units, store, report, cutoff)
    begin("records")
    unconfirmed = restore_records(units, store, report, cutoff)
    report.unconfirmed_versions = len(unconfirmed)
    begin("legal holds and audit closures")
    restore_retention(units, store, report, cutoff)
    begin("findings")
    with units() as s:
        any_voucher = s.scalar(sa.select(Disbursement.id).limit(1)) is not None
    if any_voucher:
        report.findings = recompute_all(units).findings
    _tally(units, report)
    begin("audit")
    with units() as s:
        marker = s.scalar(sa.select(SystemCheck).where(SystemCheck.kind == MARKER)
                          .order_by(SystemCheck.id.desc()).limit(1))
        assert marker is not None
        if not marker.ok:
            for rid, version, meta_hash, key in unconfirmed:
                org_id = s.scalar(sa.select(Evidence.org_id).where(
                    Evidence.id == uuid.UUID(rid)))
                audit.record(s, actor=principal, action="evidence.restore",
                             target_type="evidence", target_id=rid, org_id=org_id,
                             details={"version": version, "meta_hash": meta_hash,
                                      "manifest": key,
                                      "note": "restored from the store; made after the last "
                                              "audit checkpoint, so its own event was lost"})
            summary = {k: v for k, v in report.to_dict().items()
                       if k not in ("not_restored", "problems")}
            audit.record(s, actor=principal, action="archive.rebuild",
                         details={**summary, "problems": report.problems[:50]},
                         outcome="ok" if report.ok else "alert")
            marker.ok = True
            marker.summary = (f"rebuilt from the store: {report.records} records, "
                              f"{report.events} audit events")
            marker.details = json.loads(json.dumps(summary, default=str))
    with units() as s:
        write_checkpoint(s, store, retain_until=checkpoint_until)
    return report


