from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from archive import clock
from archive.db import Base, JSONType, Money, UTCDateTime
from archive.doc_types import DOC_TYPES  # noqa: F401 - the vocabulary of evidence.doc_type
from archive.ids import uuid7
from archive.retention.schedules import models as _schedules  # noqa: F401 - evidence.schedule_id's target

# received → inspected | inspection_failed; destroyed after an executed disposition.
STATUSES = ("received", "inspected", "inspection_failed", "destroyed")


class Blob(Base):
    """One distinct sequence of bytes in the object store (deduplicated by SHA-256)."""

    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    media_type: Mapped[str] = mapped_column(sa.String(100))
    store_key: Mapped[str] = mapped_column(sa.String(200))
    version_id: Mapped[str | None] = mapped_column(sa.String(200))
    retain_until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    legal_hold: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # Set when the bytes were destroyed by an executed disposition (the row stays).
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Last fixity audit: when the stored bytes were re-read and re-hashed, and the verdict.
    fixity_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    fixity_ok: Mapped[bool | None] = mapped_column(sa.Boolean)


class Evidence(Base):
    """One piece of disbursement evidence: an uploaded file and what we know about it.

    The bytes never change (they live in the blob); the metadata may be corrected, and
    every correction keeps the previous values in ``evidence_history``.
    """

    __tablename__ = "evidence"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid7)
    # org_id and created_at lead composite indexes (archive/search/models.py) that serve
    # their lookups: no single-column indexes of their own (migration 0105).
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    blob_id: Mapped[int] = mapped_column(sa.ForeignKey("blobs.id"), index=True)
    doc_type: Mapped[str] = mapped_column(sa.String(30))
    # fiscal_year, voucher_no and issuer_tax_id lead composite indexes (migration 0040)
    # that serve both lookups and the sort orders; no single-column indexes of their own.
    fiscal_year: Mapped[int] = mapped_column(sa.Integer)
    # typed | issue_date | upload_date (defaulted from that day); NULL for records older
    # than migration 0080 (treated as typed).
    fiscal_year_source: Mapped[str | None] = mapped_column(sa.String(12))
    voucher_no: Mapped[str | None] = mapped_column(sa.String(100))
    doc_number: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    issue_date: Mapped[dt.date | None] = mapped_column(sa.Date())
    issuer_name: Mapped[str | None] = mapped_column(sa.String(300))
    issuer_tax_id: Mapped[str | None] = mapped_column(sa.String(13))
    issuer_branch: Mapped[str | None] = mapped_column(sa.String(5))
    amount: Mapped[Decimal | None] = mapped_column(Money())
    vat_amount: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(sa.String(3), default="THB")
    description: Mapped[str | None] = mapped_column(sa.Text)
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    client_media_type: Mapped[str | None] = mapped_column(sa.String(200))
    uploaded_by: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(20), default="received")
    # The PDF/A verdict (None = not checked yet) and whether a legal hold covers the record;
    # maintained by the inspection worker and the retention domain, filtered on by search.
    pdfa_compliant: Mapped[bool | None] = mapped_column(sa.Boolean)
    on_hold: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Archived although the same bytes were already archived for the organisation, because
    # the uploader said so (``allow_duplicate``); otherwise such an upload is refused.
    duplicate_allowed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Retention (set at ingest / by the retention jobs): the schedule assigned from the
    # document type, the date before which the record must not be destroyed (only ever
    # moved later; NULL until computed or when it cannot be), and what it was computed from.
    schedule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("retention_schedules.id"),
                                                    index=True)
    retain_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    retention_basis: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(default=1)
    # SHA-256 of this metadata version (archive/evidence/versions.py); its audit event
    # records the same value. NULL for records created before migration 0061 (legacy).
    meta_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # The batch object holding this record's version-1 manifest (a batch upload's fast
    # path: archive.catalogue.objects.batch_key); NULL: under catalogue/records/ like
    # every later version's (migration 0100).
    manifest_batch: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class EvidenceHistory(Base):
    """The metadata of a record as it was before each change."""

    __tablename__ = "evidence_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evidence.id"), index=True)
    version: Mapped[int]  # the version these values belonged to
    values: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changed: Mapped[list[str]] = mapped_column(JSONType)
    changed_by: Mapped[str] = mapped_column(sa.String(100))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    meta_hash: Mapped[str | None] = mapped_column(sa.String(64))  # of the version kept here


class Inspection(Base):
    """What the file says about itself: PDF/A report, e-invoice fields, signatures, scan
    resolution, and the cross-check against the typed metadata (one row per record)."""

    __tablename__ = "inspections"

    evidence_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evidence.id"), primary_key=True)
    blob_id: Mapped[int] = mapped_column(sa.ForeignKey("blobs.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20))           # inspected | failed
    pdfa: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    filled: Mapped[list[str]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Rendition(Base):
    """A derived file kept beside a record's original (never instead of it): today the
    searchable PDF/A rendition of a scan made by OCR. Its bytes are a blob of their own
    (content-addressed and locked like any evidence bytes); the original is untouched."""

    __tablename__ = "renditions"
    __table_args__ = (sa.UniqueConstraint("evidence_id", "kind", "source_blob_id"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid7)
    evidence_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evidence.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))                 # ocr_pdfa
    source_blob_id: Mapped[int] = mapped_column(sa.ForeignKey("blobs.id"))
    blob_id: Mapped[int] = mapped_column(sa.ForeignKey("blobs.id"), index=True)
    # The project's own PDF/A check of the rendition: the verdict and its report.
    pdfa_flavour: Mapped[str | None] = mapped_column(sa.String(4))
    pdfa_compliant: Mapped[bool | None] = mapped_column(sa.Boolean)
    pdfa: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # How it was made: tool, languages, pages read, seconds.
    made_by: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


def blob_users() -> sa.Subquery:
    """(blob_id, evidence_id, original) for every record and the bytes it holds: its
    original, and the renditions made from it. Whatever keeps, locks or deletes bytes by
    the records that use them (the lock sync, disposition's purge) reads this, so a
    rendition is kept exactly as long as its record, and destroyed with it."""
    return sa.union_all(
        sa.select(Evidence.blob_id.label("blob_id"), Evidence.id.label("evidence_id"),
                  sa.literal(True).label("original")),
        sa.select(Rendition.blob_id, Rendition.evidence_id, sa.literal(False)),
    ).subquery("blob_users")
