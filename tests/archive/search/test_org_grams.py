"""A scope's text search reads its own organisations' trigrams (PostgreSQL, migration 0099).

The results are the same as before (``test_parity`` checks scoped searches on both
stacks against a reference); these tests check the PostgreSQL mechanism itself: the plan
of a provincial text search reads ``ix_evidence_org_grams``, not the nation's trigram
index; a scope too large for it, the nation, and a query without a three-character word
keep the trigram index; the index expression evaluates the same under any
``search_path`` (``pg_restore`` runs with an empty one).
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from archive.accounts.principal import system_principal
from archive.evidence.models import Evidence
from archive.search import service as search
from archive.search.schemas import SearchParams, fold
from tests.archive.search.helpers import add_record, principal
from tests.conftest import Env
from tests.factories import world

SYSTEM = system_principal("test")


@pytest.fixture
def pg(env: Env) -> Env:
    if env.stack == "sqlite":
        pytest.skip("PostgreSQL's index of each organisation's trigrams (SQLite: FTS5)")
    world(env)
    with env.session() as s:
        for i, code in enumerate(["sao-1", "sao-2", "sao-3"] * 20):
            add_record(s, code, doc_number=f"N{i}", description=f"ค่าวัสดุสำนักงาน {i}",
                       text="ใบเสร็จรับเงิน ห้างหุ้นส่วนจำกัด ทรัพย์ทวี")
    return env


def _plan(env: Env, who: str, q: str) -> str:
    """The plan of the search's text condition for the caller's scope, as JSON text, with
    sequential scans priced out (a table of 60 rows would be scanned otherwise): the
    index the text is looked up in."""
    with env.session() as s:
        p = SYSTEM if who == "system" else principal(env, who)
        org_ids = search._org_ids(s, p, None)
        text = search._text_condition(s, fold(q), True, org_ids)
        s.execute(sa.text("SET LOCAL enable_seqscan = off"))
        stmt = sa.select(Evidence.id).where(text)
        compiled = stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
        return json.dumps(s.scalar(sa.text(f"EXPLAIN (FORMAT JSON) {compiled}")))


def test_a_provincial_text_search_reads_its_organisations_trigrams(pg: Env):
    plan = _plan(pg, "aud1", "วัสดุสำนักงาน")
    assert "ix_evidence_org_grams" in plan, plan
    assert "ix_evidence_search_all_trgm" not in plan


def test_the_nation_and_short_words_keep_the_trigram_index(pg: Env, monkeypatch):
    assert "ix_evidence_org_grams" not in _plan(pg, "system", "วัสดุสำนักงาน")
    # no word of three characters in the query: nothing to look up per organisation
    with pg.session() as s:
        assert search.query_grams(s, fold("ab cd")) == ()
        # วัสดุ: 5 characters, one word: 3 trigrams inside it (2 at its start and 1 at its
        # end are padded with blanks, and it may be part of a longer word in a text)
        assert len(search.query_grams(s, fold("วัสดุ"))) == 3
        # two words: the padded end of the first, and the second's start, are certain
        assert len(search.query_grams(s, fold("วัสดุ สำนักงาน"))) == 3 + 1 + 2 + 6
    assert "ix_evidence_org_grams" not in _plan(pg, "aud1", "ab cd")
    # a scope larger than the limit
    monkeypatch.setattr(search, "ORG_GRAMS_MAX_ORGS", 2)
    plan = _plan(pg, "aud1", "วัสดุสำนักงาน")
    assert "ix_evidence_org_grams" not in plan
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
