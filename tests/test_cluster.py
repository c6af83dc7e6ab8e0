"""The national deployment's shape on one machine (issue 18, "many nodes"): every part a
process of its own on 127.0.0.1, against one PostgreSQL.

* SeaweedFS as a cluster: a master, three volume servers (replication ``001``: every
  object on two of them), a filer and the S3 gateway;
* two API processes, two workers, two schedulers.

One scenario:

1. a worker is killed (``kill -9``) in the middle of two jobs: the other one takes them
   after their lease, and each effect happens once;
2. one scheduler is active (it holds the PostgreSQL advisory lock), the other stands by;
   the leader is killed, the other takes over, and the start-up entries it fires on
   taking over are the same period's: one job each, run once; the old leader comes back
   as the standby;
3. uploads through both APIs; one volume server is killed: uploads and downloads go on,
   through both APIs; it comes back and they still go on;
4. every other job ran exactly once, on one of the two workers.

Why three volume servers and not two: with two copies on two servers, losing one leaves
every volume with a single copy, and SeaweedFS then refuses writes ("no writable volumes")
rather than write one copy. Two servers keep the reads going but not the uploads; the
third is what lets a new volume get its two copies while one server is down.

Marked ``scenario``: 76–84 s on a shared two-core machine (figures in the README).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from archive import clock
from archive.audit.models import AuditEvent
from archive.config import Settings
from archive.db import make_engine, upgrade
from archive.evidence.models import Inspection
from archive.queue.models import Job
from archive.unit_of_work import make_session_factory
from tests import servers
from tests.conftest import TEST_LAO_CODES, Env, make_s3_store, new_bucket_name
from tests.factories import make_pdf, world
from workers.scheduler import LOCK_ID, full_schedule, period_key

pytestmark = [pytest.mark.scenario, pytest.mark.timeout(240)]

ARCHIVE = [sys.executable, "-m", "cli"]
LEASE_SECONDS = 6


@dataclass
class Process:
    """One archive process (``archive serve``/``worker``/``scheduler``), its own log."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self, **extra: str) -> None:
        self.starts += 1
        self.log = self.log.with_name(f"{self.name}-{self.starts}.log")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([*ARCHIVE, *self.args], env={**self.env, **extra},
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def text(self) -> str:
        """The log of the current run."""
        return self.log.read_text(errors="replace")

    def all_text(self) -> str:
        """The logs of every run."""
        return "".join(self.log.with_name(f"{self.name}-{n}.log").read_text(errors="replace")
                       for n in range(1, self.starts + 1))

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def stop_all(processes: list[Process]) -> None:
    """SIGTERM to every process at once, then wait for each (kill what does not stop)."""
    for p in processes:
        if p.proc is not None and p.proc.poll() is None:
            p.proc.send_signal(signal.SIGTERM)
    for p in processes:
        p.stop()


START_KINDS = {e["kind"] for e in full_schedule() if e.get("at_start")}


def _start_keys(at: dt.datetime) -> set[str]:
    """The dedup keys of the start-up entries for the periods around ``at`` (a period
    may turn while the scheduler fires)."""
    tz = ZoneInfo(Settings().timezone)
    return {period_key(e["kind"], e.get("period", "hour"), t.astimezone(tz))
            for e in full_schedule() if e.get("at_start")
            for t in (at - dt.timedelta(minutes=2), at, at + dt.timedelta(minutes=2))}


def wait_for(condition: Callable[[], object], timeout: float, what: str,
             every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def database(postgres: servers.Postgres) -> Iterator[str]:
    name = postgres.create_database("archive_cluster")
    try:
        yield postgres.url(name)
    finally:
        postgres.drop_database(name)


def test_two_of_everything_on_one_postgres_and_a_seaweedfs_cluster(database: str,
                                                                   tmp_path: Path):
    with ExitStack() as stack, ThreadPoolExecutor(1) as pool:
        # the storage cluster starts while the database is migrated and populated
        starting = pool.submit(servers.start_seaweed_cluster, tmp_path / "weed", volumes=3,
                               replication="001")
        engine = make_engine(database)
        stack.callback(engine.dispose)
        try:
            upgrade(engine)
        finally:
            cluster = starting.result()
            stack.callback(cluster.stop)
        _scenario(stack, cluster, engine, database, tmp_path)


def _scenario(stack: ExitStack, cluster: servers.SeaweedCluster, engine: sa.Engine,
              database: str, tmp_path: Path) -> None:
    bucket = new_bucket_name()
    settings = Settings(data_dir=tmp_path / "test", database_url=database,
                        s3_endpoint=cluster.endpoint, s3_access_key=servers.ACCESS_KEY,
                        s3_secret_key=servers.SECRET_KEY, s3_bucket=bucket,
                        lao_code_pattern=TEST_LAO_CODES)
    store = make_s3_store(cluster, bucket)       # type: ignore[arg-type]
    store.prepare()                              # the bucket, with Object Lock
    # organisations are described in the store too (issue 18): the world needs the store
    env = Env("postgres", settings, engine, make_session_factory(engine, store), store)
    tokens = world(env)

    base = {**env.env_vars(), "ARCHIVE_EMBEDDED_WORKER": "false",
            "ARCHIVE_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "ARCHIVE_JOB_RETRY_BASE_SECONDS": "0.3", "ARCHIVE_SCHEDULER_POLL_SECONDS": "1",
            "ARCHIVE_WORKER_HEARTBEAT_SECONDS": "1", "ARCHIVE_WORKER_GRACE": "5"}

    def process(name: str, *args: str) -> Process:
        # each its own data folder (its temporary files), as on its own machine
        data = tmp_path / name
        data.mkdir()
        return Process(name, list(args), {**base, "ARCHIVE_DATA_DIR": str(data)},
                       tmp_path / f"{name}.log")

    api_ports = [servers.free_port(), servers.free_port()]
    apis = [process(f"api{i}", "serve", "--port", str(p)) for i, p in enumerate(api_ports, 1)]
    workers = [process(f"worker{i}", "worker", "--concurrency", "2") for i in (1, 2)]
    schedulers = [process(f"scheduler{i}", "scheduler") for i in (1, 2)]
    everything = [*apis, *workers, *schedulers]

    marks: list[tuple[str, float]] = [("start", time.monotonic())]

    def phase(name: str) -> None:
        marks.append((name, time.monotonic()))
        print(f"[cluster] {name}: {marks[-1][1] - marks[-2][1]:.1f} s", flush=True)

    stack.callback(_all_stopped, everything)
    stack.callback(stop_all, everything)
    # worker 1 starts with a fault: it stops inside the inspection, before its commit
    # (worker 2 starts once it holds its jobs, so that it is worker 1 that holds them)
    doomed, survivor = workers
    doomed.start(ARCHIVE_FAILPOINTS="job.inspect.before_commit=sleep:120")
    for p in [*apis, *schedulers]:
        p.start()
    for p, port in zip(apis, api_ports, strict=True):
        servers.wait_for_port(port, 90, p.proc, p.log)
    clients = [stack.enter_context(httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60,
        headers={"Authorization": f"Bearer {tokens['off1']}"})) for port in api_ports]
    auditors = [stack.enter_context(httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60,
        headers={"Authorization": f"Bearer {tokens['aud1']}"})) for port in api_ports]
    phase("processes up")

    uploaded: dict[str, bytes] = {}

    def upload_through_both(prefix: str, n: int) -> None:
        for i in range(n):
            content = make_pdf(f"{prefix}-{i}")
            r = clients[i % 2].post("/evidence", data={"org_code": "sao-1",
                                                       "doc_type": "receipt"},
                                    files={"file": (f"{prefix}-{i}.pdf", content,
                                                    "application/pdf")})
            assert r.status_code == 201, (prefix, i, r.status_code, r.text)
            uploaded[r.json()["id"]] = content

    def download_all_through_both() -> None:
        for i, (evidence_id, content) in enumerate(uploaded.items()):
            r = auditors[i % 2].get(f"/evidence/{evidence_id}/content")
            assert r.status_code == 200, (evidence_id, r.status_code, r.text)
            assert hashlib.sha256(r.content).digest() == hashlib.sha256(content).digest()

    def jobs(kind: str | None = None) -> list[Job]:
        with env.session() as s:
            q = sa.select(Job).order_by(Job.id)
            rows = list(s.scalars(q.where(Job.kind == kind) if kind else q))
            for row in rows:
                s.expunge(row)
            return rows

    def upload_jobs_done() -> bool:
        kinds = ("inspect", "extract_text", "retention_compute")
        return all(j.status == "done" for j in jobs() if j.kind in kinds)

    def count(stmt: sa.Select[tuple[int]]) -> int:
        with env.session() as s:
            return int(s.scalar(stmt) or 0)

    def scheduler_lock_holders() -> int:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objid = :k AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())"), {"k": LOCK_ID}).scalar() or 0)

    def active(p: Process) -> bool:
        return "scheduler.active" in p.text()

    def standing_by(p: Process) -> bool:
        return "scheduler.standby" in p.text()

    # -- a worker killed mid-job loses nothing ----------------------------------------
    upload_through_both("killed-mid-job", 2)

    def held_by_doomed() -> list[int]:
        return [j.id for j in jobs("inspect")
                if j.status == "running" and f":{doomed.pid}:" in (j.lease_owner or "")]

    wait_for(lambda: len(held_by_doomed()) == 2, 60, "the doomed worker to hold 2 jobs")
    taken = held_by_doomed()
    doomed.kill()            # kill -9, inside the handler, before its commit
    survivor.start()         # takes the jobs once their lease has run out
    doomed.start()           # the machine comes back: a worker again
    phase("worker killed mid-job")

    # -- one scheduler active, the other standing by; the leader dies ----------------
    wait_for(lambda: all(active(s) or standing_by(s) for s in schedulers), 60,
             "both schedulers to start")
    assert [active(s) for s in schedulers].count(True) == 1
    assert scheduler_lock_holders() == 1
    leader, standby = sorted(schedulers, key=active, reverse=True)
    time.sleep(1.5)          # more polls of the standby: it must not take over
    assert not active(standby)
    first_fired = _start_keys(clock.system_now())
    leader.kill()
    wait_for(lambda: active(standby), 30, "the standby scheduler to take over")
    takeover_keys = _start_keys(clock.system_now())
    leader.start()           # it comes back, as the standby now
    phase("scheduler takeover")

    # -- uploads through both APIs; a volume server dies; they go on -----------------
    upload_through_both("calm", 8)
    cluster.processes["volume1"].kill()
    upload_through_both("one-volume-server-down", 6)
    download_all_through_both()
    cluster.start_process("volume1")
    upload_through_both("back", 6)
    download_all_through_both()
    phase("volume server killed and back")

    wait_for(upload_jobs_done, 90, "the upload jobs to be done")
    wait_for(lambda: all(j.status in ("done", "failed") for j in jobs()), 60,
             "the scheduled jobs to run")
    wait_for(lambda: standing_by(leader), 60, "the old leader to stand by")
    phase("jobs done")
    assert not active(leader) and scheduler_lock_holders() == 1

    # -- what happened, from the database -------------------------------------------
    done = jobs()
    n = len(uploaded)
    assert n == 22
    # every upload inspected once (the two the dead worker held included)
    assert count(sa.select(sa.func.count()).select_from(Inspection)) == n
    assert count(sa.select(sa.func.count()).select_from(AuditEvent)
                 .where(AuditEvent.action == "evidence.inspect")) == n
    by_id = {j.id: j for j in done}
    assert all(by_id[i].status == "done" and by_id[i].attempts == 2 for i in taken), \
        [(by_id[i].status, by_id[i].attempts) for i in taken]
    # every other job was claimed once, by one of the two workers
    again = {j.id for j in done if j.attempts > 1}
    assert again == set(taken), [(j.kind, j.attempts) for j in done if j.attempts > 1]
    assert {j.status for j in done} == {"done"}, \
        [(j.kind, j.status, j.last_error) for j in done if j.status != "done"]
    assert all("job.done" in w.all_text() for w in workers)    # both took part
    # both leaders fired the start-up entries (the first, then the one that took
    # over): one job per entry and period, run once
    fired = {j.dedup_key: j for j in done if j.kind in START_KINDS}
    assert len(fired) == len([j for j in done if j.kind in START_KINDS])
    assert set(fired) <= first_fired | takeover_keys
    assert {j.kind for j in fired.values()} == START_KINDS
    assert "scheduler.active" in standby.text()
    # no process crashed on the way
    for p in everything:
        assert p.proc is not None and p.proc.poll() is None, (p.name, p.text()[-2000:])
    phase("checked")


def _all_stopped(processes: list[Process]) -> None:
    for p in processes:
        assert p.proc is not None and p.proc.poll() is not None, p.name
