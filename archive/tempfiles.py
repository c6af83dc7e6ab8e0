"""Temporary files under the data directory, and what a crash leaves of them.

Uploads spool to ``<data>/tmp``, the local store writes through ``objects/.tmp``, jobs
copy objects out for inspection, text extraction and evidence packs. A process killed
with ``kill -9`` (or by the OOM killer, or a power cut) leaves those files behind.

Every owner holds an exclusive ``flock`` on its temporary file (or directory) for as long
as it uses it; the kernel releases the lock when the process dies, however it dies. A
temporary file is therefore a *leftover* when it is older than the process looking at it
and nobody holds its lock. The server and the worker remove leftovers at start-up, and
``archive verify`` reports those it finds, with their size.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def lock_fd(fd: int) -> None:
    """Mark an open temporary file (or directory) as in use by this process."""
    fcntl.flock(fd, fcntl.LOCK_EX)


def hold(path: Path | str) -> int:
    """Lock ``path`` through a descriptor of its own (for a file used after it is closed);
    returns the descriptor, whose ``os.close`` releases the lock."""
    fd = os.open(path, os.O_RDONLY)
    lock_fd(fd)
    return fd


@contextmanager
def held(path: Path | str) -> Iterator[None]:
    """Hold the lock on ``path`` for the duration."""
    fd = hold(path)
    try:
        yield
    finally:
        os.close(fd)


def _in_use(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


@dataclass(frozen=True)
class Leftover:
    path: Path
    size: int
    mtime: float


def find_leftovers(roots: list[Path], *, older_than: float) -> list[Leftover]:
    """Files under ``roots`` last modified before ``older_than`` (a POSIX time) that no
    live process holds — neither the file nor a directory it sits in."""
    found: list[Leftover] = []
    for root in roots:
        if root.is_dir():
            _walk(root, older_than, found, top=True)
    return found


def _walk(folder: Path, older_than: float, found: list[Leftover], *, top: bool) -> None:
    if not top and _in_use(folder):
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            _walk(path, older_than, found, top=False)
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_mtime < older_than and not _in_use(path):
            found.append(Leftover(path, st.st_size, st.st_mtime))


def clean_leftovers(roots: list[Path], *, older_than: float) -> tuple[int, int]:
    """Remove leftovers (and folders they leave empty); returns (files, bytes)."""
    files = size = 0
    emptied: set[Path] = set()
    for leftover in find_leftovers(roots, older_than=older_than):
        try:
            leftover.path.unlink()
        except OSError:
            continue
        files += 1
        size += leftover.size
        emptied.update(leftover.path.parents)
    for root in roots:
        if root.is_dir():
            _prune_empty(root, older_than, emptied)
    return files, size


def _prune_empty(root: Path, older_than: float, emptied: set[Path]) -> None:
    """Empty work folders a killed job left (``tmp/exports/tmpXXXX``); the folders right
    under a root (``tmp/exports``) are where live processes create theirs, and stay."""
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        path = Path(dirpath)
        if path == root or path.parent == root or filenames or \
                any((path / d).exists() for d in dirnames):
            continue
        try:
            # (removing a leftover made the folder look new: it was old before)
            old = path in emptied or path.stat().st_mtime < older_than
            if old and not _in_use(path):
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
