"""A national text search with no fiscal year reads every year's keyed trigrams to count
a word the planner expects in few records, and in upload order, of a word in more records
than the count limit, finds its page in the fiscal years uploaded last (PostgreSQL,
migrations 0102 and 0103; ``search._EveryYear``, ``search._page_by_years``).

Upload time is not fiscal year: a year's records arrive over the weeks after it, and a
backlog of an old year can arrive after everything else. These tests check that the pages
(every page, through the cursor, in both directions, with a document type, in a scope of
many areas) and totals are exactly those of the nation's trigram index (walking the upload
order, or counting, with the whole text condition), on data where the years' uploads
overlap, where an old year's record was uploaded last, and where two records of different
years were uploaded at the same instant; and which years each page reads: the one
uploaded last alone when its page is full before any other year's uploads begin.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from archive.accounts.principal import system_principal
from archive.search import service as search
from archive.search.schemas import SearchParams
from tests.archive.search.helpers import add_record, principal
from tests.conftest import Env
from tests.factories import world

SYSTEM = system_principal("test")
YEARS = range(2560, 2567)
START = dt.datetime(2016, 10, 1, tzinfo=dt.UTC)


@pytest.fixture
def archive(env: Env) -> Env:
    """Twelve records a fiscal year, uploaded in the year's own month (the years' months
    overlap by most of a day), two of every three containing the word; an FY 2561 record
    uploaded after every other, and an FY 2563 one at the same instant as one of FY 2566;
    a destroyed record among the newest."""
    if env.stack == "sqlite":
        pytest.skip("PostgreSQL's trigrams keyed by fiscal year (SQLite: FTS5)")
    world(env)
    with env.session() as s:
        def record(n: str, fy: int, at: dt.datetime, **fields: Any) -> None:
            word = "ห้างหุ้นส่วนจำกัด ทรัพย์ทวี" if int(n[1:]) % 3 else "ร้านค้าวัสดุ"
            add_record(s, ("sao-1", "sao-2", "sao-3", "p-cm")[int(n[1:]) % 4], doc_number=n,
                       fiscal_year=fy, created_at=at, text=f"{word} {fy}", **fields)

        for y, fy in enumerate(YEARS):
            month = START + dt.timedelta(days=30 * y)
            for i in range(12):
                record(f"N{y * 12 + i}", fy, month + dt.timedelta(days=2.8 * i),
                       doc_type=("receipt", "tax_invoice")[i % 2])
        newest = START + dt.timedelta(days=30 * 6 + 2.8 * 5)   # N77's upload, FY 2566
        record("N901", 2561, START + dt.timedelta(days=400))   # a backlog, uploaded last
        record("N902", 2563, newest, doc_type="tax_invoice")   # the same instant as N77
        record("N904", 2566, newest + dt.timedelta(hours=1), status="destroyed")
    return env


def _pages(env: Env, who: str, limit: int, **params: Any) -> tuple[list[str], int, int]:
    """Every page's document numbers, how many pages, and the total (-1: an estimate)."""
    got: list[str] = []
    cursor, pages = None, 0
    with env.session() as s:
        p = SYSTEM if who == "system" else principal(env, who)
        while True:
            page = search.search(s, p, SearchParams(limit=limit, cursor=cursor, **params),
                                 record=False)
            got += [i.doc_number or "" for i in page.items]
            pages += 1
            total = -1 if page.total_is_estimate else page.total
            if not (cursor := page.next_cursor):
                return got, pages, total


def _read_years(monkeypatch, guess: int) -> list[list[int] | None]:
    """The planner expects ``guess`` matches, and the fiscal years each keyed lookup
    reads are recorded (None: every year)."""
    monkeypatch.setattr(search, "planner_estimate", lambda session, where: guess)
    calls: list[list[int] | None] = []
    keyed = search._years_text

    def spy(session, q, grams, years, doc_type):
        calls.append(None if years is None else list(years))
        return keyed(session, q, grams, years, doc_type)

    monkeypatch.setattr(search, "_years_text", spy)
    return calls


@pytest.fixture
def years_read(monkeypatch) -> list[list[int] | None]:
    """More matches expected than the count limit: the page is read on its own."""
    return _read_years(monkeypatch, search.EXACT_TOTAL_LIMIT + 1)


@pytest.mark.parametrize("path", ["page by years", "page by years, at most 1", "count"])
def test_pages_and_totals_by_fiscal_year_equal_the_trigram_indexs(archive: Env, monkeypatch,
                                                                   path):
    monkeypatch.setattr(search, "YEAR_SLICES_MAX_YEARS", 1 if "1" in path else 4)
    years_read = _read_years(monkeypatch, 0 if path == "count" else
                             search.EXACT_TOTAL_LIMIT + 1)
    cases = [dict(q=q, sort=sort, doc_type=t, limit=limit)
             for q in ("ทรัพย์ทวี", "ร้านค้าวัสดุ", "ทวี 2563", "ไม่มีคำนี้")
             for sort in ("-uploaded", "uploaded", "-amount") for t in (None, "tax_invoice")
             for limit in (3, 5, 40)]

    def run(case: dict[str, Any], who: str = "system") -> tuple[list[str], int, int]:
        return _pages(archive, who, **case)

    by_years = [run(c) for c in cases]
    # a scope of more provinces than its areas' index is read for: by year too, scoped
    monkeypatch.setattr(search, "AREA_GRAMS_MAX_AREAS", 0)
    scoped = [run(c, "aud1") for c in cases[:8]]
    by_year_reads = len(years_read)
    monkeypatch.setattr(search, "YEAR_GRAMS", False)   # the nation's trigram index
    assert by_years == [run(c) for c in cases]
    assert scoped == [run(c, "aud1") for c in cases[:8]]
    assert len(years_read) == by_year_reads, "the trigram index reads no year's trigrams"
    # the cases find and page something, and the backlog and the tie are among them
    found = {n for numbers, _, _ in by_years for n in numbers}
    assert {"N901", "N902", "N77"} <= found and "N904" not in found
    assert max(pages for _, pages, _ in by_years) > 5
    assert by_year_reads > 0
    if path == "count":   # every year's keys, and the totals are exact
        assert set(map(str, years_read)) == {"None"}
        assert any(total == len(numbers) > 10 for numbers, _, total in by_years)


def test_the_page_reads_only_the_fiscal_years_that_can_hold_it(
        archive: Env, years_read):
    # newest first: FY 2561's backlog was uploaded last, so that year comes first; its
    # page ends before FY 2566's uploads, whose sixth match ties with FY 2563's N902, so
    # four years are read
    numbers, _, _ = _pages(archive, "system", 5, q="ทรัพย์ทวี", sort="-uploaded")
    assert numbers[:5] == ["N901", "N83", "N82", "N80", "N79"]
    assert years_read[:3] == [[2561], [2561, 2566], [2561, 2563, 2565, 2566]]
    # oldest first: FY 2560's first uploads fill the page (and one more) before FY 2561's
    # first one; the second page reaches into FY 2561
    years_read.clear()
    numbers, _, _ = _pages(archive, "system", 5, q="ทรัพย์ทวี", sort="uploaded")
    assert numbers[:7] == ["N1", "N2", "N4", "N5", "N7", "N8", "N10"]
    assert years_read[:3] == [[2560], [2560], [2560, 2561]]
