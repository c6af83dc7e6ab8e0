"""Evidence operations: ingest, read, look up by hash, correct metadata, stream content.

Order of writes on ingest (DESIGN.md): the bytes are spooled and hashed, put into the
store if they are new, and only then are the rows, the audit event and the follow-up jobs
written — in the caller's transaction. A crash after the put leaves an orphan object that
``archive verify`` reports; never a row that points at nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts.principal import Principal, require
from archive.audit.models import AuditEvent
from archive.clock import start_of_day, years_after
from archive.db import insert_rows, rowcount, table_of, upsert_ignore
from archive.errors import (
    Conflict,
    Gone,
    IntegrityFailure,
    InvalidInput,
    NotFound,
    PreconditionFailed,
)
from archive.evidence import events, manifests, versions
from archive.evidence.intake import Spool, check_media_type, spool_file
from archive.evidence.models import Blob, Evidence, EvidenceHistory
from archive.evidence.schemas import (
    METADATA_FIELDS,
    EvidenceMetadata,
    EvidenceOut,
    EvidenceUpdate,
    IngestOut,
)
from archive.failpoints import failpoint
from archive.ids import uuid7
from archive.jsonable import jsonable
from archive.messages import message
from archive.orgs import scope
from archive.orgs.models import Organisation
from archive.queue.service import enqueue_many
from archive.retention.schedules.models import RetentionSchedule
from archive.retention.schedules.service import schedule_for, tombstone_view
from archive.storage import ObjectInfo, ObjectStore, blob_key
from archive.storage.verified import read_verified
from archive.thai import fiscal_year as thai_fiscal_year
from archive.thai import fiscal_year_bounds
from archive.validators import fiscal_year_problem


@dataclass(frozen=True)
class IngestPolicy:
    allowed_media_types: tuple[str, ...]
    # DEFAULT_RETENTION_YEARS: the lock of bytes whose schedule gives no date (none
    # assigned, permanent, kept with a parent), counted from the end of the fiscal year.
    retention_years: int
    # LOCK_MIN_HORIZON_DAYS: no new lock ends sooner than this many days from now.
    lock_min_horizon_days: int = 365


@dataclass
class IngestResult:
    evidence: Evidence
    blob: Blob
    org: Organisation
    duplicate_of: list[uuid.UUID]

    @property
    def duplicate(self) -> bool:
        return bool(self.duplicate_of)


_BLOB_BY_SHA = sa.select(Blob).where(Blob.sha256 == sa.bindparam("sha"))
_INSERT_EVIDENCE = sa.insert(table_of(Evidence))


def ingest(session: Session, store: ObjectStore, principal: Principal, *, spool: Spool,
           meta: EvidenceMetadata, filename: str, client_media_type: str | None,
           policy: IngestPolicy) -> IngestResult:
    plan = plan_ingest(session, principal, spool=spool, meta=meta, filename=filename,
                       policy=policy)
    info = put_bytes(store, plan) if plan.blob is None else None
    failpoint("ingest.before_record")
    return record_ingest(session, principal, plan, info, client_media_type=client_media_type)


@dataclass
class IngestPlan:
    """What :func:`plan_ingest` checked and decided, before any write: the bytes go to the
    store (:func:`put_bytes`) only if ``blob`` is None (new bytes), and then the rows
    (:func:`record_ingest`). A batch plans every item, puts the new bytes concurrently
    with no database connection held, and records each item in a savepoint."""

    spool: Spool
    meta: EvidenceMetadata
    filename: str
    org: Organisation
    fy_source: str | None
    sha: str
    media_type: str
    schedule_id: int | None
    blob: Blob | None                 # existing bytes, else None
    retain_until: dt.datetime | None  # the lock of new bytes


@dataclass
class Lookups:
    """Answers the items of one batch share (one unit of work): organisations in scope by
    code, schedules by document type, and the blobs of the batch's SHA-256s, fetched in
    one query (None: new bytes)."""

    orgs: dict[str, Organisation] = dataclasses.field(default_factory=dict)
    schedules: dict[str, int] = dataclasses.field(default_factory=dict)
    blobs: dict[str, Blob | None] = dataclasses.field(default_factory=dict)
    schedule_rows: dict[int, RetentionSchedule | None] = dataclasses.field(default_factory=dict)

    def prefetch_blobs(self, session: Session, shas: list[str]) -> None:
        found = {b.sha256: b for b in session.scalars(
            sa.select(Blob).where(Blob.sha256.in_(sorted(set(shas)))))}
        self.blobs.update({sha: found.get(sha) for sha in shas})


def plan_ingest(session: Session, principal: Principal, *, spool: Spool,
                meta: EvidenceMetadata, filename: str, policy: IngestPolicy,
                lookups: Lookups | None = None) -> IngestPlan:
    """Every check of an ingest (role, scope, fiscal year, media type, destroyed bytes);
    reads only."""
    require(principal, "evidence.create")
    lookups = lookups or Lookups()
    org = lookups.orgs.get(meta.org_code)
    if org is None:
        org = lookups.orgs[meta.org_code] = scope.org_in_scope(session, principal,
                                                               meta.org_code)
    fy_source = meta.fiscal_year_source
    if fy_source == "typed" and _check_fiscal_year(meta.fiscal_year, meta.issue_date,
                                                   confirmed=meta.confirm_fiscal_year):
        fy_source = "confirmed"
    sha = spool.sha256 or spool.finish()
    media_type = check_media_type(spool.head, spool.size, filename, policy.allowed_media_types)
    schedule_id = lookups.schedules.get(meta.doc_type)
    if schedule_id is None:
        schedule_id = lookups.schedules[meta.doc_type] = schedule_for(session, meta.doc_type)
    blob = lookups.blobs[sha] if sha in lookups.blobs else \
        session.scalar(_BLOB_BY_SHA, {"sha": sha})
    retain_until = None
    if blob is None:
        if schedule_id not in lookups.schedule_rows:
            lookups.schedule_rows[schedule_id] = session.get(RetentionSchedule, schedule_id) \
                if schedule_id else None
        retain_until = new_bytes_lock(lookups.schedule_rows[schedule_id], policy,
                                      fiscal_year_for_lock(meta.fiscal_year or
                                                           thai_fiscal_year(clock.today()),
                                                           meta.issue_date))
    elif blob.deleted_at is not None:
        raise _destroyed()
    return IngestPlan(spool, meta, filename, org, fy_source, sha, media_type, schedule_id,
                      blob, retain_until)


def put_bytes(store: ObjectStore, plan: IngestPlan) -> ObjectInfo:
    """Put new bytes into the store (no database access: a batch runs these in threads)."""
    assert plan.retain_until is not None
    return store.put(blob_key(plan.sha), plan.spool.source(), plan.spool.size,
                     retain_until=plan.retain_until, content_type=plan.media_type)


Jobs = list[tuple[str, dict[str, Any], str | None]]


def record_ingest(session: Session, principal: Principal, plan: IngestPlan,
                  info: ObjectInfo | None, *, client_media_type: str | None,
                  jobs: Jobs | None = None) -> IngestResult:
    """The rows of a planned ingest whose new bytes are in the store (``info``): the blob
    row, the record, its jobs and its audit event, in the caller's transaction. With
    ``jobs`` the follow-up jobs are added to that list, for the caller to enqueue (a batch
    enqueues all of its items' jobs in one statement)."""
    blob = plan.blob
    new = False
    if blob is None:
        assert info is not None
        values = _blob_values(plan, info)
        inserted = upsert_ignore(session, table_of(Blob), values, ["sha256"],
                                 returning=table_of(Blob).c.id)
        # A concurrent upload of the same new bytes may have inserted the row meanwhile;
        # the insert is then a no-op, both uploads share that blob, and the later one is
        # a repeat like any other (the duplicate rule below).
        new = bool(inserted)
        blob = Blob(id=inserted[0], **values) if inserted else \
            session.scalar(_BLOB_BY_SHA, {"sha": plan.sha})
        assert blob is not None
    failpoint("ingest.after_put")
    if not new:
        # bytes already in the store: they may have been destroyed since the plan read
        # them (a batch plans in an earlier unit of work), so look again, serialised
        blob = _lock_live_blob(session, blob.id)
    allowed = False if new else _refuse_repeat(session, blob, plan.org,
                                               allow=plan.meta.allow_duplicate)
    duplicate_of = [] if new else _duplicates_in_scope(session, principal, blob)
    row = _evidence_row(principal, plan, blob, client_media_type, allowed=allowed)
    # A Core INSERT: the ORM's unit-of-work flush of one new object cost more CPU than
    # the rest of the ingest's statements together. The object handed back is a
    # transient view of exactly the row written.
    session.execute(_INSERT_EVIDENCE, row)
    follow_up: Jobs = []
    result = _recorded(session, principal, plan, blob, row, duplicate_of, follow_up)
    if jobs is None:
        enqueue_many(session, follow_up)
    else:
        jobs += follow_up
    return result


def record_new_many(session: Session, principal: Principal,
                    entries: list[tuple[IngestPlan, ObjectInfo, str | None]]
                    ) -> list[IngestResult] | None:
    """What :func:`record_ingest` writes for each entry, in a few statements for all of
    them: a batch's fast path, for new bytes only, each SHA-256 once (the caller checks;
    a duplicate needs :func:`record_ingest`, which finds the records holding it).

    None, with the blob rows it inserted still to roll back, when some of the bytes are
    no longer new: another upload recorded them since the batch was planned (an upload of
    the same bytes waits here for that one to commit). The caller then records each item
    with :func:`record_ingest`, under the single upload's rule (409 ``duplicate_upload``,
    or ``blob_destroyed``)."""
    assert all(plan.blob is None for plan, _, _ in entries)
    assert len({plan.sha for plan, _, _ in entries}) == len(entries)
    values = [_blob_values(plan, info) for plan, info, _ in entries]
    table = table_of(Blob)
    inserted = upsert_ignore(session, table, values, ["sha256"],
                             returning=(table.c.id, table.c.sha256))
    if len(inserted) != len(values):
        return None
    # every row is new: the objects handed back are transient views of exactly the rows
    # written (as record_ingest's), not a second query loading them
    ids = {sha: blob_id for blob_id, sha in inserted}
    blobs = {v["sha256"]: Blob(id=ids[v["sha256"]], **v) for v in values}
    failpoint("ingest.after_put")
    rows = [_evidence_row(principal, plan, blobs[plan.sha], ctype)
            for plan, _, ctype in entries]
    # Their version-1 manifests in one store object, not one each (measured: the second
    # PUT per record was a quarter of a 50 KB file's CPU: docs/scale.md)
    batch = uuid7() if len(rows) > 1 else None
    for row in rows:
        row["manifest_batch"] = batch
    insert_rows(session, table_of(Evidence), rows)    # one statement for the batch
    jobs: Jobs = []
    results = [_recorded(session, principal, plan, blobs[plan.sha], row, [], jobs)
               for (plan, _, _), row in zip(entries, rows, strict=True)]
    enqueue_many(session, jobs)
    return results


def _blob_values(plan: IngestPlan, info: ObjectInfo) -> dict[str, Any]:
    assert plan.retain_until is not None
    return {"sha256": plan.sha, "size": plan.spool.size, "media_type": plan.media_type,
            "store_key": blob_key(plan.sha), "version_id": info.version_id,
            "retain_until": plan.retain_until, "legal_hold": False, "created_at": clock.now(),
            "deleted_at": None, "fixity_checked_at": None, "fixity_ok": None}


def _evidence_row(principal: Principal, plan: IngestPlan, blob: Blob,
                  client_media_type: str | None, *, allowed: bool = False) -> dict[str, Any]:
    now = clock.now()
    row = {**plan.meta.row_values(), "fiscal_year_source": plan.fy_source, "id": uuid7(),
           "org_id": plan.org.id, "blob_id": blob.id, "original_filename": plan.filename,
           "client_media_type": client_media_type, "uploaded_by": principal.name,
           "status": "received", "version": 1, "on_hold": False, "pdfa_compliant": None,
           "duplicate_allowed": allowed, "schedule_id": plan.schedule_id, "retain_until": None,
           "retention_basis": None, "created_at": now, "updated_at": now,
           "manifest_batch": None}
    row["meta_hash"] = versions.version_hash(
        evidence_id=row["id"], version=1, fields=versions.fields_of(row),
        blob_sha256=plan.sha, previous=None)
    return row


def _recorded(session: Session, principal: Principal, plan: IngestPlan, blob: Blob,
              row: dict[str, Any], duplicate_of: list[uuid.UUID], jobs: Jobs) -> IngestResult:
    """After the record's row: its manifest (staged for the store, issue 18), its
    follow-up jobs (into ``jobs``) and its audit event."""
    manifests.stage_version(session, evidence_id=row["id"], version=1, fields=row,
                            meta_hash=row["meta_hash"], previous=None, blob=blob,
                            at=row["created_at"], by=principal.name, reason="ingest",
                            batch=row.get("manifest_batch"))
    evidence = Evidence(**row)
    jobs += [("inspect", {"evidence_id": str(evidence.id)}, None),
             ("extract_text", {"blob_id": blob.id}, f"extract_text:{blob.id}"),
             ("retention_compute", {"evidence_id": str(evidence.id)}, None)]
    audit.record(session, actor=principal, action="evidence.create", target_type="evidence",
                 target_id=evidence.id, org_id=plan.org.id,
                 details={"sha256": plan.sha, "size": plan.spool.size,
                          "media_type": plan.media_type, "filename": plan.filename,
                          "doc_type": plan.meta.doc_type, "duplicate": bool(duplicate_of),
                          "version": 1,
                          **({"duplicate_allowed": True} if row["duplicate_allowed"] else {}),
                          "meta_hash": row["meta_hash"]})
    return IngestResult(evidence, blob, plan.org, duplicate_of)


def _destroyed() -> Conflict:
    return Conflict("these bytes were destroyed by an approved disposition and cannot be "
                    "archived again under the same record history", code="blob_destroyed")


def lock_blob(session: Session, blob_id: int) -> Blob | None:
    """The blob row read again under the lock that serialises what may happen to the same
    bytes at once — every upload of them, and the disposition's purge, which marks the
    row (``deleted_at``) before it deletes them (PostgreSQL: the row's lock; SQLite: the
    write lock a write takes), held until the caller's transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        query = sa.select(Blob).where(Blob.id == blob_id).with_for_update()
    else:
        session.execute(sa.update(Blob).where(Blob.id == blob_id).values(size=Blob.size)
                        .execution_options(synchronize_session=False))
        query = sa.select(Blob).where(Blob.id == blob_id)
    return session.scalar(query.execution_options(populate_existing=True))


def _lock_live_blob(session: Session, blob_id: int) -> Blob:
    """The blob row of bytes already archived, under :func:`lock_blob`. Destroyed bytes
    (or bytes a purge has begun to delete) are not archived again: 409
    ``blob_destroyed``, whether that happened before the upload was planned or after."""
    blob = lock_blob(session, blob_id)
    assert blob is not None
    if blob.deleted_at is not None:
        raise _destroyed()
    return blob


def _refuse_repeat(session: Session, blob: Blob, org: Organisation, *, allow: bool) -> bool:
    """One rule for every channel (API, pages, CLI, batches): bytes already archived for
    the organisation are not archived again unless the uploader says it is deliberate
    (``allow``; True is then returned and recorded on the record). Refused: 409
    ``duplicate_upload`` naming the existing records.

    The caller holds the blob's lock (:func:`_lock_live_blob`), so two uploads of the
    same bytes at once cannot both pass."""
    existing = list(session.scalars(
        sa.select(Evidence.id).where(Evidence.blob_id == blob.id, Evidence.org_id == org.id,
                                     Evidence.status != "destroyed")
        .order_by(Evidence.id).limit(20)))
    if not existing:
        return False
    if allow:
        return True
    raise Conflict({"message": message(
                        "evidence.duplicate_upload", "these bytes are already archived for "
                        "{org} as record {record}; open or link that record, or say "
                        "allow_duplicate=true to archive them again deliberately",
                        org=org.code, record=str(existing[0])),
                    "existing": [str(i) for i in existing]}, code="duplicate_upload")


def _duplicates_in_scope(session: Session, principal: Principal, blob: Blob) -> list[uuid.UUID]:
    """Live records with the same bytes that the caller may know about."""
    q = sa.select(Evidence.id).where(Evidence.blob_id == blob.id, Evidence.status != "destroyed")
    q = scope.limit_to_scope(session, principal, q, Evidence.org_id)
    return list(session.scalars(q.order_by(Evidence.id).limit(20)))


def _check_fiscal_year(value: int | None, issue_date: dt.date | None, *,
                       confirmed: bool) -> bool:
    """Refuse an implausible typed fiscal year unless ``confirmed``; True when it is
    implausible but confirmed (the record's ``fiscal_year_source`` is then
    ``confirmed``: its store lock keeps to the horizon until the year is corrected or
    has been reached, see ``retention.locks``)."""
    if value is None:
        return False
    problem = fiscal_year_problem(value, issue_date, clock.today())
    if problem and not confirmed:
        raise InvalidInput([{"field": "fiscal_year", "message": problem}],
                           code="implausible_fiscal_year")
    return problem is not None


def fiscal_year_for_lock(fiscal_year: int, issue_date: dt.date | None,
                         today: dt.date | None = None) -> int:
    """The latest fiscal year the rule can justify at upload time: the typed one, but no
    later than the next fiscal year, nor than the year after the issue date's. A typed
    year beyond that (confirmed, or a typo) then locks the bytes no longer than a
    plausible one would, and can still be corrected: the retention jobs extend the lock
    if the year stands."""
    limit = thai_fiscal_year(today or clock.today()) + 1
    if issue_date is not None:
        limit = min(limit, thai_fiscal_year(issue_date) + 1)
    return min(fiscal_year, limit)


def new_bytes_lock(schedule: RetentionSchedule | None, policy: IngestPolicy, fiscal_year: int,
                   now: dt.datetime | None = None) -> dt.datetime:
    """The lock horizon of new bytes: the record's earliest lawful destruction date under
    its schedule, never sooner than ``policy.lock_min_horizon_days`` from now.

    * ``fiscal_year_end`` schedules: ``keep_years`` after the end of the fiscal year;
    * ``audit_closure`` schedules: the shorter period (``audited_keep_years``, an audit
      cannot close before the year ends) after the end of the fiscal year;
    * anything else (no schedule, permanent, kept with a parent record, no period):
      ``policy.retention_years`` (DEFAULT_RETENTION_YEARS) after the end of the year.

    The retention jobs extend the lock as the date moves (the audit not closed yet, a
    hold, a schedule change: ``retention.locks``); nothing shortens it."""
    now = now or clock.system_now()
    after_year = fiscal_year_bounds(fiscal_year)[1] + dt.timedelta(days=1)
    years = policy.retention_years
    if schedule is not None and schedule.trigger == "fiscal_year_end" and schedule.keep_years:
        years = schedule.keep_years
    elif schedule is not None and schedule.trigger == "audit_closure" \
            and schedule.keep_years and schedule.audited_keep_years:
        years = min(schedule.keep_years, schedule.audited_keep_years)
    horizon = now + dt.timedelta(days=policy.lock_min_horizon_days)
    return max(horizon, years_after(start_of_day(after_year), years))


def _store_new_blob(session: Session, store: ObjectStore, spool: Spool, sha: str,
                    media_type: str, retain_until: dt.datetime) -> tuple[Blob, bool]:
    """The blob row of new bytes, after putting them; True if this call inserted it."""
    key = blob_key(sha)
    info = store.put(key, spool.source(), spool.size, retain_until=retain_until,
                     content_type=media_type)
    # A concurrent upload of the same new bytes may have inserted the row meanwhile; the
    # insert is then a no-op and both uploads share that blob.
    row = {"sha256": sha, "size": spool.size, "media_type": media_type, "store_key": key,
           "version_id": info.version_id, "retain_until": retain_until, "legal_hold": False,
           "created_at": clock.now(), "deleted_at": None, "fixity_checked_at": None,
           "fixity_ok": None}
    inserted = upsert_ignore(session, table_of(Blob), row, ["sha256"],
                             returning=table_of(Blob).c.id)
    if inserted:
        return Blob(id=inserted[0], **row), True  # a transient view of the row just written
    blob = session.scalar(_BLOB_BY_SHA, {"sha": sha})
    assert blob is not None
    return blob, False


def store_derived(session: Session, store: ObjectStore, path: Path, *, media_type: str,
                  retain_until: dt.datetime, tmp_dir: Path) -> Blob:
    """Bytes the archive made from a record's (a rendition), stored like uploaded bytes:
    content-addressed, locked until ``retain_until``, the object written before its row."""
    with spool_file(path, max_bytes=1 << 40, memory_limit=4 << 20, tmp_dir=tmp_dir) as spool:
        sha = spool.sha256 or spool.finish()
        blob = session.scalar(_BLOB_BY_SHA, {"sha": sha})
        if blob is not None and blob.deleted_at is None:
            return blob
        if blob is not None:
            raise Conflict("these bytes were destroyed by an approved disposition",
                           code="blob_destroyed")
        return _store_new_blob(session, store, spool, sha, media_type, retain_until)[0]


def default_retain_until(years: int, now: dt.datetime | None = None, *,
                         fiscal_year: int | None = None) -> dt.datetime:
    """A lock of ``years`` from now or from the end of a fiscal year (BE), whichever is
    later (audit checkpoints; evidence bytes get :func:`new_bytes_lock`).

    Retention periods count from the end of the fiscal year (DESIGN.md), and a record is
    often uploaded during that year: counting from the upload alone would let the lock of
    an unaudited record end up to a year before its retention does. The retention jobs
    extend the lock as records' dates are computed; nothing shortens it."""
    until = years_after(now or clock.system_now(), years)
    if fiscal_year is not None:
        after_year = start_of_day(fiscal_year_bounds(fiscal_year)[1] + dt.timedelta(days=1))
        until = max(until, years_after(after_year, years))
    return until


# -- reading ---------------------------------------------------------------------------

def _load(session: Session, evidence_id: uuid.UUID) -> tuple[Evidence, Blob, Organisation]:
    row = session.execute(
        sa.select(Evidence, Blob, Organisation)
        .join(Blob, Blob.id == Evidence.blob_id)
        .join(Organisation, Organisation.id == Evidence.org_id)
        .where(Evidence.id == evidence_id)).first()
    if row is None:
        raise NotFound("no such evidence record")
    return row[0], row[1], row[2]


def get(session: Session, principal: Principal, evidence_id: uuid.UUID, *,
        audit_read: bool = True) -> tuple[Evidence, Blob, Organisation]:
    require(principal, "evidence.read")
    evidence, blob, org = _load(session, evidence_id)
    scope.ensure_in_scope(session, principal, evidence.org_id)
    if audit_read:
        audit.record(session, actor=principal, action="evidence.read", target_type="evidence",
                     target_id=evidence.id, org_id=evidence.org_id)
    return evidence, blob, org


def by_hash(session: Session, principal: Principal,
            sha256: str) -> list[tuple[Evidence, Blob, Organisation]]:
    require(principal, "evidence.read")
    sha256 = sha256.lower()
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput(message("input.sha256", "a SHA-256 is 64 hexadecimal characters"),
                           code="invalid_sha256")
    q = (sa.select(Evidence, Blob, Organisation)
         .join(Blob, Blob.id == Evidence.blob_id)
         .join(Organisation, Organisation.id == Evidence.org_id)
         .where(Blob.sha256 == sha256).order_by(Evidence.id))
    q = scope.limit_to_scope(session, principal, q, Evidence.org_id)
    rows = [(r[0], r[1], r[2]) for r in session.execute(q)]
    audit.record(session, actor=principal, action="evidence.lookup_hash", target_type="blob",
                 target_id=sha256, details={"found": len(rows)})
    if not rows:
        raise NotFound("no evidence with these bytes in your scope")
    return rows


def same_bytes(session: Session, principal: Principal, evidence: Evidence,
               limit: int = 50) -> list[tuple[Evidence, Organisation]]:
    """The other records in the principal's scope that hold the same bytes as ``evidence``
    (already read by :func:`get`), oldest first: what its page lists."""
    q = (sa.select(Evidence, Organisation)
         .join(Organisation, Organisation.id == Evidence.org_id)
         .where(Evidence.blob_id == evidence.blob_id, Evidence.id != evidence.id))
    q = scope.limit_to_scope(session, principal, q, Evidence.org_id)
    return [(e, o) for e, o in session.execute(q.order_by(Evidence.id).limit(limit))]


def history(session: Session, evidence_id: uuid.UUID) -> list[EvidenceHistory]:
    return list(session.scalars(
        sa.select(EvidenceHistory).where(EvidenceHistory.evidence_id == evidence_id)
        .order_by(EvidenceHistory.version)))


def open_content(session: Session, store: ObjectStore, principal: Principal,
                 evidence: Evidence, blob: Blob, *, offset: int = 0,
                 length: int | None = None, verify_limit: int = 0,
                 on_mismatch: Callable[[str], None] = lambda detail: None) -> Iterator[bytes]:
    """The bytes of a record already loaded with :func:`get` (which checked scope);
    the download is recorded in the audit trail.

    The whole object is re-hashed against the blob's SHA-256 and tampered bytes are never
    served complete (``archive.storage.verified``): up to ``verify_limit`` bytes the check
    is done before returning (``IntegrityFailure``), beyond it while streaming.
    ``on_mismatch`` is called first; it should record the failure in a transaction of its
    own (:func:`record_integrity_failure`), since the caller's rolls back or has ended."""
    if evidence.status == "destroyed" or blob.deleted_at is not None:
        raise Gone({"message": "the record was destroyed by an approved disposition",
                    "tombstone": tombstone_view(session, evidence.id)})
    if length is None:
        length = blob.size - offset
    audit.record(session, actor=principal, action="evidence.download", target_type="evidence",
                 target_id=evidence.id, org_id=evidence.org_id,
                 details={"sha256": blob.sha256, "offset": offset, "length": length})
    return read_verified(store, blob.store_key, blob.version_id, sha256=blob.sha256,
                         size=blob.size, offset=offset, length=length,
                         verify_limit=verify_limit, on_mismatch=on_mismatch)


def record_integrity_failure(session: Session, principal: Principal, *,
                             evidence_id: uuid.UUID, blob_id: int, detail: str) -> None:
    """A download found the stored bytes changed: mark the blob as failing (a standing
    alert on the health page, in ``/metrics`` and in ``archive verify``) and audit it."""
    blob = session.get(Blob, blob_id)
    if blob is None:
        return
    session.execute(sa.update(Blob).where(Blob.id == blob_id)
                    .values(fixity_ok=False, fixity_checked_at=clock.now()))
    org_id = session.scalar(sa.select(Evidence.org_id).where(Evidence.id == evidence_id))
    audit.record(session, actor=principal, action="evidence.integrity_failure",
                 target_type="evidence", target_id=evidence_id, org_id=org_id,
                 details={"sha256": blob.sha256, "key": blob.store_key,
                          "version_id": blob.version_id, "detail": detail},
                 outcome="alert")


# -- correcting metadata ---------------------------------------------------------------

def update(session: Session, principal: Principal, evidence_id: uuid.UUID,
           changes: EvidenceUpdate, *, expected_version: int | None = None,
           fiscal_year_source: str | None = None) -> Evidence:
    """Apply a metadata correction, keeping the previous values in history.

    The update is conditional on the version read (optimistic locking), so two officers
    correcting the same record at once cannot silently overwrite each other: the second
    gets ``PreconditionFailed``.
    """
    require(principal, "evidence.update")
    evidence, blob, _ = _load(session, evidence_id)
    scope.ensure_in_scope(session, principal, evidence.org_id)
    if evidence.status == "destroyed":
        raise Conflict("the record was destroyed; its metadata is closed")
    if expected_version is not None and expected_version != evidence.version:
        raise PreconditionFailed(f"the record is at version {evidence.version}, not "
                                 f"{expected_version}: someone corrected it meanwhile; "
                                 "read it again and re-apply your change")
    given = changes.model_dump(exclude_unset=True, exclude={"reason", "confirm_fiscal_year"})
    if "doc_type" in given and given["doc_type"] is None:
        raise InvalidInput([{"field": "doc_type", "message": message(
            "input.not_removable", "cannot be removed")}],
                           code="invalid_metadata")
    if "fiscal_year" in given and given["fiscal_year"] is None:
        raise InvalidInput([{"field": "fiscal_year", "message": message(
            "input.not_removable", "cannot be removed")}],
                           code="invalid_metadata")
    if "currency" in given and given["currency"] is None:
        given["currency"] = "THB"
    diff = {k: v for k, v in given.items() if getattr(evidence, k) != v}
    merged_amount = diff.get("amount", evidence.amount)
    merged_vat = diff.get("vat_amount", evidence.vat_amount)
    if merged_amount is not None and merged_vat is not None and merged_vat > merged_amount:
        raise InvalidInput([{"field": "vat_amount", "message": "vat_amount is larger than amount"}],
                           code="invalid_metadata")
    if not diff:
        return evidence
    _ensure_untampered(session, evidence, blob)
    extra: dict[str, Any] = {}
    if "fiscal_year" in diff:
        if fiscal_year_source is None:
            odd = _check_fiscal_year(diff["fiscal_year"],
                                     diff.get("issue_date", evidence.issue_date),
                                     confirmed=changes.confirm_fiscal_year)
            fiscal_year_source = "confirmed" if odd else "typed"
        # The retention counts from the corrected year: computed afresh (a correction is
        # not a later event that may only extend it); the store's lock cannot shorten.
        extra = {"fiscal_year_source": fiscal_year_source, "retain_until": None,
                 "retention_basis": None}
    previous = {f: jsonable(getattr(evidence, f)) for f in METADATA_FIELDS}
    now = clock.now()
    new_hash = versions.version_hash(
        evidence_id=evidence.id, version=evidence.version + 1,
        fields={**versions.fields_of(evidence), **diff}, blob_sha256=blob.sha256,
        previous=evidence.meta_hash)
    updated = rowcount(session.execute(
        sa.update(Evidence)
        .where(Evidence.id == evidence.id, Evidence.version == evidence.version)
        .values(version=Evidence.version + 1, updated_at=now, meta_hash=new_hash, **diff,
                **extra)
        .execution_options(synchronize_session=False)))
    if updated != 1:
        raise Conflict("the record was changed by someone else meanwhile; reload and retry",
                       code="version_conflict")
    manifests.stage_version(session, evidence_id=evidence.id, version=evidence.version + 1,
                            fields={**versions.fields_of(evidence), **diff},
                            meta_hash=new_hash, previous=evidence.meta_hash, blob=blob,
                            at=now, by=principal.name, reason=changes.reason,
                            changed=sorted(diff))
    session.add(EvidenceHistory(evidence_id=evidence.id, version=evidence.version,
                                values=previous, changed=sorted(diff), changed_by=principal.name,
                                changed_at=now, reason=changes.reason,
                                meta_hash=evidence.meta_hash))
    audit.record(session, actor=principal, action="evidence.update", target_type="evidence",
                 target_id=evidence.id, org_id=evidence.org_id,
                 details={"changes": {k: [previous[k], jsonable(v)] for k, v in diff.items()},
                          "reason": changes.reason, "version": evidence.version + 1,
                          "meta_hash": new_hash, "previous_hash": evidence.meta_hash})
    if extra:
        enqueue_many(session, [("retention_compute", {"evidence_id": str(evidence.id)}, None)])
    session.refresh(evidence)
    events.changed(session, [evidence.id], "metadata")
    return evidence


def audited_versions(session: Session,
                     evidence_id: uuid.UUID | str) -> list[tuple[int, str, int]]:
    """``(version, meta_hash, audit seq)`` of each hashed version, as the audit trail
    recorded them (oldest first)."""
    found = []
    for seq, details in session.execute(
            sa.select(AuditEvent.seq, AuditEvent.details)
            .where(AuditEvent.target_type == "evidence",
                   AuditEvent.target_id == str(evidence_id),
                   AuditEvent.action.in_(versions.HASHED_ACTIONS))
            .order_by(AuditEvent.seq)):
        if details.get("meta_hash") and details.get("version") is not None:
            found.append((int(details["version"]), str(details["meta_hash"]), seq))
    return found


def current_version_problem(evidence: Evidence, blob_sha256: str,
                            audited: list[tuple[int, str, int]]) -> str | None:
    """Why the record's current row is not the version its audit trail recorded (``None``:
    it is, or the record has no hashed version yet — a legacy record)."""
    if not audited:
        return None
    version, expected, seq = audited[-1]
    if evidence.version != version:
        return (f"the record is at version {evidence.version} but its audit trail's last "
                f"version is {version} (event {seq}): changed outside the archive")
    previous = next((h for v, h, _ in reversed(audited[:-1]) if v == version - 1), None)
    if versions.hash_of_row(evidence, blob_sha256=blob_sha256, previous=previous) != expected:
        return (f"the record's metadata or bytes (version {version}) no longer match the "
                f"hash its audit event {seq} recorded: changed outside the archive")
    return None


def _ensure_untampered(session: Session, evidence: Evidence, blob: Blob) -> None:
    """A correction must not build a new version on top of a row changed behind the
    archive's back (that would launder the change into a properly hashed version)."""
    problem = current_version_problem(evidence, blob.sha256,
                                      audited_versions(session, evidence.id))
    if problem is not None:
        raise IntegrityFailure(f"record {evidence.id}: {problem}; run `archive verify`")




# -- views -----------------------------------------------------------------------------

# The fields of EvidenceOut read from the record itself (the rest: its blob and organisation).
_RECORD_FIELDS = tuple(c for c in EvidenceOut.model_fields
                       if c not in ("org_code", "media_type", "sha256", "size"))


def out_fields(evidence: Evidence, blob: Blob, org: Organisation) -> dict[str, Any]:
    """The values of :class:`EvidenceOut` (for it or a model extending it, built once)."""
    fields = {c: getattr(evidence, c) for c in _RECORD_FIELDS}
    fields.update(org_code=org.code, media_type=blob.media_type, sha256=blob.sha256,
                  size=blob.size)
    return fields


def to_out(evidence: Evidence, blob: Blob, org: Organisation) -> EvidenceOut:
    return EvidenceOut(**out_fields(evidence, blob, org))


def ingest_out(result: IngestResult) -> IngestOut:
    return IngestOut(**out_fields(result.evidence, result.blob, result.org),
                     duplicate=result.duplicate, duplicate_of=result.duplicate_of)
