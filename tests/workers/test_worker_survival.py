"""Issue 15 item 2: worker loops survive any exception, heartbeat, and /readyz and the
health page report a dead or stalled worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import sqlalchemy as sa

from archive.db import make_engine
from tests.conftest import Env
from tests.factories import world


def _wait(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_a_worker_loop_survives_an_exhausted_pool_and_runs_jobs_after(env: Env):
    """GIVEN a worker whose pool (one connection) is held by someone else, so that every
    claim raises the pool's TimeoutError (not a DBAPIError), THEN its loop thread lives
    on, counts the errors (heartbeat, /metrics), and runs jobs once the pool is free."""
    from archive.queue import service as queue
    from archive.queue.models import Job
    from workers.runner import Worker

    tokens = world(env)
    engine = make_engine(env.settings.db_url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    settings = env.settings.model_copy(update={"worker_heartbeat_seconds": 1.0})
    worker = Worker(settings, concurrency=1, engine=engine, store=env.store,
                    poll_interval=0.3, name="survivor")
    held = engine.connect()
    worker.start()
    try:
        time.sleep(2.5)
        loops = [t for t in worker._threads if t.name.startswith("worker-")]
        assert loops and all(t.is_alive() for t in loops), "the loop thread died"
        held.close()
        with env.session() as s:
            queue.enqueue(s, "no-such-kind", {}, dedup_key="survival")
            job_id = s.scalar(sa.select(Job.id).where(Job.dedup_key == "survival"))
        def processed() -> bool:
            with env.session() as s:
                return s.get(Job, job_id).status == "failed"
        assert _wait(processed, 15), "the worker never ran the job after the outage"
        assert worker.loop_errors >= 1 and "TimeoutError" in (worker.last_error or "")
        assert _wait(lambda: b"survivor" in env.client(tokens["admin"]).get(
            "/metrics").content, 5)
        metrics = env.client(tokens["admin"]).get("/metrics").text
        line = next(ln for ln in metrics.splitlines()
                    if ln.startswith("archive_worker_loop_errors_total{worker=\"survivor\"}"))
        assert float(line.split()[-1]) >= 1
        # the one connection is shared by the loop and the heartbeat: allow a beat or two
        assert _wait(lambda: env.client().get("/readyz").json()["checks"]["workers"][
            "status"] == "ok", 10)
    finally:
        worker.stop(grace=5)
        engine.dispose()


def test_readyz_and_the_health_page_report_a_killed_worker(env: Env):
    """GIVEN a worker process that is killed (-9), THEN within a few heartbeats /readyz
    answers 503 with the worker stalled or dead, and the health page names it."""
    from tests.web.helpers import people, signed_in

    people(env, "admin")
    run = [sys.executable, "-m", "cli", "worker", "--concurrency", "1"]
    proc = subprocess.Popen(run, env={**env.env_vars(), "ARCHIVE_WORKER_HEARTBEAT_SECONDS":
                                      "0.3"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = env.client()
    try:
        assert _wait(lambda: client.get("/readyz").json()["checks"].get(
            "workers", {}).get("live") == 1, 30), client.get("/readyz").text
        assert client.get("/readyz").status_code == 200
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert _wait(lambda: client.get("/readyz").status_code == 503, 10)
        workers = client.get("/readyz").json()["checks"]["workers"]
        assert workers["status"] == "down" and workers["live"] == 0
        assert workers["problems"][0]["state"] in ("stalled", "dead")
        admin, _ = signed_in(env, "admin")
        page = admin.get("/admin/health")
        assert page.status_code == 200
        assert ("หยุดนิ่ง" in page.text or "หยุดทำงาน" in page.text), page.text[:2000]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    with env.session() as s:
        assert s.scalar(sa.text("SELECT count(*) FROM worker_heartbeats")) == 1


def test_a_worker_process_runs_its_jobs_at_a_lower_cpu_priority(env: Env):
    """GIVEN ARCHIVE_WORKER_NICE=7, WHEN `archive worker` starts, THEN its niceness is 7
    above the process that started it (background jobs yield the cores to the API's
    requests on a shared machine); with 0 it keeps the starter's priority."""
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    run = [sys.executable, "-m", "cli", "worker", "--concurrency", "1"]
    for nice, expected in (("7", min(19, mine + 7)), ("0", mine)):
        proc = subprocess.Popen(run, env={**env.env_vars(), "ARCHIVE_WORKER_NICE": nice,
                                          "ARCHIVE_WORKER_HEARTBEAT_SECONDS": "0.3"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # the worker heartbeats once it runs, after it has set its priority
            assert _wait(lambda: env.client().get("/readyz").json()["checks"].get(
                "workers", {}).get("live", 0) >= 1, 30), "the worker never started"
            assert os.getpriority(os.PRIO_PROCESS, proc.pid) == expected
        finally:
            proc.terminate()
            proc.wait(30)
        assert _wait(lambda: env.client().get("/readyz").json()["checks"].get(
            "workers", {}).get("live", 0) == 0, 30)
