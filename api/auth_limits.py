"""Failed authentications: rate-limited per source, recorded once per source and minute.

Every failed bearer-token or cookie authentication used to write its own permanent audit
event, so anyone who could reach the port could grow the audit trail without limit (2,000
wrong tokens → 2,000 events in 9 s; a 60 KB path → a 60 KB event). Here failures are
counted per source address and minute; when the minute is over, one ``auth.failed`` event
per source carries the count, the reasons and a few bounded samples. A source that fails
more than ``limit`` times in a minute is refused (429 with ``Retry-After``) until the
minute ends, before any token is looked up.

The counts live in the process (each API process counts its own callers); a crash loses
at most the current minute's counts of failures, never an event of a successful action.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("api")

MAX_PATH = 200          # characters of a path kept in an event
MAX_SAMPLES = 5         # distinct paths / token prefixes kept per event
MAX_SOURCES = 10_000    # windows kept at once (beyond: flushed early)


@dataclass
class _Window:
    minute: int
    count: int = 0
    refused: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    paths: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)

    def add(self, reason: str, path: str, prefix: str | None) -> None:
        self.count += 1
        self.reasons[reason[:40]] += 1
        short = path[:MAX_PATH]
        if short not in self.paths and len(self.paths) < MAX_SAMPLES:
            self.paths.append(short)
        if prefix and prefix[:10] not in self.prefixes and len(self.prefixes) < MAX_SAMPLES:
            self.prefixes.append(prefix[:10])


Writer = Callable[[str | None, dict[str, Any]], None]


class AuthFailures:
    def __init__(self, write: Writer, *, limit: int = 30,
                 clock: Callable[[], float] = time.time, background: bool = True) -> None:
        self.write = write
        self.limit = limit
        self.clock = clock
        self._windows: dict[str | None, _Window] = {}
        self._lock = threading.Lock()
        self._background = background
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def _minute(self) -> int:
        return int(self.clock() // 60)

    def retry_after(self, source: str | None) -> int | None:
        """Seconds until ``source`` may try again, or ``None`` if it may now."""
        now = self.clock()
        with self._lock:
            window = self._windows.get(source)
            if window is None or window.minute != int(now // 60) or window.count < self.limit:
                return None
            window.refused += 1
        return max(1, int(60 - now % 60) + 1)

    def note(self, source: str | None, reason: str, path: str, prefix: str | None) -> None:
        minute = self._minute()
        closed: list[tuple[str | None, _Window]] = []
        with self._lock:
            window = self._windows.get(source)
            if window is not None and window.minute != minute:
                closed.append((source, self._windows.pop(source)))
                window = None
            if window is None:
                if len(self._windows) >= MAX_SOURCES:   # bounded memory under a flood
                    closed.extend(self._windows.items())
                    self._windows.clear()
                window = self._windows[source] = _Window(minute)
            window.add(reason, path, prefix)
        self._emit(closed)
        self._ensure_flusher()

    def flush(self, *, everything: bool = False) -> int:
        """Write the events of the minutes that are over (all of them with
        ``everything``); returns how many were written."""
        minute = self._minute()
        with self._lock:
            closed = [(s, w) for s, w in self._windows.items()
                      if everything or w.minute != minute]
            for source, _ in closed:
                del self._windows[source]
        self._emit(closed)
        return len(closed)

    def _emit(self, closed: list[tuple[str | None, _Window]]) -> None:
        for source, w in closed:
            details = {"count": w.count, "refused": w.refused, "reasons": dict(w.reasons),
                       "minute": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(w.minute * 60)),
                       "paths": w.paths, "token_prefixes": w.prefixes,
                       "limit": self.limit}
            try:
                self.write(source, details)
            except Exception:  # noqa: BLE001 - the database may be down; log instead
                log.exception("auth.failed_unrecorded source=%s count=%d", source, w.count)

    def close(self) -> None:
        """Write every open minute now and stop the background flusher (the application
        shuts down: what was counted must reach the trail, and no thread may outlive the
        application's database)."""
        self._closed.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
        self.flush(everything=True)

    def _ensure_flusher(self) -> None:
        if (not self._background or self._closed.is_set()
                or (self._thread is not None and self._thread.is_alive())):
            return
        self._thread = threading.Thread(target=self._run, name="auth-failures", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._closed.wait(5.0):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - keep flushing
                log.exception("auth.flush_failed")
            with self._lock:
                if not self._windows:
                    self._thread = None
                    return
