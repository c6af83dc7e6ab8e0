"""workers: job start times, fixity state per blob, inspection reports, system checks

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import archive.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    # Plain ADD COLUMN (nullable): SQLite does not recreate the tables, so the search
    # triggers of 0010 stay in place.
    op.add_column('jobs', sa.Column('started_at', archive.db.UTCDateTime(timezone=True),
                                    nullable=True))
    op.add_column('blobs', sa.Column('fixity_checked_at', archive.db.UTCDateTime(timezone=True),
                                     nullable=True))
    op.add_column('blobs', sa.Column('fixity_ok', sa.Boolean(), nullable=True))
    op.create_index(op.f('ix_blobs_fixity_checked_at'), 'blobs', ['fixity_checked_at'])
    op.create_table('inspections',
    sa.Column('evidence_id', sa.Uuid(), nullable=False),
    sa.Column('blob_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('pdfa', JSON, nullable=True),
    sa.Column('report', JSON, nullable=True),
    sa.Column('warnings', JSON, nullable=False),
    sa.Column('filled', JSON, nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_inspections_blob_id_blobs')),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_inspections_evidence_id_evidence')),
    sa.PrimaryKeyConstraint('evidence_id', name=op.f('pk_inspections'))
    )
    op.create_index(op.f('ix_inspections_blob_id'), 'inspections', ['blob_id'])
    op.create_table('system_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('details', JSON, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_system_checks'))
    )
    op.create_index(op.f('ix_system_checks_kind'), 'system_checks', ['kind'])
    op.create_index(op.f('ix_system_checks_at'), 'system_checks', ['at'])


def downgrade() -> None:
    op.drop_table('system_checks')
    op.drop_table('inspections')
    op.drop_index(op.f('ix_blobs_fixity_checked_at'), 'blobs')
    op.drop_column('blobs', 'fixity_ok')
    op.drop_column('blobs', 'fixity_checked_at')
    op.drop_column('jobs', 'started_at')
