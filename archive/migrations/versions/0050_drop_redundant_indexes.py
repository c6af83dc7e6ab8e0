"""drop single-column evidence indexes that composite indexes now lead

Revision ID: 0050
Revises: 0040

fiscal_year, voucher_no and issuer_tax_id are the first columns of the composite indexes
of 0040, which serve the same lookups; keeping both only costs writes on every upload.
Plain DROP INDEX on both databases (no table rebuild on SQLite: the search triggers stay).
"""
from __future__ import annotations

from alembic import op

revision = '0050'
down_revision = '0040'
branch_labels = None
depends_on = None

REDUNDANT = {"ix_evidence_fiscal_year": "fiscal_year", "ix_evidence_voucher_no": "voucher_no",
             "ix_evidence_issuer_tax_id": "issuer_tax_id"}


def upgrade() -> None:
    for name in REDUNDANT:
        op.drop_index(name, table_name="evidence")


def downgrade() -> None:
    for name, column in REDUNDANT.items():
        op.create_index(name, "evidence", [column], unique=False)
