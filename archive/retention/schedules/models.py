"""Retention data the core itself needs.

* **Schedules** (``retention_schedules``): the retention classes with their legal basis,
  seeded with the default schedule of DESIGN.md. Ingest assigns one to every record from
  its document type (``retention_doc_types``), in the same transaction. Edits keep every
  previous version in ``retention_schedule_versions``.
* **Tombstones** (``tombstones``): what is left of a record after an executed disposition
  — its metadata, SHA-256, schedule, approvals, who destroyed it, when and why. Reading
  the content of a destroyed record answers 410 with the tombstone, so the core reads it.

The rules that compute dates from schedules, the holds and the disposition workflow live
beside this package in ``archive/retention/`` (which imports this; never the other way round).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from archive import clock
from archive.db import Base, JSONType, UTCDateTime

# How the retention period is counted (the "counted from" column of the schedule):
#   fiscal_year_end  keep_years after the end of the record's fiscal year (30 Sep)
#   audit_closure    audited_keep_years after the State Audit Office closed the audit of
#                    that organisation and fiscal year with no objection; keep_years
#                    after the fiscal year end while not audited
#   permanent        never eligible (e.g. records the National Archives will take)
#   with_parent      disposed with the parent record (audit trail, reports): not by date
TRIGGERS = ("fiscal_year_end", "audit_closure", "permanent", "with_parent")
# What a disposition review proposes once the period has passed (the "then" column).
ACTIONS = ("review", "destroy", "transfer", "destroy_or_transfer", "with_parent")


class RetentionSchedule(Base):
    """One retention class, in its current version."""

    __tablename__ = "retention_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(50), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    title_th: Mapped[str] = mapped_column(sa.String(300))
    title_en: Mapped[str] = mapped_column(sa.String(300))
    trigger: Mapped[str] = mapped_column(sa.String(30))
    keep_years: Mapped[int | None] = mapped_column(sa.Integer)
    audited_keep_years: Mapped[int | None] = mapped_column(sa.Integer)
    action: Mapped[str] = mapped_column(sa.String(30))
    legal_basis_th: Mapped[str] = mapped_column(sa.Text)
    legal_basis_en: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class RetentionScheduleVersion(Base):
    """Every version a schedule has had (the current one included), with who and why."""

    __tablename__ = "retention_schedule_versions"
    __table_args__ = (sa.UniqueConstraint("schedule_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("retention_schedules.id"),
                                             index=True)
    version: Mapped[int]
    values: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changed_by: Mapped[str] = mapped_column(sa.String(100))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    reason: Mapped[str | None] = mapped_column(sa.Text)


class DocTypeSchedule(Base):
    """Which schedule a document type gets at ingest (one row per document type)."""

    __tablename__ = "retention_doc_types"

    doc_type: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("retention_schedules.id"))
    updated_by: Mapped[str] = mapped_column(sa.String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Tombstone(Base):
    """What remains of a destroyed record: enough to prove what it was and that it was
    destroyed lawfully, nothing to reconstruct it from."""

    __tablename__ = "tombstones"

    evidence_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evidence.id"),
                                                   primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    blob_id: Mapped[int] = mapped_column(sa.ForeignKey("blobs.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    media_type: Mapped[str] = mapped_column(sa.String(100))
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)       # metadata at destruction
    schedule: Mapped[dict[str, Any]] = mapped_column(JSONType)     # code, version, basis
    retain_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    retention_basis: Mapped[str | None] = mapped_column(sa.Text)
    # The disposition list (``retention`` owns that table; no FK from the core to it).
    disposition_list_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    disposition_list_number: Mapped[str] = mapped_column(sa.String(60))
    approvals: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    reason: Mapped[str] = mapped_column(sa.Text)
    destroyed_by: Mapped[str] = mapped_column(sa.String(100))
    destroyed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
