"""Vouchers in the store (issue 18; see :mod:`archive.catalogue`).

What a voucher is made of that nothing else can give back is described in the store, so
that ``archive rebuild --from-store`` restores it:

* ``catalogue/vouchers/<voucher id>/<version:06d>-<sha256>.json``: the voucher as it is
  after each change (registered, corrected) — its fields, organisation (id and code),
  version, who registered it, and its whole history (every earlier version's values with
  who changed what, when and why), so the latest object alone restores the voucher;
* ``catalogue/reviews/<voucher id>/<review id>.json``: an auditor's review (a human
  decision: outcome and note), never edited;
* ``catalogue/profiles/<time>-<sha256>.json``: the required-evidence profile with every
  version (written when it changes; without one the default is seeded on first use);
* the files' links to vouchers are the records' own link objects
  (``catalogue/links/<evidence id>/…``, kind ``voucher``, written by the service).

Findings and completeness are not stored: they are derived (the rules over vouchers,
links, files and profile) and recomputed after a rebuild.

A voucher's objects and its reviews are locked ``DEFAULT_RETENTION_YEARS`` from their
writing (the snapshot lock), or as long as the bytes of its files if later; the lock sync
extends them as those locks move (:mod:`archive.retention.locks`). The profile is a
latest snapshot (``Catalogue.latest_snapshot_lock``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.catalogue import objects
from archive.catalogue.objects import Catalogue, Entry
from archive.disbursements.models import (
    Disbursement,
    DisbursementEvidence,
    DisbursementHistory,
    DisbursementProfile,
    DisbursementProfileVersion,
    DisbursementReview,
)
from archive.disbursements.schemas import VOUCHER_FIELDS
from archive.evidence.models import Blob, Evidence
from archive.orgs.models import Organisation

VOUCHER_FORMAT = "evidence-archive.voucher/1"
REVIEW_FORMAT = "evidence-archive.voucher-review/1"
PROFILE_FORMAT = "evidence-archive.disbursement-profile/1"
HISTORY_FIELDS = ("version", "values", "changed", "changed_by", "changed_at", "reason")
REVIEW_FIELDS = ("outcome", "note", "reviewer", "reviewer_role", "created_at")


def voucher_document(session: Session, voucher_id: uuid.UUID) -> dict[str, Any]:
    """The voucher as committed by this transaction, with its history."""
    voucher, org_code = session.execute(
        sa.select(Disbursement, Organisation.code)
        .join(Organisation, Organisation.id == Disbursement.org_id)
        .where(Disbursement.id == voucher_id)
        .execution_options(populate_existing=True)).one()
    history = session.scalars(sa.select(DisbursementHistory).where(
        DisbursementHistory.disbursement_id == voucher_id).order_by(DisbursementHistory.version))
    return {"format": VOUCHER_FORMAT, "id": str(voucher.id),
            "org": {"id": voucher.org_id, "code": org_code}, "version": voucher.version,
            "fields": {f: getattr(voucher, f) for f in VOUCHER_FIELDS},
            "created_by": voucher.created_by, "created_at": voucher.created_at,
            "updated_at": voucher.updated_at,
            "history": [{f: getattr(h, f) for f in HISTORY_FIELDS} for h in history]}


def voucher_key(document: dict[str, Any]) -> str:
    return (f"{objects.VOUCHERS}{document['id']}/{document['version']:06d}-"
            f"{objects.digest(document)}.json")


def voucher_lock(session: Session, catalogue: Catalogue, voucher_id: uuid.UUID) -> dt.datetime:
    """The snapshot lock, or the latest lock of the bytes of the voucher's files if later:
    a voucher described after its files were locked long lasts as long as they do."""
    files = session.scalar(
        sa.select(sa.func.max(Blob.retain_until))
        .join(Evidence, Evidence.blob_id == Blob.id)
        .join(DisbursementEvidence, DisbursementEvidence.evidence_id == Evidence.id)
        .where(DisbursementEvidence.disbursement_id == voucher_id))
    lock = catalogue.snapshot_lock()
    return max(lock, files) if files is not None else lock


def stage_voucher(session: Session, voucher_id: uuid.UUID) -> None:
    """Have the voucher's current state written before the transaction commits."""
    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        document = voucher_document(session, voucher_id)
        return [Entry(voucher_key(document), document,
                      voucher_lock(session, catalogue, voucher_id))]

    objects.stage(session, f"voucher:{voucher_id}", build)


def review_document(review: DisbursementReview) -> dict[str, Any]:
    return {"format": REVIEW_FORMAT, "id": str(review.id),
            "voucher": str(review.disbursement_id),
            **{f: getattr(review, f) for f in REVIEW_FIELDS}}


def review_key(review: DisbursementReview) -> str:
    return f"{objects.REVIEWS}{review.disbursement_id}/{review.id}.json"


def stage_review(session: Session, review: DisbursementReview) -> None:
    document = review_document(review)

    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        return [Entry(review_key(review), document,
                      voucher_lock(session, catalogue, review.disbursement_id))]

    objects.stage(session, f"review:{review.id}", build)


def profile_document(session: Session) -> dict[str, Any]:
    profiles = []
    for row in session.scalars(sa.select(DisbursementProfile).order_by(DisbursementProfile.id)
                               .execution_options(populate_existing=True)):
        versions = session.scalars(sa.select(DisbursementProfileVersion).where(
            DisbursementProfileVersion.profile_id == row.id)
            .order_by(DisbursementProfileVersion.version))
        profiles.append({
            "code": row.code, "version": row.version, "data": row.data,
            "updated_by": row.updated_by, "updated_at": row.updated_at,
            "versions": [{f: getattr(v, f) for f in ("version", "data", "changed_by",
                                                    "changed_at", "reason")}
                         for v in versions]})
    return {"format": PROFILE_FORMAT, "profiles": profiles}


def stage_profile(session: Session) -> None:
    """Have the profile, with every version, written before the transaction commits."""
    def build(session: Session, catalogue: Catalogue) -> list[Entry]:
        document = profile_document(session)
        latest = max((p["updated_at"] for p in document["profiles"]), default=None)
        key = f"{objects.PROFILES}{objects.stamp(latest)}-{objects.digest(document)}.json"
        return [Entry(key, document, catalogue.latest_snapshot_lock())]

    objects.stage(session, "disbursement_profile", build)
