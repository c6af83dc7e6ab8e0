"""Workers as real processes on both stacks: kill -9, SIGTERM, a store outage, and a
thousand uploads drained by four workers — every effect exactly once, nothing stuck."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.evidence.models import Evidence, Inspection
from archive.queue.models import Job
from tests.conftest import Env
from tests.factories import make_pdf, upload, world

ARCHIVE = [sys.executable, "-m", "cli"]


@contextmanager
def worker(env: Env, *args: str, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    log = open(env.settings.data_dir / f"worker-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([*ARCHIVE, "worker", *args],
                            env={**env.env_vars(), "ARCHIVE_JOB_RETRY_BASE_SECONDS": "0.3",
                                 **extra}, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def jobs(env: Env, kind: str = "inspect") -> list[Job]:
    with env.session() as s:
        rows = list(s.scalars(sa.select(Job).where(Job.kind == kind).order_by(Job.id)))
        for r in rows:
            s.expunge(r)
        return rows


def count(env: Env, stmt: Any) -> int:
    with env.session() as s:
        return int(s.scalar(stmt) or 0)


def inspect_events(env: Env) -> int:
    return count(env, sa.select(sa.func.count()).select_from(AuditEvent)
                 .where(AuditEvent.action == "evidence.inspect"))


def test_kill_9_mid_job_reruns_after_the_lease_and_the_effect_happens_once(env: Env):
    tokens = world(env)
    upload(env.client(tokens["off1"]), make_pdf("kill-9"))
    with worker(env, "--kind", "inspect", "--concurrency", "1",
                ARCHIVE_JOB_LEASE_SECONDS="3",
                ARCHIVE_FAILPOINTS="job.inspect.before_commit=sleep:60") as doomed:
        wait_for(lambda: jobs(env)[0].status == "running", 60, "the job to be claimed")
        time.sleep(1.0)                       # well inside the handler
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    assert jobs(env)[0].status == "running"   # still leased to the dead worker
    with worker(env, "--kind", "inspect", "--concurrency", "1", ARCHIVE_JOB_LEASE_SECONDS="3"):
        wait_for(lambda: jobs(env)[0].status == "done", 60, "the job to be re-run")
    job = jobs(env)[0]
    assert job.attempts == 2
    assert count(env, sa.select(sa.func.count()).select_from(Inspection)) == 1
    assert inspect_events(env) == 1


def test_sigterm_finishes_the_running_job_and_exits_cleanly(env: Env):
    tokens = world(env)
    for i in range(3):
        upload(env.client(tokens["off1"]), make_pdf(f"sigterm-{i}"))
    with worker(env, "--kind", "inspect", "--concurrency", "1",
                ARCHIVE_FAILPOINTS="job.inspect.before_commit=sleep:2") as proc:
        wait_for(lambda: any(j.status == "running" for j in jobs(env)), 60, "a running job")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    states = [j.status for j in jobs(env)]
    assert "running" not in states and states.count("done") >= 1
    assert all(j.lease_owner is None for j in jobs(env))


def test_sigterm_past_the_grace_period_gives_the_job_back(env: Env):
    tokens = world(env)
    upload(env.client(tokens["off1"]), make_pdf("grace"))
    with worker(env, "--kind", "inspect", "--concurrency", "1", ARCHIVE_WORKER_GRACE="1",
                ARCHIVE_FAILPOINTS="job.inspect.before_commit=sleep:30") as proc:
        wait_for(lambda: jobs(env)[0].status == "running", 60, "a running job")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    job = jobs(env)[0]
    assert job.status == "queued" and job.lease_owner is None and job.attempts == 0
    assert count(env, sa.select(sa.func.count()).select_from(Inspection)) == 0


def test_store_outage_while_jobs_run_backs_off_and_recovers(env: Env):
    tokens = world(env)
    for i in range(4):
        upload(env.client(tokens["off1"]), make_pdf(f"outage-{i}"))
    objects = env.settings.objects_dir
    if env.weed is not None:
        env.weed.kill()
    else:       # the folder is replaced by a file: every read and write fails
        objects.rename(objects.with_name("objects-away"))
        objects.write_text("the disk went away")
    try:
        with worker(env, "--kind", "inspect", "--concurrency", "2"):
            wait_for(lambda: all(j.attempts >= 1 and j.last_error for j in jobs(env)), 60,
                     "jobs to fail against the missing store")
            assert not any(j.status == "failed" for j in jobs(env))   # retried, not given up
            if env.weed is not None:
                env.weed.restart()
            else:
                objects.unlink()
                objects.with_name("objects-away").rename(objects)
            wait_for(lambda: all(j.status == "done" for j in jobs(env)), 120,
                     "jobs to succeed once the store is back")
    finally:
        if env.weed is not None and env.weed.proc.poll() is not None:
            env.weed.restart()
        if objects.with_name("objects-away").exists():
            objects.unlink(missing_ok=True)
            objects.with_name("objects-away").rename(objects)
    assert count(env, sa.select(sa.func.count()).select_from(Inspection)) == 4
    assert inspect_events(env) == 4


@pytest.mark.slow
# its own deadline (600 s for the jobs) governs, not the suite's 300 s per test: 1,000
# uploads then 3,000 jobs took 126-137 s alone on a slow machine, and crossed 300 s when
# other tests and benchmarks shared its two cores (sessions 33 and 34)
@pytest.mark.timeout(900)
def test_a_thousand_uploads_drained_by_four_workers(env: Env):
    tokens = world(env)
    client = env.client(tokens["off1"])
    n = int(os.environ.get("ARCHIVE_TEST_UPLOADS", "1000"))
    for i in range(n):
        r = upload(client, make_pdf(f"bulk-{i}"), filename=f"r{i}.pdf")
        assert r.status_code == 201
    with worker(env, "--concurrency", "2"), worker(env, "--concurrency", "2"):
        wait_for(lambda: count(env, sa.select(sa.func.count()).select_from(Job)
                               .where(Job.status.in_(["queued", "running"]))) == 0, 600,
                 "every job to finish")
    with env.session() as s:
        statuses = {status: n for status, n in s.execute(
            sa.select(Evidence.status, sa.func.count()).group_by(Evidence.status))}
        per_record = s.execute(sa.select(Inspection.evidence_id, sa.func.count())
                               .group_by(Inspection.evidence_id)
                               .having(sa.func.count() > 1)).all()
    assert statuses == {"inspected": n}
    assert per_record == []                     # no record inspected twice
    assert inspect_events(env) == n
    with env.session() as s:
        failed = s.execute(sa.select(Job.kind, Job.last_error)
                           .where(Job.status == "failed").limit(5)).all()
    assert failed == []


def test_worker_carries_on_after_a_database_restart(tmp_path):
    """A private PostgreSQL cluster is stopped under a running worker and started again:
    the worker backs off, reconnects and finishes the queue."""
    from archive.config import Settings
    from archive.db import make_engine, upgrade
    from archive.queue.service import enqueue
    from archive.unit_of_work import make_session_factory
    from tests import servers

    pg = servers.start_throwaway_postgres()
    try:
        dbname = pg.create_database("archive_restart")
        settings = Settings(data_dir=tmp_path / "var", database_url=pg.url(dbname))
        engine = make_engine(settings.db_url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions.begin() as s:
            for _ in range(3):
                enqueue(s, "audit_checkpoint", {})
        env_vars = {**os.environ, "ARCHIVE_DATA_DIR": str(settings.data_dir),
                    "ARCHIVE_DATABASE_URL": settings.db_url,
                    "ARCHIVE_JOB_RETRY_BASE_SECONDS": "0.3", "ARCHIVE_JOB_LEASE_SECONDS": "5"}
        env_vars.pop("ARCHIVE_S3_ENDPOINT", None)
        log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([*ARCHIVE, "worker", "--concurrency", "1"], env=env_vars,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            # the worker must be running, not still starting (a busy machine takes seconds
            # to import it), before the database goes away under it
            wait_for(lambda: b"worker.started" in (tmp_path / "worker.log").read_bytes(), 120,
                     "the worker to start")
            time.sleep(1)
            pg.stop_server()                  # the database goes away under the worker
            time.sleep(4)
            assert proc.poll() is None, "the worker died with the database"
            pg.start_server()
            with sessions.begin() as s:       # new work arrives after the restart
                enqueue(s, "audit_checkpoint", {}, dedup_key="after-restart")

            def all_done() -> bool:
                try:
                    with sessions() as s:
                        left = s.scalar(sa.select(sa.func.count()).select_from(Job)
                                        .where(Job.status != "done"))
                        return left == 0
                except sa.exc.DBAPIError:
                    return False

            wait_for(all_done, 60, "the queue to drain after the restart")
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
            engine.dispose()
    finally:
        pg.stop()
