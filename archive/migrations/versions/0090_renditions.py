"""renditions of evidence (OCR of scans, issue 14)

Revision ID: 0090
Revises: 0080

One table: a derived file (the searchable PDF/A-2b rendition of a scan) kept beside the
record's original, with its own blob and the PDF/A verdict of the rendition.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from archive.db import JSONType, UTCDateTime

revision = '0090'
down_revision = '0080'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "renditions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("evidence_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source_blob_id", sa.Integer(), nullable=False),
        sa.Column("blob_id", sa.Integer(), nullable=False),
        sa.Column("pdfa_flavour", sa.String(4), nullable=True),
        sa.Column("pdfa_compliant", sa.Boolean(), nullable=True),
        sa.Column("pdfa", JSONType, nullable=True),
        sa.Column("made_by", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"],
                                name=op.f("fk_renditions_evidence_id_evidence")),
        sa.ForeignKeyConstraint(["source_blob_id"], ["blobs.id"],
                                name=op.f("fk_renditions_source_blob_id_blobs")),
        sa.ForeignKeyConstraint(["blob_id"], ["blobs.id"],
                                name=op.f("fk_renditions_blob_id_blobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renditions")),
        sa.UniqueConstraint("evidence_id", "kind", "source_blob_id",
                            name=op.f("uq_renditions_evidence_id")),
    )
    op.create_index(op.f("ix_renditions_evidence_id"), "renditions", ["evidence_id"])
    op.create_index(op.f("ix_renditions_blob_id"), "renditions", ["blob_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_renditions_blob_id"), table_name="renditions")
    op.drop_index(op.f("ix_renditions_evidence_id"), table_name="renditions")
    op.drop_table("renditions")
