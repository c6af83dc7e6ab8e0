"""Where the shared test corpus lives, and a skip with a clear reason when it is absent.

The corpus (``../shared/corpus`` next to the checkout, or ``$ARCHIVE_CORPUS``) holds real
files written by other people; a fresh clone does not have it, so tests that need it skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS = Path(os.environ.get("ARCHIVE_CORPUS")
              or Path(__file__).resolve().parents[2] / "shared" / "corpus")


def corpus_path(*parts: str) -> Path:
    """Path inside the corpus; skips the calling test when it is not there."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"test corpus not found at {path} (set ARCHIVE_CORPUS to its folder)")
    return path
