"""Named points for reliability and concurrency tests.

``ARCHIVE_FAILPOINTS=ingest.after_put`` makes the process die (``os._exit``, no cleanup,
like ``kill -9``) when it reaches that point; ``name=sleep:30`` makes it pause there
instead (so a test can kill or stop it mid-way). Unset in normal operation: the check is
one dictionary lookup.

In the same process, :func:`run_at` makes a point run an action once, when it is first
reached: a test puts another request exactly between two steps of this one (a race
played deterministically, without sleeps).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_ACTIONS: dict[str, Callable[[], None]] = {}


@contextmanager
def run_at(name: str, action: Callable[[], None]) -> Iterator[None]:
    """While the block runs, the first thread to reach ``name`` runs ``action`` there
    (once: the action may itself pass the same point)."""
    _ACTIONS[name] = action
    try:
        yield
    finally:
        _ACTIONS.pop(name, None)


def failpoint(name: str) -> None:
    if _ACTIONS:
        action = _ACTIONS.pop(name, None)
        if action is not None:
            action()
    active = os.environ.get("ARCHIVE_FAILPOINTS")
    if not active:
        return
    for entry in active.split(","):
        point, _, action_name = entry.partition("=")
        if point != name:
            continue
        if action_name.startswith("sleep:"):
            time.sleep(float(action_name.removeprefix("sleep:")))
        else:
            os._exit(99)
