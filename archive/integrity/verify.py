"""The sanity checker: walks the database and the store side by side.

It reports, per blob, objects that are missing, of the wrong size or whose bytes no
longer hash to their key, and objects (or versions) in the store that no database row
points at — the orphans an interrupted upload leaves behind. Both sides are walked in key
order and merged, so memory stays flat however large the archive is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.errors import StoreIntegrityError, StoreUnavailable
from archive.evidence.models import Blob, Evidence
from archive.storage import ObjectInfo, ObjectStore, sha256_from_key

PREFIX = "sha256/"


@dataclass
class Problem:
    kind: str          # missing | size_mismatch | corrupt | orphan | orphan_version | not_destroyed
    key: str
    detail: str
    blob_id: int | None = None
    version_id: str | None = None
    records: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    blobs_checked: int = 0
    objects_seen: int = 0
    bytes_hashed: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "blobs_checked": self.blobs_checked,
                "objects_seen": self.objects_seen, "bytes_hashed": self.bytes_hashed,
                "problems": [asdict(p) for p in self.problems]}


def hash_object(store: ObjectStore, key: str, version_id: str | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in store.open(key, version_id):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _blob_rows(session: Session) -> Iterator[Blob]:
    yield from session.scalars(
        sa.select(Blob).where(Blob.store_key.startswith(PREFIX))
        .order_by(Blob.store_key).execution_options(yield_per=1000))


def verify(session: Session, store: ObjectStore, *, rehash: bool = True,
           progress: Callable[[int], None] | None = None) -> VerifyReport:
    report = VerifyReport()
    stored = groupby(store.list_objects(PREFIX), key=lambda o: o.key)
    current: tuple[str, list[ObjectInfo]] | None = _next(stored)

    for blob in _blob_rows(session):
        report.blobs_checked += 1
        # Objects that sort before this blob's key have no row: orphans.
        while current is not None and current[0] < blob.store_key:
            _orphans(report, current)
            current = _next(stored)
        versions: list[ObjectInfo] = []
        if current is not None and current[0] == blob.store_key:
            versions = current[1]
            current = _next(stored)
        report.objects_seen += len(versions)
        _check_blob(session, store, report, blob, versions, rehash)
        if progress:
            progress(blob.size)
    while current is not None:
        _orphans(report, current)
        current = _next(stored)
    return report


def _next(it: Iterator[tuple[str, Iterator[ObjectInfo]]]) -> tuple[str, list[ObjectInfo]] | None:
    try:
        key, group = next(it)
    except StopIteration:
        return None
    return key, list(group)


def _orphans(report: VerifyReport, entry: tuple[str, list[ObjectInfo]]) -> None:
    key, versions = entry
    report.objects_seen += len(versions)
    for info in versions:
        report.problems.append(Problem(
            "orphan", key, "object in the store that no database row points at "
            "(e.g. left by an interrupted upload)", version_id=info.version_id))


def _records(session: Session, blob_id: int) -> list[str]:
    return [str(i) for i in session.scalars(
        sa.select(Evidence.id).where(Evidence.blob_id == blob_id).order_by(Evidence.id)
        .limit(20))]


def _check_blob(session: Session, store: ObjectStore, report: VerifyReport, blob: Blob,
                versions: list[ObjectInfo], rehash: bool) -> None:
    def problem(kind: str, detail: str, version_id: str | None = blob.version_id) -> None:
        report.problems.append(Problem(kind, blob.store_key, detail, blob.id, version_id,
                                       _records(session, blob.id)))

    if blob.deleted_at is not None:
        for info in versions:
            problem("not_destroyed", "destroyed by disposition, but a version is still stored",
                    info.version_id)
        return
    ours = [v for v in versions if blob.version_id is None or v.version_id == blob.version_id]
    for info in versions:
        if info not in ours:
            problem("orphan_version", "another version of this key that no row points at",
                    info.version_id)
    if not ours:
        problem("missing", "the database points at an object the store does not have")
        return
    info = ours[0]
    if info.size != blob.size:
        problem("size_mismatch", f"store holds {info.size} bytes, database says {blob.size}")
        return
    if not rehash:
        return
    try:
        digest, size = hash_object(store, blob.store_key, blob.version_id)
    except StoreIntegrityError as exc:
        problem("missing", str(exc))
        return
    except StoreUnavailable:
        raise
    report.bytes_hashed += size
    expected = sha256_from_key(blob.store_key) or blob.sha256
    if digest != expected or size != blob.size:
        problem("corrupt", f"bytes hash to {digest}, expected {expected}")
