"""The retention rule: a pure function of (record, schedule, events, today).

``compute_retain_until`` answers, for one record, the date before which it must not be
destroyed (``retain_until``), what that date was computed from (``basis``), and whether it
is *final* or only the earliest possible date while a trigger event is awaited.

Counting (DESIGN.md, default schedule):

* The fiscal year FY (BE) ends on 30 September of FY − 543 (CE); periods counted from
  the end of a fiscal year start on the next day, 1 October. "10 years after the end of
  FY 2568" is therefore 1 October 2578 BE (2035-10-01): eligible from that day on.
* ``audit_closure`` schedules (voucher evidence): once the State Audit Office has closed
  the audit of that organisation and fiscal year with **no objection**, the record is
  kept ``audited_keep_years`` (5) from the closure date. While it is **not audited**, it
  is kept ``keep_years`` (10) from the end of the fiscal year. Before either is known the
  decision is *provisional*: ``retain_until`` is the earliest date any closure could give
  (5 years after the fiscal year ended — an audit cannot close before the year ends), and
  ``eligible_on`` the 10-year date that applies if no closure comes.
* An objection (or any legal hold) means: keep indefinitely (``retain_until`` None).
  When the hold is released, the record falls back to the rows above; an objection
  closure does not count as "audited with no objection".
* Dates are Thai calendar days; ``retain_until`` is midnight at the start of the first
  day on which the record may be destroyed, Asia/Bangkok.

Whatever the inputs, the result is never earlier than the record's previous
``retain_until``: retention is only ever extended (schedule edits, late closures and
released holds cannot shorten it), matching the object store's COMPLIANCE lock, which
can only be extended too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from archive.clock import start_of_day
from archive.messages import Message, message
from archive.thai import BE_OFFSET, fiscal_year_bounds


@dataclass(frozen=True)
class RecordFacts:
    """What the rule needs to know about a record."""

    fiscal_year: int                              # BE
    previous: dt.datetime | None = None           # retain_until computed before, if any


@dataclass(frozen=True)
class Rule:
    """A retention schedule as the rule sees it."""

    code: str
    version: int
    trigger: str
    keep_years: int | None = None
    audited_keep_years: int | None = None
    action: str = "review"

    @classmethod
    def of(cls, schedule: Any) -> Rule:
        return cls(code=schedule.code, version=schedule.version, trigger=schedule.trigger,
                   keep_years=schedule.keep_years,
                   audited_keep_years=schedule.audited_keep_years, action=schedule.action)

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"


@dataclass(frozen=True)
class Closure:
    """A State Audit Office closure of the record's organisation and fiscal year."""

    result: str                                   # no_objection | objection
    closed_on: dt.date


@dataclass(frozen=True)
class Events:
    closures: tuple[Closure, ...] = ()
    holds: tuple[str, ...] = ()                   # active holds covering the record


@dataclass(frozen=True)
class Decision:
    retain_until: dt.datetime | None              # None: indefinite, or cannot compute
    basis: str                                    # a Message (English str, code, params)
    cannot_compute_reason: str | None = None
    final: bool = True                            # False: waiting for a trigger event
    eligible_on: dt.date | None = None            # first eligible day if nothing changes
    held: bool = False
    period: str = ""                              # the retention period in words (form 25)
    details: dict[str, Any] = field(default_factory=dict)

    def eligible(self, today: dt.date) -> bool:
        """May the record be listed for disposition on ``today``?"""
        return (self.final and not self.held and self.cannot_compute_reason is None
                and self.retain_until is not None
                and self.retain_until <= start_of_day(today))


# -- calendar --------------------------------------------------------------------------

def fiscal_year_end(fy_be: int) -> dt.date:
    """Last day of the Thai fiscal year ``fy_be``: 30 September of FY − 543 (CE)."""
    return fiscal_year_bounds(fy_be)[1]


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus whole years; 29 February becomes 1 March (never earlier)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def show(day: dt.date) -> Message:
    """A date as ISO 8601 with its Buddhist-Era year: ``2035-10-01 (BE 2578)``."""
    return message("date.iso_be", "{iso} (BE {be})", iso=day.isoformat(),
                   be=day.year + BE_OFFSET, d=day.day, m=day.month)


def _instant_day(value: dt.datetime) -> dt.date:
    from archive.clock import BANGKOK

    return value.astimezone(BANGKOK).date()


# -- the rule --------------------------------------------------------------------------

def compute_retain_until(record: RecordFacts, schedule: Rule | None, events: Events,
                         today: dt.date) -> Decision:
    """The retention decision for one record (see the module docstring)."""
    previous = record.previous
    if events.holds:
        return Decision(None, message("retention.basis.held", "legal hold: {holds} — kept "
                                      "indefinitely while held", holds="; ".join(events.holds)),
                        held=True, period=message("retention.period.held",
                                                  "indefinite (legal hold)"),
                        details={"holds": list(events.holds)})
    if schedule is None:
        return _cannot(previous, message("retention.cannot.no_schedule",
                                         "no retention schedule is assigned to the record"))
    fy_end = fiscal_year_end(record.fiscal_year)
    start = fy_end + dt.timedelta(days=1)
    if schedule.trigger == "permanent":
        return Decision(None, message("retention.basis.permanent", "{schedule}: kept "
                                      "permanently", schedule=schedule.label),
                        period=message("retention.period.permanent", "permanent"))
    if schedule.trigger == "with_parent":
        return _cannot(previous, message(
            "retention.cannot.with_parent", "{schedule}: kept for the life of its parent "
            "record and disposed of with it, not by date", schedule=schedule.label))
    if schedule.trigger == "fiscal_year_end":
        if not schedule.keep_years:
            return _cannot(previous, message("retention.cannot.no_period", "{schedule}: the "
                                             "schedule has no period", schedule=schedule.label))
        day = add_years(start, schedule.keep_years)
        return _at_least(previous, day, True, day, period=_after_fy(schedule.keep_years,
                                                                    record.fiscal_year),
                         basis=message("retention.basis.fiscal_year_end", "{schedule}: "
                                       "{counted}", schedule=schedule.label,
                                       counted=_counted(schedule.keep_years,
                                                        record.fiscal_year, fy_end, day)))
    if schedule.trigger == "audit_closure":
        return _audit_rule(record, schedule, events, today, start, fy_end)
    return _cannot(previous, message("retention.cannot.unknown_trigger", "{schedule}: unknown "
                                     "trigger '{trigger}'", schedule=schedule.label,
                                     trigger=schedule.trigger))


def _after_fy(years: int, fy: int) -> Message:
    return message("retention.period.fiscal_year_end",
                   "{years} years after the end of fiscal year {fy}", years=years, fy=fy)


def _counted(years: int, fy: int, fy_end: dt.date, day: dt.date) -> Message:
    return message("retention.basis.counted", "{years} years after the end of fiscal year "
                   "{fy} ({fy_end}) → {until}", years=years, fy=fy, fy_end=show(fy_end),
                   until=show(day))


def _audit_rule(record: RecordFacts, schedule: Rule, events: Events, today: dt.date,
                start: dt.date, fy_end: dt.date) -> Decision:
    if not schedule.keep_years or not schedule.audited_keep_years:
        return _cannot(record.previous, message("retention.cannot.lacks_period", "{schedule}: "
                                                "the schedule lacks a period",
                                                schedule=schedule.label))
    fy = record.fiscal_year
    fallback = add_years(start, schedule.keep_years)
    closure = max(events.closures, key=lambda c: c.closed_on, default=None)
    if closure is not None and closure.result == "no_objection":
        # An audit cannot close before the year ends; count from the year end at the earliest.
        counted = max(closure.closed_on, start)
        day = add_years(counted, schedule.audited_keep_years)
        return _at_least(
            record.previous, day, True, day,
            period=message("retention.period.audited", "{years} years after the State Audit "
                           "Office closed the audit of fiscal year {fy} with no objection",
                           years=schedule.audited_keep_years, fy=fy),
            basis=message("retention.basis.audited", "{schedule}: {years} years after the "
                          "State Audit Office closed the audit of fiscal year {fy} with no "
                          "objection on {closed} → {until}", schedule=schedule.label,
                          years=schedule.audited_keep_years, fy=fy,
                          closed=show(closure.closed_on), until=show(day)))
    status = (message("retention.status.objection", "the audit closed with an objection on "
                      "{closed} (hold released)", closed=show(closure.closed_on))
              if closure is not None
              else message("retention.status.not_audited",
                           "not audited by the State Audit Office"))
    unaudited = _counted(schedule.keep_years, fy, fy_end, fallback)
    if today >= fallback:
        return _at_least(record.previous, fallback, True, fallback,
                         period=message("retention.period.not_audited", "{years} years after "
                                        "the end of fiscal year {fy} (not audited)",
                                        years=schedule.keep_years, fy=fy),
                         basis=message("retention.basis.not_audited", "{schedule}: {status}: "
                                       "{counted}", schedule=schedule.label, status=status,
                                       counted=unaudited))
    earliest = add_years(start, schedule.audited_keep_years)
    return _at_least(
        record.previous, earliest, False, fallback,
        period=message("retention.period.provisional", "{years} years after the end of "
                       "fiscal year {fy}, or {audited_years} years after an audit closed with "
                       "no objection", years=schedule.keep_years, fy=fy,
                       audited_years=schedule.audited_keep_years),
        basis=message("retention.basis.provisional", "{schedule}: provisional, {status}: "
                      "{counted} unless the audit closes with no objection first "
                      "({audited_years} years after the closure, {earliest} at the earliest)",
                      schedule=schedule.label, status=status, counted=unaudited,
                      audited_years=schedule.audited_keep_years, earliest=show(earliest)))


def _at_least(previous: dt.datetime | None, day: dt.date, final: bool,
              eligible_on: dt.date, *, period: Message, basis: Message) -> Decision:
    """The decision for ``day``, but never earlier than ``previous``."""
    until = start_of_day(day)
    if previous is not None and previous > until:
        kept = _instant_day(previous)
        return Decision(previous, message("retention.basis.kept_before", "{basis}; kept until "
                                          "{kept} as decided before (retention is only ever "
                                          "extended)", basis=basis, kept=show(kept)),
                        final=final,
                        eligible_on=max(eligible_on, kept), period=period)
    return Decision(until, basis, final=final, eligible_on=eligible_on, period=period)


def _cannot(previous: dt.datetime | None, reason: Message) -> Decision:
    return Decision(previous, message("retention.basis.cannot", "cannot compute: {reason}",
                                      reason=reason), cannot_compute_reason=reason, final=False)
