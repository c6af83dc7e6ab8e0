"""The worker: claims jobs from the queue table and runs their handlers.

* Claiming is one short transaction (see ``archive.queue.service.claim``); the claim is a
  lease that a heartbeat keeps extending. A worker that dies (``kill -9``) stops
  heartbeating; when the lease expires another worker takes the job again. Handlers are
  idempotent, so the effect happens once.
* Failures go back to the queue with exponential backoff; after ``max_attempts`` the job is
  ``failed`` and visible (``archive jobs list --status failed``, ``GET /api/v1/jobs``).
* ``stop()`` (SIGTERM) stops claiming, lets running handlers finish for a grace period and
  gives back what is still running, so no job is left claimed.
* A database or store outage only makes claims or handlers fail for a while: the loop
  backs off and carries on when they return (connections are checked before use). Any
  other exception in the loop itself (e.g. the pool's ``TimeoutError``, which is not a
  ``DBAPIError``) is logged, counted and backed off the same way: a loop never exits
  before ``stop()``.
* The heartbeat thread writes the worker's heartbeat (``archive.queue.heartbeats``) every
  ``worker_heartbeat_seconds``: /readyz, the health page and /metrics tell a live worker
  from a dead or stalled one by it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

import workers.handlers  # noqa: F401  (registers every handler)
from archive.clock import now as utcnow
from archive.config import Settings
from archive.db import make_engine
from archive.errors import ArchiveError, InvalidInput, NotFound, StoreUnavailable
from archive.queue import heartbeats
from archive.queue import service as queue
from archive.storage import ObjectStore, make_store
from archive.unit_of_work import make_session_factory, read_sessions, session_scope
from workers.registry import HANDLERS, Interrupted, JobContext

log = logging.getLogger("workers")

# Errors that another attempt cannot fix: the job fails at once.
PERMANENT = (InvalidInput, NotFound)


class Worker:
    def __init__(self, settings: Settings, *, concurrency: int | None = None,
                 kinds: list[str] | None = None, engine: Engine | None = None,
                 store: ObjectStore | None = None, poll_interval: float = 1.0,
                 name: str | None = None) -> None:
        self.settings = settings
        self.concurrency = concurrency or settings.worker_concurrency
        self.kinds = kinds
        self.engine = engine or make_engine(settings.db_url)
        self.reads = read_sessions(self.engine, settings.database_replica_url,
                                   max_lag_seconds=settings.replica_max_lag_seconds)
        self.store = store or make_store(settings)
        self.sessions = make_session_factory(
            self.engine, self.store, snapshot_years=settings.default_retention_years)
        self.poll_interval = poll_interval
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10000}"
        self.lease = settings.job_lease_seconds
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._running: dict[int, str] = {}     # job id → thread name
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._loops: list[threading.Thread] = []
        self.loop_errors = 0
        self.last_error: str | None = None
        self.started_at = utcnow()
        self.beat_interval = min(max(0.5, self.lease / 3), settings.worker_heartbeat_seconds)

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        for i in range(self.concurrency):
            t = threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
            self._loops.append(t)
        try:
            self._beat()
        except Exception as exc:  # noqa: BLE001 - the heartbeat thread tries again
            log.warning("worker.heartbeat_failed error=%s", str(exc)[:200])
        hb = threading.Thread(target=self._heartbeat, name="worker-heartbeat", daemon=True)
        hb.start()
        self._threads.append(hb)
        log.info("worker.started name=%s concurrency=%d", self.name, self.concurrency)

    def stop(self, grace: float = 30.0) -> None:
        """Stop claiming; wait for running handlers; give back what is left."""
        self._stopping.set()
        self._wake.set()
        deadline = time.monotonic() + grace
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = list(self._running)
        for job_id in left:
            try:
                with session_scope(self.sessions) as s:
                    queue.release(s, job_id, self.name)
                log.info("job.released id=%d worker=%s", job_id, self.name)
            except Exception:  # noqa: BLE001 - the lease will expire anyway
                log.exception("job.release_failed id=%d", job_id)
        try:
            with session_scope(self.sessions) as s:
                heartbeats.stopped(s, self.name)
        except Exception:  # noqa: BLE001 - then the row goes stale and reads "stalled"
            log.warning("worker.stop_unrecorded name=%s", self.name)
        log.info("worker.stopped name=%s", self.name)

    def wake(self) -> None:
        """Look for work now (e.g. right after an upload in the embedded server)."""
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # -- the loop --------------------------------------------------------------------
    def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                ran = self.run_once()
                failures = 0
            except DBAPIError as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** failures)
                self._count_error(exc)
                log.warning("worker.database_unavailable retry_in=%.1fs error=%s", delay,
                            str(exc.orig)[:200])
                self._stopping.wait(delay)
                continue
            except Exception as exc:  # noqa: BLE001 - a loop must survive anything
                failures += 1
                delay = min(30.0, 0.5 * 2 ** failures)
                self._count_error(exc)
                log.exception("worker.loop_error retry_in=%.1fs", delay)
                self._stopping.wait(delay)
                continue
            if not ran:
                self._wake.wait(self.poll_interval)
                self._wake.clear()

    def run_once(self) -> bool:
        """Claim and run one job; ``False`` when the queue had nothing due."""
        with session_scope(self.sessions) as s:
            job = queue.claim(s, self.name, lease_seconds=self.lease, kinds=self.kinds)
            if job is None:
                return False
            job_id, kind, payload, attempt = job.id, job.kind, dict(job.payload), job.attempts
        with self._lock:
            self._running[job_id] = threading.current_thread().name
        try:
            self._execute(job_id, kind, payload, attempt)
        finally:
            with self._lock:
                self._running.pop(job_id, None)
        return True

    def _execute(self, job_id: int, kind: str, payload: dict[str, Any], attempt: int) -> None:
        handler = HANDLERS.get(kind)
        started = time.perf_counter()
        if handler is None:
            self._finish(job_id, error=f"no handler for job kind {kind!r}", retry=False)
            return
        ctx = JobContext(job_id=job_id, kind=kind, attempt=attempt, settings=self.settings,
                         sessions=self.sessions, store=self.store,
                         report_progress=lambda state: self._progress(job_id, state),
                         stopping=self._stopping.is_set, reads=self.reads)
        try:
            result = handler(ctx, payload)
        except Interrupted:
            with session_scope(self.sessions) as s:
                queue.release(s, job_id, self.name)
            log.info("job.interrupted id=%d kind=%s", job_id, kind)
            return
        except PERMANENT as exc:
            self._finish(job_id, error=f"{exc.code}: {exc.detail}", retry=False)
            log.warning("job.failed id=%d kind=%s permanent error=%s", job_id, kind, exc.code)
            return
        except (ArchiveError, DBAPIError, OSError) as exc:
            transient = isinstance(exc, (StoreUnavailable, DBAPIError, OSError))
            self._finish(job_id, error=f"{type(exc).__name__}: {exc}", retry=True)
            log.warning("job.retry id=%d kind=%s attempt=%d transient=%s error=%s", job_id,
                        kind, attempt, transient, str(exc)[:200])
            return
        except Exception as exc:  # noqa: BLE001 - a bug in a handler must not kill the worker
            self._finish(job_id, error="".join(traceback.format_exception(exc))[-3000:],
                         retry=True)
            log.exception("job.crashed id=%d kind=%s", job_id, kind)
            return
        with session_scope(self.sessions) as s:
            done = queue.complete(s, job_id, self.name, result)
        ms = (time.perf_counter() - started) * 1000
        if done:
            log.info("job.done id=%d kind=%s ms=%.0f", job_id, kind, ms)
        else:
            log.warning("job.lease_lost id=%d kind=%s ms=%.0f", job_id, kind, ms)

    def _finish(self, job_id: int, *, error: str, retry: bool) -> None:
        for attempt in range(5):
            try:
                with session_scope(self.sessions) as s:
                    queue.fail(s, job_id, self.name, error, retry=retry,
                               backoff_base=self.settings.job_retry_base_seconds)
                return
            except DBAPIError:
                # The database itself is down: the lease will expire and the job will be
                # taken again, so nothing is lost if this never gets through.
                time.sleep(min(5.0, 0.5 * 2 ** attempt))

    def _progress(self, job_id: int, state: dict[str, Any]) -> None:
        try:
            with session_scope(self.sessions) as s:
                queue.set_progress(s, job_id, self.name, state)
        except DBAPIError:
            pass  # progress is a courtesy; the work goes on

    def _count_error(self, exc: BaseException) -> None:
        with self._lock:
            self.loop_errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:500]

    def loops_alive(self) -> int:
        return sum(1 for t in self._loops if t.is_alive())

    def _beat(self) -> None:
        with self._lock:
            errors, last = self.loop_errors, self.last_error
        with session_scope(self.sessions) as s:
            heartbeats.beat(s, self.name, interval=self.beat_interval,
                            threads=len(self._loops), alive=self.loops_alive(),
                            loop_errors=errors, last_error=last, started_at=self.started_at)

    def _heartbeat(self) -> None:
        """Extends the leases of running jobs and writes the worker's heartbeat; survives
        any exception (a database outage only makes the beat go stale)."""
        interval = self.beat_interval
        while True:
            stopping = self._stopping.wait(interval)
            with self._lock:
                ids = list(self._running)
            if stopping and not ids:
                return
            if stopping:  # handlers are finishing during the grace period: keep leases
                time.sleep(min(interval, 1.0))
            for job_id in ids:
                try:
                    with session_scope(self.sessions) as s:
                        queue.heartbeat(s, job_id, self.name, lease_seconds=self.lease)
                except Exception:  # noqa: BLE001, S110 - the lease is retried next beat
                    pass
            if not stopping:
                try:
                    self._beat()
                except Exception as exc:  # noqa: BLE001
                    log.warning("worker.heartbeat_failed error=%s", str(exc)[:200])
