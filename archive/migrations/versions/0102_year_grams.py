"""search at 10 M records: text keyed by fiscal year and document type (PostgreSQL)

Revision ID: 0102
Revises: 0101

The auditor's commonest national question besides a number is the audit unit and a word:
"the receipts of FY 2565 that mention วัสดุสำนักงาน" (``bench/search.py``'s combination,
``docs/scale.md``). Measured at 10,000,000 records it missed its 100 ms target (p95
320–345 ms, session 29): the trigram index gave every record of the nation containing
the word's trigrams (a common word: ~278,000 candidates, ~204 ms to read the posting
lists) before the fiscal year and the document type kept ~3 % of them.

``ix_evidence_year_grams``: GIN over the same hashed trigrams as ``ix_evidence_area_grams``
(``evidence_org_grams`` of migration 0099), keyed in their upper 32 bits by
``evidence_year_key(fiscal_year, doc_type)``: the fiscal year in the upper 16 bits, a
16-bit hash of the document type below. A search with a fiscal year and a document type
looks up that year's and type's posting lists only; with a fiscal year alone, one per
document type, OR-ed (``archive/search/service.py``). Hash collisions (two document types
with the same 16 bits) only add candidates: every candidate is tested on its text and its
filters as before.

Building it locks writes to ``evidence`` while it is built, by one process: at 10 M
records, see docs/scale.md. On a large archive an operator can build it beforehand with
``CREATE INDEX CONCURRENTLY`` under the same name and definition (after creating the
function as here): the migration creates it only if missing. SQLite: nothing.
"""
from __future__ import annotations

from alembic import op

revision = '0102'
down_revision = '0101'
branch_labels = None
depends_on = None

YEAR_KEY_FUNCTION = """
CREATE OR REPLACE FUNCTION evidence_year_key(fy integer, doc_type text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT (fy << 16) | (hashtext(doc_type) & 65535) $$
"""

YEAR_GRAMS_INDEX = """CREATE INDEX IF NOT EXISTS ix_evidence_year_grams ON evidence USING gin
    (evidence_org_grams(evidence_year_key(fiscal_year, doc_type),
                        evidence_search_all(search_meta, search_text)))"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(YEAR_KEY_FUNCTION)
    op.execute(YEAR_GRAMS_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_evidence_year_grams")
    op.execute("DROP FUNCTION IF EXISTS evidence_year_key(integer, text)")
