"""Describe in the store what an archive holds from before the store described itself.

``archive catalogue backfill`` writes, for what the store does not hold yet: each
organisation's state, the schedules' snapshot, a manifest for every hashed metadata
version of every record (the current one from the row, earlier ones from the history —
each only if its hash recomputes), inspection reports, tombstones, the vouchers (their
current state and history), the files' links to vouchers and renditions (replayed from
the link objects, the missing ones are written: a link, or an unlink where the store
says linked and the database does not), the auditors' reviews, the required-evidence
profile, legal holds (their current state, with the records they cover and their dates),
audit closures, and the audit segment of every checkpoint; then it extends the locks of
vouchers, reviews, holds, closures and the latest snapshots written before the lock sync
kept them as long as their records (``retention.locks.catch_up``). Running it again writes
nothing new. Records created before version
hashes (migration 0061) get a manifest once sealed (``archive verify --seal-legacy``); the
audit events anchored by checkpoints whose events are gone cannot be described.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts.principal import Principal
from archive.audit.checkpoints import SEGMENTS, segment_key, write_segment
from archive.audit.models import AuditCheckpoint
from archive.catalogue import objects
from archive.disbursements import described as vouchers_described
from archive.disbursements.models import (
    Disbursement,
    DisbursementEvidence,
    DisbursementProfile,
    DisbursementReview,
)
from archive.disbursements.service import voucher_target
from archive.evidence import manifests, versions
from archive.evidence.models import Blob, Evidence, EvidenceHistory, Inspection, Rendition
from archive.inspection.renditions import link_target
from archive.orgs import snapshots
from archive.orgs.models import Organisation
from archive.retention import described as retention_described
from archive.retention import locks
from archive.retention.models import AuditClosure, LegalHold
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
    vouchers: int = 0
    links: int = 0
    reviews: int = 0
    profiles: int = 0
    renditions: int = 0
    holds: int = 0
    closures: int = 0
    segments: int = 0
    # Objects written before the lock sync kept them, whose lock was extended.
    locks_extended: int = 0
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
    # a batch upload's records: their first manifest is in their batch's object
    batches = {objects.batch_of(i.key) for i in store.list_objects(objects.BATCHES)}
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
                if evidence.manifest_batch is not None and \
                        str(evidence.manifest_batch) in batches:
                    have.add((str(evidence.id), f"{1:06d}"))
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
    _vouchers(units, store, report)
    _links(units, store, report)
    _retention(units, store, report)
    kept = locks.SyncReport()
    locks.catch_up(units, store, kept)
    report.locks_extended = kept.described
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


def _missing(units: UnitsOfWork, store: ObjectStore, prefix: str, model: Any,
             stage: Any) -> int:
    """Stage ``stage(session, id)`` for each row of ``model`` whose folder is missing."""
    described = _folders(store, prefix)
    with units() as s:
        ids = [i for i in s.scalars(sa.select(model.id).order_by(model.id))
               if str(i) not in described]
    for start in range(0, len(ids), BATCH):
        with units() as s:
            for row_id in ids[start:start + BATCH]:
                stage(s, row_id)
    return len(ids)


def _vouchers(units: UnitsOfWork, store: ObjectStore, report: BackfillReport) -> None:
    report.vouchers = _missing(units, store, objects.VOUCHERS, Disbursement,
                               vouchers_described.stage_voucher)
    reviews = {i.key for i in store.list_objects(objects.REVIEWS)}
    with units() as s:
        for review in s.scalars(sa.select(DisbursementReview).order_by(DisbursementReview.id)):
            if vouchers_described.review_key(review) not in reviews:
                vouchers_described.stage_review(s, review)
                report.reviews += 1
        if not _folders(store, objects.PROFILES) and \
                s.scalar(sa.select(DisbursementProfile.id).limit(1)) is not None:
            vouchers_described.stage_profile(s)
            report.profiles = 1


def _links(units: UnitsOfWork, store: ObjectStore, report: BackfillReport) -> None:
    """Replay the link objects; write what makes them agree with the database."""
    linked: dict[tuple[str, str, str], bool] = {}       # (record, voucher, role) → linked
    renditions: set[str] = set()
    for info in sorted(store.list_objects(objects.LINKS), key=lambda i: i.key):
        doc = objects.read(store, info.key, info.version_id)
        if doc.get("kind") == "voucher":
            for role in doc["target"].get("roles") or []:
                linked[(doc["record"], doc["target"]["id"], role)] = doc["action"] == "link"
        elif doc.get("kind") == "rendition":
            renditions.add(doc["target"]["rendition_id"])
    now = clock.now()
    with units() as s:
        rows = {(str(r.evidence_id), str(r.disbursement_id), r.role): r
                for r in s.scalars(sa.select(DisbursementEvidence))}
        for key in sorted(set(rows) | {k for k, on in linked.items() if on}):
            row = rows.get(key)
            if (row is not None) == linked.get(key, False):
                continue
            voucher = s.get(Disbursement, uuid.UUID(key[1]))
            if voucher is None:
                continue
            manifests.stage_link(
                s, evidence_id=uuid.UUID(key[0]), kind="voucher",
                action="link" if row is not None else "unlink",
                target=voucher_target(s, voucher, [key[2]]),
                by=row.linked_by if row is not None else "catalogue backfill",
                at=row.linked_at if row is not None and key not in linked else now)
            report.links += 1
        for rendition in s.scalars(sa.select(Rendition).order_by(Rendition.id)):
            if str(rendition.id) in renditions:
                continue
            blob, source = s.get(Blob, rendition.blob_id), s.get(Blob, rendition.source_blob_id)
            assert blob is not None and source is not None
            manifests.stage_link(s, evidence_id=rendition.evidence_id, kind="rendition",
                                 action="link", target=link_target(rendition, blob, source),
                                 by="catalogue backfill", at=rendition.created_at)
            report.renditions += 1


def _retention(units: UnitsOfWork, store: ObjectStore, report: BackfillReport) -> None:
    report.holds = _missing(units, store, objects.HOLDS, LegalHold,
                            retention_described.stage_hold)
    described = {objects.read(store, i.key, i.version_id)["id"]
                 for i in store.list_objects(objects.CLOSURES)}
    with units() as s:
        for closure_id in s.scalars(sa.select(AuditClosure.id).order_by(AuditClosure.id)):
            if closure_id not in described:
                retention_described.stage_closure(s, closure_id)
                report.closures += 1
