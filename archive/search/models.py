"""Tables of the search domain: extracted text per blob and evidence-pack exports.

Besides these mapped tables the search migration creates database-specific objects that
are not part of the SQLAlchemy metadata (see ``archive/migrations/versions/0010_search.py``):

* PostgreSQL: the ``pg_trgm`` extension, the immutable functions ``archive_fold(text)``,
  ``evidence_search_meta(...)`` and ``evidence_search_all(meta, text)``, the columns
  ``evidence.search_meta`` (generated) and ``evidence.search_text`` (copied from the
  blob's text by triggers), one GIN trigram index on ``evidence_search_all`` of both
  (migration 0040) and descending sort indexes that put NULLs last; the column
  ``evidence.search_area`` (the record's province, kept by triggers) and a GIN index of
  the trigrams keyed by it (migration 0101), and one keyed by fiscal year and document
  type (migration 0102);
* SQLite: the ``search_meta`` table (one row of folded metadata per evidence record, kept
  by triggers on ``evidence``) and the FTS5 ``trigram`` tables ``search_meta_fts`` and
  ``blob_text_fts`` (kept by triggers).

:func:`is_unmapped` names them (FTS5 shadow tables included) so that migration
autogeneration can skip them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from archive import clock
from archive.db import Base, JSONType, UTCDateTime
from archive.evidence.models import Evidence
from archive.ids import uuid7

UNMAPPED_OBJECTS = frozenset({
    "search_meta", "search_text", "search_meta_fts", "blob_text_fts",
    "ix_evidence_search_meta_trgm", "ix_evidence_search_text_trgm",
    # migration 0040 (PostgreSQL): expression and descending indexes, raw DDL
    "ix_evidence_search_all_trgm", "ix_evidence_amount_desc_id",
    "ix_evidence_issue_date_desc_id",
    # migration 0099 (PostgreSQL): each organisation's trigrams, an expression index
    "ix_evidence_org_grams",
    # migration 0101 (PostgreSQL): each record's area (kept by triggers) and the trigrams
    # keyed by it, an expression index
    "search_area", "ix_evidence_area_grams",
    # migration 0102 (PostgreSQL): the trigrams keyed by fiscal year and document type
    "ix_evidence_year_grams",
})


def is_unmapped(name: str | None) -> bool:
    """True for the search objects created by raw DDL (for Alembic's ``include_name``)."""
    if not name:
        return False
    return name in UNMAPPED_OBJECTS or name.startswith(("search_meta_fts_", "blob_text_fts_"))

EXPORT_STATUSES = ("queued", "running", "done", "failed")


class BlobText(Base):
    """The text found in one blob (a PDF's text layer, an XML document's character data).

    ``text`` is NFC-normalised with invisible and control characters removed and runs of
    white space collapsed, so that a query typed in any canonical order of Thai marks
    finds it. ``error`` says why there is no text (a hostile or unreadable file).
    """

    __tablename__ = "blob_texts"

    blob_id: Mapped[int] = mapped_column(sa.ForeignKey("blobs.id"), primary_key=True,
                                         autoincrement=False)
    text: Mapped[str | None] = mapped_column(sa.Text)
    chars: Mapped[int] = mapped_column(default=0)
    extractor: Mapped[str] = mapped_column(sa.String(40))
    error: Mapped[str | None] = mapped_column(sa.Text)
    extracted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class Export(Base):
    """One evidence pack (a zipped BagIt bag) requested by someone, built by a job."""

    __tablename__ = "exports"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid7)
    requested_by: Mapped[str] = mapped_column(sa.String(100), index=True)
    requester_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requester_role: Mapped[str] = mapped_column(sa.String(20))
    # {"filters": {...}} or {"ids": [...]}: what was asked for, as validated.
    query: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(10), default="queued")
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    record_count: Mapped[int | None]
    # Organisations whose records the pack holds: who else may download it.
    org_ids: Mapped[list[int] | None] = mapped_column(JSONType)
    result_key: Mapped[str | None] = mapped_column(sa.String(200))
    result_version_id: Mapped[str | None] = mapped_column(sa.String(200))
    result_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    result_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# Sort orders of the search with their tie-breaker, and the scoped default order. Declared
# here (the search owns them) on the evidence table.
sa.Index("ix_evidence_issue_date_id", Evidence.issue_date, Evidence.id)
sa.Index("ix_evidence_amount_id", Evidence.amount, Evidence.id)
sa.Index("ix_evidence_created_at_id", Evidence.created_at, Evidence.id)
sa.Index("ix_evidence_org_id_created_at", Evidence.org_id, Evidence.created_at)
# Equality filters that match many records nation-wide (voucher numbers restart at 1 in
# every LAO each year; a large vendor has thousands of receipts), in the default order.
sa.Index("ix_evidence_voucher_no_created_at", Evidence.voucher_no, Evidence.created_at,
         Evidence.id)
sa.Index("ix_evidence_issuer_tax_id_created_at", Evidence.issuer_tax_id, Evidence.created_at,
         Evidence.id)
# Audit period and amount (the commonest auditor question: a date range and a threshold),
# with what a search needs besides (scope, default order, id), so that such a search and
# its count read the index alone.
# On PostgreSQL partial (migration 0094): a search excludes destroyed records, and then
# never reads the table to test the status.
NOT_DESTROYED = sa.text("status <> 'destroyed'")
sa.Index("ix_evidence_issue_date_amount", Evidence.issue_date, Evidence.amount,
         Evidence.org_id, Evidence.created_at, Evidence.id, postgresql_where=NOT_DESTROYED)
# The same within a scope (a province is ~120 organisations): one descent per organisation
# instead of the nation's whole period (migration 0094).
sa.Index("ix_evidence_org_id_issue_date_amount", Evidence.org_id, Evidence.issue_date,
         Evidence.amount, Evidence.created_at, Evidence.id, postgresql_where=NOT_DESTROYED)
# A voucher number, and a vendor's fiscal year, within a scope (0094): the scope's
# matches only, not the nation's thousands then filtered.
sa.Index("ix_evidence_voucher_no_org_id", Evidence.voucher_no, Evidence.org_id)
sa.Index("ix_evidence_issuer_tax_id_fiscal_year_org_id", Evidence.issuer_tax_id,
         Evidence.fiscal_year, Evidence.org_id)
# The audit unit (an LAO's fiscal year) by document type and amount, e.g. the receipts of
# FY 2568 over a materiality threshold (``archive export --fiscal-year 2568 --doc-type
# receipt``): combined with the trigram index, a text query within it reads a quarter of
# the rows that the fiscal year alone would leave.
sa.Index("ix_evidence_fiscal_year_doc_type_amount", Evidence.fiscal_year, Evidence.doc_type,
         Evidence.amount)
# Each fiscal year's first and last upload, one descent each (migration 0103): which years
# a national text search in upload order must look in for its page (search service,
# ``_page_by_years``).
sa.Index("ix_evidence_fiscal_year_created_at", Evidence.fiscal_year, Evidence.created_at)
