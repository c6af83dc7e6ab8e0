"""``archive.db.insert_rows`` (and ``upsert_ignore`` with many rows) on both stacks: what
SQLAlchemy's own INSERT would have written (Python-side defaults, JSON, times), conflicts
ignored, bad rows refused with nothing written — and on PostgreSQL one statement for all
the rows, not one per row (a batch upload's 50 records cost PostgreSQL 1.28 ms each one at
a time against 0.31 together: docs/scale.md, session 34)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from archive.db import insert_rows, upsert_ignore
from archive.queue.models import Job
from tests.conftest import Env

AT = dt.datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=dt.UTC)


def _job(i: int, **kw: Any) -> dict[str, Any]:
    return {"kind": "inspect", "payload": {"n": i, "text": 'ไทย "quoted" \\ 100%'},
            "dedup_key": f"key-{i}", "run_after": AT, **kw}


@contextmanager
def _inserts(env: Env) -> Iterator[list[tuple[bool, int]]]:
    """The INSERT statements sent meanwhile: (an executemany?, how many parameters)."""
    seen: list[tuple[bool, int]] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.split()[0] == "INSERT":
            seen.append((executemany, len(parameters)))

    event.listen(env.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(env.engine, "before_cursor_execute", count)


def _jobs(env: Env) -> list[tuple[Any, ...]]:
    with env.session() as s:
        return [tuple(r) for r in s.execute(
            sa.select(Job.kind, Job.payload, Job.dedup_key, Job.status, Job.attempts,
                      Job.max_attempts, Job.run_after, Job.progress).order_by(Job.dedup_key))]


def test_rows_read_back_as_sqlalchemys_insert_writes_them(env: Env):
    """GIVEN two jobs inserted by SQLAlchemy's own INSERT and two by insert_rows with the
    same values, THEN all four read back alike, the defaults the rows left out filled in
    (status, attempts, max_attempts, created_at)."""
    with env.session() as s:
        s.execute(sa.insert(Job), [_job(1), _job(2)])
    with env.session() as s:
        insert_rows(s, Job, [_job(3), _job(4)])
    rows = _jobs(env)
    assert [r[2] for r in rows] == ["key-1", "key-2", "key-3", "key-4"]
    assert [(r[1]["n"],) for r in rows] == [(1,), (2,), (3,), (4,)]
    assert {(r[0], r[1]["text"], *r[3:]) for r in rows} == {
        ("inspect", 'ไทย "quoted" \\ 100%', "queued", 0, 8, AT, None)}
    with env.session() as s:
        made = s.scalars(sa.select(Job.created_at)).all()
    assert all(m.tzinfo is not None for m in made)


def test_conflicts_are_ignored_and_the_rest_inserted(env: Env):
    with env.session() as s:
        upsert_ignore(s, Job, [_job(1)], ["dedup_key"])
    with env.session() as s:
        upsert_ignore(s, Job, [_job(1, kind="changed"), _job(2)], ["dedup_key"])
    assert [(r[0], r[2]) for r in _jobs(env)] == [("inspect", "key-1"), ("inspect", "key-2")]


def test_returning_gives_the_inserted_rows_only(env: Env):
    """GIVEN one job already there, WHEN three rows (one of them its repeat) are inserted
    returning (id, dedup_key), THEN the two new ones come back, with the ids the database
    gave them; the repeat does not, and on PostgreSQL it is one statement with one
    parameter (not SQLAlchemy's multi-row VALUES, whose long statement psycopg converts
    again each time)."""
    with env.session() as s:
        upsert_ignore(s, Job, [_job(1)], ["dedup_key"])
    table = Job.__table__
    with _inserts(env) as seen, env.session() as s:
        back = upsert_ignore(s, Job, [_job(1, kind="changed"), _job(2), _job(3)],
                             ["dedup_key"], returning=(table.c.id, table.c.dedup_key))
    with env.session() as s:
        ids = dict(s.execute(sa.select(Job.dedup_key, Job.id)).all())
    assert sorted(back, key=lambda r: r[1]) == [(ids["key-2"], "key-2"), (ids["key-3"], "key-3")]
    if env.stack == "postgres":
        assert [parameters for _, parameters in seen] == [1]


@pytest.mark.parametrize("rows, message", [
    ([_job(1, run_after=AT.replace(tzinfo=None))], "naive datetime"),
    ([_job(1), {**_job(2), "last_error": "x"}], "same keys"),
    ([_job(1, payload={"when": object()})], "not JSON serializable|cannot insert"),
])
def test_bad_rows_are_refused_and_nothing_is_written(env: Env, rows, message):
    with pytest.raises((ValueError, TypeError, sa.exc.StatementError), match=message), \
            env.session() as s:
        insert_rows(s, Job, rows)
    assert _jobs(env) == []


def test_on_postgresql_many_rows_are_one_statement(env: Env):
    """THEN fifty rows are one INSERT with one parameter (not fifty, not 50 × 9)."""
    if env.stack != "postgres":
        pytest.skip("SQLite runs in-process: an executemany there has no round trips")
    with _inserts(env) as seen, env.session() as s:
        insert_rows(s, Job, [_job(i) for i in range(50)])
    assert seen == [(False, 1)]
    assert len(_jobs(env)) == 50
