"""Enqueueing durable jobs (the worker side lives in ``workers/``).

Jobs are rows in the archive database, added in the caller's transaction: if the change
that needs the job rolls back, so does the job; if it commits, the job will run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.db import rowcount, upsert_ignore
from archive.queue.models import Job


def enqueue(session: Session, kind: str, payload: dict[str, Any], *,
            dedup_key: str | None = None, run_after: dt.datetime | None = None,
            max_attempts: int = 8) -> None:
    """Add a job. With ``dedup_key``, a second enqueue of the same key is a no-op."""
    enqueue_many(session, [(kind, payload, dedup_key)], run_after=run_after,
                 max_attempts=max_attempts)


def enqueue_many(session: Session, jobs: list[tuple[str, dict[str, Any], str | None]], *,
                 run_after: dt.datetime | None = None, max_attempts: int = 8) -> None:
    """Add several jobs in one statement: ``(kind, payload, dedup_key or None)`` each."""
    now = clock.system_now()
    rows = [{"kind": kind, "payload": payload, "status": "queued", "attempts": 0,
             "max_attempts": max_attempts, "run_after": run_after or now, "created_at": now,
             "updated_at": now, "dedup_key": dedup_key} for kind, payload, dedup_key in jobs]
    upsert_ignore(session, Job.__table__, rows, ["dedup_key"])


# -- the worker side of the queue ------------------------------------------------------

def _claimable(now: dt.datetime, kinds: list[str] | None) -> Any:
    """Queued jobs that are due, and running jobs whose lease has expired (their worker
    died): both may be taken."""
    cond = sa.or_(sa.and_(Job.status == "queued", Job.run_after <= now),
                  sa.and_(Job.status == "running", Job.lease_expires < now))
    if kinds:
        cond = sa.and_(cond, Job.kind.in_(kinds))
    return cond


def claim(session: Session, worker: str, *, lease_seconds: int,
          kinds: list[str] | None = None) -> Job | None:
    """Take the oldest due job, or ``None``. Commit right after (the caller's short unit
    of work): the claim is the lease.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets many workers claim concurrently without
    waiting on each other. SQLite: the ``UPDATE … WHERE id = (SELECT …)`` statement runs
    under the database's single write lock, so two workers never get the same job.
    """
    now = clock.system_now()
    pick = (sa.select(Job.id).where(_claimable(now, kinds)).order_by(Job.id).limit(1)
            .with_for_update(skip_locked=True))
    job = session.scalars(
        sa.update(Job).where(Job.id == pick.scalar_subquery())
        .values(status="running", lease_owner=worker,
                lease_expires=now + dt.timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1, started_at=now, updated_at=now)
        .returning(Job).execution_options(synchronize_session=False)).first()
    return job


def _owned(job_id: int, worker: str) -> Any:
    # Fencing: a worker whose lease expired (and whose job someone else took) must not
    # overwrite the new owner's state.
    return sa.and_(Job.id == job_id, Job.lease_owner == worker, Job.status == "running")


def heartbeat(session: Session, job_id: int, worker: str, *, lease_seconds: int) -> bool:
    now = clock.system_now()
    return bool(rowcount(session.execute(
        sa.update(Job).where(_owned(job_id, worker))
        .values(lease_expires=now + dt.timedelta(seconds=lease_seconds), updated_at=now))))


def set_progress(session: Session, job_id: int, worker: str, progress: dict[str, Any]) -> None:
    session.execute(sa.update(Job).where(_owned(job_id, worker))
                    .values(progress=progress, updated_at=clock.system_now()))


def complete(session: Session, job_id: int, worker: str,
             result: dict[str, Any] | None) -> bool:
    now = clock.system_now()
    return bool(rowcount(session.execute(
        sa.update(Job).where(_owned(job_id, worker))
        .values(status="done", result=result, lease_owner=None, lease_expires=None,
                last_error=None, finished_at=now, updated_at=now))))


def backoff_seconds(attempts: int, base: float = 5.0, cap: float = 3600.0) -> float:
    """Exponential backoff with a little jitter: 5 s, 10 s, 20 s … capped at an hour."""
    import random

    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * (0.9 + 0.2 * random.random())


def fail(session: Session, job_id: int, worker: str, error: str, *,
         retry: bool = True, backoff_base: float = 5.0) -> str | None:
    """Record a failure: back to the queue after a backoff, or ``failed`` for good once
    the attempts are used up. Returns the new status (``None`` if the lease was lost)."""
    job = session.get(Job, job_id)
    if job is None or job.lease_owner != worker or job.status != "running":
        return None
    now = clock.system_now()
    final = not retry or job.attempts >= job.max_attempts
    status = "failed" if final else "queued"
    session.execute(sa.update(Job).where(_owned(job_id, worker)).values(
        status=status, last_error=error[:4000], lease_owner=None, lease_expires=None,
        run_after=now if final else now + dt.timedelta(
            seconds=backoff_seconds(job.attempts, base=backoff_base)),
        finished_at=now if final else None, updated_at=now))
    return status


def release(session: Session, job_id: int, worker: str) -> None:
    """Give a job back untouched (graceful shutdown): it does not count as an attempt."""
    session.execute(sa.update(Job).where(_owned(job_id, worker)).values(
        status="queued", lease_owner=None, lease_expires=None, run_after=clock.system_now(),
        attempts=Job.attempts - 1, updated_at=clock.system_now()))


# -- operators' view -------------------------------------------------------------------

def list_jobs(session: Session, *, status: str | None = None, kind: str | None = None,
              limit: int = 100) -> list[Job]:
    q = sa.select(Job)
    if status:
        q = q.where(Job.status == status)
    if kind:
        q = q.where(Job.kind == kind)
    return list(session.scalars(q.order_by(Job.id.desc()).limit(limit)))


def retry(session: Session, job_id: int) -> Job:
    """Put a failed job back in the queue with fresh attempts."""
    from archive.errors import Conflict, NotFound

    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.status != "failed":
        raise Conflict(f"job {job_id} is {job.status}; only failed jobs can be retried")
    job.status, job.attempts, job.run_after = "queued", 0, clock.system_now()
    job.last_error, job.finished_at, job.updated_at = None, None, clock.system_now()
    return job


def queue_depth(session: Session) -> list[tuple[str, str, int]]:
    return [(k, s, n) for k, s, n in session.execute(
        sa.select(Job.kind, Job.status, sa.func.count()).group_by(Job.kind, Job.status))]
