"""The engine's pool on PostgreSQL: the liveness check at checkout is the transaction's
``BEGIN`` (archive/db.py ``_begin_on_checkout``), one round trip instead of a pre-ping
and a ``BEGIN``. A connection the server has closed must still cost no request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from archive.db import make_engine
from tests import servers


@pytest.fixture(scope="module")
def pg_url(postgres: servers.Postgres) -> Iterator[str]:
    name = postgres.create_database()
    yield postgres.url(name)
    postgres.drop_database(name)


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(sa.text("SELECT pg_backend_pid()")) or 0)


def test_a_pooled_connection_the_server_closed_is_replaced_without_an_error(
        engine: Engine, postgres: servers.Postgres) -> None:
    """GIVEN pooled connections whose server processes were terminated (as a database
    restart does) WHEN the next units of work run THEN they succeed on new connections."""
    with engine.connect() as a, engine.connect() as b:   # two connections in the pool
        pids = {int(a.scalar(sa.text("SELECT pg_backend_pid()")) or 0),
                int(b.scalar(sa.text("SELECT pg_backend_pid()")) or 0)}
    admin = sa.create_engine(postgres.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for pid in pids:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid})
    admin.dispose()
    for _ in range(3):
        assert _backend_pid(engine) not in pids


def test_units_of_work_keep_their_transactions(engine: Engine) -> None:
    """The BEGIN sent at checkout is the unit of work's own: a rollback undoes what it
    did, a commit keeps it, and the next checkout starts a new transaction."""
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS pool_probe (n int)"))
        conn.execute(sa.text("DELETE FROM pool_probe"))
    with Session(engine) as session:
        session.execute(sa.text("INSERT INTO pool_probe VALUES (1)"))
        session.rollback()
    with Session(engine) as session:
        first = session.scalar(sa.text("SELECT txid_current()"))
        session.execute(sa.text("INSERT INTO pool_probe VALUES (2)"))
        assert session.scalar(sa.text("SELECT txid_current()")) == first   # one transaction
        session.commit()
    with Session(engine) as session:
        assert list(session.scalars(sa.text("SELECT n FROM pool_probe"))) == [2]
        assert session.scalar(sa.text("SELECT txid_current()")) != first


def test_an_autocommit_engine_runs_outside_a_transaction(pg_url: str) -> None:
    """An engine made for statements that refuse a transaction (``VACUUM``) still can."""
    engine = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE TABLE IF NOT EXISTS pool_probe_ac (n int)"))
            conn.execute(sa.text("VACUUM pool_probe_ac"))
    finally:
        engine.dispose()
