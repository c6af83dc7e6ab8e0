"""Named crash points for reliability tests.

``ARCHIVE_FAILPOINTS=ingest.after_put`` makes the process die (``os._exit``, no cleanup,
like ``kill -9``) when it reaches that point, so tests can prove that a crash between two
steps loses nothing. Unset in normal operation: the check is one dictionary lookup.
"""

from __future__ import annotations

import os


def failpoint(name: str) -> None:
    active = os.environ.get("ARCHIVE_FAILPOINTS")
    if active and name in active.split(","):
        os._exit(99)
