"""retention: schedules (core), tombstones, retention columns on evidence, audit
closures, legal holds, heads of agency and the disposition workflow

Revision ID: 0020
Revises: 0011

The columns on ``evidence`` are added with plain ``ADD COLUMN`` on both databases: on
SQLite a batch "move and copy" would recreate ``evidence`` and drop the search triggers of
0010. SQLite accepts a REFERENCES clause on an added column (NULL default), so the foreign
key to ``retention_schedules`` exists there too.

No seed rows here: ``archive.schedules.service.ensure_defaults`` inserts the default
schedule on first use (and again after a test truncates the tables).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import archive.db

revision = '0020'
down_revision = '0011'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')

TABLES = ('disposition_votes', 'tombstones', 'legal_hold_items', 'disposition_items',
          'disposition_committee', 'disposition_certificates', 'audit_closures',
          'retention_schedule_versions', 'retention_doc_types', 'legal_holds',
          'disposition_lists', 'agency_heads')


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    # A SQLite downgrade keeps evidence.schedule_id and the table it references (see there).
    leftover = sqlite and 'retention_schedules' in sa.inspect(bind).get_table_names()
    if not leftover:
        _create_schedules()
    _create_tables()
    if sqlite and not leftover:
        op.execute('ALTER TABLE evidence ADD COLUMN schedule_id INTEGER '
                   'REFERENCES retention_schedules (id)')
    elif not sqlite:
        op.add_column('evidence', sa.Column('schedule_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_evidence_schedule_id_retention_schedules'), 'evidence',
                              'retention_schedules', ['schedule_id'], ['id'])
    op.add_column('evidence', sa.Column('retain_until', archive.db.UTCDateTime(timezone=True),
                                        nullable=True))
    op.add_column('evidence', sa.Column('retention_basis', sa.Text(), nullable=True))
    op.create_index(op.f('ix_evidence_retain_until'), 'evidence', ['retain_until'], unique=False)
    op.create_index(op.f('ix_evidence_schedule_id'), 'evidence', ['schedule_id'], unique=False)


def _create_schedules() -> None:
    op.create_table('retention_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title_th', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('trigger', sa.String(length=30), nullable=False),
    sa.Column('keep_years', sa.Integer(), nullable=True),
    sa.Column('audited_keep_years', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('legal_basis_th', sa.Text(), nullable=False),
    sa.Column('legal_basis_en', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_schedules')),
    sa.UniqueConstraint('code', name=op.f('uq_retention_schedules_code'))
    )


def _create_tables() -> None:
    op.create_table('agency_heads',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.String(length=100), nullable=False),
    sa.Column('assigned_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_agency_heads_org_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agency_heads_user_id_users')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_agency_heads'))
    )
    op.create_table('disposition_lists',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('year_be', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('committee_order_ref', sa.String(length=200), nullable=True),
    sa.Column('committee_appointed_by', sa.String(length=100), nullable=True),
    sa.Column('committee_appointed_at', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('committee_approved_by', sa.Integer(), nullable=True),
    sa.Column('committee_approved_at', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('head_user_id', sa.Integer(), nullable=True),
    sa.Column('head_decision', sa.String(length=10), nullable=True),
    sa.Column('head_comment', sa.Text(), nullable=True),
    sa.Column('head_decided_at', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('archives_sent_on', sa.Date(), nullable=True),
    sa.Column('archives_sent_by', sa.String(length=100), nullable=True),
    sa.Column('archives_reference', sa.String(length=200), nullable=True),
    sa.Column('archives_review_days', sa.Integer(), nullable=True),
    sa.Column('archives_result', sa.String(length=20), nullable=True),
    sa.Column('archives_responded_on', sa.Date(), nullable=True),
    sa.Column('archives_comment', sa.Text(), nullable=True),
    sa.Column('archives_recorded_by', sa.String(length=100), nullable=True),
    sa.Column('execute_requested_by', sa.String(length=100), nullable=True),
    sa.Column('execute_requested_at', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('executed_at', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('purge_pending', sa.Boolean(), nullable=False),
    sa.Column('closed_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['committee_approved_by'], ['users.id'], name=op.f('fk_disposition_lists_committee_approved_by_users')),
    sa.ForeignKeyConstraint(['head_user_id'], ['users.id'], name=op.f('fk_disposition_lists_head_user_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_disposition_lists_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposition_lists')),
    sa.UniqueConstraint('number', name=op.f('uq_disposition_lists_number'))
    )
    op.create_index(op.f('ix_disposition_lists_org_id'), 'disposition_lists', ['org_id'], unique=False)
    op.create_index(op.f('ix_disposition_lists_status'), 'disposition_lists', ['status'], unique=False)
    op.create_table('legal_holds',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('criteria', JSON, nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('fiscal_year', sa.Integer(), nullable=True),
    sa.Column('org_ids', JSON, nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_by', sa.String(length=100), nullable=True),
    sa.Column('released_at', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_legal_holds_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds'))
    )
    op.create_index(op.f('ix_legal_holds_org_id'), 'legal_holds', ['org_id'], unique=False)
    op.create_index(op.f('ix_legal_holds_status'), 'legal_holds', ['status'], unique=False)
    op.create_table('retention_doc_types',
    sa.Column('doc_type', sa.String(length=30), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['retention_schedules.id'], name=op.f('fk_retention_doc_types_schedule_id_retention_schedules')),
    sa.PrimaryKeyConstraint('doc_type', name=op.f('pk_retention_doc_types'))
    )
    op.create_table('retention_schedule_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('values', JSON, nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('changed_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['schedule_id'], ['retention_schedules.id'], name=op.f('fk_retention_schedule_versions_schedule_id_retention_schedules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_schedule_versions')),
    sa.UniqueConstraint('schedule_id', 'version', name=op.f('uq_retention_schedule_versions_schedule_id'))
    )
    op.create_index(op.f('ix_retention_schedule_versions_schedule_id'), 'retention_schedule_versions', ['schedule_id'], unique=False)
    op.create_table('audit_closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hold_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['hold_id'], ['legal_holds.id'], name=op.f('fk_audit_closures_hold_id_legal_holds')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_audit_closures_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_closures'))
    )
    op.create_index('ix_audit_closures_org_fy', 'audit_closures', ['org_id', 'fiscal_year'], unique=False)
    op.create_table('disposition_certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('json_key', sa.String(length=200), nullable=False),
    sa.Column('json_version', sa.String(length=200), nullable=True),
    sa.Column('html_sha256', sa.String(length=64), nullable=False),
    sa.Column('html_size', sa.Integer(), nullable=False),
    sa.Column('html_key', sa.String(length=200), nullable=False),
    sa.Column('html_version', sa.String(length=200), nullable=True),
    sa.Column('created_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['disposition_lists.id'], name=op.f('fk_disposition_certificates_list_id_disposition_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposition_certificates')),
    sa.UniqueConstraint('list_id', 'seq', name=op.f('uq_disposition_certificates_list_id'))
    )
    op.create_index(op.f('ix_disposition_certificates_list_id'), 'disposition_certificates', ['list_id'], unique=False)
    op.create_table('disposition_committee',
    sa.Column('list_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('function', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['disposition_lists.id'], name=op.f('fk_disposition_committee_list_id_disposition_lists')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_disposition_committee_user_id_users')),
    sa.PrimaryKeyConstraint('list_id', 'user_id', name=op.f('pk_disposition_committee'))
    )
    op.create_table('disposition_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Uuid(), nullable=False),
    sa.Column('open_evidence_id', sa.Uuid(), nullable=True),
    sa.Column('file_code', sa.String(length=50), nullable=False),
    sa.Column('doc_reference', sa.String(length=200), nullable=True),
    sa.Column('doc_date', sa.Date(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('retention_period', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('retain_until', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('keep_until', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('result', JSON, nullable=True),
    sa.Column('updated_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_disposition_items_evidence_id_evidence')),
    sa.ForeignKeyConstraint(['list_id'], ['disposition_lists.id'], name=op.f('fk_disposition_items_list_id_disposition_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposition_items')),
    sa.UniqueConstraint('list_id', 'seq', name=op.f('uq_disposition_items_list_id')),
    sa.UniqueConstraint('open_evidence_id', name=op.f('uq_disposition_items_open_evidence_id'))
    )
    op.create_index(op.f('ix_disposition_items_evidence_id'), 'disposition_items', ['evidence_id'], unique=False)
    op.create_index(op.f('ix_disposition_items_list_id'), 'disposition_items', ['list_id'], unique=False)
    op.create_table('legal_hold_items',
    sa.Column('hold_id', sa.Uuid(), nullable=False),
    sa.Column('evidence_id', sa.Uuid(), nullable=False),
    sa.Column('added_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_legal_hold_items_evidence_id_evidence')),
    sa.ForeignKeyConstraint(['hold_id'], ['legal_holds.id'], name=op.f('fk_legal_hold_items_hold_id_legal_holds')),
    sa.PrimaryKeyConstraint('hold_id', 'evidence_id', name=op.f('pk_legal_hold_items'))
    )
    op.create_index(op.f('ix_legal_hold_items_evidence_id'), 'legal_hold_items', ['evidence_id'], unique=False)
    op.create_table('tombstones',
    sa.Column('evidence_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('blob_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('record', JSON, nullable=False),
    sa.Column('schedule', JSON, nullable=False),
    sa.Column('retain_until', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retention_basis', sa.Text(), nullable=True),
    sa.Column('disposition_list_id', sa.Uuid(), nullable=False),
    sa.Column('disposition_list_number', sa.String(length=60), nullable=False),
    sa.Column('approvals', JSON, nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('destroyed_by', sa.String(length=100), nullable=False),
    sa.Column('destroyed_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_tombstones_blob_id_blobs')),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_tombstones_evidence_id_evidence')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_tombstones_org_id_organisations')),
    sa.PrimaryKeyConstraint('evidence_id', name=op.f('pk_tombstones'))
    )
    op.create_index(op.f('ix_tombstones_blob_id'), 'tombstones', ['blob_id'], unique=False)
    op.create_index(op.f('ix_tombstones_disposition_list_id'), 'tombstones', ['disposition_list_id'], unique=False)
    op.create_index(op.f('ix_tombstones_org_id'), 'tombstones', ['org_id'], unique=False)
    op.create_index(op.f('ix_tombstones_sha256'), 'tombstones', ['sha256'], unique=False)
    op.create_table('disposition_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('vote', sa.String(length=10), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=True),
    sa.Column('keep_until', sa.Date(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['disposition_items.id'], name=op.f('fk_disposition_votes_item_id_disposition_items')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_disposition_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposition_votes')),
    sa.UniqueConstraint('item_id', 'user_id', name=op.f('uq_disposition_votes_item_id'))
    )
    op.create_index(op.f('ix_disposition_votes_item_id'), 'disposition_votes', ['item_id'], unique=False)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index(op.f('ix_evidence_schedule_id'), table_name='evidence')
    op.drop_index(op.f('ix_evidence_retain_until'), table_name='evidence')
    op.drop_column('evidence', 'retention_basis')
    op.drop_column('evidence', 'retain_until')
    if sqlite:
        # SQLite cannot drop a column that references another table without recreating
        # evidence (and losing the search triggers): the column and its table stay.
        pass
    else:
        op.drop_constraint(op.f('fk_evidence_schedule_id_retention_schedules'), 'evidence',
                           type_='foreignkey')
        op.drop_column('evidence', 'schedule_id')
    for table in TABLES:
        op.drop_table(table)
    if not sqlite:
        op.drop_table('retention_schedules')
