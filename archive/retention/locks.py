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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.catalogue import objects
from archive.clock import system_now
from archive.evidence.models import Blob, Evidence, blob_users
from archive.storage import ObjectStore


@dataclass
class SyncReport:
    checked: int = 0
    extended: int = 0
    holds_on: int = 0
    holds_off: int = 0
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "extended": self.extended, "holds_on": self.holds_on,
                "holds_off": self.holds_off, "missing": self.missing[:100]}


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
              horizon_days: int = DEFAULT_HORIZON_DAYS) -> None:
    """Bring one blob's lock in line with its live records (in the caller's transaction)."""
    rows = blobs_to_sync(session, [blob_id], horizon_days=horizon_days)
    report.checked += 1
    if not rows:
        return
    _, target, held = rows[0]
    blob = session.get(Blob, blob_id)
    assert blob is not None
    if target is not None and target > blob.retain_until:
        info = store.extend_retention(blob.store_key, blob.version_id, target)
        if info is None:
            report.missing.append(blob.store_key)
            return
        blob.retain_until = max(info.retain_until or target, target)
        report.extended += 1
        _extend_descriptions(session, store, blob_id, blob.retain_until)
    if held != blob.legal_hold:
        store.set_legal_hold(blob.store_key, blob.version_id, held)
        blob.legal_hold = held
        if held:
            report.holds_on += 1
        else:
            report.holds_off += 1


def _extend_descriptions(session: Session, store: ObjectStore, blob_id: int,
                         until: dt.datetime) -> None:
    """What the store holds about the records of these bytes (manifests, inspection
    reports, links) is kept as long as the bytes (:mod:`archive.catalogue`)."""
    for record in session.scalars(sa.select(Evidence.id).where(Evidence.blob_id == blob_id)):
        for prefix in (objects.RECORDS, objects.INSPECTIONS, objects.LINKS):
            for info in store.list_objects(f"{prefix}{record}/"):
                store.extend_retention(info.key, info.version_id, until)


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
