"""A scope's text search reads its own area's trigrams (PostgreSQL, migrations 0099, 0101),
and a national one with a fiscal year that year's (0102).

The results are the same as before (``test_parity`` checks scoped searches on both
stacks against a reference); these tests check the PostgreSQL mechanism itself: the plan
of a provincial text search, and of an LAO's, reads ``ix_evidence_area_grams`` once (its
province's posting lists), not the nation's trigram index; a scope of too many areas,
the nation, and a query without a three-character word keep the trigram index; each
record's area is its province, also after its organisation is moved to another one; the
index expression evaluates the same under any ``search_path`` (``pg_restore`` runs with
an empty one). A national search with a fiscal year reads ``ix_evidence_year_grams``
(that year's posting lists, of its document type or of each type the year has) and finds
what the trigram index finds.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.accounts.principal import system_principal
from archive.db import make_engine, upgrade
from archive.evidence.models import Evidence
from archive.orgs.models import Organisation
from archive.search import service as search
from archive.search.schemas import SearchParams, fold
from tests.archive.search.helpers import add_record, principal
from tests.conftest import Env, StackBase
from tests.factories import world

SYSTEM = system_principal("test")


@pytest.fixture
def pg(env: Env) -> Env:
    if env.stack == "sqlite":
        pytest.skip("PostgreSQL's index of each area's trigrams (SQLite: FTS5)")
    world(env)
    with env.session() as s:
        for i, code in enumerate(["sao-1", "sao-2", "sao-3"] * 20):
            add_record(s, code, doc_number=f"N{i}", description=f"ค่าวัสดุสำนักงาน {i}",
                       text="ใบเสร็จรับเงิน ห้างหุ้นส่วนจำกัด ทรัพย์ทวี")
    return env


def _plan(env: Env, who: str, q: str, fiscal_year: int | None = None,
          doc_type: str | None = None) -> str:
    """The plan of the search's text condition for the caller's scope (and filters), as
    JSON text, with sequential scans priced out (a table of 60 rows would be scanned
    otherwise): the index the text is looked up in."""
    with env.session() as s:
        p = SYSTEM if who == "system" else principal(env, who)
        org_ids = search._org_ids(s, p, None)
        text = search._text_condition(s, fold(q), True, org_ids, fiscal_year, doc_type)
        s.execute(sa.text("SET LOCAL enable_seqscan = off"))
        stmt = sa.select(Evidence.id).where(text)
        compiled = stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
        return json.dumps(s.scalar(sa.text(f"EXPLAIN (FORMAT JSON) {compiled}")))


@pytest.mark.parametrize("who", ["aud1", "off1"])
def test_a_provincial_or_local_text_search_reads_its_provinces_trigrams_once(pg: Env, who):
    plan = _plan(pg, who, "วัสดุสำนักงาน")
    assert plan.count('"Index Name": "ix_evidence_area_grams"') == 1, plan
    assert "ix_evidence_search_all_trgm" not in plan


def test_the_nation_and_short_words_keep_the_trigram_index(pg: Env, monkeypatch):
    assert "ix_evidence_area_grams" not in _plan(pg, "system", "วัสดุสำนักงาน")
    # no word of three characters in the query: nothing to look up per organisation
    with pg.session() as s:
        assert search.query_grams(s, fold("ab cd")) == ()
        # วัสดุ: 5 characters, one word: 3 trigrams inside it (2 at its start and 1 at its
        # end are padded with blanks, and it may be part of a longer word in a text)
        assert len(search.query_grams(s, fold("วัสดุ"))) == 3
        # two words: the padded end of the first, and the second's start, are certain
        assert len(search.query_grams(s, fold("วัสดุ สำนักงาน"))) == 3 + 1 + 2 + 6
    assert "ix_evidence_area_grams" not in _plan(pg, "aud1", "ab cd")
    # a scope of more areas than the limit
    monkeypatch.setattr(search, "AREA_GRAMS_MAX_AREAS", 0)
    plan = _plan(pg, "aud1", "วัสดุสำนักงาน")
    assert "ix_evidence_area_grams" not in plan
    assert "ix_evidence_search_all_trgm" in plan


def test_scoped_results_equal_the_nations_within_the_scope(pg: Env):
    def found(who: str, q: str) -> set[str]:
        with pg.session() as s:
            p = SYSTEM if who == "system" else principal(pg, who)
            page = search.search(s, p, SearchParams(q=q, limit=100), record=False)
            return {i.doc_number or "" for i in page.items}

    for q in ("วัสดุสำนักงาน", "ทรัพย์ทวี", "ร้านค้า", "สำนักงาน 1", "เสร็จรับ", "นักงาน",
              "ใบเสร็จรับเงิน ห้าง", "น ห้างหุ้น", "ค่าวัสดุสำนักงาน 1", "งาน 1"):
        nation = found("system", q)
        cm = {n for n in nation if int(n[1:]) % 3 != 2}   # sao-1 and sao-2
        assert found("aud1", q) == cm, q
        assert found("aud3", q) == nation - cm, q


def _areas(env: Env) -> dict[str, set[str]]:
    """Each organisation's records' areas, as organisation codes."""
    with env.session() as s:
        rows = s.execute(sa.text(
            "SELECT o.code, a.code FROM evidence e JOIN organisations o ON o.id = e.org_id "
            "LEFT JOIN organisations a ON a.id = e.search_area"))
        out: dict[str, set[str]] = {}
        for org, area in rows:
            out.setdefault(org, set()).add(area)
        return out


def test_each_record_is_in_its_provinces_area_even_after_its_organisation_moves(pg: Env):
    with pg.session() as s:
        add_record(s, "p-cm", doc_number="P1", text="วัสดุสำนักงาน ของสำนักงานจังหวัด")
        add_record(s, "dla", doc_number="D1", text="วัสดุสำนักงาน ของกรม")
    assert _areas(pg) == {"sao-1": {"p-cm"}, "sao-2": {"p-cm"}, "sao-3": {"p-cr"},
                          "p-cm": {"p-cm"}, "dla": {"dla"}}

    def found(who: str) -> set[str]:
        """The codes of the organisations whose records ``who`` finds."""
        with pg.session() as s:
            page = search.search(s, principal(pg, who),
                                 SearchParams(q="วัสดุสำนักงาน", limit=100), record=False)
            codes = dict(s.execute(sa.text("SELECT name, code FROM organisations")).all())
            return {codes[i.org_name] for i in page.items}

    assert found("aud3") == {"sao-3"}
    # an operator moves sao-2 to Chiang Rai (the application never moves organisations)
    with pg.session() as s:
        s.execute(sa.text("UPDATE organisations SET parent_id = "
                          "(SELECT id FROM organisations WHERE code = 'p-cr') "
                          "WHERE code = 'sao-2'"))
    assert _areas(pg)["sao-2"] == {"p-cr"}
    assert found("aud3") == {"sao-2", "sao-3"}
    assert found("aud1") == {"sao-1", "p-cm"}


def test_one_organisations_area_is_what_a_scopes_query_gives_it(pg: Env):
    """``organisation_area`` (each insert's: a walk up the parents, migration 0104) agrees
    with ``organisation_areas`` (a search scope's: one recursive query, 0101) for every
    organisation alone: the top, a province, an LAO, two levels below an LAO, the top of a
    second tree, an id no organisation has, and the members of a cycle an operator wrote
    (no area; writing it no longer hangs the move trigger)."""
    with pg.session() as s:
        s.execute(sa.text("SET LOCAL statement_timeout = '20s'"))
        ids = dict(s.execute(sa.text("SELECT code, id FROM organisations")).all())

        def add(code: str, parent: int | None) -> int:
            return int(s.scalar(sa.text(
                "INSERT INTO organisations (code, name, type, parent_id, created_at) "
                "VALUES (:c, :c, 'sao', :p, now()) RETURNING id"), {"c": code, "p": parent}))

        ids["unit"] = add("unit", ids["sao-1"])
        ids["sub-unit"] = add("sub-unit", ids["unit"])
        ids["other-top"] = add("other-top", None)
        ids["c1"] = add("c1", None)
        ids["c2"] = add("c2", ids["c1"])
        add_record(s, "c2", doc_number="C2")
        s.execute(sa.text("UPDATE organisations SET parent_id = :p WHERE id = :c"),
                  {"p": ids["c2"], "c": ids["c1"]})
        ids["missing"] = max(ids.values()) + 1000

        def both(org: int) -> tuple[int | None, list[int]]:
            return (s.scalar(sa.text("SELECT organisation_area(:o)"), {"o": org}),
                    list(s.scalars(sa.text("SELECT organisation_areas(ARRAY[:o])"), {"o": org})))

        found = {code: both(org) for code, org in ids.items()}
        area = {"dla": "dla", "p-cm": "p-cm", "sao-1": "p-cm", "sao-2": "p-cm",
                "unit": "p-cm", "sub-unit": "p-cm", "p-cr": "p-cr", "sao-3": "p-cr",
                "other-top": "other-top", "missing": None, "c1": None, "c2": None}
        assert found == {code: (ids[a], [ids[a]]) if a else (None, [])
                         for code, a in area.items()}
        assert s.scalar(sa.text("SELECT search_area FROM evidence WHERE doc_number = 'C2'")) \
            is None


def test_the_migration_gives_the_records_already_there_their_area(stack: StackBase):
    """Migration 0101 on a database with records (at 0100 the models are the same: the
    area is not mapped) fills in each record's area and builds the index over it."""
    if stack.pg is None:
        pytest.skip("PostgreSQL's index of each area's trigrams (SQLite: FTS5)")
    name = stack.pg.create_database()
    engine = make_engine(stack.pg.url(name))
    try:
        upgrade(engine, "0100")
        with Session(engine) as s, s.begin():
            parent = None
            for code, type in (("dla", "dla-office"), ("p-cm", "province"), ("sao-1", "sao")):
                org = Organisation(code=code, name=code, type=type,
                                   parent_id=parent.id if parent else None)
                s.add(org)
                s.flush()
                parent = org
            for code in ("dla", "p-cm", "sao-1"):
                add_record(s, code, text="วัสดุสำนักงาน")
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT o.code, a.code FROM evidence e JOIN organisations o ON o.id = e.org_id"
                " JOIN organisations a ON a.id = e.search_area ORDER BY 1")).all()
            assert [tuple(r) for r in rows] == [("dla", "dla"), ("p-cm", "p-cm"),
                                                ("sao-1", "p-cm")]
            assert conn.scalar(sa.text(
                "SELECT count(*) FROM pg_indexes WHERE indexname IN "
                "('ix_evidence_area_grams', 'ix_evidence_year_grams')")) == 2
    finally:
        engine.dispose()
        stack.pg.drop_database(name)


def test_the_index_expression_needs_no_search_path(pg: Env):
    """pg_restore builds indexes with an empty search_path: the function names pg_trgm's
    schema itself."""
    with pg.session() as s:
        schema = s.scalar(sa.text("SELECT n.nspname FROM pg_proc p JOIN pg_namespace n "
                                  "ON n.oid = p.pronamespace "
                                  "WHERE p.proname = 'evidence_org_grams'"))
        call = f'SELECT "{schema}".evidence_org_grams(7, :t)'
        expected = s.scalar(sa.text(call), {"t": "วัสดุสำนักงาน"})
        s.execute(sa.text("SET LOCAL search_path = ''"))
        assert s.scalar(sa.text(call), {"t": "วัสดุสำนักงาน"}) == expected
    assert expected and all(key >> 32 == 7 for key in expected)


@pytest.fixture
def years(pg: Env) -> Env:
    """Records of three fiscal years and three document types, one of them a type no
    longer in the vocabulary (a record kept from before a rename is still found)."""
    with pg.session() as s:
        for i in range(36):
            fy, doc_type = 2566 + i % 3, ("receipt", "tax_invoice", "legacy_type")[i // 3 % 3]
            add_record(s, ("sao-1", "sao-3", "p-cm", "dla")[i % 4], doc_number=f"Y{i}",
                       fiscal_year=fy, doc_type=doc_type, amount=str(1000 * i),
                       description=f"ค่าวัสดุสำนักงาน ปี {fy}" if i % 2 else "ค่าน้ำมันเชื้อเพลิง",
                       text=f"ห้างหุ้นส่วนจำกัด ทรัพย์ทวี {doc_type}")
    return pg


def test_a_national_search_with_a_fiscal_year_reads_that_years_trigrams(years: Env):
    plan = _plan(years, "system", "วัสดุสำนักงาน", 2567, "receipt")
    assert plan.count('"Index Name": "ix_evidence_year_grams"') == 1, plan
    assert "ix_evidence_search_all_trgm" not in plan
    # a fiscal year alone: one lookup per document type that year has (three)
    plan = _plan(years, "system", "วัสดุสำนักงาน", 2567)
    assert plan.count('"Index Name": "ix_evidence_year_grams"') == 3, plan
    # without a fiscal year, the nation's trigram index; a province keeps its area's
    assert "ix_evidence_year_grams" not in _plan(years, "system", "วัสดุสำนักงาน")
    plan = _plan(years, "aud1", "วัสดุสำนักงาน", 2567, "receipt")
    assert "ix_evidence_area_grams" in plan and "ix_evidence_year_grams" not in plan


def test_national_results_with_a_fiscal_year_equal_the_trigram_indexs(years: Env, monkeypatch):
    def found(**filters) -> list[str]:
        with years.session() as s:
            page = search.search(s, SYSTEM, SearchParams(limit=200, **filters), record=False)
            assert page.total == len(page.items)
            return [i.doc_number or "" for i in page.items]

    cases = [dict(q=q, fiscal_year=fy, doc_type=t, amount_min=amount)
             for q in ("วัสดุสำนักงาน", "ทรัพย์ทวี", "เชื้อเพลิง", "ปี 2567", "legacy_type",
                       "น ห้างหุ้น", "ไม่มีคำนี้")
             for fy in (2566, 2567, 2560) for t in (None, "receipt", "tax_invoice")
             for amount in (None, "5000")]
    with_year_grams = [found(**c) for c in cases]
    monkeypatch.setattr(search, "YEAR_GRAMS", False)
    assert with_year_grams == [found(**c) for c in cases]
    # and the cases do find something
    assert sum(map(len, with_year_grams)) > 100
    assert found(q="legacy_type", fiscal_year=2566) != []
