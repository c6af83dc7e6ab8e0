"""Refused attempts are audited too.

A refused step raises a core error, and the caller's transaction rolls back — taking any
audit event queued in it along. :func:`audited_refusal` records the refusal in a
transaction of its own, after rolling the caller's back (on SQLite the caller may hold
the write lock, which the new transaction needs).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from archive import audit
from archive.accounts.principal import Principal
from archive.db import session_scope
from archive.errors import ArchiveError


@contextmanager
def audited_refusal(session: Session, sessions: sessionmaker[Session], principal: Principal,
                    action: str, *, target_type: str | None = None,
                    target_id: Any = None) -> Iterator[None]:
    try:
        yield
    except ArchiveError as exc:
        session.rollback()
        with session_scope(sessions) as log:
            audit.record(log, actor=principal, action=action, target_type=target_type,
                         target_id=target_id, outcome="refused",
                         details={"error": exc.code, "detail": exc.detail})
        raise
