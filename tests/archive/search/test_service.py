"""The search service on both stacks: Thai substrings, short queries, filters, scope,
keyset pages, totals, cursors and the audit trail."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

import pytest
import sqlalchemy as sa

from archive.accounts.principal import system_principal
from archive.audit.models import AuditEvent
from archive.errors import InvalidInput, NotFound
from archive.evidence import service as evidence_service
from archive.evidence.models import Blob
from archive.evidence.schemas import EvidenceUpdate
from archive.search import service as search
from archive.search.schemas import SearchFilters, SearchParams
from tests.archive.search.helpers import add_record, principal
from tests.conftest import Env
from tests.factories import world

SYSTEM = system_principal("test")


@pytest.fixture
def tokens(env: Env) -> dict[str, str]:
    return world(env)


def numbers(env: Env, who: str = "aud1", **params: object) -> list[str]:
    """doc_number of every hit, in order (all pages)."""
    p = SYSTEM if who == "system" else principal(env, who)
    out: list[str] = []
    cursor = None
    with env.session() as s:
        while True:
            page = search.search(s, p, SearchParams(**params, cursor=cursor))
            out += [i.doc_number or "" for i in page.items]
            cursor = page.next_cursor
            if cursor is None:
                return out


def test_thai_substrings_inside_compounds_in_text_and_metadata(env: Env, tokens):
    with env.session() as s:
        add_record(s, "sao-1", doc_number="R1", text="ใบเสร็จรับเงิน เลขที่ 0012")
        add_record(s, "sao-1", doc_number="R2", description="ค่าวัสดุสำนักงาน ไตรมาส 1")
        add_record(s, "sao-2", doc_number="R3", issuer_name="ห้างหุ้นส่วนจำกัด เชียงใหม่การค้า")
        add_record(s, "sao-1", doc_number="R4", text="ใบแจ้งหนี้ ค่าน้ำมันเชื้อเพลิง")
    assert numbers(env, q="เสร็จ") == ["R1"]
    assert numbers(env, q="วัสดุ") == ["R2"]
    assert numbers(env, q="หุ้นส่วน") == ["R3"]
    assert numbers(env, q="เชื้อเพลิง") == ["R4"]
    assert numbers(env, q="ใบ", sort="issue_date") == ["R1", "R4"]   # short: plain scan
    assert numbers(env, q="ไม่มีคำนี้") == []


def test_tone_marks_matter_and_any_canonical_order_matches(env: Env, tokens):
    with env.session() as s:
        add_record(s, "sao-1", doc_number="RICE", description="ค่าข้าวสารสำหรับศูนย์เด็กเล็ก")
        add_record(s, "sao-1", doc_number="LOAN", text="ชำระเงินกู้ กองทุนหมู่บ้าน")
    assert numbers(env, q="ข้าวสาร") == ["RICE"]
    assert numbers(env, q="ขาวสาร") == []            # without the tone mark: another word
    # SARA UU and MAI THO typed in the non-canonical order: NFC puts them in order
    typed = "เงินก\u0e49\u0e39"
    assert unicodedata.normalize("NFC", typed) != typed
    assert numbers(env, q=typed) == ["LOAN"]


def test_short_queries_scan_metadata_and_text(env: Env, tokens):
    with env.session() as s:
        add_record(s, "sao-1", doc_number="A", voucher_no="ฎ 12/2568")
        add_record(s, "sao-1", doc_number="B", text="x 7 y")
        add_record(s, "sao-1", doc_number="C", description="อื่น ๆ")
    assert numbers(env, q="ฎ") == ["A"]
    assert numbers(env, q="12", sort="issue_date") == ["A"]
    assert numbers(env, q="7") == ["B"]
    assert numbers(env, q="ๆ") == ["C"]


def test_case_folding_is_ascii_only_and_like_characters_are_literal(env: Env, tokens):
    with env.session() as s:
        add_record(s, "sao-1", doc_number="ACME", issuer_name="ACME Trading Co., Ltd.")
        add_record(s, "sao-1", doc_number="PCT", description="ส่วนลด 50% ตามสัญญา")
        add_record(s, "sao-1", doc_number="UND", description="code A_B")
        add_record(s, "sao-1", doc_number="ACC", description="ÉCOLE")
    assert numbers(env, q="acme trading") == ["ACME"]
    assert numbers(env, q="50%") == ["PCT"]
    assert numbers(env, q="%") == ["PCT"]
    assert numbers(env, q="a_b") == ["UND"]
    assert numbers(env, q="_") == ["UND"]
    assert numbers(env, q="ÉCOLE") == ["ACC"]
    assert numbers(env, q="école") == []     # only ASCII letters fold (same on both stacks)


def test_a_query_never_matches_across_two_fields(env: Env, tokens):
    with env.session() as s:
        add_record(s, "sao-1", doc_number="X", issuer_name="ร้านสมชาย", description="ค่าซ่อม")
    assert numbers(env, q="สมชาย") == ["X"]
    assert numbers(env, q="สมชายค่า") == []
    assert numbers(env, q="สมชาย ค่า") == []


def test_text_index_follows_corrections_and_re_extraction(env: Env, tokens):
    with env.session() as s:
        ev = add_record(s, "sao-1", doc_number="D1", issuer_name="บริษัท เก่า จำกัด",
                        text="ข้อความเดิม")
        blob_id = ev.blob_id
        ev_id = ev.id
    with env.session() as s:
        evidence_service.update(s, principal(env, "off1"), ev_id,
                                EvidenceUpdate(issuer_name="บริษัท ใหม่ จำกัด"))
        search.store_text(s, blob_id, text="ข้อความใหม่", extractor="test")
    with env.session() as s:  # twice: the upsert is idempotent
        search.store_text(s, blob_id, text="ข้อความใหม่", extractor="test")
    assert numbers(env, q="เก่า") == []
    assert numbers(env, q="ใหม่ จำกัด") == ["D1"]
    assert numbers(env, q="ความเดิม") == []
    assert numbers(env, q="ความใหม่") == ["D1"]


def test_filters(env: Env, tokens):
    with env.session() as s:
        a = add_record(s, "sao-1", doc_number="F1", fiscal_year=2567, doc_type="tax_invoice",
                       issue_date=dt.date(2024, 3, 1), amount="150000.00",
                       issuer_tax_id="0105512345671", voucher_no="ฎ 1/2567",
                       pdfa_compliant=True)
        add_record(s, "sao-2", doc_number="F2", fiscal_year=2568, issue_date=dt.date(2025, 1, 5),
                   amount="99.50", pdfa_compliant=False, on_hold=True)
        add_record(s, "sao-2", doc_number="F3", fiscal_year=2568, status="inspected",
                   created_at=dt.datetime(2025, 2, 1, 16, 59, tzinfo=dt.UTC))  # 23:59 Bangkok
        sha = s.get(Blob, a.blob_id).sha256
    assert numbers(env, org_code="sao-2", sort="issue_date") == ["F2", "F3"]
    assert numbers(env, org_code="p-cm", sort="issue_date") == ["F1", "F2", "F3"]
    assert numbers(env, fiscal_year=2567) == ["F1"]
    assert numbers(env, doc_type="tax_invoice") == ["F1"]
    assert numbers(env, issue_date_from="2024-03-01", issue_date_to="2024-12-31") == ["F1"]
    assert numbers(env, amount_min="100", sort="-amount") == ["F1"]
    assert numbers(env, amount_max="100") == ["F2"]
    assert numbers(env, amount_min="99.50", amount_max="99.50") == ["F2"]
    assert numbers(env, issuer_tax_id="0-1055-12345-67-1") == ["F1"]
    assert numbers(env, voucher_no="ฎ 1/2567") == ["F1"]
    assert numbers(env, doc_number="F3") == ["F3"]
    assert numbers(env, pdfa="compliant") == ["F1"]
    assert numbers(env, pdfa="not") == ["F2"]
    assert numbers(env, pdfa="unchecked") == ["F3"]
    assert numbers(env, on_hold=True) == ["F2"]
    assert numbers(env, status="inspected") == ["F3"]
    assert numbers(env, sha256=sha.upper()) == ["F1"]
    assert numbers(env, uploaded_from="2025-02-01", uploaded_to="2025-02-01") == ["F3"]
    assert numbers(env, uploaded_to="2025-01-31") == []


def test_scope_limits_items_and_totals(env: Env, tokens):
    with env.session() as s:
        for i in range(3):
            add_record(s, "sao-1", doc_number=f"S1-{i}", description="ค่าวัสดุ")
        add_record(s, "sao-2", doc_number="S2", description="ค่าวัสดุ")
        add_record(s, "sao-3", doc_number="S3", description="ค่าวัสดุ")
    assert sorted(numbers(env, "off2", q="วัสดุ")) == ["S2"]
    assert sorted(numbers(env, "aud3", q="วัสดุ")) == ["S3"]
    assert sorted(numbers(env, "aud1", q="วัสดุ")) == ["S1-0", "S1-1", "S1-2", "S2"]
    assert len(numbers(env, "system", q="วัสดุ")) == 5
    with env.session() as s:
        page = search.search(s, principal(env, "off2"), SearchParams(q="วัสดุ"))
        assert page.total == 1 and not page.total_is_estimate
        # another province's organisation looks exactly like a missing one
        for code in ("sao-3", "no-such-org"):
            with pytest.raises(NotFound) as err:
                search.search(s, principal(env, "aud1"), SearchParams(org_code=code))
            assert err.value.code == "org_not_found"


def test_pages_with_ties_and_missing_keys_have_no_duplicates_or_gaps(env: Env, tokens):
    base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with env.session() as s:
        for i in range(23):
            add_record(s, "sao-1", doc_number=f"P{i:02d}",
                       issue_date=None if i % 5 == 0 else dt.date(2025, 1, 1 + i % 3),
                       amount=None if i % 7 == 0 else Decimal("100.00") * (i % 2),
                       created_at=base + dt.timedelta(minutes=i % 4))
    everything = set(numbers(env, limit=200))
    assert len(everything) == 23
    for sort in ("issue_date", "-issue_date", "amount", "-amount", "uploaded", "-uploaded"):
        for limit in (1, 4, 7):
            got = numbers(env, sort=sort, limit=limit)
            assert len(got) == 23 and set(got) == everything, (sort, limit)
            assert got == numbers(env, sort=sort, limit=200), (sort, limit)


def test_order_puts_missing_keys_last_in_both_directions(env: Env, tokens):
    with env.session() as s:
        add_record(s, "sao-1", doc_number="N", amount=None)
        add_record(s, "sao-1", doc_number="SMALL", amount="1.00")
        add_record(s, "sao-1", doc_number="BIG", amount="1000000.00")
    assert numbers(env, sort="amount") == ["SMALL", "BIG", "N"]
    assert numbers(env, sort="-amount") == ["BIG", "SMALL", "N"]


def test_bad_cursors_are_refused(env: Env, tokens):
    with env.session() as s:
        for i in range(3):
            add_record(s, "sao-1", doc_number=f"C{i}")
    p = principal(env, "aud1")
    with env.session() as s:
        page = search.search(s, p, SearchParams(limit=1))
        assert page.next_cursor
        for cursor, params in ((page.next_cursor, {"sort": "amount"}),
                               (page.next_cursor, {"fiscal_year": 2568}),
                               ("not-a-cursor", {}), ("", {}), ("eyJ4Ijox", {})):
            if not cursor:
                continue
            with pytest.raises(InvalidInput) as err:
                search.search(s, p, SearchParams(limit=1, cursor=cursor, **params))
            assert err.value.code == "invalid_cursor"


def test_total_beyond_the_limit_is_an_estimate(env: Env, tokens, monkeypatch):
    monkeypatch.setattr(search, "EXACT_TOTAL_LIMIT", 4)
    with env.session() as s:
        for i in range(9):
            add_record(s, "sao-1", doc_number=f"T{i}")
    with env.session() as s:
        page = search.search(s, principal(env, "aud1"), SearchParams(limit=2))
        assert page.total_is_estimate and page.total >= 5
        exact = search.search(s, principal(env, "aud1"), SearchParams(doc_number="T1"))
        assert exact.total == 1 and not exact.total_is_estimate


def test_every_search_is_audited_with_its_parameters(env: Env, tokens):
    with env.session() as s:
        add_record(s, "sao-1", doc_number="A1", description="ค่าวัสดุ")
    numbers(env, q="วัสดุ", fiscal_year=2568)
    with env.session() as s:
        ev = s.scalars(sa.select(AuditEvent).where(AuditEvent.action == "evidence.search")).all()
    assert len(ev) == 1
    assert ev[0].actor == "aud1"
    assert ev[0].details["filters"] == {"q": "วัสดุ", "fiscal_year": 2568}
    assert ev[0].details["total"] == 1


def test_listing_all_hits_in_batches(env: Env, tokens):
    with env.session() as s:
        for i in range(7):
            add_record(s, "sao-1", doc_number=f"L{i}")
        add_record(s, "sao-3", doc_number="OUT")
    with env.session() as s:
        got = [h.evidence.doc_number for h in
               search.iter_hits(s, principal(env, "aud1"), SearchFilters(), sort="uploaded",
                                batch=3)]
    assert got == [f"L{i}" for i in range(7)]


@pytest.mark.parametrize("bad", [
    {"issue_date_from": "2025-02-30"}, {"amount_min": "10", "amount_max": "5"},
    {"issue_date_from": "2025-02-01", "issue_date_to": "2025-01-01"},
    {"fiscal_year": 2025}, {"doc_type": "poem"}, {"sort": "name"}, {"limit": 0},
    {"limit": 1000}, {"issuer_tax_id": "12345"}, {"sha256": "xyz"}, {"pdfa": "maybe"},
    {"amount_min": "-1"}, {"q": "ก" * 201}, {"unknown": "1"},
])
def test_bad_parameters_are_refused(bad):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        SearchParams(**bad)


def test_search_triggers_exist_at_head(env: Env):
    """SQLite drops a table's triggers when a later migration recreates the table."""
    if env.stack == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type='trigger'"
        wanted = {"evidence_search_ai", "evidence_search_au", "evidence_search_ad",
                  "blob_texts_ai", "blob_texts_au", "blob_texts_ad", "search_meta_ai",
                  "search_meta_au", "search_meta_ad"}
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        wanted = {"evidence_search_text_bi", "blob_texts_search_text_aiud"}
    with env.engine.connect() as conn:
        names = set(conn.scalars(sa.text(query)))
    assert wanted <= names


def test_destroyed_records_are_left_out_unless_asked_for(env: Env, tokens):
    """GIVEN a live and a destroyed record WHEN an auditor searches THEN only the live one
    is listed; include_destroyed (or status=destroyed) shows the tombstone too."""
    from archive.evidence.models import Evidence

    with env.session() as s:
        add_record(s, "sao-1", doc_number="LIVE", description="ค่าวัสดุ")
        gone = add_record(s, "sao-1", doc_number="GONE", description="ค่าวัสดุ")
        s.flush()
        s.execute(sa.update(Evidence).where(Evidence.id == gone.id).values(status="destroyed"))
    assert numbers(env, q="วัสดุ") == ["LIVE"]
    assert sorted(numbers(env, q="วัสดุ", include_destroyed=True)) == ["GONE", "LIVE"]
    assert numbers(env, status="destroyed") == ["GONE"]


@pytest.mark.parametrize("counted", [True, False], ids=["counted", "page-only"])
@pytest.mark.parametrize("sort", ["-uploaded", "uploaded"])
def test_a_period_by_upload_lists_what_the_upload_walk_lists(env: Env, tokens, monkeypatch,
                                                              counted, sort):
    """GIVEN records in and out of an audit period and amount band, some uploaded at the
    same instant, one destroyed, one out of scope WHEN a closed period is searched by
    upload time (read by its own indexes, then sorted: ``_period_by_upload``) THEN every
    page is the one the walk of the upload order gives: same records, same order, same
    cursors — on the counted path and on the page-only path."""
    from archive.evidence.models import Evidence

    base = dt.datetime(2025, 1, 10, 3, 0, tzinfo=dt.UTC)
    with env.session() as s:
        for i in range(9):
            add_record(s, "sao-1" if i % 3 else "sao-2", doc_number=f"P{i}",
                       issue_date=dt.date(2024, 12, 1 + i), amount=f"{1000 + 500 * i}.00",
                       created_at=base + dt.timedelta(hours=i // 2))   # pairs tie
        add_record(s, "sao-1", doc_number="EARLY", issue_date=dt.date(2024, 9, 1),
                   amount="2000.00", created_at=base + dt.timedelta(days=3))
        add_record(s, "sao-1", doc_number="SMALL", issue_date=dt.date(2024, 12, 5),
                   amount="10.00", created_at=base)
        add_record(s, "sao-3", doc_number="OUT", issue_date=dt.date(2024, 12, 5),
                   amount="2000.00", created_at=base)
        gone = add_record(s, "sao-1", doc_number="GONE", issue_date=dt.date(2024, 12, 6),
                          amount="2000.00", created_at=base)
        s.flush()
        s.execute(sa.update(Evidence).where(Evidence.id == gone.id).values(status="destroyed"))
    if not counted:
        monkeypatch.setattr(search, "EXACT_TOTAL_LIMIT", 2)
    period = {"issue_date_from": "2024-12-01", "issue_date_to": "2025-01-31",
              "amount_min": "1000", "sort": sort}
    params = SearchParams(**period)
    assert search._period_by_upload(params.sort, params.filters())

    def pages() -> list[tuple[list[str], str | None]]:
        out, cursor = [], None
        p = principal(env, "aud1")
        with env.session() as s:
            while True:
                page = search.search(s, p, SearchParams(**period, limit=2, cursor=cursor))
                out.append(([i.doc_number or "" for i in page.items], page.next_cursor))
                cursor = page.next_cursor
                if cursor is None:
                    return out

    fenced = pages()
    monkeypatch.setattr(search, "FENCED_PERIOD_DAYS", -1)   # the walk of the upload order
    assert not search._period_by_upload(params.sort, params.filters())
    assert fenced == pages()
    listed = [n for items, _ in fenced for n in items]
    assert sorted(listed) == sorted(f"P{i}" for i in range(9))
    assert len(fenced) == 5


def test_scope_is_one_tree_or_everything_for_a_national_account(env: Env, tokens):
    """Scope is loaded in one query per request (issue 18's load test): the national
    account still searches everything without an organisation filter, a province its
    tree, and an account on both provinces (not on the DLA office) only those trees."""
    from archive.orgs import scope as org_scope

    env.user("nat", "auditor", ["dla"])
    env.user("two", "auditor", ["p-cm", "p-cr"])
    with env.session() as s:
        for code in ("sao-1", "sao-2", "sao-3", "p-cm"):
            add_record(s, code, doc_number=f"N-{code}", description="ค่าวัสดุ")
        ids = {o: org_scope.org_in_scope(s, SYSTEM, o).id
               for o in ("dla", "p-cm", "sao-1", "sao-2", "p-cr", "sao-3")}
        assert org_scope.scope_ids(s, principal(env, "nat")) is None
        assert org_scope.scope_ids(s, principal(env, "aud1")) == {
            ids["p-cm"], ids["sao-1"], ids["sao-2"]}
        assert org_scope.scope_ids(s, principal(env, "two")) == set(ids.values()) - {
            ids["dla"]}
    assert sorted(numbers(env, "nat", q="วัสดุ")) == [
        "N-p-cm", "N-sao-1", "N-sao-2", "N-sao-3"]
    assert sorted(numbers(env, "two", q="วัสดุ")) == sorted(numbers(env, "nat", q="วัสดุ"))
    assert sorted(numbers(env, "aud1", q="วัสดุ")) == ["N-p-cm", "N-sao-1", "N-sao-2"]
    # a second national tree: the DLA account no longer covers every root
    env.org("dla-2", type="dla-office", name="สำนักงานอื่น")
    env.org("p-9", type="province", parent="dla-2")
    env.org("sao-9", parent="p-9")
    with env.session() as s:
        add_record(s, "sao-9", doc_number="N-sao-9", description="ค่าวัสดุ")
        assert org_scope.scope_ids(s, principal(env, "nat")) == set(ids.values())
    assert "N-sao-9" not in numbers(env, "nat", q="วัสดุ")
    assert "N-sao-9" in numbers(env, "system", q="วัสดุ")


@pytest.mark.parametrize("force_estimate", [False, True])
def test_items_whose_text_came_from_ocr_say_so(env: Env, tokens, monkeypatch,
                                               force_estimate):
    """The OCR flag is read with the page (one query less per search), on both the
    counted path and the page-only path (more matches than counted)."""
    if force_estimate:
        monkeypatch.setattr(search, "EXACT_TOTAL_LIMIT", 1)
    with env.session() as s:
        ocr = add_record(s, "sao-1", doc_number="OCR", description="ค่าวัสดุ")
        search.store_text(s, ocr.blob_id, text="ใบเสร็จ สแกน", extractor="ocr")
        add_record(s, "sao-1", doc_number="LAYER", description="ค่าวัสดุ", text="ใบเสร็จ")
        add_record(s, "sao-2", doc_number="NONE", description="ค่าวัสดุ")
    with env.session() as s:
        page = search.search(s, principal(env, "aud1"), SearchParams(q="วัสดุ"))
    assert {i.doc_number: i.text_source for i in page.items} == {
        "OCR": "ocr", "LAYER": None, "NONE": None}
