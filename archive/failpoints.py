"""Named crash points for reliability tests.

``ARCHIVE_FAILPOINTS=ingest.after_put`` makes the process die (``os._exit``, no cleanup,
like ``kill -9``) when it reaches that point; ``name=sleep:30`` makes it pause there
instead (so a test can kill or stop it mid-way). Unset in normal operation: the check is
one dictionary lookup.
"""

from __future__ import annotations

import os
import time


def failpoint(name: str) -> None:
    active = os.environ.get("ARCHIVE_FAILPOINTS")
    if not active:
        return
    for entry in active.split(","):
        point, _, action = entry.partition("=")
        if point != name:
            continue
        if action.startswith("sleep:"):
            time.sleep(float(action.removeprefix("sleep:")))
        else:
            os._exit(99)
