"""What every CLI command needs: settings, database, store, the acting principal, output."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

import typer
from rich.console import Console
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


def fail(problem: ArchiveError | str, *, code: int = 1) -> NoReturn:
    """Print a clear message on stderr and exit non-zero (2 = usage error)."""
    if isinstance(problem, ArchiveError):
        detail = problem.detail
        if isinstance(detail, list):
            lines = [f"  {d.get('field')}: {d.get('message')}" if isinstance(d, dict) else
                     f"  {d}" for d in detail]
            err.print(f"[red]error[/] ({problem.code}):", *lines, sep="\n", markup=True)
        else:
            err.print(f"[red]error[/] ({problem.code}): {detail}", markup=True)
    else:
        err.print(f"[red]error[/]: {problem}", markup=True)
    raise typer.Exit(code)


@dataclass
class Ctx:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ObjectStore
    principal: Principal

    @classmethod
    def load(cls, *, upgrade_empty: bool = True, check_schema: bool = True) -> Ctx:
        from pydantic import ValidationError

        from archive.db import current_revision, make_engine, upgrade
        from archive.storage import make_store
        from archive.unit_of_work import make_session_factory

        try:
            settings = Settings()
        except ValidationError as exc:
            fail(f"configuration: {exc.errors()[0]['msg']}", code=2)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.db_url)
        if check_schema:
            head = _head_revision()
            try:
                rev = current_revision(engine)
            except Exception as exc:  # noqa: BLE001 - unreachable database
                fail(f"database unreachable: {exc}")
            if rev is None and upgrade_empty:
                upgrade(engine)
            elif rev != head:
                fail(f"the database schema is at {rev}, the code expects {head}: "
                     "run `archive db upgrade`")
        return cls(settings, engine, make_session_factory(engine), make_store(settings),
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
