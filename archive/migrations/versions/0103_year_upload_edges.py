"""search at 10 M records: each fiscal year's first and last upload, by one descent

Revision ID: 0103
Revises: 0102

A national text search with no fiscal year, listed by upload time (the default order),
of a word in some tens of thousands of records: the nation's trigram index gives too many
candidates to read them all for one page, and walking the upload order from the newest
record tests the text of every row it passes (``ทรัพย์ทวี`` at 10 M: ~60,000 rows for a
page of 51, 170 ms). Its newest matches are in the fiscal years uploaded last, which the
trigrams keyed by fiscal year (0102) find directly, if the search knows when each year's
uploads begin and end (``archive/search/service.py``, ``_page_by_years``).

``ix_evidence_fiscal_year_created_at``: a B-tree on (fiscal_year, created_at): a year's
earliest and latest upload are one descent each. Both databases (the model declares it;
SQLite's search does not use it).
"""
from __future__ import annotations

from alembic import op

revision = '0103'
down_revision = '0102'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_evidence_fiscal_year_created_at', 'evidence',
                    ['fiscal_year', 'created_at'], unique=False, if_not_exists=True)


def downgrade() -> None:
    op.drop_index('ix_evidence_fiscal_year_created_at', table_name='evidence')
