"""Fixtures: every test that takes ``env`` runs on both stacks.

* ``sqlite``   — SQLite file + local-folder store (the embedded default);
* ``postgres`` — PostgreSQL + SeaweedFS S3 with Object Lock (production shape).

Schemas are migrated once per session; each test starts from empty tables (a copy of a
migrated SQLite file, or TRUNCATE on PostgreSQL) and a fresh bucket or folder, so tests
can commit for real — through the API, the CLI or worker processes.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db import make_engine, upgrade
from archive.storage import ObjectStore
from archive.storage.local import LocalStore
from archive.unit_of_work import make_session_factory, session_scope
from tests import servers

# The width of the terminal pytest runs in must not reach the CLI's consoles, which are
# made when cli/ is imported: a command run in this process (tests/clirun.py) then wraps
# its messages at COLUMNS=200, as a command started as a process does. pytest-xdist's
# workers start with COLUMNS=80 set.
os.environ.pop("COLUMNS", None)

STACKS = os.environ.get("ARCHIVE_TEST_STACKS", "sqlite,postgres").split(",")
# Test fixtures name LAOs like "sao-1"; the default LAO code format (the DLA's 7-digit
# organisation code) is tested on its own (tests/archive/test_orgs.py).
TEST_LAO_CODES = r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}"


def _refuse_remote(url: str) -> None:
    host = sa.engine.make_url(url).host
    if host not in (None, "", "127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"tests refuse to run against a non-local database ({host})")


@pytest.fixture(scope="session")
def postgres() -> Iterator[servers.Postgres]:
    pg = servers.start_postgres()
    _refuse_remote(pg.admin_url)
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Seaweed]:
    weed = servers.start_seaweed(tmp_path_factory.mktemp("weed"))
    yield weed
    weed.stop()


@dataclass
class StackBase:
    name: str
    engine: Engine | None = None          # postgres: shared; sqlite: per test
    template: Path | None = None          # sqlite: migrated database file to copy
    db_url: str | None = None
    pg: servers.Postgres | None = None
    weed: servers.Seaweed | None = None


@pytest.fixture(scope="session", params=STACKS)
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[StackBase]:
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("sqlite-template") / "archive.db"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        engine.dispose()
        yield StackBase("sqlite", template=template)
        return
    pg = request.getfixturevalue("postgres")
    weed = request.getfixturevalue("seaweed")
    dbname = pg.create_database()
    _no_commit_flush(pg, dbname)
    url = pg.url(dbname)
    engine = make_engine(url)
    upgrade(engine)
    yield StackBase("postgres", engine=engine, db_url=url, pg=pg, weed=weed)
    engine.dispose()
    pg.drop_database(dbname)


def _no_commit_flush(pg: servers.Postgres, dbname: str) -> None:
    """Commits to the test database return without waiting for the WAL flush.

    A test commits dozens of times; on a server that also carries other work (a bulk load
    writing WAL, as on a shared machine) each flush waits its turn: ~130 ms per commit
    measured while a 10-million-row load wrote to the same server, 0.2 ms once it had
    finished. Only durability across a crash of the server is given up — no test crashes this
    server (tests/workers/test_reliability.py restarts a throwaway cluster of its own) —
    while every commit's atomicity, visibility and locking stay the same."""
    engine = sa.create_engine(pg.admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{dbname}" SET synchronous_commit = off')
    engine.dispose()


def new_bucket_name() -> str:
    return f"test-{secrets.token_hex(6)}"


def make_s3_store(weed: servers.Seaweed, bucket: str | None = None, **kw: Any) -> ObjectStore:
    from archive.storage.s3 import S3Store

    store = S3Store(endpoint=weed.endpoint, access_key=servers.ACCESS_KEY,
                    secret_key=servers.SECRET_KEY, bucket=bucket or new_bucket_name(), **kw)
    return store


@dataclass
class Env:
    """One test's archive: settings, database, store, and helpers to populate them."""

    stack: str
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore
    weed: servers.Seaweed | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    apps: list[Any] = field(default_factory=list)

    def env_vars(self) -> dict[str, str]:
        """Environment for a subprocess (CLI, server, worker) seeing the same archive."""
        env = {**os.environ, "ARCHIVE_DATA_DIR": str(self.settings.data_dir),
               "ARCHIVE_DATABASE_URL": self.settings.db_url,
               "ARCHIVE_LAO_CODE_PATTERN": self.settings.lao_code_pattern}
        if self.settings.s3_endpoint:
            env.update(ARCHIVE_S3_ENDPOINT=self.settings.s3_endpoint,
                       ARCHIVE_S3_ACCESS_KEY=servers.ACCESS_KEY,
                       ARCHIVE_S3_SECRET_KEY=servers.SECRET_KEY,
                       ARCHIVE_S3_BUCKET=self.settings.s3_bucket)
        else:
            for key in ("ARCHIVE_S3_ENDPOINT", "ARCHIVE_S3_BUCKET"):
                env.pop(key, None)
        return env

    def session(self) -> Any:
        return session_scope(self.sessions)

    def app(self, **overrides: Any) -> Any:
        from api.app import create_app

        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        app = create_app(settings, engine=self.engine, store=self.store)
        self.apps.append(app)
        return app

    def close(self) -> None:
        """End what the test's applications started in the background (a flusher thread
        writing after the test would write into the next test's database)."""
        from api.app import close_app

        for app in self.apps:
            close_app(app)

    def client(self, token: str | None = None, **overrides: Any) -> Any:
        from fastapi.testclient import TestClient

        client = TestClient(self.app(**overrides), raise_server_exceptions=False)
        if token:
            client.headers["Authorization"] = f"Bearer {token}"
        return client

    # -- data helpers (GIVEN steps) -----------------------------------------------------
    def org(self, code: str, *, parent: str | None = None, type: str = "sao",
            name: str | None = None) -> None:
        from archive.accounts.principal import system_principal
        from archive.orgs import service as orgs

        with self.session() as s:
            orgs.create(s, system_principal("test"), code=code, name=name or f"อบต. {code}",
                        type=type, parent_code=parent)

    def user(self, name: str, role: str, orgs: list[str] | None = None, **kw: Any) -> str:
        from archive.accounts import service as accounts
        from archive.accounts.principal import system_principal

        with self.session() as s:
            _, token = accounts.create_user(s, system_principal("test"), name=name, role=role,
                                            org_codes=orgs or [], **kw)
        self.tokens[name] = token
        return token


def _truncate(engine: Engine) -> None:
    """Empty every table of the schema and restart the sequences they own, as
    ``TRUNCATE … RESTART IDENTITY CASCADE`` would.

    TRUNCATE gives each of the ~40 tables (and their indexes) new files and syncs them:
    about a second per test even on an idle machine's disk, for tables that hold a handful
    of rows. DELETE of those rows costs milliseconds. It runs as a replica session
    (``session_replication_role``), so neither the audit trail's append-only triggers nor
    the foreign keys' checks fire — exactly what TRUNCATE skips too."""
    from archive.db import Base

    existing = set(sa.inspect(engine).get_table_names())
    names = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql("; ".join(f'DELETE FROM "{name}"' for name in names))
        # The sequences RESTART IDENTITY restarts: those owned by the tables' columns
        # (serial: dependency 'a'; identity: 'i').
        conn.execute(sa.text(
            "SELECT setval(s.oid, q.seqstart, false) FROM pg_class s "
            "JOIN pg_sequence q ON q.seqrelid = s.oid "
            "JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass "
            " AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "WHERE t.relname = ANY(:names) AND t.relnamespace = 'public'::regnamespace"),
            {"names": names})
        conn.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"),
                     {"h": "0" * 64})


@pytest.fixture
def env(stack: StackBase, tmp_path: Path) -> Iterator[Env]:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    if stack.name == "sqlite":
        db_file = data_dir / "archive.db"
        shutil.copy(stack.template, db_file)  # type: ignore[arg-type]
        url = f"sqlite:///{db_file}"
        engine = make_engine(url)
        settings = Settings(data_dir=data_dir, database_url=url, s3_endpoint=None,
                            lao_code_pattern=TEST_LAO_CODES)
        store: ObjectStore = LocalStore(settings.objects_dir)
        store.prepare()
        env = Env("sqlite", settings, engine, make_session_factory(engine, store), store)
        yield env
        env.close()
        engine.dispose()
        return
    assert stack.engine is not None and stack.weed is not None
    bucket = new_bucket_name()
    settings = Settings(data_dir=data_dir, database_url=stack.db_url,
                        s3_endpoint=stack.weed.endpoint, s3_access_key=servers.ACCESS_KEY,
                        s3_secret_key=servers.SECRET_KEY, s3_bucket=bucket,
                        lao_code_pattern=TEST_LAO_CODES)
    store = make_s3_store(stack.weed, bucket)
    store.prepare()
    env = Env("postgres", settings, stack.engine, make_session_factory(stack.engine, store),
              store, weed=stack.weed)
    try:
        yield env
    finally:
        env.close()
        stack.engine.dispose()  # connections from a test must not leak into the next
        _truncate(stack.engine)
