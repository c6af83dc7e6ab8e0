"""Search and evidence packs read the replica (``ARCHIVE_DATABASE_REPLICA_URL``).

The replica here is a second real database of the same kind: a copy of the primary
taken after the first upload. The second upload exists only on the primary, so what a
search or a pack returns shows which database it read. What is written (the audit
trail of the search, the export's own rows) must land on the primary only.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.db import make_engine
from archive.search.models import Export
from archive.unit_of_work import ReplicaState, read_sessions
from tests import clirun
from tests.conftest import Env, StackBase
from tests.factories import make_pdf, upload, world
from workers.handlers.search import export as export_job
from workers.registry import JobContext


@pytest.fixture
def replica_of(env: Env, stack: StackBase, tmp_path: Path) -> Iterator[object]:
    """``copy()`` makes the replica (a copy of the primary as it is now); yields its URL."""
    made: list[str] = []

    def copy() -> str:
        if env.stack == "sqlite":
            target = tmp_path / "replica.db"
            source = sqlite3.connect(env.settings.db_url.removeprefix("sqlite:///"))
            dest = sqlite3.connect(target)
            source.backup(dest)
            source.close()
            dest.close()
            return f"sqlite:///{target}"
        assert stack.pg is not None and stack.db_url is not None
        primary = sa.engine.make_url(stack.db_url).database
        name = f"{primary}_replica"
        admin = sa.create_engine(stack.pg.admin_url, isolation_level="AUTOCOMMIT")
        try:
            for attempt in range(20):       # the template must have no other session
                env.engine.dispose()
                try:
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{primary}"'))
                    break
                except sa.exc.OperationalError:
                    if attempt == 19:
                        raise
                    time.sleep(0.2)
        finally:
            admin.dispose()
        made.append(name)
        return stack.pg.url(name)

    yield copy
    for name in made:
        assert stack.pg is not None
        stack.pg.drop_database(name)


def _count(engine: sa.Engine, action: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == action)).scalar() or 0)


def test_search_listing_and_packs_read_the_replica_and_write_the_primary(env: Env,
                                                                         replica_of):
    tokens = world(env)
    first = upload(env.client(tokens["off1"]), make_pdf("on both")).json()["id"]
    replica_url = replica_of()
    replica = make_engine(replica_url)
    replica_client = env.client(tokens["aud1"], database_replica_url=replica_url)
    try:
        second = upload(env.client(tokens["off1"]), make_pdf("primary only")).json()["id"]

        primary_client = env.client(tokens["aud1"])
        assert replica_client.app.state.reads.replica is not None
        on_primary = {i["id"] for i in primary_client.get("/api/v1/evidence").json()["items"]}
        assert on_primary == {first, second}

        searches = _count(env.engine, "evidence.search")
        replica_searches = _count(replica, "evidence.search")
        r = replica_client.get("/api/v1/evidence")
        assert r.status_code == 200, r.text
        assert [i["id"] for i in r.json()["items"]] == [first]
        assert r.json()["total"] == 1
        # the search is recorded on the primary, never on the replica
        assert _count(env.engine, "evidence.search") == searches + 1
        assert _count(replica, "evidence.search") == replica_searches

        listing = replica_client.get("/api/v1/evidence.csv")
        assert listing.status_code == 200
        rows = list(csv.DictReader(io.StringIO(listing.content.decode("utf-8-sig"))))
        assert [row["id"] for row in rows] == [first]

        # an evidence pack of every sao-1 record, built by a worker that reads the replica
        r = primary_client.post("/api/v1/exports", json={"filters": {"org_code": "sao-1"}})
        assert r.status_code == 202, r.text
        export_id = r.json()["id"]
        assert r.json()["progress"]["total"] == 2          # counted on the primary
        reads = read_sessions(env.engine, replica_url)
        ctx = JobContext(job_id=1, kind="export", attempt=1,
                         settings=env.settings.model_copy(
                             update={"database_replica_url": replica_url}),
                         sessions=env.sessions, store=env.store,
                         report_progress=lambda _: None, stopping=lambda: False, reads=reads)
        try:
            result = export_job(ctx, {"export_id": export_id})
        finally:
            reads.dispose()
        assert result is not None and result["records"] == 1     # the replica's one record
        with env.session() as s:
            export = s.get(Export, uuid.UUID(export_id))
            assert export is not None and export.status == "done"
        with replica.connect() as conn:                    # the export is not on the replica
            assert conn.execute(sa.select(sa.func.count()).select_from(Export)).scalar() == 0
    finally:
        replica_client.app.state.reads.dispose()
        replica.dispose()


def test_without_a_replica_everything_reads_the_primary(env: Env):
    tokens = world(env)
    ids = {upload(env.client(tokens["off1"]), make_pdf(f"p{i}")).json()["id"] for i in (1, 2)}
    client = env.client(tokens["aud1"])
    assert env.settings.database_replica_url is None
    assert {i["id"] for i in client.get("/api/v1/evidence").json()["items"]} == ids


@pytest.mark.parametrize(("state", "fresh"), [
    (ReplicaState(standby=False, caught_up=True, lag_seconds=0.0), True),
    (ReplicaState(standby=True, caught_up=True, lag_seconds=900.0), True),   # idle primary
    (ReplicaState(standby=True, caught_up=False, lag_seconds=2.0), True),
    (ReplicaState(standby=True, caught_up=False, lag_seconds=31.0), False),
    (ReplicaState(standby=True, caught_up=False, lag_seconds=None), False),  # nothing yet
])
def test_a_standby_serves_searches_only_within_the_allowed_lag(state: ReplicaState,
                                                               fresh: bool):
    assert state.fresh_within(30.0) is fresh


def test_the_cli_export_reads_where_the_export_job_reads(env: Env, replica_of, tmp_path: Path):
    """GIVEN a replica holding the first upload only WHEN an operator runs `archive export`
    with ARCHIVE_DATABASE_REPLICA_URL set THEN the pack holds what the replica holds (the
    rule of the export job: the replica once it has everything committed until now;
    this copy is not a standby, so it counts as current), and the export is recorded in
    the audit trail of the primary only."""
    tokens = world(env)
    first = upload(env.client(tokens["off1"]), make_pdf("cli on both")).json()
    replica_url = replica_of()
    replica = make_engine(replica_url)
    try:
        second = upload(env.client(tokens["off1"]), make_pdf("cli primary only")).json()
        exports, replica_exports = (_count(e, "evidence.export") for e in (env.engine, replica))
        out = tmp_path / "pack.zip"
        ran = clirun.run(env, "export", "--out", str(out), "--org", "sao-1",
                         extra_env={"ARCHIVE_DATABASE_REPLICA_URL": replica_url})
        assert ran.returncode == 0, ran.stderr
        assert "1 record(s)" in ran.stdout
        with zipfile.ZipFile(out) as zf:
            manifest = next(zf.read(n).decode() for n in zf.namelist()
                            if n.endswith("/manifest-sha256.txt"))
        assert first["sha256"] in manifest and second["sha256"] not in manifest
        assert _count(env.engine, "evidence.export") == exports + 1
        assert _count(replica, "evidence.export") == replica_exports
        # without the setting, the same command reads the primary: both records
        ran = clirun.run(env, "export", "--out", str(out), "--org", "sao-1", "--force")
        assert ran.returncode == 0 and "2 record(s)" in ran.stdout, ran.stderr
    finally:
        replica.dispose()
