"""Legal holds and audit closures in the store (issue 18; see :mod:`archive.catalogue`).

Retention depends on them — a held record is kept indefinitely, a closure with no
objection sets the final date —, so the store describes them and
``archive rebuild --from-store`` restores them:

* ``catalogue/holds/<hold id>/<time>-<sha256>.json``: the hold when placed and again when
  released (the latest object is its state). Beside its fields, the records it covers,
  each with the ``retain_until`` it had when the object was written: the date decided
  before the hold (a hold keeps indefinitely, and a date is only ever extended), which
  the rebuild restores as the floor of the record's recomputed date. Records that join a
  hold later (archived after an objection, linked to a held voucher) are not listed: the
  retention recompute attaches them again from the hold's criteria.
* ``catalogue/closures/<org id:09d>/<time>-<sha256>.json``: a State Audit Office closure
  (never edited).

Locked ``DEFAULT_RETENTION_YEARS`` from their writing (the snapshot lock), or as long as
the bytes of the records they cover or close if later; the lock sync extends them as those
locks move (:mod:`archive.retention.locks`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.catalogue import objects
from archive.catalogue.objects import Catalogue, Entry
from archive.disbursements.models import Disbursement, DisbursementEvidence
from archive.evidence.models import Blob, Evidence
from archive.orgs.models import Organisation
from archive.retention.models import AuditClosure, LegalHold, LegalHoldItem

HOLD_FORMAT = "evidence-archive.legal-hold/1"
CLOSURE_FORMAT = "evidence-archive.audit-closure/1"
HOLD_FIELDS = ("kind", "reason", "criteria", "org_id", "fiscal_year", "org_ids", "status",
               "created_by", "created_at", "released_by", "released_at", "release_reason")
ITEM_FIELDS = ("evidence_id", "added_at", "retain_until")
CLOSURE_FIELDS = ("id", "org_id", "fiscal_year", "result", "closed_on", "reference",
                  "recorded_by", "recorded_at", "hold_id")


def hold_document(session: Session, hold_id: uuid.UUID) -> dict[str, Any]:
    hold = session.scalar(sa.select(LegalHold).where(LegalHold.id == hold_id)
                          .execution_options(populate_existing=True))
    assert hold is not None
    items = session.execute(
        sa.select(LegalHoldItem.evidence_id, LegalHoldItem.added_at, Evidence.retain_until)
        .join(Evidence, Evidence.id == LegalHoldItem.evidence_id)
        .where(LegalHoldItem.hold_id == hold_id).order_by(LegalHoldItem.evidence_id))
    return {"format": HOLD_FORMAT, "id": str(hold.id),
            **{f: getattr(hold, f) for f in HOLD_FIELDS},
            "item_fields": list(ITEM_FIELDS), "items": [list(row) for row in items]}


def hold_key(document: dict[str, Any]) -> str:
    at = document["released_at"] or document["created_at"]
    return f"{objects.HOLDS}{document['id']}/{objects.stamp(at)}-{objects.digest(document)}.json"


def _at_least(catalogue: Catalogue, files: dt.datetime | None) -> dt.datetime:
    lock = catalogue.snapshot_lock()
    return max(lock, files) if files is not None else lock


def hold_lock(session: Session, catalogue: Catalogue, hold_id: uuid.UUID) -> dt.datetime:
    """The snapshot lock, or the latest lock of its records' bytes if later."""
    return _at_least(catalogue, session.scalar(
        sa.select(sa.func.max(Blob.retain_until))
        .join(Evidence, Evidence.blob_id == Blob.id)
        .join(LegalHoldItem, LegalHoldItem.evidence_id == Evidence.id)
        .where(LegalHoldItem.hold_id == hold_id)))


def closure_lock(session: Session, catalogue: Catalogue, closure: AuditClosure) -> dt.datetime:
    """The snapshot lock, or the latest lock of the bytes of the records it closes if later."""
    return _at_least(catalogue, closed_records_lock(session, closure.org_id,
                                                    closure.fiscal_year))


def closed_records_lock(session: Session, org_id: int, fiscal_year: int) -> dt.datetime | None:
    """The latest lock of the bytes of the records a closure of this organisation and year
    closes: its records of that year, and the files of its vouchers of that year."""
    own = sa.select(Evidence.blob_id).where(Evidence.org_id == org_id,
                                            Evidence.fiscal_year == fiscal_year)
    by_voucher = (sa.select(Evidence.blob_id)
                  .join(DisbursementEvidence, DisbursementEvidence.evidence_id == Evidence.id)
                  .join(Disbursement, Disbursement.id == DisbursementEvidence.disbursement_id)
                  .where(Disbursement.org_id == org_id, Disbursement.fiscal_year == fiscal_year))
    return session.scalar(sa.select(sa.func.max(Blob.retain_until))
                          .where(sa.or_(Blob.id.in_(own), Blob.id.in_(by_voucher))))


def stage_hold(session: Session, hold_id: uuid.UUID) -> None:
    """Have the hold's state (placed or released) written before the transaction commits."""
    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        document = hold_document(session, hold_id)
        return [Entry(hold_key(document), document, hold_lock(session, catalogue, hold_id))]

    objects.stage(session, f"hold:{hold_id}", build)


def closure_document(session: Session, closure: AuditClosure) -> dict[str, Any]:
    code = session.scalar(sa.select(Organisation.code).where(Organisation.id == closure.org_id))
    return {"format": CLOSURE_FORMAT, "org_code": code,
            **{f: getattr(closure, f) for f in CLOSURE_FIELDS}}


def closure_key(document: dict[str, Any]) -> str:
    return (f"{objects.CLOSURES}{document['org_id']:09d}/{objects.stamp(document['recorded_at'])}"
            f"-{objects.digest(document)}.json")


def stage_closure(session: Session, closure_id: int) -> None:
    """Have the closure written before the transaction commits (read then: its hold)."""
    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        closure = session.get(AuditClosure, closure_id)
        assert closure is not None
        document = closure_document(session, closure)
        return [Entry(closure_key(document), document,
                      closure_lock(session, catalogue, closure))]

    objects.stage(session, f"closure:{closure_id}", build)
