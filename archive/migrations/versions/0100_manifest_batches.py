"""bulk ingest: a batch's version-1 manifests in one store object (issue 18)

Revision ID: 0100
Revises: 0099

``evidence.manifest_batch``: the batch object (``catalogue/batches/<uuid>.json``) that
holds this record's version-1 manifest, for records created by the fast path of a batch
upload (``POST /api/v1/evidence/batch``); NULL for every other record, whose version-1
manifest is an object of its own under ``catalogue/records/`` (all records before this
migration). Measured (docs/scale.md): on PostgreSQL + SeaweedFS the second PUT per record
(its manifest) was a quarter of the CPU a 50 KB batch-uploaded file costs.

No index: the column is read with the record (lock extension) or over the whole table
(``archive verify --catalogue-locks all``). Adding a nullable column without a default
rewrites nothing on PostgreSQL.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0100'
down_revision = '0099'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manifest_batch', sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('manifest_batch')
