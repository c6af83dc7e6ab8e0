"""Worker heartbeats: each worker process says, every few seconds, that it is alive and
how many of its loop threads still run; readers judge from the age of the last beat.

States: ``ok``; ``stalled`` (no beat for 3 intervals: the process hangs, or cannot reach
the database, or was just killed); ``dead`` (a loop thread has died, or no beat for 10
intervals). Workers stopped cleanly are not reported; rows older than a day are forgotten
(a worker killed long ago has been replaced, or the alert has been seen for a day).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.clock import now as utcnow
from archive.queue.models import WorkerBeat

FORGET_AFTER = dt.timedelta(days=1)


def beat(session: Session, name: str, *, interval: float, threads: int, alive: int,
         loop_errors: int, last_error: str | None, started_at: dt.datetime) -> None:
    now = utcnow()
    row = session.get(WorkerBeat, name)
    if row is None:
        session.add(WorkerBeat(name=name, started_at=started_at, beat_at=now,
                               interval=interval, threads=threads, alive=alive,
                               loop_errors=loop_errors, last_error=last_error))
        return
    row.beat_at, row.interval, row.threads, row.alive = now, interval, threads, alive
    row.loop_errors, row.last_error, row.stopped_at = loop_errors, last_error, None


def stopped(session: Session, name: str) -> None:
    session.execute(sa.update(WorkerBeat).where(WorkerBeat.name == name)
                    .values(stopped_at=utcnow()))


@dataclass(frozen=True)
class WorkerState:
    name: str
    state: str              # ok | stalled | dead
    beat_at: dt.datetime
    age_seconds: float
    threads: int
    alive: int
    loop_errors: int
    last_error: str | None


def judge(row: WorkerBeat, now: dt.datetime) -> str:
    age = (now - row.beat_at).total_seconds()
    if row.alive < row.threads or age > 10 * row.interval:
        return "dead"
    if age > 3 * row.interval:
        return "stalled"
    return "ok"


def states(session: Session, *, now: dt.datetime | None = None) -> list[WorkerState]:
    """Every worker not stopped cleanly that beat within the last day."""
    now = now or utcnow()
    rows = session.scalars(sa.select(WorkerBeat).where(
        WorkerBeat.stopped_at.is_(None), WorkerBeat.beat_at > now - FORGET_AFTER)
        .order_by(WorkerBeat.name))
    return [WorkerState(name=r.name, state=judge(r, now), beat_at=r.beat_at,
                        age_seconds=round((now - r.beat_at).total_seconds(), 1),
                        threads=r.threads, alive=r.alive, loop_errors=r.loop_errors,
                        last_error=r.last_error) for r in rows]


def summary(found: list[WorkerState]) -> str:
    """``ok`` (all live), ``degraded`` (some dead or stalled, at least one live),
    ``down`` (workers ran, none is live now) or ``none`` (no worker has run)."""
    if not found:
        return "none"
    live = sum(1 for w in found if w.state == "ok")
    if live == len(found):
        return "ok"
    return "degraded" if live else "down"
