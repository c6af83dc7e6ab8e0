"""Telling the concepts built on evidence that a record changed.

Evidence sits below the concepts that use it (a voucher's findings read its files'
metadata and inspection), so it cannot call them; they subscribe here instead, and
evidence announces each change in the caller's transaction: a listener runs inside the
same unit of work, so its effects commit or roll back with the change.

Events: ``metadata`` (a correction, including fields filled from the file) and
``inspection`` (an inspection was recorded).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

Listener = Callable[[Session, list[uuid.UUID], str], None]
_LISTENERS: list[Listener] = []


def subscribe(listener: Listener) -> Listener:
    """Add ``listener`` (once; subscribing the same function again is a no-op)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    return listener


def changed(session: Session, evidence_ids: list[uuid.UUID], what: str) -> None:
    for listener in list(_LISTENERS):
        listener(session, evidence_ids, what)


def listeners() -> tuple[Listener, ...]:
    return tuple(_LISTENERS)
