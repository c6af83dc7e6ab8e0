"""The sanity checker: walks the database and the store side by side.

It reports, per blob, objects that are missing, of the wrong size or whose bytes no
longer hash to their key, and objects (or versions) in the store that no database row
points at — the orphans an interrupted upload leaves behind. Both sides are walked in key
order and merged, so memory stays flat however large the archive is.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts.principal import Principal
from archive.audit.models import AuditEvent
from archive.errors import StoreIntegrityError, StoreUnavailable
from archive.evidence import manifests, versions
from archive.evidence import service as evidence_service
from archive.evidence.models import Blob, Evidence
from archive.retention.schedules.models import Tombstone
from archive.storage import ObjectInfo, ObjectStore, sha256_from_key
from archive.tempfiles import find_leftovers

PREFIX = "sha256/"


@dataclass
class Problem:
    # missing | size_mismatch | corrupt | orphan | orphan_version | not_destroyed |
    # key_mismatch | record_mismatch | record_unaudited | record_missing | leftover
    kind: str
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
    records_checked: int = 0
    # Records created before version hashes (migration 0061) and not sealed since: their
    # metadata cannot be checked (``archive verify --seal-legacy`` seals them as found).
    legacy_unhashed: int = 0
    legacy_examples: list[str] = field(default_factory=list)
    leftover_bytes: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "blobs_checked": self.blobs_checked,
                "objects_seen": self.objects_seen, "bytes_hashed": self.bytes_hashed,
                "records_checked": self.records_checked,
                "legacy_unhashed": self.legacy_unhashed,
                "legacy_examples": self.legacy_examples,
                "leftover_bytes": self.leftover_bytes,
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
           progress: Callable[[int], None] | None = None,
           records: bool = True, temp_dirs: list[Path] | None = None) -> VerifyReport:
    report = VerifyReport()
    _foreign_keys(session, report)
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
    if records:
        verify_records(session, report)
    if temp_dirs:
        _leftovers(report, temp_dirs)
    return report


def _leftovers(report: VerifyReport, temp_dirs: list[Path]) -> None:
    """Temporary files no live process holds: left by one that was killed."""
    for found in find_leftovers(temp_dirs, older_than=time.time()):
        report.leftover_bytes += found.size
        report.problems.append(Problem(
            "leftover", str(found.path), f"{found.size} bytes left by an interrupted upload or "
            "job (removed at the next start of the server or a worker)"))


def _foreign_keys(session: Session, report: VerifyReport) -> None:
    """Blobs whose key is not the content address of any bytes (the walk skips them)."""
    for blob in session.scalars(sa.select(Blob).where(~Blob.store_key.startswith(PREFIX))
                                .order_by(Blob.id)):
        report.problems.append(Problem(
            "key_mismatch", blob.store_key, f"blob {blob.id} (SHA-256 {blob.sha256}) points "
            "at a key that is not its content address", blob.id, blob.version_id,
            _records(session, blob.id)))


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

    named = sha256_from_key(blob.store_key)
    if named != blob.sha256:
        problem("key_mismatch", f"the key is the address of {named}, but the database says "
                f"the blob's SHA-256 is {blob.sha256}")
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


# -- records against their audit trail ---------------------------------------------------

BATCH = 500


def verify_records(session: Session, report: VerifyReport) -> None:
    """Each record's current metadata version against the hash its audit event recorded
    (catching fields, ``blob_id`` and ``blobs.sha256`` changed in the database), and every
    audited ``evidence.create`` against a row that still exists."""
    last: uuid.UUID | None = None
    while True:
        q = (sa.select(Evidence, Blob.sha256).outerjoin(Blob, Blob.id == Evidence.blob_id)
             .order_by(Evidence.id).limit(BATCH))
        if last is not None:
            q = q.where(Evidence.id > last)
        rows = session.execute(q).all()
        if not rows:
            break
        last = rows[-1][0].id
        audited = _audited(session, [str(r[0].id) for r in rows])
        for evidence, sha in rows:
            report.records_checked += 1
            _check_record(report, evidence, sha, audited.get(str(evidence.id), []))
        session.expunge_all()
    _check_created_exist(session, report)


def _audited(session: Session, ids: list[str]) -> dict[str, list[tuple[str, dict[str, Any], int]]]:
    found: dict[str, list[tuple[str, dict[str, Any], int]]] = {}
    for target, action, details, seq in session.execute(
            sa.select(AuditEvent.target_id, AuditEvent.action, AuditEvent.details,
                      AuditEvent.seq)
            .where(AuditEvent.target_type == "evidence", AuditEvent.target_id.in_(ids),
                   AuditEvent.action.in_(versions.HASHED_ACTIONS))
            .order_by(AuditEvent.seq)):
        found.setdefault(target, []).append((action, details, seq))
    return found


def _check_record(report: VerifyReport, evidence: Evidence, sha: str | None,
                  events: list[tuple[str, dict[str, Any], int]]) -> None:
    rid = str(evidence.id)

    def problem(kind: str, detail: str) -> None:
        report.problems.append(Problem(kind, rid, detail, evidence.blob_id, records=[rid]))

    hashed = [(int(d["version"]), str(d["meta_hash"]), seq) for _, d, seq in events
              if d.get("meta_hash") and d.get("version") is not None]
    if not hashed:
        if any(action == "evidence.create" for action, _, _ in events):
            report.legacy_unhashed += 1
            if len(report.legacy_examples) < 20:
                report.legacy_examples.append(rid)
        else:
            problem("record_unaudited", "no audit event records the creation of this "
                    "record: it was inserted outside the archive")
        return
    if sha is None:
        problem("record_mismatch", f"the record points at blob {evidence.blob_id}, which "
                "does not exist")
        return
    why = evidence_service.current_version_problem(evidence, sha, hashed)
    if why is not None:
        problem("record_mismatch", why)


def _check_created_exist(session: Session, report: VerifyReport) -> None:
    last_seq = 0
    while True:
        created = session.execute(
            sa.select(AuditEvent.seq, AuditEvent.target_id)
            .where(AuditEvent.action == "evidence.create", AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq).limit(BATCH)).all()
        if not created:
            return
        last_seq = created[-1][0]
        ids: dict[uuid.UUID, int] = {}
        for seq, target in created:
            try:
                ids[uuid.UUID(str(target))] = seq
            except ValueError:
                continue
        present = set(session.scalars(sa.select(Evidence.id).where(Evidence.id.in_(ids))))
        present |= set(session.scalars(sa.select(Tombstone.evidence_id)
                                       .where(Tombstone.evidence_id.in_(ids))))
        for rid, seq in ids.items():
            if rid not in present:
                report.problems.append(Problem(
                    "record_missing", str(rid), f"audited as created (event {seq}), but "
                    "neither the record nor a tombstone of it exists: deleted outside the "
                    "archive", records=[str(rid)]))


def seal_legacy(session: Session, principal: Principal) -> int:
    """Give every record without a version hash (created before migration 0061) one for
    its current state, recorded by an ``evidence.seal`` audit event. From then on changes
    are detected; whatever happened before the seal cannot be."""
    sealed = 0
    last: uuid.UUID | None = None
    while True:
        q = (sa.select(Evidence, Blob).join(Blob, Blob.id == Evidence.blob_id)
             .where(Evidence.meta_hash.is_(None)).order_by(Evidence.id).limit(BATCH))
        if last is not None:
            q = q.where(Evidence.id > last)
        rows = session.execute(q).all()
        if not rows:
            return sealed
        last = rows[-1][0].id
        audited = _audited(session, [str(r[0].id) for r in rows])
        for evidence, blob in rows:
            sha = blob.sha256
            if any(d.get("meta_hash") for _, d, _ in audited.get(str(evidence.id), [])):
                continue        # hashed, but its column was cleared: verify reports it
            digest = versions.hash_of_row(evidence, blob_sha256=sha, previous=None)
            manifests.stage_version(session, evidence_id=evidence.id,
                                    version=evidence.version, fields=versions.fields_of(evidence),
                                    meta_hash=digest, previous=None, blob=blob,
                                    at=clock.now(), by=principal.name,
                                    reason="legacy record sealed as found")
            session.execute(sa.update(Evidence).where(Evidence.id == evidence.id)
                            .values(meta_hash=digest))
            audit.record(session, actor=principal, action="evidence.seal",
                         target_type="evidence", target_id=evidence.id,
                         org_id=evidence.org_id,
                         details={"version": evidence.version, "meta_hash": digest,
                                  "sha256": sha, "note": "legacy record sealed as found"})
            sealed += 1
