"""disbursements: vouchers, their evidence links, findings, reviews, history and the
required-evidence profile

Revision ID: 0070
Revises: 0061 (re-chained after main's 0061 at the merge; was 0050)

New tables only (nothing on ``evidence`` changes, so the SQLite search triggers stay). No
seed rows: ``archive.disbursements.service.ensure_profile`` inserts the default profile on
first use (and again after a test truncates the tables).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import archive.db

revision = '0070'
down_revision = '0061'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('disbursement_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('data', JSON, nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disbursement_profiles')),
    sa.UniqueConstraint('code', name=op.f('uq_disbursement_profiles_code'))
    )
    op.create_table('disbursement_profile_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('data', JSON, nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('changed_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['profile_id'], ['disbursement_profiles.id'], name=op.f('fk_disbursement_profile_versions_profile_id_disbursement_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disbursement_profile_versions')),
    sa.UniqueConstraint('profile_id', 'version', name=op.f('uq_disbursement_profile_versions_profile_id'))
    )
    op.create_index(op.f('ix_disbursement_profile_versions_profile_id'), 'disbursement_profile_versions', ['profile_id'], unique=False)

    op.create_table('disbursements',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('voucher_no', sa.String(length=100), nullable=False),
    sa.Column('voucher_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('payee_name', sa.String(length=300), nullable=False),
    sa.Column('payee_tax_id', sa.String(length=13), nullable=True),
    sa.Column('gross_amount', archive.db.Money(), nullable=False),
    sa.Column('withholding_tax', archive.db.Money(), nullable=True),
    sa.Column('net_amount', archive.db.Money(), nullable=False),
    sa.Column('payment_method', sa.String(length=20), nullable=False),
    sa.Column('payment_date', sa.Date(), nullable=True),
    sa.Column('budget_code', sa.String(length=100), nullable=True),
    sa.Column('expenditure_category', sa.String(length=200), nullable=True),
    sa.Column('procurement_method', sa.String(length=100), nullable=True),
    sa.Column('egp_project_no', sa.String(length=50), nullable=True),
    sa.Column('contract_no', sa.String(length=100), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('complete', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('missing', JSON, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('computed_at', archive.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_disbursements_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disbursements')),
    sa.UniqueConstraint('org_id', 'fiscal_year', 'voucher_no', name='uq_disbursements_org_year_voucher')
    )
    op.create_index('ix_disbursements_date', 'disbursements', ['voucher_date', 'id'], unique=False)
    op.create_index('ix_disbursements_org_year_date', 'disbursements', ['org_id', 'fiscal_year', 'voucher_date', 'id'], unique=False)
    op.create_index('ix_disbursements_payee', 'disbursements', ['payee_tax_id'], unique=False)
    op.create_index('ix_disbursements_split', 'disbursements', ['org_id', 'payee_tax_id', 'voucher_date'], unique=False)

    op.create_table('disbursement_evidence',
    sa.Column('disbursement_id', sa.Uuid(), nullable=False),
    sa.Column('evidence_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('blob_id', sa.Integer(), nullable=True),
    sa.Column('doc_key', sa.String(length=130), nullable=True),
    sa.Column('file_doc_key', sa.String(length=130), nullable=True),
    sa.Column('linked_by', sa.String(length=100), nullable=False),
    sa.Column('linked_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['disbursement_id'], ['disbursements.id'], name=op.f('fk_disbursement_evidence_disbursement_id_disbursements')),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_disbursement_evidence_evidence_id_evidence')),
    sa.PrimaryKeyConstraint('disbursement_id', 'evidence_id', 'role', name=op.f('pk_disbursement_evidence'))
    )
    op.create_index('ix_disbursement_evidence_blob_id', 'disbursement_evidence', ['blob_id'], unique=False)
    op.create_index('ix_disbursement_evidence_doc_key', 'disbursement_evidence', ['doc_key'], unique=False)
    op.create_index(op.f('ix_disbursement_evidence_evidence_id'), 'disbursement_evidence', ['evidence_id'], unique=False)
    op.create_index('ix_disbursement_evidence_file_doc_key', 'disbursement_evidence', ['file_doc_key'], unique=False)

    op.create_table('disbursement_findings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('disbursement_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('voucher_date', sa.Date(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('evidence_ids', JSON, nullable=False),
    sa.Column('related', JSON, nullable=False),
    sa.Column('details', JSON, nullable=False),
    sa.Column('computed_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['disbursement_id'], ['disbursements.id'], name=op.f('fk_disbursement_findings_disbursement_id_disbursements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disbursement_findings'))
    )
    op.create_index('ix_disbursement_findings_code_org', 'disbursement_findings', ['code', 'org_id', 'fiscal_year', 'voucher_date', 'disbursement_id'], unique=False)
    op.create_index('ix_disbursement_findings_code_year', 'disbursement_findings', ['code', 'fiscal_year', 'voucher_date', 'disbursement_id'], unique=False)
    op.create_index('ix_disbursement_findings_code_date', 'disbursement_findings', ['code', 'voucher_date', 'disbursement_id'], unique=False)
    op.create_index(op.f('ix_disbursement_findings_disbursement_id'), 'disbursement_findings', ['disbursement_id'], unique=False)

    op.create_table('disbursement_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('disbursement_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('values', JSON, nullable=False),
    sa.Column('changed', JSON, nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('changed_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['disbursement_id'], ['disbursements.id'], name=op.f('fk_disbursement_history_disbursement_id_disbursements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disbursement_history'))
    )
    op.create_index(op.f('ix_disbursement_history_disbursement_id'), 'disbursement_history', ['disbursement_id'], unique=False)

    op.create_table('disbursement_reviews',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('disbursement_id', sa.Uuid(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reviewer', sa.String(length=100), nullable=False),
    sa.Column('reviewer_role', sa.String(length=20), nullable=False),
    sa.Column('created_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['disbursement_id'], ['disbursements.id'], name=op.f('fk_disbursement_reviews_disbursement_id_disbursements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disbursement_reviews'))
    )
    op.create_index(op.f('ix_disbursement_reviews_disbursement_id'), 'disbursement_reviews', ['disbursement_id'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_disbursement_reviews_disbursement_id'), table_name='disbursement_reviews')

    op.drop_table('disbursement_reviews')
    op.drop_index(op.f('ix_disbursement_history_disbursement_id'), table_name='disbursement_history')

    op.drop_table('disbursement_history')
    op.drop_index(op.f('ix_disbursement_findings_disbursement_id'), table_name='disbursement_findings')
    op.drop_index('ix_disbursement_findings_code_org', table_name='disbursement_findings')
    op.drop_index('ix_disbursement_findings_code_year', table_name='disbursement_findings')
    op.drop_index('ix_disbursement_findings_code_date', table_name='disbursement_findings')

    op.drop_table('disbursement_findings')
    op.drop_index('ix_disbursement_evidence_file_doc_key', table_name='disbursement_evidence')
    op.drop_index(op.f('ix_disbursement_evidence_evidence_id'), table_name='disbursement_evidence')
    op.drop_index('ix_disbursement_evidence_doc_key', table_name='disbursement_evidence')
    op.drop_index('ix_disbursement_evidence_blob_id', table_name='disbursement_evidence')

    op.drop_table('disbursement_evidence')
    op.drop_index('ix_disbursements_split', table_name='disbursements')
    op.drop_index('ix_disbursements_payee', table_name='disbursements')
    op.drop_index('ix_disbursements_org_year_date', table_name='disbursements')
    op.drop_index('ix_disbursements_date', table_name='disbursements')

    op.drop_table('disbursements')
    op.drop_index(op.f('ix_disbursement_profile_versions_profile_id'), table_name='disbursement_profile_versions')

    op.drop_table('disbursement_profile_versions')
    op.drop_table('disbursement_profiles')
