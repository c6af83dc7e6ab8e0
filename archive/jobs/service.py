"""Enqueueing durable jobs (the worker side lives in ``workers/``).

Jobs are rows in the archive database, added in the caller's transaction: if the change
that needs the job rolls back, so does the job; if it commits, the job will run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from archive.db import upsert_ignore, utcnow
from archive.jobs.models import Job


def enqueue(session: Session, kind: str, payload: dict[str, Any], *,
            dedup_key: str | None = None, run_after: dt.datetime | None = None,
            max_attempts: int = 8) -> None:
    """Add a job. With ``dedup_key``, a second enqueue of the same key is a no-op."""
    enqueue_many(session, [(kind, payload, dedup_key)], run_after=run_after,
                 max_attempts=max_attempts)


def enqueue_many(session: Session, jobs: list[tuple[str, dict[str, Any], str | None]], *,
                 run_after: dt.datetime | None = None, max_attempts: int = 8) -> None:
    """Add several jobs in one statement: ``(kind, payload, dedup_key or None)`` each."""
    now = utcnow()
    rows = [{"kind": kind, "payload": payload, "status": "queued", "attempts": 0,
             "max_attempts": max_attempts, "run_after": run_after or now, "created_at": now,
             "updated_at": now, "dedup_key": dedup_key} for kind, payload, dedup_key in jobs]
    upsert_ignore(session, Job.__table__, rows, ["dedup_key"])
