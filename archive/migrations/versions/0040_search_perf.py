"""search speed: one trigram index over all searchable text, indexes for the search orders

Revision ID: 0040
Revises: 0030

Plain ``CREATE INDEX`` on both databases: nothing here recreates ``evidence`` or
``blob_texts`` (SQLite would drop their search triggers with the table).

PostgreSQL:

* ``evidence_search_all(search_meta, search_text)``: the folded metadata and the folded
  extracted text joined by U+001F (no normalised query contains it, so no match spans
  two fields), with ONE ``pg_trgm`` GIN index instead of one per column (dropped): a
  text query reads one posting list per trigram instead of two (the same words are
  usually in both texts). Statistics target 500 on the expression, so that the planner
  tells a common word (walk the sort order and stop after one page; estimate the total)
  from a rare one (read the index, count, sort): for words each in 2.8% of 1M records
  the estimates ranged from 0.8% to 4.4% at target 250 (one of them under the 10,000
  that decides whether to count) and from 1.4% to 4.6% at 500; 1000 is steadier but
  costs another millisecond of planning per text search.
* ``(amount DESC NULLS LAST, id DESC)`` and ``(issue_date DESC NULLS LAST, id DESC)``:
  the descending orders of the search put records without the key last, which a
  backward scan of the ascending indexes cannot give (it puts NULLs first).

Both databases (declared in ``archive/search/models.py``):

* ``(voucher_no, created_at, id)`` and ``(issuer_tax_id, created_at, id)``: the two
  equality filters that match many records nation-wide (every LAO numbers its vouchers
  from 1 each year; a large vendor has thousands of receipts), in the default order
  (newest upload first): the first page is read in order from the index.
* ``(issue_date, amount, org_id, created_at, id)``: an audit period and an amount
  threshold, with the scope and the default order, so that such a search and its count
  read this index alone.
* ``(fiscal_year, doc_type, amount)``: the audit unit (a fiscal year) by document type
  and amount threshold, e.g. ``archive export --fiscal-year 2568 --doc-type receipt``;
  with a text query, it narrows the rows read after the trigram index to a quarter of
  those the fiscal year alone leaves.

Creating the indexes locks writes to ``evidence`` while they are built (about 75 s at
1,000,000 records on 2 cores).
"""
from __future__ import annotations

from alembic import op

revision = '0040'
down_revision = '0030'
branch_labels = None
depends_on = None

PG_UP = [
    """CREATE OR REPLACE FUNCTION evidence_search_all(meta text, body text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT coalesce(meta, '') || chr(31) || coalesce(body, '') $$""",
    """CREATE INDEX ix_evidence_search_all_trgm ON evidence
       USING gin (evidence_search_all(search_meta, search_text) gin_trgm_ops)""",
    "ALTER INDEX ix_evidence_search_all_trgm ALTER COLUMN 1 SET STATISTICS 500",
    "DROP INDEX IF EXISTS ix_evidence_search_meta_trgm",
    "DROP INDEX IF EXISTS ix_evidence_search_text_trgm",
    "CREATE INDEX ix_evidence_amount_desc_id ON evidence (amount DESC NULLS LAST, id DESC)",
    """CREATE INDEX ix_evidence_issue_date_desc_id ON evidence
       (issue_date DESC NULLS LAST, id DESC)""",
    # statistics for the new expression, so the first searches are planned well
    "ANALYZE evidence",
]

PG_DOWN = [
    "DROP INDEX IF EXISTS ix_evidence_issue_date_desc_id",
    "DROP INDEX IF EXISTS ix_evidence_amount_desc_id",
    "CREATE INDEX ix_evidence_search_meta_trgm ON evidence USING gin (search_meta gin_trgm_ops)",
    "CREATE INDEX ix_evidence_search_text_trgm ON evidence USING gin (search_text gin_trgm_ops)",
    "DROP INDEX IF EXISTS ix_evidence_search_all_trgm",
    "DROP FUNCTION IF EXISTS evidence_search_all(text, text)",
]


def upgrade() -> None:
    op.create_index('ix_evidence_voucher_no_created_at', 'evidence',
                    ['voucher_no', 'created_at', 'id'], unique=False)
    op.create_index('ix_evidence_issuer_tax_id_created_at', 'evidence',
                    ['issuer_tax_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_evidence_issue_date_amount', 'evidence',
                    ['issue_date', 'amount', 'org_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_evidence_fiscal_year_doc_type_amount', 'evidence',
                    ['fiscal_year', 'doc_type', 'amount'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_DOWN:
            op.execute(statement)
    op.drop_index('ix_evidence_fiscal_year_doc_type_amount', table_name='evidence')
    op.drop_index('ix_evidence_issue_date_amount', table_name='evidence')
    op.drop_index('ix_evidence_issuer_tax_id_created_at', table_name='evidence')
    op.drop_index('ix_evidence_voucher_no_created_at', table_name='evidence')
