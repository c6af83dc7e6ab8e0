"""web pages: signed-in browser sessions and failed sign-ins (rate limiting)

Revision ID: 0030
Revises: 0020

``users.password_hash`` exists since 0001; this adds what the pages need around it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import archive.db

revision = '0030'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_secret', sa.String(length=64), nullable=False),
    sa.Column('client', sa.String(length=100), nullable=True),
    sa.Column('created_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_web_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions'))
    )
    op.create_index(op.f('ix_web_sessions_user_id'), 'web_sessions', ['user_id'], unique=False)
    op.create_index(op.f('ix_web_sessions_expires_at'), 'web_sessions', ['expires_at'],
                    unique=False)
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.Column('client', sa.String(length=100), nullable=False),
    sa.Column('at', archive.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    op.create_index('ix_login_failures_name_client_at', 'login_failures',
                    ['user_name', 'client', 'at'], unique=False)
    op.create_index('ix_login_failures_client_at', 'login_failures', ['client', 'at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_failures_client_at', table_name='login_failures')
    op.drop_index('ix_login_failures_name_client_at', table_name='login_failures')
    op.drop_table('login_failures')
    op.drop_index(op.f('ix_web_sessions_expires_at'), table_name='web_sessions')
    op.drop_index(op.f('ix_web_sessions_user_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
