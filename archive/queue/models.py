from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from archive import clock
from archive.db import Base, JSONType, UTCDateTime

JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(Base):
    """Durable work, enqueued in the same transaction as the change that needs it."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_claim", "status", "run_after"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    run_after: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.system_now)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(100))
    lease_expires: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # Makes enqueueing idempotent, e.g. "fixity:2026-11-25T03" for one scheduled period.
    dedup_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.system_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.system_now)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SystemCheck(Base):
    """The outcome of a scheduled self-check: WORM probe, reconcile walk, fixity run."""

    __tablename__ = "system_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.system_now, index=True)
    ok: Mapped[bool]
    summary: Mapped[str] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
