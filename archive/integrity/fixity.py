"""Fixity audits: re-read stored objects and re-hash them.

Each run takes the blobs checked longest ago (never-checked first), enough of them that
every object is checked at least once per ``cycle_days`` when the job runs hourly, and
reads no faster than ``max_mbps`` so that audits do not starve uploads. A mismatch or a
missing object raises an alert event in the audit trail; ``archive verify`` lists them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts.principal import system_principal
from archive.errors import StoreIntegrityError
from archive.evidence.models import Blob, Evidence
from archive.integrity.verify import hash_object
from archive.queue.models import SystemCheck
from archive.storage import ObjectStore
from archive.unit_of_work import UnitsOfWork

RUNS_PER_DAY = 24


class Due(NamedTuple):
    blob_id: int
    key: str
    version_id: str | None
    sha256: str
    size: int


_DUE = sa.select(Blob.id, Blob.store_key, Blob.version_id, Blob.sha256, Blob.size)


@dataclass
class FixityRun:
    checked: int = 0
    bytes: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)


def batch_size(total: int, cycle_days: int) -> int:
    """Blobs per hourly run so that all are covered within the cycle."""
    return max(1, math.ceil(total / (cycle_days * RUNS_PER_DAY)))


def due_blobs(session: Session, limit: int) -> list[Due]:
    rows = session.execute(
        _DUE.where(Blob.deleted_at.is_(None))
        .order_by(Blob.fixity_checked_at.is_not(None), Blob.fixity_checked_at, Blob.id)
        .limit(limit)).all()
    return [Due(*r) for r in rows]


def run(units: UnitsOfWork, store: ObjectStore, *, cycle_days: int,
        max_mbps: float, blob_ids: list[int] | None = None,
        progress: Callable[[dict[str, Any]], None] | None = None,
        stopping: Callable[[], bool] = lambda: False) -> FixityRun:
    result = FixityRun()
    with units() as s:
        if blob_ids:
            todo = [Due(*r) for r in s.execute(
                _DUE.where(Blob.id.in_(blob_ids), Blob.deleted_at.is_(None)))]
        else:
            total = s.scalar(sa.select(sa.func.count()).select_from(Blob)
                             .where(Blob.deleted_at.is_(None))) or 0
            todo = due_blobs(s, batch_size(total, cycle_days))
    started = time.monotonic()
    for blob_id, key, version, sha, size in todo:
        if stopping():
            break
        try:
            digest, read = hash_object(store, key, version)
            ok, detail = digest == sha and read == size, f"hashes to {digest}, size {read}"
        except StoreIntegrityError as exc:
            ok, detail, read = False, str(exc), 0
        result.checked += 1
        result.bytes += read
        with units() as s:
            s.execute(sa.update(Blob).where(Blob.id == blob_id)
                      .values(fixity_checked_at=clock.now(), fixity_ok=ok))
            if not ok:
                mismatch = {"blob_id": blob_id, "sha256": sha, "key": key,
                            "version_id": version, "detail": detail}
                result.mismatches.append(mismatch)
                org_ids: list[int | None] = list(s.scalars(
                    sa.select(Evidence.org_id).where(Evidence.blob_id == blob_id).distinct()))
                for org_id in (org_ids or [None]):
                    audit.record(s, actor=system_principal("fixity"), action="fixity.mismatch",
                                 target_type="blob", target_id=sha, org_id=org_id,
                                 details=mismatch, outcome="alert")
        if progress:
            progress({"checked": result.checked, "of": len(todo), "bytes": result.bytes})
        # Rate limit: sleep until the bytes read so far fit within max_mbps.
        allowed = result.bytes / (max_mbps * 1e6)
        elapsed = time.monotonic() - started
        if allowed > elapsed:
            time.sleep(allowed - elapsed)
    with units() as s:
        s.add(SystemCheck(kind="fixity", ok=not result.mismatches,
                          summary=f"{result.checked} objects re-hashed, "
                                  f"{len(result.mismatches)} mismatches",
                          details={"checked": result.checked, "bytes": result.bytes,
                                   "mismatches": result.mismatches}))
    return result


def failing_blobs(session: Session) -> list[Blob]:
    """Blobs whose last fixity audit failed (listed by ``archive verify``)."""
    return list(session.scalars(sa.select(Blob).where(Blob.fixity_ok.is_(False),
                                                      Blob.deleted_at.is_(None))))
