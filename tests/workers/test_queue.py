"""The job queue on both databases: claiming, leases, retries, fencing, idempotent enqueue."""

from __future__ import annotations

import datetime as dt
import threading
import time

import sqlalchemy as sa

from archive import clock
from archive.queue import service as queue
from archive.queue.models import Job
from tests.conftest import Env
from workers.registry import HANDLERS, handler
from workers.runner import Worker


def _job(env: Env, job_id: int) -> Job:
    with env.session() as s:
        job = s.get(Job, job_id)
        assert job is not None
        s.expunge(job)
        return job


def _enqueue(env: Env, kind: str, payload: dict | None = None, **kw) -> int:
    with env.session() as s:
        queue.enqueue(s, kind, payload or {}, **kw)
    with env.session() as s:
        return s.scalar(sa.select(sa.func.max(Job.id)))


def test_enqueue_with_dedup_key_is_idempotent(env: Env):
    for _ in range(3):
        _enqueue(env, "fixity", dedup_key="fixity:2026-11-25T10")
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


def test_enqueue_rolls_back_with_the_change_that_needed_it(env: Env):
    try:
        with env.session() as s:
            queue.enqueue(s, "inspect", {"evidence_id": "x"})
            raise RuntimeError("the upload failed after enqueueing")
    except RuntimeError:
        pass
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_two_workers_never_claim_the_same_job(env: Env):
    ids = [_enqueue(env, "noop", {"n": i}) for i in range(40)]
    claimed: list[int] = []
    lock = threading.Lock()

    def grab(name: str) -> None:
        while True:
            with env.session() as s:
                job = queue.claim(s, name, lease_seconds=60)
                jid = job.id if job else None
            if jid is None:
                return
            with lock:
                claimed.append(jid)

    threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == ids


def test_expired_lease_is_taken_over_and_the_old_owner_is_fenced_out(env: Env):
    job_id = _enqueue(env, "noop")
    with env.session() as s:
        assert queue.claim(s, "dead-worker", lease_seconds=1) is not None
    with env.session() as s:
        assert queue.claim(s, "other", lease_seconds=60) is None   # lease still valid
    time.sleep(1.2)
    with env.session() as s:
        again = queue.claim(s, "other", lease_seconds=60)
        assert again is not None and again.id == job_id and again.attempts == 2
    with env.session() as s:
        assert queue.complete(s, job_id, "dead-worker", {"late": True}) is False
    with env.session() as s:
        assert queue.complete(s, job_id, "other", {"ok": True}) is True
    assert _job(env, job_id).status == "done" and _job(env, job_id).result == {"ok": True}


def test_failures_back_off_then_end_failed_and_can_be_retried(env: Env):
    job_id = _enqueue(env, "noop", max_attempts=2)
    with env.session() as s:
        queue.claim(s, "w", lease_seconds=60)
    with env.session() as s:
        assert queue.fail(s, job_id, "w", "boom") == "queued"
    job = _job(env, job_id)
    assert job.run_after > clock.system_now() + dt.timedelta(seconds=3)          # backoff
    with env.session() as s:
        s.execute(sa.update(Job).where(Job.id == job_id).values(run_after=clock.system_now()))
    with env.session() as s:
        queue.claim(s, "w", lease_seconds=60)
    with env.session() as s:
        assert queue.fail(s, job_id, "w", "boom again") == "failed"
    with env.session() as s:
        assert [j.id for j in queue.list_jobs(s, status="failed")] == [job_id]
        queue.retry(s, job_id)
    assert _job(env, job_id).status == "queued" and _job(env, job_id).attempts == 0


def test_worker_runs_handlers_and_records_results_and_errors(env: Env):
    calls: list[int] = []

    @handler("test_echo")
    def echo(ctx, payload):  # type: ignore[no-untyped-def]
        calls.append(payload["n"])
        if payload["n"] == 2:
            raise ValueError("bad input for this job")
        ctx.progress({"seen": payload["n"]})
        return {"echo": payload["n"]}

    try:
        ids = [_enqueue(env, "test_echo", {"n": n}) for n in (1, 2, 3)]
        unknown = _enqueue(env, "no_such_kind")
        worker = Worker(env.settings, engine=env.engine, store=env.store)
        while worker.run_once():
            pass
        assert sorted(calls) == [1, 2, 3]
        assert _job(env, ids[0]).status == "done" and _job(env, ids[0]).result == {"echo": 1}
        assert _job(env, ids[0]).progress == {"seen": 1}
        failing = _job(env, ids[1])
        assert failing.status == "queued" and "bad input" in (failing.last_error or "")
        assert _job(env, unknown).status == "failed"
    finally:
        HANDLERS.pop("test_echo", None)


def test_jobs_api_for_admins(env: Env):
    from tests.factories import world

    tokens = world(env)
    job_id = _enqueue(env, "noop", max_attempts=1)
    with env.session() as s:
        queue.claim(s, "w", lease_seconds=60)
    with env.session() as s:
        queue.fail(s, job_id, "w", "it broke")
    admin = env.client(tokens["admin"])
    failed = admin.get("/api/v1/jobs", params={"status": "failed"}).json()
    assert [j["id"] for j in failed] == [job_id] and failed[0]["last_error"] == "it broke"
    assert admin.post(f"/api/v1/jobs/{job_id}/retry").json()["status"] == "queued"
    again = admin.post(f"/api/v1/jobs/{job_id}/retry")
    assert again.status_code == 409
