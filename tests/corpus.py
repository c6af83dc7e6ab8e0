"""Where the test corpus lives: the full shared corpus when present, else the subset kept in
the repository.

The full corpus (``../shared/corpus`` next to the checkout, or ``$ARCHIVE_CORPUS``) holds
real files written by other people. A fresh clone does not have it, so the repository keeps
a small subset under ``tests/data/corpus`` (made by ``scripts/corpus-subset``, licences
inside): every corpus test runs on any clone, on fewer files. ``FULL`` tells a test which
one it got, for the few assertions that count files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("ARCHIVE_CORPUS")
              or Path(__file__).resolve().parents[2] / "shared" / "corpus")
SUBSET = Path(__file__).resolve().parent / "data" / "corpus"
FULL = (SHARED / "README.md").is_file()
CORPUS = SHARED if FULL else SUBSET


def corpus_path(*parts: str) -> Path:
    """Path inside the corpus in use; a file the subset lacks fails the test (never a skip:
    a test that silently stops running is the failure this module exists to prevent)."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is not in the {'full' if FULL else 'repository'} corpus; "
                    "add it to scripts/corpus-subset or set ARCHIVE_CORPUS")
    return path
