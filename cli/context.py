"""What every CLI command needs: settings, database, store, the acting principal, output."""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.accounts.principal import Principal, system_principal
from archive.config import Settings
from archive.errors import ArchiveError
from archive.storage import ObjectStore

err = Console(stderr=True)
# Standard output: on a terminal, as wide as the terminal; into a pipe or a file, wide
# enough that no name or id is ever cut (what is printed must be accepted back as input).
out = Console() if sys.stdout.isatty() else Console(width=100_000, soft_wrap=True)


def fail(problem: ArchiveError | str, *, code: int = 1) -> NoReturn:
    """Print a clear message on stderr and exit non-zero (2 = usage error)."""
    if isinstance(problem, ArchiveError):
        first, *rest = readable(problem.detail) or [""]
        err.print(f"[red]error[/] ({problem.code}): {escape(first)}", markup=True)
        for line in rest:
            err.print(f"  {escape(line)}", markup=True)
    else:
        err.print(f"[red]error[/]: {problem}", markup=True)
    raise typer.Exit(code)


def readable(value: Any) -> list[str]:
    """Lines a person reads, for a structured error detail or a record: a message first,
    then ``key: value`` lines, lists as ``- …``; dates in ISO form; never Python's repr."""
    if isinstance(value, dict):
        lines = [text(value["message"])] if "message" in value else []
        if set(value) == {"field", "message"}:
            return [f"{value['field']}: {text(value['message'])}"]
        for key, item in value.items():
            if key == "message":
                continue
            if isinstance(item, list | tuple) and item:
                lines.append(f"{key}:")
                lines += [f"  - {line}" for element in item for line in
                          [_inline(element)]]
            else:
                lines.append(f"{key}: {_inline(item)}")
        return lines
    if isinstance(value, list | tuple):
        return [_inline(v) for v in value]
    return [text(value)]


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        if set(value) == {"field", "message"}:
            return f"{value['field']}: {text(value['message'])}"
        return ", ".join(f"{k} {_inline(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_inline(v) for v in value) or "—"
    return text(value)


def text(value: Any) -> str:
    """One value as text: ISO dates, plain ids and numbers, "—" for nothing."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def print_json(value: Any) -> None:
    """``--json`` output, one shape for every command: a list command prints one JSON
    array, a show command one object (commands that report as they go, like ``ingest``,
    print one object per line)."""
    import json

    print(json.dumps(value, ensure_ascii=False, indent=2, default=text))


def print_fields(record: dict[str, Any]) -> None:
    """A record (``show`` commands without ``--json``) as ``key: value`` lines."""
    for line in readable(record):
        out.print(escape(line), highlight=False)


def plural(n: int, word: str) -> str:
    """``1 checkpoint``, ``2 checkpoints``, ``1,250 events``."""
    return f"{n:,} {word if n == 1 else word + 's'}"


@dataclass
class Ctx:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore
    principal: Principal

    @classmethod
    def load(cls, *, create: bool = False, check_schema: bool = True) -> Ctx:
        """Settings, database and store of the archive the configuration names.

        Only ``create`` (``serve``, ``init``, ``db upgrade``) makes a new archive where
        there is none; every other command refuses, saying where it looked, rather than
        quietly opening an empty archive in the current folder."""
        from pydantic import ValidationError

        from archive.db import current_revision, make_engine, upgrade
        from archive.storage import make_store
        from archive.unit_of_work import make_session_factory

        try:
            settings = Settings()
        except ValidationError as exc:
            fail(f"configuration: {exc.errors()[0]['msg']}", code=2)
        embedded = settings.embedded_database
        if not create and embedded is not None and not embedded.exists():
            fail(f"no archive at {embedded.parent} (ARCHIVE_DATA_DIR={settings.data_dir}, "
                 "relative to the current folder). Point at the real one with "
                 "ARCHIVE_DATA_DIR=/path/to/var, or ARCHIVE_CONFIG=/path/to/archive.env "
                 "holding its settings; `archive init` creates a new archive.")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.db_url)
        if check_schema:
            head = _head_revision()
            try:
                rev = current_revision(engine)
            except Exception as exc:  # noqa: BLE001 - unreachable database
                fail(f"database unreachable: {exc}")
            if rev is None and create:
                upgrade(engine)
            elif rev is None:
                fail(f"the database {engine.url.render_as_string(hide_password=True)} holds "
                     "no archive yet: `archive init` (or `archive db upgrade`) creates it")
            elif rev != head:
                fail(f"the database schema is at {rev}, the code expects {head}: "
                     "run `archive db upgrade`")
        store = make_store(settings)
        return cls(settings, engine, make_session_factory(
            engine, store, snapshot_years=settings.default_retention_years), store,
            system_principal(f"cli:{_login()}"))

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        from archive.unit_of_work import session_scope

        try:
            with session_scope(self.sessions) as session:
                yield session
        except ArchiveError as exc:
            fail(exc)


def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    from archive.db import alembic_config

    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()  # type: ignore[arg-type]


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return "unknown"


@contextmanager
def progress_bar(total: int | None, label: str,
                 total_bytes: int | None = None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; yields ``advance(bytes)``."""
    if not sys.stderr.isatty():
        yield lambda _n: None
        return
    columns = [TextColumn(f"[bold]{label}"), BarColumn()]
    if total is not None:
        columns.append(MofNCompleteColumn())
    if total_bytes:
        columns += [DownloadColumn(), TransferSpeedColumn()]
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(label, total=total_bytes or total)

        def advance(n: int) -> None:
            progress.advance(task, n if total_bytes else 1)

        yield advance
