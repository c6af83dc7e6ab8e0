"""evidence: two B-trees another index already covers are dropped

Revision ID: 0105
Revises: 0104

``ix_evidence_created_at (created_at)`` is the first column of
``ix_evidence_created_at_id (created_at, id)``, and ``ix_evidence_org_id (org_id)`` the
first column of ``ix_evidence_org_id_created_at (org_id, created_at)``: every lookup or
order either one serves, the wider index serves with one more descent's worth of key.
Each record paid for both on every insert and kept them for ever: 29–31 bytes per record
measured at 10,000,000 records (~12 GB at 400 M, ``docs/scale.md``). At 10 M the search
benchmark ran as fast without them as with them (both built again for three runs, in which
the planner used them 29 and 2,304 times: the wider indexes then took those lookups).

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
