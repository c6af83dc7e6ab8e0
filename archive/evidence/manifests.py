"""Record manifests and inspection reports in the store (see :mod:`archive.catalogue`).

One manifest per metadata version, written with the version: its fields exactly as they
are hashed (:mod:`archive.evidence.versions`), the bytes' SHA-256, the previous version's
hash, the organisation and schedule by id and code, and the change (who, when, why, which
fields). ``meta_hash`` is the version hash the audit trail records, so a manifest verifies
itself: recomputing the hash from its fields must give its name. The lock is the one of the
record's bytes.

A batch upload's fast path (``archive.evidence.batch``) writes the version-1 manifests of
the records it creates as one object, ``catalogue/batches/<batch uuid>.json`` (format
``evidence-archive.record-manifests/1``: ``{"format", "batch", "manifests": [...]}``, the
manifests exactly as each would be alone, sorted by record), locked until the latest lock
of their bytes: one PUT per batch instead of one per record (issue 18, docs/scale.md).
Each record names its batch (``evidence.manifest_batch``); its later versions are objects
of their own under ``catalogue/records/`` as any record's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.catalogue import objects
from archive.catalogue.objects import Catalogue, Entry
from archive.evidence import versions
from archive.evidence.models import Blob, Evidence, Inspection
from archive.orgs.models import Organisation
from archive.retention.schedules.models import RetentionSchedule

MANIFEST_FORMAT = "evidence-archive.record-manifest/1"
BATCH_FORMAT = "evidence-archive.record-manifests/1"
INSPECTION_FORMAT = "evidence-archive.inspection/1"
# What the archive keeps about a record beside its hashed fields (fixed at ingest, or
# maintained by it), restored as found in the latest manifest.
STATE_FIELDS = ("fiscal_year_source", "client_media_type", "created_at", "duplicate_allowed")


def manifest_key(evidence_id: uuid.UUID | str, version: int, meta_hash: str) -> str:
    return f"{objects.RECORDS}{evidence_id}/{version:06d}-{meta_hash}.json"


def stage_version(session: Session, *, evidence_id: uuid.UUID, version: int,
                  fields: Mapping[str, Any], meta_hash: str, previous: str | None,
                  blob: Blob, at: dt.datetime, by: str, reason: str | None = None,
                  changed: list[str] | None = None, batch: uuid.UUID | None = None) -> None:
    """Have the manifest of a new version written before the transaction commits; the
    organisation, schedule and state are read at commit, as committed (for every manifest
    staged in the transaction at once: :func:`_build_versions`). ``batch``: into that
    batch object, with the other manifests staged for it (version 1 only; the record's
    row names the batch: ``evidence.manifest_batch``)."""
    assert batch is None or version == 1
    document = {
        "format": MANIFEST_FORMAT, "record": str(evidence_id), "version": version,
        "meta_hash": meta_hash, "previous": previous,
        "fields": {f: versions.canonical_value(fields.get(f)) for f in versions.HASHED_FIELDS},
        "sha256": blob.sha256, "size": blob.size, "media_type": blob.media_type,
        "change": {"at": at, "by": by, "reason": reason, "changed": changed or []},
    }
    objects.stage_in_group(session, "records", f"{evidence_id}:{version}",
                           (evidence_id, document, blob.retain_until, batch), _build_versions)


# Records read per query at commit (a bound on the IN list).
_READ_CHUNK = 500


Staged = tuple[uuid.UUID, dict[str, Any], dt.datetime, uuid.UUID | None]


def _build_versions(session: Session, catalogue: Catalogue, staged: list[Staged]
                    ) -> list[Entry]:
    """The manifests staged in one transaction, completed with what is committed: each
    record's organisation and schedule (id and code) and its state, read in one query;
    those staged for a batch as one object per batch."""
    ids = sorted({evidence_id for evidence_id, _, _, _ in staged})
    found: dict[Any, Any] = {}
    for i in range(0, len(ids), _READ_CHUNK):
        found.update((row.id, row) for row in session.execute(
            sa.select(Evidence.id, Evidence.org_id, Evidence.schedule_id,
                      *(getattr(Evidence, f) for f in STATE_FIELDS),
                      Organisation.code.label("org_code"),
                      RetentionSchedule.code.label("schedule_code"))
            .join(Organisation, Organisation.id == Evidence.org_id)
            .outerjoin(RetentionSchedule, RetentionSchedule.id == Evidence.schedule_id)
            .where(Evidence.id.in_(ids[i:i + _READ_CHUNK]))))
    entries = []
    batches: dict[uuid.UUID, list[tuple[dict[str, Any], dt.datetime]]] = {}
    for evidence_id, partial, lock, batch in staged:
        row = found[evidence_id]
        document = {
            **partial, "org": {"id": row.org_id, "code": row.org_code},
            "schedule": ({"id": row.schedule_id, "code": row.schedule_code}
                         if row.schedule_id else None),
            "state": {f: getattr(row, f) for f in STATE_FIELDS},
        }
        if batch is not None:
            batches.setdefault(batch, []).append((document, lock))
            continue
        entries.append(Entry(manifest_key(evidence_id, document["version"],
                                          document["meta_hash"]), document, lock))
    for batch, members in batches.items():
        entries.append(Entry(objects.batch_key(batch), {
            "format": BATCH_FORMAT, "batch": str(batch),
            "manifests": sorted((d for d, _ in members), key=lambda d: str(d["record"]))},
            max(lock for _, lock in members)))
    return entries


def batch_manifests(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The manifests a batch object holds (ValueError: not a batch object)."""
    if document.get("format") != BATCH_FORMAT or not isinstance(document.get("manifests"),
                                                                  list):
        raise ValueError(f"{key}: not a batch of record manifests")
    return [m for m in document["manifests"] if isinstance(m, dict)]


def stage_inspection(session: Session, inspection: Inspection, blob: Blob, *,
                     revised_at: dt.datetime | None = None) -> None:
    """Have the inspection report written before the transaction commits (read then).
    ``revised_at``: the report was completed later (the scan section of OCR); the rebuild
    takes the latest report by (``created_at``, ``revised_at``)."""
    sha, lock = blob.sha256, blob.retain_until
    evidence_id = inspection.evidence_id

    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        row = session.scalar(sa.select(Inspection).where(Inspection.evidence_id == evidence_id)
                             .execution_options(populate_existing=True))
        assert row is not None
        document = {
            "format": INSPECTION_FORMAT, "record": str(evidence_id), "sha256": sha,
            **{f: getattr(row, f) for f in ("status", "pdfa", "report", "warnings",
                                            "filled", "error", "created_at")}}
        if revised_at is not None:
            document["revised_at"] = revised_at
        key = f"{objects.INSPECTIONS}{evidence_id}/{objects.digest(document)}.json"
        return [Entry(key, document, lock)]

    objects.stage(session, f"inspection:{evidence_id}", build)


LINK_FORMAT = "evidence-archive.link/1"


def stage_link(session: Session, *, evidence_id: uuid.UUID, kind: str, action: str,
               target: dict[str, Any], by: str, at: dt.datetime) -> None:
    """Have a link of the record written before the transaction commits: ``kind`` names
    what it links to (``voucher``, ``rendition``), ``action`` is ``link``
    or ``unlink``. Readers ignore kinds they do not know. Locked like the record's bytes."""
    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        lock = session.scalar(sa.select(Blob.retain_until).join(
            Evidence, Evidence.blob_id == Blob.id).where(Evidence.id == evidence_id))
        document = {"format": LINK_FORMAT, "record": str(evidence_id), "kind": kind,
                    "action": action, "target": target, "by": by, "at": at}
        key = (f"{objects.LINKS}{evidence_id}/{objects.stamp(at)}-"
               f"{objects.digest(document)}.json")
        return [Entry(key, document, lock or catalogue.snapshot_lock())]

    objects.stage(session, f"link:{evidence_id}:{kind}:{action}:{objects.digest(target)}",
                  build)
