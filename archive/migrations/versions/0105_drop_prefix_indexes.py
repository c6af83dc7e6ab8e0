"""evidence: two B-trees another index already covers are dropped

Revision ID: 0105
Revises: 0104

``ix_evidence_created_at (created_at)`` is the first column of
``ix_evidence_created_at_id (created_at, id)``, and ``ix_evidence_org_id (org_id)`` the
first column of ``ix_evidence_org_id_created_at (org_id, created_at)``: every lookup or
order either one serves, the wider index serves with one more descent's worth of key.
Each record paid for both on every insert and kept them for ever: 29 bytes per record
measured at 10,000,000 records (11.8 GB at 400 M, ``docs/scale.md``). At 10 M the search
benchmark's plans used the first 101 times and the second never.

Both databases. ``DROP INDEX`` takes the table's lock for a moment only. Downgrade builds
them again (minutes at 10 M records).
"""
from __future__ import annotations

from alembic import op

revision = '0105'
down_revision = '0104'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_evidence_created_at', table_name='evidence', if_exists=True)
    op.drop_index('ix_evidence_org_id', table_name='evidence', if_exists=True)


def downgrade() -> None:
    op.create_index('ix_evidence_org_id', 'evidence', ['org_id'], unique=False,
                    if_not_exists=True)
    op.create_index('ix_evidence_created_at', 'evidence', ['created_at'], unique=False,
                    if_not_exists=True)
