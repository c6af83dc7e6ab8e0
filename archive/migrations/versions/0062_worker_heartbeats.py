"""worker heartbeats

Revision ID: 0062
Revises: 0081

One row per worker process, rewritten every few seconds by the worker itself: /readyz,
the health page and /metrics report dead or stalled workers from it (issue 15 item 2).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from archive.db import UTCDateTime

revision = '0062'
down_revision = '0081'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(150), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("interval", sa.Float(), nullable=False),
        sa.Column("threads", sa.Integer(), nullable=False),
        sa.Column("alive", sa.Integer(), nullable=False),
        sa.Column("loop_errors", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("stopped_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
