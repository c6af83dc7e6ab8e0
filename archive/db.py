"""Database plumbing: declarative base, portable column types, engine, units of work, migrations.

The same models and migrations run on PostgreSQL (production) and SQLite (embedded
default). Services take a ``Session`` and never commit; sessions are made and units of
work end in :mod:`archive.unit_of_work`.

SQLite notes. The driver runs in its legacy transaction mode: plain SELECTs run without
an open transaction and the first write opens one (and takes the write lock at once).
Code that reads then writes (a read-modify-write) therefore starts with the write, e.g.
``UPDATE … RETURNING``, or checks a version column, so it is correct on both databases.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.expression import ClauseElement, Executable
from sqlalchemy.sql.visitors import InternalTraversal

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Money(sa.TypeDecorator[Decimal]):
    """An exact amount with two decimal places.

    PostgreSQL keeps it as ``numeric(18, 2)``; SQLite has no exact decimal type, so there
    it is an integer count of hundredths (satang), which still compares and sums exactly.
    """

    impl = sa.BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(18, 2, asdecimal=True))
        return dialect.type_descriptor(sa.BigInteger())

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        if dialect.name == "postgresql":
            return value
        return int((value * 100).to_integral_value())

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return Decimal(value).quantize(Decimal("0.01"))
        return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # survive a database restart: a dead pooled connection is replaced when checked out
    begin_on_checkout = ("pool_pre_ping" not in kwargs
                         and sa.engine.make_url(url).get_dialect().driver == "psycopg")
    kwargs.setdefault("pool_pre_ping", not begin_on_checkout)
    engine = sa.create_engine(url, **kwargs)
    if begin_on_checkout:
        event.listen(engine, "checkout", _begin_on_checkout)
    return engine


def _begin_on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """The pool's liveness check and the transaction's ``BEGIN`` in one round trip.

    SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` on every checkout, and then the
    driver sends ``BEGIN`` before the first statement: two round trips before any work,
    on every request. Here the ``BEGIN`` is sent at checkout instead (the driver, seeing
    the transaction open, sends none of its own): if the connection is dead, the whole
    pool is invalidated and a new connection taken, as a failed pre-ping does, so a
    database restart still costs no request. A connection in autocommit mode (an engine
    made with ``isolation_level="AUTOCOMMIT"``) is left alone; a checked-out connection is
    already in its transaction, so change the isolation level on the engine, not on one
    connection."""
    from psycopg import pq

    pgconn = dbapi_conn.pgconn
    if dbapi_conn.autocommit or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return
    try:
        result = pgconn.exec_(b"BEGIN")
    except Exception as exc:          # the connection is unusable: take another
        raise sa.exc.InvalidatePoolError(str(exc)) from exc
    if result.status != pq.ExecStatus.COMMAND_OK:
        raise sa.exc.InvalidatePoolError(
            (result.error_message or b"BEGIN failed").decode(errors="replace").strip())


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")       # readers do not block the writer
    cur.execute("PRAGMA synchronous=FULL")       # a committed upload survives power loss
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
    # The search's Thai normalisation, used by the triggers that fold metadata for the
    # FTS5 index (migration 0080): the same Python function that normalises queries.
    dbapi_conn.create_function("archive_thai_search_form", 1, _thai_search_form,
                               deterministic=True)


def _thai_search_form(value: Any) -> Any:
    from archive.textnorm import thai_search_form

    return thai_search_form(value) if isinstance(value, str) else value


def table_of(entity: type[Base]) -> sa.Table:
    """The Core table of a mapped class, for hot paths that skip the ORM's unit of work."""
    table = entity.__table__
    assert isinstance(table, sa.Table)
    return table


def upsert_ignore(session: Session, table: Any, values: dict[str, Any] | list[dict[str, Any]],
                  conflict: list[str], returning: Any = None) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` on either database; with ``returning`` (an ORM
    entity or a column), what was inserted (nothing when the row already existed); with a
    tuple of columns, the inserted rows (tuples of those columns).

    The values travel as parameters, not in the statement, so each (table, conflict)
    statement is compiled once and then served from SQLAlchemy's cache. Several rows whose
    result is nothing or a tuple of columns go in one statement (:func:`insert_rows`)."""
    if isinstance(values, list) and not values:
        return [] if returning is not None else None
    if isinstance(values, list) and (returning is None or isinstance(returning, tuple)):
        return insert_rows(session, table, values, conflict=conflict, returning=returning)
    stmt = _upsert_statement(session.get_bind().dialect.name, table, tuple(conflict),
                             returning)
    if isinstance(returning, tuple):
        return list(session.execute(stmt, values))
    if returning is not None:
        return list(session.scalars(stmt, values))
    session.execute(stmt, values)
    return None


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]], *,
                conflict: list[str] | None = None,
                returning: tuple[sa.Column[Any], ...] | None = None) -> Any:
    """Insert ``rows`` (dicts with the same keys; a missing column gets its default), with
    ``ON CONFLICT (conflict) DO NOTHING`` when given; with ``returning`` (columns), the
    rows inserted, as tuples of those columns, in no particular order (None without).

    On PostgreSQL all the rows go in **one statement with one parameter**, a JSON array
    that ``jsonb_populate_recordset`` turns into rows of the table's type. Measured on a
    50-file batch (docs/scale.md, session 34): psycopg's executemany sends one ``INSERT``
    per row, and PostgreSQL starts each statement's executor anew — for ``evidence`` its 22
    indexes, its triggers and its GIN indexes' gram functions: 1.28 ms a row one at a time
    against 0.31 in statements of 50. SQLAlchemy's own multi-row form (``VALUES (…), (…)``,
    its *insertmanyvalues*) gets that too, but its statement of 1,750 placeholders is too
    long for psycopg's cache of converted queries, and converting it again on every
    batch cost a fifth of the API process's time. A ``None`` is SQL ``NULL``, in a JSON
    column too. On SQLite (in-process, no statement round trips) an executemany."""
    if not rows:
        return [] if returning is not None else None
    core = table if isinstance(table, sa.Table) else table.__table__   # or a mapped class
    rows = _with_defaults(core, rows)
    dialect = session.get_bind().dialect
    params: Any = rows
    if dialect.name != "postgresql":
        statement = _upsert_statement(dialect.name, core, tuple(conflict or ()), returning)
    else:
        statement = _rows_statement(dialect.identifier_preparer, core, tuple(rows[0]),
                                    tuple(conflict or ()), tuple(c.name for c in returning or ()))
        params = {"rows": json.dumps(rows, default=_json_value, ensure_ascii=False)}
    result = session.execute(statement, params)
    return [tuple(row) for row in result] if returning is not None else None


def _with_defaults(table: sa.Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with what SQLAlchemy would add to an INSERT: the Python-side defaults of
    the columns they leave out (``default=``; the database's own defaults it applies)."""
    keys = set(rows[0])
    if any(set(row) != keys for row in rows):
        raise ValueError(f"rows for {table.name} must all have the same keys")
    missing = [c for c in table.columns if c.key not in keys and c.default is not None]
    if not missing:
        return rows
    filled = []
    for row in rows:
        extra = {}
        for column in missing:
            default: Any = column.default
            if default.is_scalar:
                extra[column.key] = default.arg
            elif default.is_callable:
                extra[column.key] = default.arg(None)
            else:
                raise ValueError(f"{table.name}.{column.key}: a SQL default needs the "
                                 "column's value given")
        filled.append({**row, **extra})
    return filled


def _json_value(value: Any) -> Any:
    """What ``json.dumps`` cannot write itself, as PostgreSQL reads it into the column."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.isoformat()
    if isinstance(value, dt.date | Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot insert a {type(value).__name__} through JSON")


@lru_cache(maxsize=64)
def _rows_statement(quote: Any, table: sa.Table, columns: tuple[str, ...],
                    conflict: tuple[str, ...], returning: tuple[str, ...]) -> Any:
    name = quote.format_table(table)
    if any(table.c[key].name != key for key in columns):   # the JSON's keys are names
        raise ValueError(f"rows for {table.name} must be keyed by column names")
    names = ", ".join(quote.quote(key) for key in columns)
    sql = (f"INSERT INTO {name} ({names}) SELECT {names} "
           f"FROM jsonb_populate_recordset(CAST(NULL AS {name}), CAST(:rows AS jsonb))")
    if conflict:
        sql += f" ON CONFLICT ({', '.join(quote.quote(c) for c in conflict)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(quote.quote(c) for c in returning)}"
    return sa.text(sql)


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Any, conflict: tuple[str, ...],
                      returning: Any) -> Any:
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table)
    else:
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(table)
    if conflict:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    if isinstance(returning, tuple):
        return stmt.returning(*returning)
    return stmt.returning(returning) if returning is not None else stmt


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def rowcount(result: Any) -> int:
    """Rows matched by an UPDATE/DELETE (``Session.execute`` is typed as a plain Result)."""
    return int(result.rowcount)


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


class _Explain(Executable, ClauseElement):
    # Cached like the statement it explains (its cache key is that statement's): compiling
    # the EXPLAIN of a search anew each time cost about 8 % of a search's CPU in the API.
    inherit_cache = True
    _traverse_internals = [("stmt", InternalTraversal.dp_clauseelement)]

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt

    @property
    def _all_selected_columns(self) -> Any:
        # what a cached compilation's result columns are matched with (those of the
        # statement explained; only the plan's one column is read, by position)
        return self.stmt._all_selected_columns


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + str(compiler.process(element.stmt, **kw))


def planned_rows(session: Session, stmt: Any) -> int:
    """PostgreSQL's planner estimate of the rows ``stmt`` returns; no row is read."""
    plan = session.execute(_Explain(stmt)).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
