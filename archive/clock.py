"""The archive's idea of "now", which tests (and ``--as-of`` dry runs) can move.

Retention is about dates years away: to test that a record becomes eligible for
disposition in 2036 without waiting until 2036, code that decides *by the calendar*
(retention, holds, disposition) asks this module instead of ``datetime.now()``:

    from archive import clock
    with clock.frozen("2036-01-15"):
        ...   # clock.now() / clock.today() answer 15 Jan 2036 in every thread

The override is process-wide (not a context variable) on purpose: the API under test runs
routes in other threads, and they must see the same frozen time.

What the clock does **not** move is the object store's clock: S3 Object Lock and the
local store's lock compare against real time, so no amount of time travel here lets a
locked object be deleted early. That is the point.

Dates of the calendar (``today``) are Thai dates (Asia/Bangkok, UTC+7): a retention that
ends "on 1 October 2035" ends at midnight in Thailand, and an upload at 00:30 on 1 October
(17:30 UTC the day before) belongs to the new fiscal year. Never ``date.today()`` or a
naive ``datetime.now()``: the server's own time zone is not Thailand's (the image sets
none). The zone data comes from the ``tzdata`` package when the system has none.

This is the one place the archive reads the time. Two readings, one rule:

* :func:`now` / :func:`today` — the archive's time: every timestamp a row or an audit
  event records, every decision by the calendar. Tests freeze it.
* :func:`system_now` — the machine's time, never frozen: for what is compared with other
  processes or with the object store's own clock — the job queue's ``run_after`` and
  leases, the store locks of new bytes and the WORM probe's canaries — because a worker
  in another process, or the S3 server, does not see a test's frozen clock.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")

_lock = threading.Lock()
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current instant (timezone-aware, UTC)."""
    frozen = _frozen
    return frozen if frozen is not None else dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in Thailand."""
    return thai_date(now())


def system_now() -> dt.datetime:
    """The machine's current instant (timezone-aware, UTC); never frozen (see above)."""
    return dt.datetime.now(dt.UTC)


def thai_date(when: dt.datetime) -> dt.date:
    """The date in Thailand at the instant ``when`` (an aware datetime)."""
    if when.tzinfo is None:
        raise ValueError("naive datetime given where an instant is required")
    return when.astimezone(BANGKOK).date()


def years_after(when: dt.datetime, years: int) -> dt.datetime:
    """The same instant ``years`` later; 29 February becomes 28 February."""
    try:
        return when.replace(year=when.year + years)
    except ValueError:
        return when.replace(year=when.year + years, day=28)


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in Thailand, as a UTC instant."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=BANGKOK).astimezone(dt.UTC)


def as_instant(when: dt.datetime | dt.date | str) -> dt.datetime:
    """A date (start of that Thai day), an aware datetime, or an ISO string → UTC instant."""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when) if "T" in when or " " in when \
            else dt.date.fromisoformat(when)
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            raise ValueError("naive datetime given where an instant is required")
        return when.astimezone(dt.UTC)
    return start_of_day(when)


def set_now(when: dt.datetime | dt.date | str | None) -> None:
    """Freeze the clock at ``when`` (``None`` = back to real time)."""
    global _frozen
    with _lock:
        _frozen = None if when is None else as_instant(when)


@contextmanager
def frozen(when: dt.datetime | dt.date | str) -> Iterator[None]:
    """Freeze the clock for the duration of the block (nesting restores the outer time)."""
    previous = _frozen
    set_now(when)
    try:
        yield
    finally:
        set_now(previous)


def is_frozen() -> bool:
    return _frozen is not None
