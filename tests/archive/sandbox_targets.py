"""Functions run in sandboxed children by tests/archive/test_sandbox.py (importable by
reference, as the sandbox requires)."""

from __future__ import annotations

import ctypes
import os


def pid() -> int:
    return os.getpid()


def spin() -> None:
    while True:
        pass


def eat() -> None:
    hog = []
    while True:
        hog.append(b"x" * 10_000_000)


def boom() -> None:
    raise ValueError("bad input")


def segfault() -> None:
    ctypes.string_at(0)


def burn(seconds: float) -> float:
    import time

    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return seconds


def pid_or_run(fn=None):  # type: ignore[no-untyped-def]
    """The child's pid, or whatever ``fn`` does (raise, spin) instead."""
    if fn is not None:
        fn()
    return os.getpid()
