"""Job handlers by kind.

A handler is a plain function ``handler(ctx, payload) -> dict | None`` registered with
:func:`handler`. The worker claims a job, calls its handler and marks the job done (storing
the returned dict as its result) or schedules a retry. Handlers must be safe to run twice:
delivery is at least once, so the effect must happen once (check state before acting, use
upserts, write objects under content addresses).

Handlers open their own units of work with ``ctx.session()``; ids come in the payload,
never objects. Long handlers report progress with ``ctx.progress({...})`` (shown by
``archive jobs list`` and the API) and may call ``ctx.check_cancelled()`` between steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.storage import ObjectStore
from archive.unit_of_work import ReadSessions, session_scope


@dataclass
class JobContext:
    job_id: int
    kind: str
    attempt: int
    settings: Settings
    sessions: sessionmaker[Session]
    store: ObjectStore
    report_progress: Callable[[dict[str, Any]], None]
    stopping: Callable[[], bool]
    # read-only sessions, on the read replica when it is fresh enough (exports)
    reads: ReadSessions | None = None

    def session(self) -> AbstractContextManager[Session]:
        return session_scope(self.sessions)

    def progress(self, state: dict[str, Any]) -> None:
        self.report_progress(state)

    def check_cancelled(self) -> None:
        """Raise :class:`Interrupted` when the worker is shutting down (the job is released
        and runs again later)."""
        if self.stopping():
            raise Interrupted("worker is stopping")


class Interrupted(Exception):
    """The handler stopped early because the worker is shutting down; not a failure."""


Handler = Callable[[JobContext, dict[str, Any]], "dict[str, Any] | None"]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if kind in HANDLERS and HANDLERS[kind] is not fn:
            raise RuntimeError(f"two handlers for job kind {kind!r}")
        HANDLERS[kind] = fn
        return fn
    return register


def iter_kinds() -> Iterator[str]:
    return iter(sorted(HANDLERS))
