"""Run parsers of untrusted documents in a child process with CPU, memory and wall-time limits.

A PDF or XML file from a stranger can loop forever, expand to gigabytes or crash a C
library. None of that may take down the calling process (the API server, a worker, the
CLI), so every parse goes through :func:`run_limited`:

* children are forked from a *forkserver* (safe even when the parent runs threads, and
  cheap because the forkserver has already imported the heavy libraries);
* a child sets ``RLIMIT_AS`` (memory) on itself once, and before each call moves its
  ``RLIMIT_CPU`` soft limit to "CPU used so far + the call's budget"; the parent kills it
  when the wall-clock limit passes;
* a child serves many calls, one at a time (forking per call cost more than most checks):
  after any failure — timeout, memory, crash, an exception — it is discarded, and it is
  replaced after ``MAX_CALLS`` calls so that nothing one file leaves behind (heap growth,
  caches) can pile up for long; :func:`run_limited_each` hands a child many calls at
  once (each still with its own limits), which it answers one by one as each ends;
* the function's return value comes back pickled through a pipe; anything that goes wrong
  in the child becomes a :class:`SandboxError` with a ``kind`` a report can show.

The function must be importable at module level (it is pickled by reference).
"""

from __future__ import annotations

import importlib.machinery
import multiprocessing
import multiprocessing.connection
import resource
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

T = TypeVar("T")

# Modules the forkserver imports once, so that each forked child starts warm. Missing
# modules are skipped by multiprocessing itself.
PRELOAD = ["archive.pdfa", "archive.pdfa.isolated", "archive.inspection",
           "archive.inspection.sandboxed", "archive.search.extract", "pikepdf", "lxml.etree",
           "archive.pdfa.checker"]

_ctx = multiprocessing.get_context("forkserver")
_ctx.set_forkserver_preload(PRELOAD)


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 10
    wall_seconds: float = 15.0
    memory_bytes: int = 1 << 30
    # Calls one child serves before it is replaced; 0: MAX_CALLS. Raise it for a checker
    # that keeps nothing between calls (a fork of a warm child is not free).
    calls_per_child: int = 0


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


MAX_CALLS = 64          # calls served by one child before it is replaced
MAX_IDLE = 4            # idle children kept per set of limits


def _serve(conn: multiprocessing.connection.Connection, limits: Limits) -> None:
    """The child's loop: one call at a time until the parent closes the pipe."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    while True:
        try:
            fn, calls, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        # ``calls``: the argument tuples of one or more calls, answered one by one as
        # each ends (run_limited_each), each with its own CPU budget.
        for args in calls:
            used = resource.getrusage(resource.RUSAGE_SELF)
            budget = int(used.ru_utime + used.ru_stime) + limits.cpu_seconds + 1
            # Only the soft limit moves (the hard one stays unlimited, so an unprivileged
            # process may raise it again for the next call); passing it sends SIGXCPU.
            resource.setrlimit(resource.RLIMIT_CPU, (budget, resource.RLIM_INFINITY))
            try:
                conn.send(("ok", fn(*args, **kwargs)))
            except MemoryError:
                conn.send(("memory",
                           f"memory limit of {limits.memory_bytes // (1 << 20)} MiB exceeded"))
                return
            except BaseException as exc:  # noqa: BLE001 - everything must reach the parent
                tail = traceback.format_exc(limit=-3)
                conn.send(("crashed", f"{type(exc).__name__}: {exc}\n{tail}"))
                return


@dataclass
class _Child:
    proc: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    calls: int = 0

    def discard(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


_idle: dict[Limits, list[_Child]] = {}
_idle_lock = threading.Lock()


def _acquire(limits: Limits) -> _Child:
    with _idle_lock:
        pool = _idle.get(limits)
        while pool:
            child = pool.pop()
            if child.proc.is_alive():
                return child
            child.discard()
    parent_end, child_end = _ctx.Pipe(duplex=True)
    proc = _ctx.Process(target=_serve, args=(child_end, limits), daemon=True)
    _start(proc)
    child_end.close()
    return _Child(proc, parent_end)


def _max_calls(limits: Limits) -> int:
    return limits.calls_per_child or MAX_CALLS


def _release(limits: Limits, child: _Child) -> None:
    with _idle_lock:
        pool = _idle.setdefault(limits, [])
        if child.calls < _max_calls(limits) and len(pool) < MAX_IDLE:
            pool.append(child)
            return
    child.discard()


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


def _answer(child: _Child, limits: Limits) -> tuple[str, Any]:
    """The next answer of ``child``: ("ok", result) or (kind, detail) of a failure."""
    try:
        if child.conn.poll(limits.wall_seconds):
            try:
                return cast(tuple[str, Any], child.conn.recv())
            except (EOFError, OSError):
                return _died(child.proc, limits)
        return "timeout", f"no result within {limits.wall_seconds:g} s"
    except OSError:
        return _died(child.proc, limits)


def run_limited(fn: Callable[..., T], *args: Any, limits: Limits = DEFAULT_LIMITS,
                **kwargs: Any) -> T:
    """Call ``fn(*args, **kwargs)`` in a limited child process and return its result."""
    child = _acquire(limits)
    status, payload = "crashed", "the call did not complete"
    try:
        child.conn.send((fn, [args], kwargs))
        child.calls += 1
        status, payload = _answer(child, limits)
    except (BrokenPipeError, OSError):
        status, payload = _died(child.proc, limits)
    finally:
        if status == "ok":
            _release(limits, child)
        else:
            child.discard()
    if status == "ok":
        return cast(T, payload)
    raise SandboxError(status, str(payload))


def run_limited_each(fn: Callable[..., T], calls: Sequence[tuple[Any, ...]], *,
                     limits: Limits = DEFAULT_LIMITS) -> Iterator[T | SandboxError]:
    """``fn(*args)`` for each ``args`` of ``calls``, in order: the result, or the
    :class:`SandboxError` of that call.

    The same limits per call as :func:`run_limited` (a CPU budget and the wall-clock
    limit each), but a child is handed many calls at once and answers each as it ends,
    so that a long batch of small calls does not wait for a round trip between two
    processes per call (on a busy machine each wake-up waits for the scheduler). A
    failed call costs its child; the calls after it go to a fresh one.
    """
    pending = list(calls)
    while pending:
        child = _acquire(limits)
        batch = pending[:max(1, _max_calls(limits) - child.calls)]
        pending = pending[len(batch):]
        try:
            child.conn.send((fn, batch, {}))
        except (BrokenPipeError, OSError):
            kind, detail = _died(child.proc, limits)
            child.discard()
            yield SandboxError(kind, str(detail))
            pending[:0] = batch[1:]
            continue
        done = 0
        ok = True
        try:
            for _ in batch:
                status, payload = _answer(child, limits)
                child.calls += 1
                done += 1
                if status != "ok":
                    ok = False
                    yield SandboxError(status, str(payload))
                    break
                yield cast(T, payload)
        finally:
            if ok and done == len(batch):
                _release(limits, child)
            else:
                child.discard()
        pending[:0] = batch[done:]


def shutdown() -> None:
    """Stop the idle children (they are daemons and die with the parent anyway)."""
    with _idle_lock:
        children = [c for pool in _idle.values() for c in pool]
        _idle.clear()
    for child in children:
        child.discard()


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
