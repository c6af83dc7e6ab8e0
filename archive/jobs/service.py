"""Enqueueing durable jobs (the worker side lives in ``workers/``).

Jobs are rows in the archive database, added in the caller's transaction: if the change
that needs the job rolls back, so does the job; if it commits, the job will run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.db import upsert_ignore, utcnow
from archive.jobs.models import Job


def enqueue(session: Session, kind: str, payload: dict[str, Any], *,
            dedup_key: str | None = None, run_after: dt.datetime | None = None,
            max_attempts: int = 8) -> None:
    """Add a job. With ``dedup_key``, a second enqueue of the same key is a no-op."""
    values = {"kind": kind, "payload": payload, "status": "queued", "attempts": 0,
              "max_attempts": max_attempts, "run_after": run_after or utcnow(),
              "created_at": utcnow(), "updated_at": utcnow(), "dedup_key": dedup_key}
    if dedup_key is None:
        session.execute(sa.insert(Job).values(**values))
    else:
        upsert_ignore(session, Job.__table__, values, ["dedup_key"])
