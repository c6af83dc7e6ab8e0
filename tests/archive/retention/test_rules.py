"""The pure retention rule: worked examples of the default schedule and properties that
hold for every input (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, given
from hypothesis import strategies as st

from archive.clock import start_of_day
from archive.retention.rules import (
    Closure,
    Events,
    RecordFacts,
    Rule,
    add_years,
    compute_retain_until,
    fiscal_year_end,
)
from archive.thai import fiscal_year

VOUCHER = Rule("voucher-evidence", 1, "audit_closure", keep_years=10, audited_keep_years=5)
CORRESPONDENCE = Rule("correspondence", 1, "fiscal_year_end", keep_years=10)
UTC = dt.UTC


def bkk_midnight(y: int, m: int, d: int) -> dt.datetime:
    """Midnight in Bangkok is 17:00 UTC the day before."""
    return dt.datetime(y, m, d, tzinfo=UTC) - dt.timedelta(hours=7)


# -- worked examples -------------------------------------------------------------------

def test_fiscal_year_ends_on_30_september_of_fy_minus_543():
    assert fiscal_year_end(2568) == dt.date(2025, 9, 30)
    assert fiscal_year_end(2533) == dt.date(1990, 9, 30)


def test_not_audited_voucher_evidence_is_kept_10_years_after_the_fiscal_year_end():
    d = compute_retain_until(RecordFacts(2568), VOUCHER, Events(), dt.date(2036, 1, 15))
    assert d.final and d.retain_until == bkk_midnight(2035, 10, 1)
    assert d.eligible(dt.date(2035, 10, 1)) and not d.eligible(dt.date(2035, 9, 30))
    assert "not audited" in d.basis and "2578" in d.basis


def test_audit_closed_with_no_objection_gives_5_years_from_the_closure():
    events = Events(closures=(Closure("no_objection", dt.date(2027, 3, 1)),))
    d = compute_retain_until(RecordFacts(2568), VOUCHER, events, dt.date(2027, 3, 2))
    assert d.final and d.retain_until == bkk_midnight(2032, 3, 1)
    assert d.eligible(dt.date(2032, 3, 1))


def test_before_any_closure_the_decision_is_provisional_with_the_earliest_date():
    """GIVEN a receipt of FY 2568 and no audit closure yet
    THEN it is locked at least until 5 years after the year end, is not eligible then,
    and becomes eligible 10 years after the year end if no closure ever comes."""
    d = compute_retain_until(RecordFacts(2568), VOUCHER, Events(), dt.date(2025, 11, 1))
    assert not d.final
    assert d.retain_until == bkk_midnight(2030, 10, 1)
    assert d.eligible_on == dt.date(2035, 10, 1)
    assert not d.eligible(dt.date(2031, 1, 1))


def test_a_closure_after_a_provisional_decision_moves_the_date_later_not_earlier():
    first = compute_retain_until(RecordFacts(2568), VOUCHER, Events(), dt.date(2025, 11, 1))
    closed = Events(closures=(Closure("no_objection", dt.date(2026, 6, 1)),))
    later = compute_retain_until(RecordFacts(2568, previous=first.retain_until), VOUCHER,
                                 closed, dt.date(2026, 6, 2))
    assert later.final and later.retain_until == bkk_midnight(2031, 6, 1)
    assert later.retain_until > first.retain_until


def test_an_objection_closure_is_not_a_clean_audit():
    events = Events(closures=(Closure("objection", dt.date(2026, 6, 1)),))
    d = compute_retain_until(RecordFacts(2568), VOUCHER, events, dt.date(2036, 1, 1))
    assert d.final and d.retain_until == bkk_midnight(2035, 10, 1)
    assert "objection" in d.basis


def test_the_latest_closure_counts():
    events = Events(closures=(Closure("objection", dt.date(2026, 6, 1)),
                              Closure("no_objection", dt.date(2027, 1, 10))))
    d = compute_retain_until(RecordFacts(2568), VOUCHER, events, dt.date(2027, 2, 1))
    assert d.retain_until == bkk_midnight(2032, 1, 10)


def test_holds_keep_indefinitely():
    d = compute_retain_until(RecordFacts(2550, previous=bkk_midnight(2017, 10, 1)), VOUCHER,
                             Events(holds=("สตง. objection FY 2550",)), dt.date(2040, 1, 1))
    assert d.retain_until is None and d.held and not d.eligible(dt.date(2100, 1, 1))


def test_fiscal_year_end_schedule_and_leap_days():
    d = compute_retain_until(RecordFacts(2568), CORRESPONDENCE, Events(), dt.date(2025, 1, 1))
    assert d.final and d.retain_until == bkk_midnight(2035, 10, 1)
    assert add_years(dt.date(2024, 2, 29), 5) == dt.date(2029, 3, 1)
    assert add_years(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)


def test_what_cannot_be_computed_says_why_and_keeps_the_previous_date():
    prev = bkk_midnight(2030, 1, 1)
    parent = Rule("with-parent", 1, "with_parent")
    d = compute_retain_until(RecordFacts(2568, previous=prev), parent, Events(),
                             dt.date(2040, 1, 1))
    assert d.cannot_compute_reason and "parent" in d.cannot_compute_reason
    assert d.retain_until == prev and not d.eligible(dt.date(2040, 1, 1))
    none = compute_retain_until(RecordFacts(2568), None, Events(), dt.date(2040, 1, 1))
    assert none.retain_until is None and "no retention schedule" in none.basis


def test_permanent_is_never_eligible():
    d = compute_retain_until(RecordFacts(2568), Rule("x", 1, "permanent"), Events(),
                             dt.date(2200, 1, 1))
    assert d.retain_until is None and not d.eligible(dt.date(2200, 1, 1))


def test_a_shorter_schedule_never_shortens_a_computed_date():
    before = compute_retain_until(RecordFacts(2568), CORRESPONDENCE, Events(),
                                  dt.date(2025, 1, 1))
    shorter = Rule("correspondence", 2, "fiscal_year_end", keep_years=3)
    after = compute_retain_until(RecordFacts(2568, previous=before.retain_until), shorter,
                                 Events(), dt.date(2030, 1, 1))
    assert after.retain_until == before.retain_until
    assert "only ever extended" in after.basis
    longer = Rule("correspondence", 3, "fiscal_year_end", keep_years=12)
    extended = compute_retain_until(RecordFacts(2568, previous=before.retain_until), longer,
                                    Events(), dt.date(2030, 1, 1))
    assert extended.retain_until == bkk_midnight(2037, 10, 1)


# -- properties ------------------------------------------------------------------------

fiscal_years = st.integers(min_value=2533, max_value=2700)
days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2160, 12, 31))
instants = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2170, 1, 1),
                        timezones=st.just(UTC))
rules = st.builds(
    Rule, code=st.just("s"), version=st.integers(1, 5),
    trigger=st.sampled_from(["fiscal_year_end", "audit_closure", "permanent", "with_parent",
                             "bogus"]),
    keep_years=st.one_of(st.none(), st.integers(1, 30)),
    audited_keep_years=st.one_of(st.none(), st.integers(1, 30)))
closures = st.builds(Closure, result=st.sampled_from(["no_objection", "objection"]),
                     closed_on=days)
events = st.builds(Events, closures=st.lists(closures, max_size=3).map(tuple),
                   holds=st.lists(st.just("hold"), max_size=1).map(tuple))


@given(fy=fiscal_years)
def test_prop_fiscal_year_end_is_the_last_day_of_that_fiscal_year(fy):
    end = fiscal_year_end(fy)
    assert (end.month, end.day, end.year + 543) == (9, 30, fy)
    assert fiscal_year(end) == fy and fiscal_year(end + dt.timedelta(days=1)) == fy + 1


@given(fy=fiscal_years, previous=st.one_of(st.none(), instants), rule=rules, ev=events,
       today=days)
def test_prop_never_earlier_than_before(fy, previous, rule, ev, today):
    d = compute_retain_until(RecordFacts(fy, previous), rule, ev, today)
    if previous is not None and d.retain_until is not None:
        assert d.retain_until >= previous
    if d.retain_until is None:
        assert d.held or d.cannot_compute_reason or rule.trigger == "permanent"
    if d.cannot_compute_reason:
        assert d.retain_until == previous


@given(fy=fiscal_years, previous=st.one_of(st.none(), instants), rule=rules, ev=events,
       today=days)
def test_prop_holds_mean_indefinite(fy, previous, rule, ev, today):
    held = Events(ev.closures, holds=("h",))
    d = compute_retain_until(RecordFacts(fy, previous), rule, held, today)
    assert d.retain_until is None and d.held and not d.eligible(today)


@given(fy=fiscal_years, closed_after=st.integers(min_value=1, max_value=4000),
       today=days, five=st.integers(1, 10), ten=st.integers(1, 20))
def test_prop_no_objection_counts_from_the_closure_else_from_the_fiscal_year_end(
        fy, closed_after, today, five, ten):
    rule = Rule("v", 1, "audit_closure", keep_years=ten, audited_keep_years=five)
    start = fiscal_year_end(fy) + dt.timedelta(days=1)
    closed_on = start + dt.timedelta(days=closed_after)
    audited = compute_retain_until(RecordFacts(fy), rule,
                                   Events((Closure("no_objection", closed_on),)), today)
    assert audited.final and audited.retain_until == start_of_day(add_years(closed_on, five))
    unaudited = compute_retain_until(RecordFacts(fy), rule, Events(), today)
    fallback = start_of_day(add_years(start, ten))
    if today >= add_years(start, ten):
        assert unaudited.final and unaudited.retain_until == fallback
    else:
        assert not unaudited.final
        assert unaudited.retain_until == start_of_day(add_years(start, five))
        assert unaudited.eligible_on == add_years(start, ten)
        assert not unaudited.eligible(today)


@given(fy=fiscal_years, rule=rules, ev=events, t1=days, t2=days)
def test_prop_recomputing_later_never_moves_the_date_earlier(fy, rule, ev, t1, t2):
    """Whatever happens in between, feeding each result back in as ``previous`` (what
    the jobs do) yields a non-decreasing retain_until."""
    assume(t1 <= t2)
    first = compute_retain_until(RecordFacts(fy), rule, Events(), t1)
    second = compute_retain_until(RecordFacts(fy, first.retain_until), rule, ev, t2)
    if first.retain_until is not None and second.retain_until is not None:
        assert second.retain_until >= first.retain_until


@given(fy=fiscal_years, rule=rules, ev=events, today=days)
def test_prop_eligible_only_when_final_and_due(fy, rule, ev, today):
    d = compute_retain_until(RecordFacts(fy), rule, ev, today)
    if d.eligible(today):
        assert d.final and not d.held and d.retain_until is not None
        assert d.retain_until <= start_of_day(today)
