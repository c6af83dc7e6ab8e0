"""Describe in the store what an archive holds from before the store described itself.

``archive catalogue backfill`` writes, for what the store does not hold yet: each
organisation's state, the schedules' snapshot, a manifest for every hashed metadata
version of every record (the current one from the row, earlier ones from the history —
each only if its hash recomputes), inspection reports, tombstones, and the audit segment
of every checkpoint. Running it again writes nothing new. Records created before version
hashes (migration 0061) get a manifest once sealed (``archive verify --seal-legacy``); the
audit events anchored by checkpoints whose events are gone cannot be described.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit
from archive.accounts.principal import Principal
from archive.audit.checkpoints import SEGMENTS, segment_key, write_segment
from archive.audit.models import AuditCheckpoint
from archive.catalogue import objects
from archive.evidence import manifests, versions
from archive.evidence.models import Blob, Evidence, EvidenceHistory, Inspection
from archive.orgs import snapshots
from archive.orgs.models import Organisation
from archive.retention.schedules.models import Tombstone
from archive.retention.schedules.service import stage_snapshot, stage_tombstone
from archive.storage import ObjectStore
from archive.unit_of_work import UnitsOfWork

BATCH = 200


@dataclass
class BackfillReport:
    organisations: int = 0
    schedules: int = 0
    manifests: int = 0
    inspections: int = 0
    tombstones: int = 0
    segments: int = 0
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _folders(store: ObjectStore, prefix: str) -> set[str]:
    return {info.key[len(prefix):].split("/", 1)[0] for info in store.list_objects(prefix)}


def backfill(units: UnitsOfWork, store: ObjectStore, principal: Principal, *,
             retain_until: Any) -> BackfillReport:
    report = BackfillReport()
    described_orgs = _folders(store, objects.ORGS)
    with units() as s:
        for org_id in s.scalars(sa.select(Organisation.id).order_by(Organisation.id)):
            if f"{org_id:09d}" not in described_orgs:
                snapshots.stage(s, org_id)
                report.organisations += 1
        if not _folders(store, objects.SCHEDULES):
            stage_snapshot(s)
            report.schedules = 1
    have = {(k.split("/")[2], k.split("/")[3].split("-")[0])
            for k in (i.key for i in store.list_objects(objects.RECORDS))}
    inspected = _folders(store, objects.INSPECTIONS)
    tombstoned = {k.rsplit("/", 1)[1].removesuffix(".json")
                  for k in (i.key for i in store.list_objects(objects.TOMBSTONES))}
    last: uuid.UUID | None = None
    while True:
        with units() as s:
            q = (sa.select(Evidence, Blob).join(Blob, Blob.id == Evidence.blob_id)
                 .order_by(Evidence.id).limit(BATCH))
            if last is not None:
                q = q.where(Evidence.id > last)
            rows = s.execute(q).all()
            if not rows:
                break
            last = rows[-1][0].id
            for evidence, blob in rows:
                _record(s, report, evidence, blob, have)
                rid = str(evidence.id)
                if rid not in inspected:
                    inspection = s.get(Inspection, evidence.id)
                    if inspection is not None:
                        manifests.stage_inspection(s, inspection, blob)
                        report.inspections += 1
                if rid not in tombstoned:
                    tombstone = s.get(Tombstone, evidence.id)
                    if tombstone is not None:
                        stage_tombstone(s, tombstone)
                        report.tombstones += 1
    segments = {i.key for i in store.list_objects(SEGMENTS)}
    with units() as s:
        previous = 0
        for seq in s.scalars(sa.select(AuditCheckpoint.seq).order_by(AuditCheckpoint.seq)):
            if segment_key(seq) not in segments:
                write_segment(s, store, after_seq=previous, seq=seq, retain_until=retain_until)
                report.segments += 1
            previous = seq
        audit.record(s, actor=principal, action="catalogue.backfill",
                     details={k: v for k, v in report.to_dict().items() if k != "skipped"}
                     | {"skipped": report.skipped[:50]})
    return report


def _record(session: Session, report: BackfillReport, evidence: Evidence, blob: Blob,
            have: set[tuple[str, str]]) -> None:
    """Stage the manifests this record's hashed versions lack."""
    rid = str(evidence.id)
    if evidence.meta_hash is None:
        report.skipped.append(f"record {rid}: no version hash (run `archive verify "
                              "--seal-legacy` first)")
        return
    history = list(session.scalars(sa.select(EvidenceHistory).where(
        EvidenceHistory.evidence_id == evidence.id).order_by(EvidenceHistory.version)))
    fixed = {f: getattr(evidence, f) for f in versions.FIXED_FIELDS}
    states: list[tuple[int, dict[str, Any], str | None]] = [
        (h.version, {**h.values, **fixed}, h.meta_hash) for h in history]
    states.append((evidence.version, versions.fields_of(evidence), evidence.meta_hash))
    changes = {h.version + 1: h for h in history}
    previous: str | None = None
    for version, fields, meta_hash in states:
        if meta_hash is None:
            previous = None
            continue
        if versions.version_hash(evidence_id=evidence.id, version=version, fields=fields,
                                 blob_sha256=blob.sha256, previous=previous) != meta_hash:
            report.skipped.append(f"record {rid} version {version}: its values no longer "
                                  "give its hash (see `archive verify`)")
            previous = meta_hash
            continue
        if (rid, f"{version:06d}") not in have:
            change = changes.get(version)
            manifests.stage_version(
                session, evidence_id=evidence.id, version=version, fields=fields,
                meta_hash=meta_hash, previous=previous, blob=blob,
                at=change.changed_at if change else evidence.created_at,
                by=change.changed_by if change else evidence.uploaded_by,
                reason=change.reason if change else "ingest",
                changed=list(change.changed) if change else [])
            report.manifests += 1
        previous = meta_hash
