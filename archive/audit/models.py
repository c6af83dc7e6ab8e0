from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from archive.db import Base, JSONType, UTCDateTime


class AuditEvent(Base):
    """One entry of the hash-chained, append-only audit trail.

    ``hash`` = SHA-256 over the canonical JSON of the entry including ``prev_hash``, so
    changing, removing or reordering any entry breaks every hash after it.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(sa.String(100), index=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(30))
    target_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    org_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    client: Mapped[str | None] = mapped_column(sa.String(100))
    outcome: Mapped[str] = mapped_column(sa.String(20))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditHead(Base):
    """The single row holding the chain head; appending locks it (serialising appends)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditCheckpoint(Base):
    """A chain head written into the write-once store (this row is only an index: the
    locked object is what verification trusts)."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    store_key: Mapped[str] = mapped_column(sa.String(200))
    version_id: Mapped[str | None] = mapped_column(sa.String(200))
    timestamped: Mapped[bool] = mapped_column(default=False)
