"""The same data and query give the same records in the same order on both stacks.

Each stack is checked against one reference implementation written here in Python
(NFC, ASCII-only case folding, substring match per field, keys missing last, id as the
tie-breaker), so the two databases agree with each other by construction of the test.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any

import pytest

from archive.accounts.principal import system_principal
from archive.search import service as search
from archive.search.extract import normalise
from archive.search.schemas import SearchParams, fold
from tests.archive.search.helpers import add_record
from tests.conftest import Env
from tests.factories import world

WORDS = ["ใบเสร็จรับเงิน", "ค่าวัสดุสำนักงาน", "ค่าน้ำมันเชื้อเพลิง", "ข้าวสาร", "ขาวสะอาด", "กู้ยืม",
         "ACME Co.", "acme", "Ltd.", "50%", "A_B", "ÉCOLE", "école", "ฎ 7/2568", "เงินกู้",
         "ห้างหุ้นส่วนจำกัด", "สหกรณ์", "น้ำ", "ๆ", "12", "x"]
QUERIES = ["เสร็จ", "วัสดุ", "ข้าว", "ขาว", "กู้", "acme", "ACME CO", "%", "_", "50%", "école",
           "ÉCOLE", "ฎ", "12", "น้ำ", "ๆ", "จำกัด", "x", "สหกรณ์ ค่า", "ไม่มี"]
META = ("issuer_name", "description", "voucher_no", "doc_number", "issuer_tax_id")
PROVINCE = {"sao-1": "p-cm", "sao-2": "p-cm", "sao-3": "p-cr"}


def _phrase(rng: random.Random) -> str | None:
    if rng.random() < 0.2:
        return None
    return " ".join(rng.sample(WORDS, rng.randint(1, 3)))


def _reference(rows: list[dict[str, Any]], q: str | None, sort: str,
               **filters: Any) -> list[str]:
    out = []
    for row in rows:
        if any(row[k] != v for k, v in filters.items()):
            continue
        if q is not None:
            fq = fold(q)
            fields = [fold(row[f]) for f in META if row[f]] + \
                ([fold(row["text"])] if row["text"] else [])
            if not any(fq in f for f in fields):
                continue
        out.append(row)
    key = sort.lstrip("-")
    desc = sort.startswith("-")
    present = sorted((r for r in out if r[key] is not None),
                     key=lambda r: (r[key], r["id"].int), reverse=desc)
    missing = sorted((r for r in out if r[key] is None), key=lambda r: r["id"].int,
                     reverse=desc)
    return [r["doc_number"] for r in present + missing]


@pytest.fixture
def dataset(env: Env) -> list[dict[str, Any]]:
    world(env)
    rng = random.Random(8493)
    rows = []
    base = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    with env.session() as s:
        for i in range(60):
            values = {
                "issuer_name": _phrase(rng), "description": _phrase(rng),
                "voucher_no": rng.choice([None, "ฎ 7/2568", f"ฎ {i}/2568"]),
                "doc_number": f"N{i:03d}", "issuer_tax_id": rng.choice([None, "0105512345671"]),
                "issue_date": rng.choice([None, dt.date(2025, 1, 1 + i % 4)]),
                "amount": rng.choice([None, Decimal("10.00"), Decimal("99.99"),
                                      Decimal(rng.randint(1, 10**6)) / 100]),
                "fiscal_year": rng.choice([2567, 2568]),
            }
            text = _phrase(rng)
            org = rng.choice(["sao-1", "sao-2", "sao-3"])
            ev = add_record(s, org, text=text,
                            created_at=base + dt.timedelta(minutes=i % 7), **values)
            rows.append({**{k: (normalise(v) if isinstance(v, str) else v)
                            for k, v in values.items()},
                         "text": normalise(text) if text else None, "id": ev.id,
                         "uploaded": ev.created_at, "province": PROVINCE[org], "org": org})
    return rows


def test_both_stacks_agree_with_the_reference(env: Env, dataset):
    system = system_principal("test")

    def run(**params: Any) -> list[str]:
        got, cursor = [], None
        with env.session() as s:
            while True:
                page = search.search(s, system, SearchParams(**params, limit=7, cursor=cursor),
                                     record=False)
                got += [i.doc_number for i in page.items]
                if not (cursor := page.next_cursor):
                    return got

    for q in QUERIES:
        for sort in ("issue_date", "-amount", "uploaded"):
            expected = _reference(dataset, q, sort)
            assert run(q=q, sort=sort) == expected, (q, sort)
    for fy in (2567, 2568):
        assert run(q="ค่า", fiscal_year=fy, sort="-issue_date") == \
            _reference(dataset, "ค่า", "-issue_date", fiscal_year=fy)
    # a province, and an LAO in it: on PostgreSQL, the area's own trigrams (migration 0101)
    for province in ("p-cm", "p-cr"):
        for q in QUERIES:
            assert run(q=q, org_code=province, sort="uploaded") == \
                _reference(dataset, q, "uploaded", province=province), (q, province)
    for q in QUERIES:
        assert run(q=q, org_code="sao-1", sort="uploaded") == \
            _reference(dataset, q, "uploaded", org="sao-1"), q
    assert len(run()) == 60
    assert isinstance(dataset[0]["id"], uuid.UUID)


@pytest.mark.parametrize("path", ["estimate-small", "estimate-large", "over-the-limit"])
def test_every_counting_path_gives_the_same_pages_and_honest_totals(env: Env, dataset,
                                                                    monkeypatch, path):
    """PostgreSQL chooses between counting with the page and reading only the page from
    the planner's estimate; SQLite always counts. Force each way: the pages must not
    change, and a total that is not flagged as an estimate must be exact."""
    limit = search.EXACT_TOTAL_LIMIT
    if path == "estimate-small":
        monkeypatch.setattr(search, "planner_estimate", lambda session, where: 0)
    elif path == "estimate-large":
        monkeypatch.setattr(search, "planner_estimate", lambda session, where: 10**9)
    else:  # the planner expects few, but there are more than the limit
        limit = 5
        monkeypatch.setattr(search, "EXACT_TOTAL_LIMIT", limit)
        monkeypatch.setattr(search, "planner_estimate", lambda session, where: 0)
    system = system_principal("test")
    cases: list[tuple[str | None, str, dict[str, Any]]] = [
        ("ค่า", "-amount", {}), ("วัสดุ", "uploaded", {}), ("ข้าว", "-issue_date", {}),
        (None, "-uploaded", {"fiscal_year": 2568}), ("ไม่มี", "amount", {}),
        (None, "issue_date", {})]
    for q, sort, filters in cases:
        expected = _reference(dataset, q, sort, **filters)
        got: list[str] = []
        cursor = None
        with env.session() as s:
            while True:
                page = search.search(s, system, SearchParams(q=q, sort=sort, limit=4,
                                                             cursor=cursor, **filters),
                                     record=False)
                got += [i.doc_number for i in page.items]
                if page.total_is_estimate:
                    assert len(expected) > 4 and page.total > limit, (q, sort, path)
                else:
                    assert page.total == len(expected), (q, sort, path)
                if not (cursor := page.next_cursor):
                    break
        assert got == expected, (q, sort, path)
