"""Run parsers of untrusted documents in a child process with CPU, memory and wall-time limits.

A PDF or XML file from a stranger can loop forever, expand to gigabytes or crash a C
library. None of that may take down the calling process (the API server, a worker, the
CLI), so every parse goes through :func:`run_limited`:

* the child is forked from a *forkserver* (safe even when the parent runs threads, and
  cheap because the forkserver has already imported the heavy libraries);
* the child sets ``RLIMIT_AS`` (memory) and ``RLIMIT_CPU`` (CPU seconds) on itself before
  running the function, and the parent kills it when the wall-clock limit passes;
* the function's return value comes back pickled through a pipe; anything that goes wrong
  in the child becomes a :class:`SandboxError` with a ``kind`` a report can show.

The function must be importable at module level (it is pickled by reference).
"""

from __future__ import annotations

import importlib.machinery
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

# Modules the forkserver imports once, so that each forked child starts warm. Missing
# modules are skipped by multiprocessing itself.
PRELOAD = ["archive.pdfa", "archive.pdfa.isolated", "archive.inspection",
           "archive.inspection.jobs", "archive.search.extract", "pikepdf", "lxml.etree"]

_ctx = multiprocessing.get_context("forkserver")
_ctx.set_forkserver_preload(PRELOAD)


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 10
    wall_seconds: float = 15.0
    memory_bytes: int = 1 << 30


DEFAULT_LIMITS = Limits()


class SandboxError(Exception):
    """The child did not return a result.

    ``kind`` is one of ``timeout`` (CPU or wall clock), ``memory`` (the memory limit was
    hit), ``crashed`` (the child died or raised an unexpected exception).
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def _child(conn: multiprocessing.connection.Connection, limits: Limits, fn: Callable[..., Any],
           args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        result = fn(*args, **kwargs)
        conn.send(("ok", result))
    except MemoryError:
        conn.send(("memory", f"memory limit of {limits.memory_bytes // (1 << 20)} MiB exceeded"))
    except BaseException as exc:  # noqa: BLE001 - everything must reach the parent
        tail = traceback.format_exc(limit=-3)
        conn.send(("crashed", f"{type(exc).__name__}: {exc}\n{tail}"))
    finally:
        conn.close()


_start_lock = threading.Lock()


def _start(proc: multiprocessing.process.BaseProcess) -> None:
    """Start ``proc`` without making the child re-run the main script.

    When the program was started as a script (the ``archive`` console script, say),
    multiprocessing tells every child to import that script again before it runs the
    target: a second of imports for a millisecond of work. A main module whose spec is
    named ``__main__`` is skipped by the child, so the parent's ``__main__`` shows that
    name while the child is launched. (Targets must be importable functions anyway.)
    """
    main = sys.modules["__main__"]
    with _start_lock:
        if getattr(main, "__spec__", None) is not None:
            proc.start()
            return
        main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
        try:
            proc.start()
        finally:
            main.__spec__ = None


def run_limited(fn: Callable[..., T], *args: Any, limits: Limits = DEFAULT_LIMITS,
                **kwargs: Any) -> T:
    """Call ``fn(*args, **kwargs)`` in a limited child process and return its result."""
    recv, send = _ctx.Pipe(duplex=False)
    proc = _ctx.Process(target=_child, args=(send, limits, fn, args, kwargs), daemon=True)
    _start(proc)
    send.close()
    try:
        if recv.poll(limits.wall_seconds):
            try:
                status, payload = recv.recv()
            except (EOFError, OSError):
                status, payload = _died(proc, limits)
        else:
            status, payload = "timeout", f"no result within {limits.wall_seconds:g} s"
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        recv.close()
    if status == "ok":
        return payload  # type: ignore[no-any-return]
    raise SandboxError(status, payload)


def _died(proc: multiprocessing.process.BaseProcess, limits: Limits) -> tuple[str, str]:
    proc.join(5)
    code = proc.exitcode
    if code is not None and code < 0:
        sig = -code
        if sig in (signal.SIGXCPU, signal.SIGKILL):
            return "timeout", f"CPU limit of {limits.cpu_seconds} s exceeded"
        if sig == signal.SIGSEGV:
            return "crashed", "parser crashed (segmentation fault)"
        return "crashed", f"child killed by signal {signal.Signals(sig).name}"
    return "crashed", f"child exited with code {code} without a result"


def child_pid() -> int:
    """The current process id; used by tests to show work really ran elsewhere."""
    return os.getpid()
