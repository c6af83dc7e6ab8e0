"""deliberate duplicates: a record that knowingly repeats bytes already archived

Revision ID: 0093
Revises: 0090

``evidence.duplicate_allowed``: true when the record was archived although the same
bytes were already archived for its organisation, because the uploader said it was
deliberate (``allow_duplicate``; issue 16 item 10). Without it such an upload is refused
(409 with the existing record). Existing rows: false (the old behaviour recorded nothing).
A plain ADD COLUMN on both databases: SQLite keeps the search triggers of the table.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0093'
down_revision = '0090'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evidence", sa.Column("duplicate_allowed", sa.Boolean(), nullable=False,
                                        server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("evidence", recreate="never") as batch:
        batch.drop_column("duplicate_allowed")
