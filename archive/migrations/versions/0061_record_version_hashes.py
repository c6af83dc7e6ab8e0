"""version hashes of record metadata

Revision ID: 0061
Revises: 0050

Every metadata version of an evidence record carries a SHA-256 over its fields, its
blob's SHA-256 and the previous version's hash (``archive/evidence/versions.py``); the
audit event of that version records it too, which is what ``archive verify`` trusts.
Records created before this revision have no hash (NULL): ``archive verify`` lists them
as "unhashed (legacy)" until ``archive verify --seal-legacy`` seals their current state
with an audit event of its own (nothing is computed here: a migration writes no audit
events, and the hash is only worth what the chained event that records it is worth).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0061'
down_revision = '0050'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evidence", sa.Column("meta_hash", sa.String(64), nullable=True))
    op.add_column("evidence_history", sa.Column("meta_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence_history") as batch:
        batch.drop_column("meta_hash")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("meta_hash")
