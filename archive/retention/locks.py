"""The store's lock follows the records: ``retention_sync_locks``.

For each blob, the object's COMPLIANCE retain-until is extended to the latest
``retain_until`` of the live records that use those bytes (as their original or as a
rendition made from it) (never shortened: the store
would refuse, and ``extend_retention`` never asks), and the store's legal hold is on
while any live record using the blob is held — off only when none is. The store is
changed first and the ``blobs`` row after, so the row never claims a lock the store does
not have; a crash in between is repaired by the next run.

The lock of new bytes runs only to the record's earliest lawful destruction date (issue
16, "lock horizon": ``archive.evidence.service.new_bytes_lock``). While a record's date is
not final — the State Audit Office has not closed the audit (a provisional date), a hold
covers it, or its retention cannot be computed — the sync keeps the lock at least
``horizon_days`` (LOCK_MIN_HORIZON_DAYS) ahead, renewing it once less than half of that
is left, so the bytes stay locked for as long as the rule may still require them. A
record whose fiscal year was confirmed outside the plausible window (``fiscal_year_source
= 'confirmed'``) is kept the same way, a horizon ahead, rather than locked to the date its
year gives: a typo confirmed by mistake can still be corrected.

What the store holds about the records (:mod:`archive.catalogue`, for ``archive rebuild
--from-store``) is kept as long as the records need it, extended by the same job, never
shortened:

* a record's manifests, inspection reports and links: with its bytes (to the same date);
  so is the batch object holding its first manifest (a batch upload's: one object for
  the batch's records, extended with each of them, so as long as the latest needs);
* what restores the meaning of a record — every version of the vouchers it is linked to
  and their reviews, the legal holds that cover or covered it (placed and released), the
  audit closures of its organisation and fiscal year and of its vouchers' — when its
  bytes' lock is extended, a hold turns the store's legal hold on, or the record is linked
  to a voucher or joins a hold (held already or not: ``compute.recompute``) whose objects
  may end sooner (``describe``), to that date rounded up to the next day (UTC): a hold of
  200,000 records whose horizon moves by seconds from one blob to the next is then
  extended once a run, not 200,000 times. Only the objects of records whose bytes this
  run extends are touched (a record whose lock does not move needs nothing new), and each
  folder once per run and date (``SyncReport``);
* the latest snapshot of every organisation, of the schedules and of the
  required-evidence profile: the rebuild reads only the latest (which holds every
  schedule's and the profile's versions; an organisation is restored as it is now), so
  only the latest must last. They describe every record, so they are kept until the
  latest lock of any live bytes, rounded up to the next 1 January (UTC) — organisations'
  names and codes kept a little longer than one of their records would need, rather than
  a query per organisation. The latest schedules snapshot is written last: its lock is
  the watermark; a run whose watermark already covers that date does nothing more than
  one query, one listing and one read of a lock (:func:`sync_snapshots`). New snapshots
  are written with at least the watermark's lock (``Catalogue.latest_snapshot_lock``).

Vouchers, reviews, holds and closures are written with at least the lock of the bytes they
describe (``*.described``); those written before any of this are caught up once by
``archive catalogue backfill`` (:func:`catch_up`). A tombstone is locked as long as a
destruction certificate (``objects.PROOF_YEARS``): it is the proof, not the record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.catalogue import objects
from archive.clock import system_now, years_after
from archive.disbursements.models import Disbursement, DisbursementEvidence
from archive.evidence.models import Blob, Evidence, blob_users
from archive.orgs.models import Organisation
from archive.retention.described import closed_records_lock
from archive.retention.models import AuditClosure, LegalHold, LegalHoldItem
from archive.storage import ObjectStore
from archive.unit_of_work import UnitsOfWork


@dataclass(frozen=True)
class Shortfall:
    """A catalogue object locked shorter than the records it describes need (``None``:
    not locked at all)."""
    key: str
    version_id: str | None
    retain_until: dt.datetime | None
    needed: dt.datetime


@dataclass
class SyncReport:
    checked: int = 0
    extended: int = 0
    holds_on: int = 0
    holds_off: int = 0
    missing: list[str] = field(default_factory=list)
    # Catalogue objects (vouchers, reviews, holds, closures, snapshots) whose lock moved.
    described: int = 0
    # Folders of catalogue objects already extended in this run, and to when.
    done: dict[str, dt.datetime] = field(default_factory=dict)
    # Checking only (``check_catalogue``): objects locked shorter than needed are listed in
    # ``short``, not extended. Listings and objects' locks read, to measure its cost.
    check: bool = False
    short: list[Shortfall] = field(default_factory=list)
    listings: int = 0
    stats: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "extended": self.extended, "holds_on": self.holds_on,
                "holds_off": self.holds_off, "described": self.described,
                "missing": self.missing[:100]}


DEFAULT_HORIZON_DAYS = 365


def _not_final() -> Any:
    """A record whose retain-until may still move later (see the module docstring), or
    whose fiscal year was confirmed outside the plausible window: its date is not
    written into the store while the year may still be a typo to correct."""
    return sa.or_(Evidence.retain_until.is_(None), Evidence.on_hold.is_(True),
                  Evidence.fiscal_year_source == "confirmed",
                  Evidence.retention_basis.is_(None),
                  Evidence.retention_basis.like("%: provisional,%"),
                  Evidence.retention_basis.like("cannot compute:%"))


def _live() -> Any:
    users = blob_users()   # a rendition's bytes follow its record like the original's
    return (sa.select(users.c.blob_id.label("blob_id"),
                      sa.func.max(sa.case((Evidence.fiscal_year_source == "confirmed",
                                           sa.null()), else_=Evidence.retain_until)
                                  ).label("until"),
                      sa.func.max(sa.case((Evidence.on_hold, 1), else_=0)).label("held"),
                      sa.func.max(sa.case((_not_final(), 1), else_=0)).label("rolling"))
            .join(users, users.c.evidence_id == Evidence.id)
            .where(Evidence.status != "destroyed").group_by(users.c.blob_id).subquery())


def blobs_to_sync(session: Session, blob_ids: list[int] | None = None, limit: int = 1000, *,
                  horizon_days: int = DEFAULT_HORIZON_DAYS,
                  ) -> list[tuple[int, dt.datetime | None, bool]]:
    """(blob id, target retain-until, held) for blobs whose row is behind its records."""
    live = _live()
    # The store's clock is real time, whatever the archive's clock says.
    now = system_now()
    horizon = now + dt.timedelta(days=horizon_days)
    renew_before = now + dt.timedelta(days=horizon_days / 2)
    q = (sa.select(Blob.id, live.c.until, live.c.held, live.c.rolling)
         .join(live, live.c.blob_id == Blob.id)
         .where(Blob.deleted_at.is_(None),
                sa.or_(live.c.until > Blob.retain_until,
                       sa.and_(live.c.rolling == 1, Blob.retain_until < renew_before),
                       sa.and_(live.c.held == 1, Blob.legal_hold.is_(False)),
                       sa.and_(live.c.held == 0, Blob.legal_hold.is_(True)))))
    if blob_ids is not None:
        q = q.where(Blob.id.in_(blob_ids))
    out = []
    for i, until, held, rolling in session.execute(q.order_by(Blob.id).limit(limit)):
        if rolling:
            until = max(until, horizon) if until is not None else horizon
        out.append((i, until, bool(held)))
    return out


def held_together(session: Session, blob_id: int) -> list[int]:
    """``blob_id`` and the bytes whose lock follows the same records: the renditions made
    for the records that hold it (a changed record date moves them all)."""
    users = blob_users()
    records = sa.select(users.c.evidence_id).where(users.c.blob_id == blob_id)
    others = session.scalars(sa.select(users.c.blob_id).where(
        users.c.evidence_id.in_(records), users.c.blob_id != blob_id))
    return [blob_id, *sorted(set(others))]


def sync_blob(session: Session, store: ObjectStore, blob_id: int, report: SyncReport, *,
              horizon_days: int = DEFAULT_HORIZON_DAYS, describe: bool = False) -> None:
    """Bring one blob's lock in line with its live records (in the caller's transaction).
    What describes its records is extended with it, or when a hold turns its legal hold on
    and the bytes are locked beyond what the hold's objects surely have (its records
    joined the hold after it was placed), or when asked (``describe``: its records joined
    a voucher or a hold described before)."""
    rows = blobs_to_sync(session, [blob_id], horizon_days=horizon_days)
    report.checked += 1
    blob = session.get(Blob, blob_id)
    if not rows:
        if describe and blob is not None and blob.deleted_at is None:
            _extend_descriptions(session, store, blob_id, blob.retain_until, report)
        return
    _, target, held = rows[0]
    assert blob is not None
    described = False
    if target is not None and target > blob.retain_until:
        info = store.extend_retention(blob.store_key, blob.version_id, target)
        if info is None:
            report.missing.append(blob.store_key)
            return
        blob.retain_until = max(info.retain_until or target, target)
        report.extended += 1
        _extend_descriptions(session, store, blob_id, blob.retain_until, report)
        described = True
    if held != blob.legal_hold:
        store.set_legal_hold(blob.store_key, blob.version_id, held)
        blob.legal_hold = held
        if held:
            report.holds_on += 1
        else:
            report.holds_off += 1
        describe = describe or (held and _beyond_holds(session, blob_id, blob.retain_until))
    if describe and not described:
        _extend_descriptions(session, store, blob_id, blob.retain_until, report)


def _beyond_holds(session: Session, blob_id: int, until: dt.datetime) -> bool:
    """Whether the bytes are locked beyond what the objects of the holds now covering their
    records surely have: each was written with at least the snapshot lock, never before
    its hold was placed (and with its records' bytes' lock then: ``retention.described``),
    so only a record that joined a hold later can need more."""
    users = blob_users()
    placed = session.scalar(
        sa.select(sa.func.min(LegalHold.created_at))
        .join(LegalHoldItem, LegalHoldItem.hold_id == LegalHold.id)
        .join(users, users.c.evidence_id == LegalHoldItem.evidence_id)
        .where(users.c.blob_id == blob_id))
    return placed is not None and outlasts(session, until, placed)


def outlasts(session: Session, until: dt.datetime, written: dt.datetime) -> bool:
    """Whether a lock until ``until`` may outlast a catalogue object written at ``written``
    that is only sure to have the snapshot lock from then (``Catalogue.snapshot_years``)."""
    catalogue = session.info.get(objects.INFO_KEY)
    years = catalogue.snapshot_years if isinstance(catalogue, objects.Catalogue) else 10
    return until > years_after(written, years)


def _extend_descriptions(session: Session, store: ObjectStore, blob_id: int,
                         until: dt.datetime, report: SyncReport) -> None:
    """What the store holds about the records of these bytes (manifests — with the batch
    object holding a batch upload's first one —, inspection reports, links) is kept as
    long as the bytes, and what restores their meaning
    (vouchers, reviews, holds, closures) at least as long (:mod:`archive.catalogue`)."""
    for record, batch in session.execute(sa.select(Evidence.id, Evidence.manifest_batch)
                                         .where(Evidence.blob_id == blob_id)):
        folders = [f"{prefix}{record}/"
                   for prefix in (objects.RECORDS, objects.INSPECTIONS, objects.LINKS)]
        # a batch upload's record: its first manifest is in the batch's object
        for prefix in folders + ([objects.batch_key(batch)] if batch is not None else []):
            for info in store.list_objects(prefix):
                store.extend_retention(info.key, info.version_id, until)
    users = blob_users()
    live = list(session.scalars(
        sa.select(users.c.evidence_id).join(Evidence, Evidence.id == users.c.evidence_id)
        .where(users.c.blob_id == blob_id, Evidence.status != "destroyed").distinct()))
    day = _next_day(until)
    for prefix in described_by(session, live):
        _extend_folder(store, prefix, day, report)


def described_by(session: Session, evidence_ids: list[Any]) -> list[str]:
    """The prefixes of the catalogue objects that restore the meaning of these records:
    every version of each voucher they are linked to and its reviews, every object of the
    holds that cover or covered them, and the audit closures of their organisation and
    fiscal year and of their vouchers' (a record linked to a voucher is kept as that
    voucher's year and closures require: :mod:`archive.retention.vouchers`)."""
    if not evidence_ids:
        return []
    prefixes: list[str] = []
    for vid in session.scalars(
            sa.select(DisbursementEvidence.disbursement_id)
            .where(DisbursementEvidence.evidence_id.in_(evidence_ids)).distinct()
            .order_by(DisbursementEvidence.disbursement_id)):
        prefixes += [f"{objects.VOUCHERS}{vid}/", f"{objects.REVIEWS}{vid}/"]
    for hold_id in session.scalars(sa.select(LegalHoldItem.hold_id).where(
            LegalHoldItem.evidence_id.in_(evidence_ids)).distinct().order_by(
            LegalHoldItem.hold_id)):
        prefixes.append(f"{objects.HOLDS}{hold_id}/")
    return prefixes + [_closure_prefix(c) for c in _closures_of(session, evidence_ids)]


def _closures_of(session: Session, evidence_ids: list[Any]) -> list[AuditClosure]:
    """The audit closures of these records' organisation and fiscal year and of their
    vouchers'."""
    pairs: set[tuple[int, int]] = {(o, y) for o, y in session.execute(
        sa.select(Evidence.org_id, Evidence.fiscal_year).where(Evidence.id.in_(evidence_ids)))}
    pairs |= {(o, y) for o, y in session.execute(
        sa.select(Disbursement.org_id, Disbursement.fiscal_year)
        .join(DisbursementEvidence, DisbursementEvidence.disbursement_id == Disbursement.id)
        .where(DisbursementEvidence.evidence_id.in_(evidence_ids)).distinct())}
    return [c for c in session.scalars(sa.select(AuditClosure).where(
            AuditClosure.org_id.in_({o for o, _ in pairs})).order_by(AuditClosure.id))
            if (c.org_id, c.fiscal_year) in pairs]


def _closure_prefix(closure: AuditClosure) -> str:
    # The key's time is the closure's recording time (retention.described).
    return f"{objects.CLOSURES}{closure.org_id:09d}/{objects.stamp(closure.recorded_at)}-"


def _next_day(when: dt.datetime) -> dt.datetime:
    """``when`` rounded up to the next midnight (UTC)."""
    day = when.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day if day == when else day + dt.timedelta(days=1)


def _next_year(when: dt.datetime) -> dt.datetime:
    """``when`` rounded up to the next 1 January (UTC)."""
    year = dt.datetime(when.astimezone(dt.UTC).year, 1, 1, tzinfo=dt.UTC)
    return year if year == when else year.replace(year=year.year + 1)


def _extend(store: ObjectStore, key: str, version_id: str | None, until: dt.datetime,
            report: SyncReport) -> None:
    info = store.stat(key, version_id)
    report.stats += 1
    if info is None or (info.retain_until is not None and info.retain_until >= until):
        return
    if report.check:
        report.short.append(Shortfall(key, version_id, info.retain_until, until))
        return
    store.set_retention(key, version_id, until)
    report.described += 1


def _extend_folder(store: ObjectStore, prefix: str, until: dt.datetime,
                   report: SyncReport, *, latest_only: bool = False) -> None:
    """Every object under ``prefix`` (or only the latest key's versions) locked at least
    until ``until``; a folder already extended that far in this run is not asked again."""
    done = report.done.get(prefix)
    if done is not None and done >= until:
        return
    found = list(store.list_objects(prefix))
    report.listings += 1
    if latest_only and found:
        latest = max(info.key for info in found)
        found = [info for info in found if info.key == latest]
    for info in found:
        _extend(store, info.key, info.version_id, until, report)
    report.done[prefix] = until


def sync_snapshots(session: Session, store: ObjectStore, report: SyncReport) -> None:
    """The latest snapshot of every organisation, of the profile and then of the schedules
    (the watermark, last: a run that stops half way is done again) locked until the latest
    lock of any live bytes, rounded up to a year. Nothing when the watermark covers it."""
    latest = _latest_bytes_lock(session)
    if latest is None:
        return
    until = _next_year(latest)
    watermark = objects.snapshot_watermark(store)
    if watermark is not None and watermark >= until:
        return
    _extend_snapshots(session, store, until, report)


def _latest_bytes_lock(session: Session) -> dt.datetime | None:
    """What the latest snapshots must outlast: the latest lock of any bytes still stored."""
    return session.scalar(sa.select(sa.func.max(Blob.retain_until))
                          .where(Blob.deleted_at.is_(None)))


def _extend_snapshots(session: Session, store: ObjectStore, until: dt.datetime,
                      report: SyncReport, org_ids: list[int] | None = None) -> None:
    if org_ids is None:
        org_ids = list(session.scalars(sa.select(Organisation.id).order_by(Organisation.id)))
    for org_id in org_ids:
        _extend_folder(store, f"{objects.ORGS}{org_id:09d}/", until, report, latest_only=True)
    _extend_folder(store, objects.PROFILES, until, report, latest_only=True)
    _extend_folder(store, objects.SCHEDULES, until, report, latest_only=True)


def catch_up(units: UnitsOfWork, store: ObjectStore, report: SyncReport) -> None:
    """Objects written before the sync kept them (an archive from before it; a record that
    joined a second hold while held, before ``compute.recompute`` asked the sync to
    describe it): every voucher's objects and reviews, every hold's and
    every closure's locked at least until the latest lock of the bytes of the live records
    they describe (rounded up to a day), then the latest snapshots. One pass over
    vouchers, holds and closures, for ``archive catalogue backfill``; safe to run again."""
    with units() as s:
        folders = described_folders(s)
    for prefix, until in folders:
        _extend_folder(store, prefix, _next_day(until), report)
    with units() as s:
        sync_snapshots(s, store, report)


def described_folders(session: Session, evidence_ids: list[Any] | None = None,
                      ) -> list[tuple[str, dt.datetime]]:
    """The folders of the catalogue objects that restore the meaning of live records
    (:func:`described_by`; of these records only, if given), each with the latest lock of
    the bytes of the live records it describes (of these records, if given; a closure's:
    of every record it closes) — what its objects must outlast."""
    live = [Evidence.status != "destroyed"]
    if evidence_ids is not None:
        live.append(Evidence.id.in_(evidence_ids))
    vouchers = session.execute(
        sa.select(DisbursementEvidence.disbursement_id, sa.func.max(Blob.retain_until))
        .join(Evidence, Evidence.id == DisbursementEvidence.evidence_id)
        .join(Blob, Blob.id == Evidence.blob_id).where(*live)
        .group_by(DisbursementEvidence.disbursement_id)
        .order_by(DisbursementEvidence.disbursement_id)).all()
    holds = session.execute(
        sa.select(LegalHoldItem.hold_id, sa.func.max(Blob.retain_until))
        .join(Evidence, Evidence.id == LegalHoldItem.evidence_id)
        .join(Blob, Blob.id == Evidence.blob_id).where(*live)
        .group_by(LegalHoldItem.hold_id).order_by(LegalHoldItem.hold_id)).all()
    closures = (list(session.scalars(sa.select(AuditClosure).order_by(AuditClosure.id)))
                if evidence_ids is None else _closures_of(session, evidence_ids))
    folders: list[tuple[str, dt.datetime | None]] = [
        (f"{prefix}{vid}/", until) for vid, until in vouchers
        for prefix in (objects.VOUCHERS, objects.REVIEWS)]
    folders += [(f"{objects.HOLDS}{hid}/", until) for hid, until in holds]
    folders += [(_closure_prefix(c), closed_records_lock(session, c.org_id, c.fiscal_year))
                for c in closures]
    out = []
    for prefix, until in folders:
        if until is not None:
            out.append((prefix, until))
    return out


# Records whose catalogue objects ``archive verify`` checks, chosen at random (see
# check_catalogue).
CHECK_SAMPLE = 200


def check_catalogue(session: Session, store: ObjectStore, *,
                    sample: int | None = CHECK_SAMPLE) -> tuple[int, SyncReport]:
    """Which catalogue objects the rebuild needs are locked shorter than the records they
    describe need — the sync's rule, read without extending (``SyncReport.check``): a live
    record's manifests (and its batch object), inspection reports and links as long as
    its bytes; the folders of
    :func:`described_folders` as long as the bytes of the records they describe; the
    latest snapshots (the records' organisations', the profile's, the schedules') as long
    as the latest bytes still stored. The sync rounds the dates it sets up (to a day, a
    year); what is required here is the bytes' own lock.

    Of ``sample`` live records chosen at random: each costs three listings (its records',
    inspections' and links' folders) and a read of each of its objects' lock, plus a
    listing of each of its vouchers', holds' and closures' folders and a read of each of
    their objects' lock (bench/catalogue_locks_check.py); a batch object once, against the
    latest need of its sampled records. ``None``: every live record, the three folders of
    all records listed once each instead, every batch object against the latest bytes of
    its live records (one listing, one grouped query), and every organisation's
    snapshot. Returns (records checked, report)."""
    report = SyncReport(check=True)
    live = (Evidence.status != "destroyed", Blob.deleted_at.is_(None))
    q = (sa.select(Evidence.id, Evidence.org_id, Blob.retain_until, Evidence.manifest_batch)
         .join(Blob, Blob.id == Evidence.blob_id).where(*live))
    own = (objects.RECORDS, objects.INSPECTIONS, objects.LINKS)
    if sample is None:
        needed = {str(rid): until for rid, _, until, _ in session.execute(q)}
        for prefix in own:
            report.listings += 1
            for info in store.list_objects(prefix):
                until = needed.get(info.key[len(prefix):].split("/", 1)[0])
                if until is not None:
                    _extend(store, info.key, info.version_id, until, report)
        # each batch object as long as the latest bytes of its live records
        batches = {objects.batch_key(batch): until for batch, until in session.execute(
            sa.select(Evidence.manifest_batch, sa.func.max(Blob.retain_until))
            .join(Blob, Blob.id == Evidence.blob_id)
            .where(*live, Evidence.manifest_batch.is_not(None))
            .group_by(Evidence.manifest_batch))}
        report.listings += 1
        for info in store.list_objects(objects.BATCHES):
            until = batches.get(info.key)
            if until is not None:
                _extend(store, info.key, info.version_id, until, report)
        folders = described_folders(session)
        org_ids = None
    else:
        rows = session.execute(q.order_by(sa.func.random()).limit(sample)).all()
        batched: dict[str, dt.datetime] = {}
        for rid, _, until, batch in rows:
            for prefix in own:
                _extend_folder(store, f"{prefix}{rid}/", until, report)
            if batch is not None:
                key = objects.batch_key(batch)
                batched[key] = max(until, batched.get(key, until))
        # a batch object once, against the latest need of its sampled records
        for key, until in sorted(batched.items()):
            _extend_folder(store, key, until, report)
        folders = described_folders(session, [rid for rid, _, _, _ in rows])
        org_ids = sorted({org_id for _, org_id, _, _ in rows})
        needed = {str(rid): until for rid, _, until, _ in rows}
    for prefix, until in folders:
        _extend_folder(store, prefix, until, report)
    latest = _latest_bytes_lock(session)
    if latest is not None:
        _extend_snapshots(session, store, latest, report, org_ids)
    return len(needed), report


def store_releases_on(session: Session, blob_ids: list[int]) -> dt.date | None:
    """The Thailand day on which the store will release the last of these blobs (the
    latest lock the archive has set on them): the survey and the forecast show it, since
    destroyed records' bytes stay in the store until then."""
    from archive.clock import BANGKOK

    if not blob_ids:
        return None
    latest = None
    for start in range(0, len(blob_ids), 500):
        chunk = blob_ids[start:start + 500]
        value = session.scalar(sa.select(sa.func.max(Blob.retain_until))
                               .where(Blob.id.in_(chunk)))
        latest = value if latest is None or (value is not None and value > latest) else latest
    return latest.astimezone(BANGKOK).date() if latest is not None else None
