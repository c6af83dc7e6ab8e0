"""Disbursement vouchers (ฎีกา), the evidence linked to them, their findings and reviews,
and the required-evidence profile (versioned data with its basis text).

* ``disbursements``: one voucher, unique per (organisation, fiscal year, voucher number).
  ``complete`` and ``missing`` are maintained by the recompute (``service.recompute``) so
  that lists filter and show completeness without re-evaluating every voucher.
* ``disbursement_evidence``: a file's role in a voucher. One file may support several
  vouchers and play several roles. ``doc_key`` (issuer tax ID + document number as typed),
  ``file_doc_key`` (the same as the file itself says, from its inspection) and ``blob_id``
  are copies kept by the recompute: they are the keys the duplicate check looks up across
  every organisation, so they are indexed here rather than computed from JSON.
* ``disbursement_findings``: what the rules found, one row per finding, recomputed when the
  voucher, a link, a file's metadata or its inspection changes. ``related`` names the other
  vouchers involved (id and organisation) *for the archive*: readers see only those in
  their scope, the rest as a count.
* ``disbursement_reviews``: an auditor's review; never edited, a later one supersedes.
* ``disbursement_profiles`` / ``disbursement_profile_versions``: the required-evidence
  profile per kind, the split-purchase thresholds and window, with the basis text; every
  version kept, like retention schedules.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from archive import clock
from archive.db import Base, JSONType, Money, UTCDateTime
from archive.evidence import models as _evidence  # noqa: F401 - links' target
from archive.ids import uuid7
from archive.orgs import models as _orgs  # noqa: F401 - organisation FK target

KINDS = ("procurement", "travel", "payroll", "utilities", "other")
PAYMENT_METHODS = ("e_payment", "cheque", "cash")
ROLES = (
    "request_report", "purchase_order", "contract", "inspection_report", "invoice",
    "tax_invoice", "receipt", "payment_acknowledgement", "payment_certificate",
    "e_payment_report", "withholding_certificate", "travel_order", "travel_report",
    "payroll", "other",
)
FINDING_CODES = (
    "missing_evidence", "amount_mismatch", "payee_mismatch", "duplicate_invoice",
    "split_purchase", "paid_before_acceptance", "invalid_payee_tax_id",
)
REVIEW_OUTCOMES = ("no_observation", "observation")


class Disbursement(Base):
    """One disbursement voucher (ฎีกาขอเบิกเงิน) of an organisation."""

    __tablename__ = "disbursements"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "fiscal_year", "voucher_no",
                            name="uq_disbursements_org_year_voucher"),
        # Lists: scope + fiscal year in voucher-date order (keyset pages).
        sa.Index("ix_disbursements_org_year_date", "org_id", "fiscal_year", "voucher_date",
                 "id"),
        sa.Index("ix_disbursements_date", "voucher_date", "id"),
        # Split-purchase neighbours: one organisation, one payee, a window of dates.
        sa.Index("ix_disbursements_split", "org_id", "payee_tax_id", "voucher_date"),
        sa.Index("ix_disbursements_payee", "payee_tax_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid7)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    fiscal_year: Mapped[int] = mapped_column(sa.Integer)
    voucher_no: Mapped[str] = mapped_column(sa.String(100))
    voucher_date: Mapped[dt.date] = mapped_column(sa.Date())
    kind: Mapped[str] = mapped_column(sa.String(20))
    payee_name: Mapped[str] = mapped_column(sa.String(300))
    payee_tax_id: Mapped[str | None] = mapped_column(sa.String(13))
    gross_amount: Mapped[Decimal] = mapped_column(Money())
    withholding_tax: Mapped[Decimal | None] = mapped_column(Money())
    net_amount: Mapped[Decimal] = mapped_column(Money())
    payment_method: Mapped[str] = mapped_column(sa.String(20))
    payment_date: Mapped[dt.date | None] = mapped_column(sa.Date())
    budget_code: Mapped[str | None] = mapped_column(sa.String(100))
    expenditure_category: Mapped[str | None] = mapped_column(sa.String(200))
    procurement_method: Mapped[str | None] = mapped_column(sa.String(100))
    egp_project_no: Mapped[str | None] = mapped_column(sa.String(50))
    contract_no: Mapped[str | None] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.Text)
    # Maintained by the recompute: every required role present, and the missing groups.
    complete: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    missing: Mapped[list[list[str]]] = mapped_column(JSONType, default=list)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    computed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DisbursementHistory(Base):
    """A voucher's fields as they were before each change."""

    __tablename__ = "disbursement_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    disbursement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("disbursements.id"),
                                                       index=True)
    version: Mapped[int]
    values: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changed: Mapped[list[str]] = mapped_column(JSONType)
    changed_by: Mapped[str] = mapped_column(sa.String(100))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    reason: Mapped[str | None] = mapped_column(sa.Text)


class DisbursementEvidence(Base):
    """A file's role in a voucher."""

    __tablename__ = "disbursement_evidence"
    __table_args__ = (
        sa.Index("ix_disbursement_evidence_doc_key", "doc_key"),
        sa.Index("ix_disbursement_evidence_file_doc_key", "file_doc_key"),
        sa.Index("ix_disbursement_evidence_blob_id", "blob_id"),
    )

    disbursement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("disbursements.id"),
                                                       primary_key=True)
    evidence_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evidence.id"),
                                                   primary_key=True, index=True)
    role: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    blob_id: Mapped[int | None] = mapped_column(sa.Integer)
    doc_key: Mapped[str | None] = mapped_column(sa.String(130))
    file_doc_key: Mapped[str | None] = mapped_column(sa.String(130))
    linked_by: Mapped[str] = mapped_column(sa.String(100))
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class DisbursementFinding(Base):
    """One finding of the rules on one voucher (replaced on every recompute)."""

    __tablename__ = "disbursement_findings"
    # The list filtered by a finding is read from this table alone, in the list's order
    # (voucher date, then id, newest first): a province's vouchers with finding X by the
    # first index, everyone's in one fiscal year by the second, everyone's by the third.
    __table_args__ = (
        sa.Index("ix_disbursement_findings_code_org", "code", "org_id", "fiscal_year",
                 "voucher_date", "disbursement_id"),
        sa.Index("ix_disbursement_findings_code_year", "code", "fiscal_year", "voucher_date",
                 "disbursement_id"),
        sa.Index("ix_disbursement_findings_code_date", "code", "voucher_date",
                 "disbursement_id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    disbursement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("disbursements.id"),
                                                       index=True)
    org_id: Mapped[int] = mapped_column(sa.Integer)
    fiscal_year: Mapped[int] = mapped_column(sa.Integer)
    voucher_date: Mapped[dt.date] = mapped_column(sa.Date())   # the list's sort key
    code: Mapped[str] = mapped_column(sa.String(40))
    severity: Mapped[str] = mapped_column(sa.String(10))
    message: Mapped[str] = mapped_column(sa.Text)
    evidence_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Other vouchers involved: [{"id": "...", "org_id": 5}, ...] — filtered by scope on read.
    related: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class DisbursementReview(Base):
    """An auditor's review of a voucher; never edited (a later review supersedes)."""

    __tablename__ = "disbursement_reviews"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid7)
    disbursement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("disbursements.id"),
                                                       index=True)
    outcome: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str | None] = mapped_column(sa.Text)
    reviewer: Mapped[str] = mapped_column(sa.String(100))
    reviewer_role: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class DisbursementProfile(Base):
    """The rules' data: required evidence per kind, split thresholds and window, basis."""

    __tablename__ = "disbursement_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(50), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_by: Mapped[str] = mapped_column(sa.String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class DisbursementProfileVersion(Base):
    """Every version the profile has had (the current one included), with who and why."""

    __tablename__ = "disbursement_profile_versions"
    __table_args__ = (sa.UniqueConstraint("profile_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("disbursement_profiles.id"),
                                            index=True)
    version: Mapped[int]
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changed_by: Mapped[str] = mapped_column(sa.String(100))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    reason: Mapped[str | None] = mapped_column(sa.Text)
