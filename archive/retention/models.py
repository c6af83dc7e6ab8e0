"""Tables of the retention domain: audit closures, legal holds, heads of agency and the
disposition workflow (lists, committee, votes, items, certificates).

Registered in the metadata when this module is imported (``archive.retention`` is imported
by the API, the CLI and the workers); the migration ``0020`` creates them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from archive import clock
from archive.db import Base, JSONType, UTCDateTime
from archive.ids import uuid7

CLOSURE_RESULTS = ("no_objection", "objection")
HOLD_KINDS = ("records", "filter", "audit_objection")

# draft → committee_review → committee_approved → head_approved → archives_review →
# executing → executed; or closed early: rejected (head or National Archives said no) /
# empty (every item withdrawn). "executable" is not stored: it is archives_review plus
# either recorded consent or a review period that ended without objection.
LIST_STATUSES = ("draft", "committee_review", "committee_approved", "head_approved",
                 "archives_review", "executing", "executed", "rejected", "empty")
OPEN_STATUSES = ("draft", "committee_review", "committee_approved", "head_approved",
                 "archives_review", "executing")
ITEM_ACTIONS = ("destroy", "keep", "transfer", "remove")
# listed → destroyed | kept | transferred | removed | blocked (held when executed)
ITEM_STATUSES = ("listed", "destroyed", "kept", "transferred", "removed", "blocked")
VOTES = ("approve", "object")
FUNCTIONS = ("chair", "member")


class AuditClosure(Base):
    """The State Audit Office (สตง.) closed its audit of an organisation's fiscal year."""

    __tablename__ = "audit_closures"
    __table_args__ = (sa.Index("ix_audit_closures_org_fy", "org_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    fiscal_year: Mapped[int]
    result: Mapped[str] = mapped_column(sa.String(20))
    closed_on: Mapped[dt.date] = mapped_column(sa.Date())
    reference: Mapped[str | None] = mapped_column(sa.String(200))   # the SAO letter
    recorded_by: Mapped[str] = mapped_column(sa.String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    hold_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("legal_holds.id"))


class LegalHold(Base):
    """A legal hold: while active, the records it covers cannot be disposed of."""

    __tablename__ = "legal_holds"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid7)
    kind: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.Text)
    # For "filter": the filters as given; for "audit_objection": org and fiscal year.
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # An objection hold also covers records of that organisation and year archived later.
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    fiscal_year: Mapped[int | None]
    # Organisations whose records it covers: who may see the hold.
    org_ids: Mapped[list[int]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(10), default="active", index=True)
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    released_by: Mapped[str | None] = mapped_column(sa.String(100))
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    release_reason: Mapped[str | None] = mapped_column(sa.Text)


class LegalHoldItem(Base):
    __tablename__ = "legal_hold_items"

    hold_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("legal_holds.id"),
                                               primary_key=True)
    evidence_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evidence.id"),
                                                   primary_key=True, index=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class AgencyHead(Base):
    """Who approves disposition lists as head of agency (หัวหน้าส่วนราชการ) for an
    organisation. Assigned by an administrator; the head cannot sit on the committee of a
    list they approve."""

    __tablename__ = "agency_heads"

    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    assigned_by: Mapped[str] = mapped_column(sa.String(100))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class DispositionList(Base):
    """A list of records proposed for destruction (บัญชีหนังสือขอทำลาย, form 25) for one
    organisation, and every step it went through."""

    __tablename__ = "disposition_lists"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid7)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    year_be: Mapped[int]                   # the survey year (พ.ศ.)
    as_of: Mapped[dt.date] = mapped_column(sa.Date())
    status: Mapped[str] = mapped_column(sa.String(20), default="draft", index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # Committee (ข้อ 68)
    committee_order_ref: Mapped[str | None] = mapped_column(sa.String(200))
    committee_appointed_by: Mapped[str | None] = mapped_column(sa.String(100))
    committee_appointed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    committee_approved_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    committee_approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Head of agency
    head_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    head_decision: Mapped[str | None] = mapped_column(sa.String(10))
    head_comment: Mapped[str | None] = mapped_column(sa.Text)
    head_decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # National Archives (Fine Arts Department) review
    archives_sent_on: Mapped[dt.date | None] = mapped_column(sa.Date())
    archives_sent_by: Mapped[str | None] = mapped_column(sa.String(100))
    archives_reference: Mapped[str | None] = mapped_column(sa.String(200))
    archives_review_days: Mapped[int | None]
    archives_result: Mapped[str | None] = mapped_column(sa.String(20))  # consent | objection
    archives_responded_on: Mapped[dt.date | None] = mapped_column(sa.Date())
    archives_comment: Mapped[str | None] = mapped_column(sa.Text)
    archives_recorded_by: Mapped[str | None] = mapped_column(sa.String(100))
    # Execution
    execute_requested_by: Mapped[str | None] = mapped_column(sa.String(100))
    execute_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    executed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    purge_pending: Mapped[bool] = mapped_column(default=False)
    closed_reason: Mapped[str | None] = mapped_column(sa.Text)


class CommitteeMember(Base):
    __tablename__ = "disposition_committee"

    list_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("disposition_lists.id"),
                                               primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    function: Mapped[str] = mapped_column(sa.String(10))


class DispositionItem(Base):
    """One record on a list, with the fields of form 25 as they were when listed."""

    __tablename__ = "disposition_items"
    __table_args__ = (sa.UniqueConstraint("list_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("disposition_lists.id"),
                                               index=True)
    seq: Mapped[int]                                         # ลำดับที่
    evidence_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("evidence.id"), index=True)
    # Set while the item is open (a record is on at most one open list at a time).
    open_evidence_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, unique=True)
    file_code: Mapped[str] = mapped_column(sa.String(50))     # รหัสแฟ้ม: the schedule code
    doc_reference: Mapped[str | None] = mapped_column(sa.String(200))   # ที่
    doc_date: Mapped[dt.date | None] = mapped_column(sa.Date())          # ลงวันที่
    subject: Mapped[str] = mapped_column(sa.Text)                        # เรื่อง
    retention_period: Mapped[str] = mapped_column(sa.Text)               # อายุการเก็บ
    reason: Mapped[str] = mapped_column(sa.Text)                         # เหตุที่ขอทำลาย
    retain_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(sa.String(10), default="destroy")
    keep_until: Mapped[dt.date | None] = mapped_column(sa.Date())
    status: Mapped[str] = mapped_column(sa.String(12), default="listed")
    note: Mapped[str | None] = mapped_column(sa.Text)                    # การพิจารณา/หมายเหตุ
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class DispositionVote(Base):
    """One committee member's approval of, or objection to, one item."""

    __tablename__ = "disposition_votes"
    __table_args__ = (sa.UniqueConstraint("item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("disposition_items.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    vote: Mapped[str] = mapped_column(sa.String(10))
    action: Mapped[str | None] = mapped_column(sa.String(10))   # for objections
    keep_until: Mapped[dt.date | None] = mapped_column(sa.Date())
    comment: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class DispositionCertificate(Base):
    """A destruction certificate written into the locked store (JSON and HTML)."""

    __tablename__ = "disposition_certificates"
    __table_args__ = (sa.UniqueConstraint("list_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("disposition_lists.id"),
                                               index=True)
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(20))      # execution | purge
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    json_key: Mapped[str] = mapped_column(sa.String(200))
    json_version: Mapped[str | None] = mapped_column(sa.String(200))
    html_sha256: Mapped[str] = mapped_column(sa.String(64))
    html_size: Mapped[int]
    html_key: Mapped[str] = mapped_column(sa.String(200))
    html_version: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
