"""The scheduler: cron triggers (Asia/Bangkok) that only enqueue jobs.

Enqueueing is idempotent per (job, period): the dedup key names the period the run is
for (``fixity:2026-11-25T14``), so a restart or a second scheduler never double-runs.
Only one scheduler is active at a time — PostgreSQL advisory lock, or a lock file next to
the SQLite database; a second instance stands by and takes over when the first goes.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from archive import clock
from archive.config import Settings
from archive.db import make_engine
from archive.queue.service import enqueue
from archive.retention.periodic import SCHEDULE as RETENTION_SCHEDULE
from archive.unit_of_work import make_session_factory, session_scope

log = logging.getLogger("workers.scheduler")

LOCK_ID = 0x45564152  # "EVAR": the advisory lock key of the active scheduler

# kind, cron fields, the period that makes a run unique, payload; ``at_start``: also run
# once as soon as a scheduler becomes active (for the current period), so that a fresh
# install does not show its self-checks as "never run" until the first cron time.
CORE_SCHEDULE: list[dict[str, Any]] = [
    {"kind": "audit_checkpoint", "cron": {"minute": 5}, "period": "hour", "payload": {}},
    {"kind": "fixity", "cron": {"minute": 20}, "period": "hour", "payload": {},
     "at_start": True},
    {"kind": "worm_probe", "cron": {"hour": "*/6", "minute": 35}, "period": "hour",
     "payload": {}, "at_start": True},
    {"kind": "reconcile", "cron": {"hour": 3, "minute": 0}, "period": "day", "payload": {},
     "at_start": True},
    # Findings are recomputed as vouchers and files change; the weekly national run is the
    # safety net (a restore, a profile edited behind the API) and rewrites only differences.
    {"kind": "disbursements_recompute", "cron": {"day_of_week": "sun", "hour": 2, "minute": 30},
     "period": "day", "payload": {"scope": "national"}},
]


def full_schedule() -> list[dict[str, Any]]:
    """Every scheduled entry: the core's and retention's. Retention is imported at module
    level, so a broken import stops the scheduler at start instead of silently leaving
    retention's jobs unscheduled."""
    return [*CORE_SCHEDULE, *RETENTION_SCHEDULE]


def trigger_for(entry: dict[str, Any], tz: ZoneInfo) -> CronTrigger:
    """The entry's cron fields, in its own time zone if it names one, else the scheduler's."""
    fields = dict(entry["cron"])
    fields.setdefault("timezone", tz)
    return CronTrigger(**fields)


def period_key(kind: str, period: str, at: dt.datetime) -> str:
    fmt = {"minute": "%Y-%m-%dT%H:%M", "hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d",
           "month": "%Y-%m", "year": "%Y"}[period]
    return f"{kind}:{at.strftime(fmt)}"


class Leadership:
    """Holds the right to schedule: a PostgreSQL advisory lock or an exclusive file lock."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self._conn: Any = None
        self._file: Any = None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            if self._conn is None:
                self._conn = self.engine.connect()
            got = bool(self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                          {"k": LOCK_ID}).scalar())
            self._conn.commit()
            return got
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._file = self._file or open(self.data_dir / "scheduler.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def still_held(self) -> bool:
        if self._conn is None:
            return self._file is not None
        try:
            self._conn.execute(sa.text("SELECT 1"))
            self._conn.commit()
            return True
        except sa.exc.DBAPIError:
            # The session holding the lock is gone, and the lock with it.
            self._conn = None
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_ID})
                self._conn.close()
            except sa.exc.DBAPIError:
                pass
            self._conn = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class Scheduler:
    def __init__(self, settings: Settings, *, engine: Engine | None = None,
                 schedule: list[dict[str, Any]] | None = None,
                 on_enqueue: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.db_url)
        self.sessions = make_session_factory(self.engine)
        self.schedule = schedule if schedule is not None else full_schedule()
        self.tz = ZoneInfo(settings.timezone)
        self.on_enqueue = on_enqueue
        self.leadership = Leadership(self.engine, settings.data_dir)
        self._stop = threading.Event()
        self._aps: BackgroundScheduler | None = None
        self.active = False

    def fire(self, entry: dict[str, Any], at: dt.datetime | None = None) -> None:
        at = (at or clock.system_now()).astimezone(self.tz)
        key = period_key(entry["kind"], entry.get("period", "hour"), at)
        try:
            with session_scope(self.sessions) as s:
                enqueue(s, entry["kind"], dict(entry.get("payload") or {}), dedup_key=key)
            log.info("scheduler.enqueued kind=%s key=%s", entry["kind"], key)
            if self.on_enqueue:
                self.on_enqueue()
        except sa.exc.DBAPIError as exc:
            log.warning("scheduler.enqueue_failed kind=%s error=%s", entry["kind"], exc.orig)

    def fire_start_entries(self) -> None:
        """Enqueue the ``at_start`` entries for the current period (a no-op for a period
        that already has its run, so restarts and a second scheduler add nothing)."""
        for entry in self.schedule:
            if entry.get("at_start"):
                self.fire(entry)

    def _start_triggers(self) -> None:
        self.fire_start_entries()
        self._aps = BackgroundScheduler(timezone=self.tz)
        for entry in self.schedule:
            self._aps.add_job(self.fire, trigger_for(entry, self.tz), args=[entry],
                              id=entry["kind"], coalesce=True, misfire_grace_time=3600,
                              max_instances=1)
        self._aps.start()

    def run(self, standby_poll: float | None = None) -> None:
        """Block: wait for leadership, schedule while leader, stand by again if lost."""
        standby_poll = standby_poll or self.settings.scheduler_poll_seconds
        standing_by = False
        while not self._stop.is_set():
            if not self.active:
                if self.leadership.try_acquire():
                    self.active, standing_by = True, False
                    log.info("scheduler.active timezone=%s jobs=%d", self.settings.timezone,
                             len(self.schedule))
                    self._start_triggers()
                else:
                    if not standing_by:
                        log.info("scheduler.standby poll=%.1fs", standby_poll)
                        standing_by = True
                    self._stop.wait(standby_poll)
                    continue
            if not self.leadership.still_held():
                log.warning("scheduler.leadership_lost")
                self._shutdown_triggers()
                self.active = False
                continue
            self._stop.wait(standby_poll)
        self._shutdown_triggers()
        self.leadership.release()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="scheduler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _shutdown_triggers(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
