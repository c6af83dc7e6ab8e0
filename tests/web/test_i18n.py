"""Thai words for every English string of the pages, dates in the Buddhist Era, amounts
with separators, service messages translated by pattern."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from api.web import i18n, present
from archive.errors import InvalidInput, NotFound

WEB = Path(__file__).parents[2] / "api" / "web"
_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
_LABEL = re.compile(r"""(?:fmt\.label|Formatter\([^)]*\)\.label)\(\s*"([a-z_]+)\"""")


def _sources() -> list[Path]:
    return [p for p in WEB.rglob("*") if p.suffix in (".html", ".py") and
            p.name != "i18n.py"]


def test_every_page_string_has_thai():
    used = set()
    for path in _sources():
        for m in _CALL.finditer(path.read_text()):
            used.add(m.group(1) or m.group(2))
    used |= {label for _, label, _ in present._NAV}
    used |= set(i18n.ERROR_CODES.values())
    missing = sorted(k for k in used if k not in i18n.TH)
    assert not missing, f"no Thai for: {missing}"
    assert len(used) > 300


def test_every_label_kind_exists():
    kinds = set()
    for path in _sources():
        kinds.update(_LABEL.findall(path.read_text()))
    kinds.discard("number")          # page sizes: shown as they are
    assert kinds and not kinds - set(i18n.LABELS)
    from archive.evidence.models import DOC_TYPES, STATUSES
    from archive.retention.models import ITEM_ACTIONS, ITEM_STATUSES, LIST_STATUSES
    from archive.retention.schedules.models import ACTIONS, TRIGGERS

    for kind, codes in (("doc_type", DOC_TYPES), ("status", STATUSES),
                        ("list_status", LIST_STATUSES), ("item_status", ITEM_STATUSES),
                        ("item_action", ITEM_ACTIONS), ("trigger", TRIGGERS),
                        ("disposal_action", ACTIONS)):
        assert set(codes) <= set(i18n.LABELS[kind]), kind
    outcomes = {o for package in ("archive", "workers", "api", "cli")
                for path in (WEB.parents[1] / package).rglob("*.py")
                for o in re.findall(r'outcome="([a-z_]+)"', path.read_text())}
    assert outcomes and outcomes <= set(i18n.LABELS["outcome"]), outcomes


def test_dates_are_buddhist_era_and_amounts_have_separators():
    th, en = present.Formatter("th"), present.Formatter("en")
    assert th.date(dt.date(2025, 10, 1)) == "1 ต.ค. 2568"
    assert en.date("2025-10-01") == "1 Oct 2568 BE"
    # 20:30 UTC on 30 Sep is already 1 Oct in Thailand.
    assert th.datetime(dt.datetime(2025, 9, 30, 20, 30, tzinfo=dt.UTC)) == "1 ต.ค. 2568 03:30"
    assert th.amount(Decimal("1234567.5")) == "1,234,567.50"
    assert th.amount("10700.00", "THB") == "10,700.00 THB"
    assert th.label("doc_type", "receipt") == "ใบเสร็จรับเงิน"
    assert en.label("doc_type", "receipt") == "receipt"


def test_service_messages_in_thai():
    problems = present.field_problems([
        {"field": "issuer_tax_id", "message": "check digit is wrong (expected 7 as the "
                                              "13th digit)"},
        {"field": "fiscal_year", "message": "fiscal year 2025 looks like a Christian-Era "
                                            "year; Thai fiscal years are Buddhist Era "
                                            "(e.g. 2568)"},
        {"field": "issue_date", "message": "year 2568 looks like a Buddhist-Era year; send "
                                           "the date in the Christian Era (ISO 8601), e.g. "
                                           "2025-10-01"},
        {"field": "amount", "message": "at most two decimal places (satang)"},
        {"field": "body.vat_amount", "message": "something nobody translated"},
    ], "th")
    assert problems[0] == {"field": "issuer_tax_id", "label": "เลขประจำตัวผู้เสียภาษีของผู้ออก",
                           "message": "เลขประจำตัวผู้เสียภาษีไม่ถูกต้อง: หลักที่ 13 "
                                      "(เลขตรวจสอบ) ควรเป็น 7"}
    assert "2568" in problems[1]["message"] and "ปีพุทธศักราช" in problems[1]["message"]
    assert "2025-10-01" in problems[2]["message"]
    assert problems[3]["message"] == "ทศนิยมได้ไม่เกิน 2 ตำแหน่ง (สตางค์)"
    assert problems[4]["field"] == "vat_amount"
    assert problems[4]["message"] == "ข้อมูลไม่ถูกต้อง (something nobody translated)"
    assert present.error_text(NotFound("no such evidence record"), "th") == \
        "ไม่พบรายการนี้ (หรืออยู่นอกขอบเขตของคุณ)"
    assert present.error_text(InvalidInput([{"field": "x", "message": "y"}],
                                           code="invalid_metadata"), "en") == \
        "Some fields are not valid."


def test_pdfa_failures_in_plain_words():
    pdfa = {"flavour": "2b", "compliant": False, "claimed": None, "error": None, "failures": [
        {"part": 2, "clause": "6.6.2.1", "test": 1, "message": "No XMP metadata", "page": None},
        {"part": 2, "clause": "6.2.11.4.1", "test": 1, "message": "Font not embedded",
         "page": 1},
        {"part": 2, "clause": "6.2.11.4.1", "test": 1, "message": "Font not embedded",
         "page": 2}]}
    rows = present.pdfa_failures(pdfa, "th")
    assert [(r["label"], r["count"], r["pages"]) for r in rows] == \
        [("6.6.2.1-1", 1, []), ("6.2.11.4.1-1", 2, [1, 2])]
    assert rows[0]["topic"] == "ข้อมูลกำกับ (metadata)" and rows[1]["topic"] == "แบบอักษร (ฟอนต์)"
    assert present.pdfa_verdict(pdfa) == "not_compliant"
    assert present.pdfa_verdict(None) == "not_checked"


def test_cross_check_warnings_in_thai():
    """Every kind of disagreement the cross-check reports reads in Thai on the pages."""
    from archive.inspection.crosscheck import cross_check
    from tests.archive.inspection.test_crosscheck import found

    typed_sets = [
        {"issuer_tax_id": "0105538025144", "doc_number": "INV-2568-0002",
         "issue_date": "2025-01-16", "amount": "10070.00", "currency": "USD",
         "issuer_name": "Other Co.", "issuer_branch": "00001"},
        {"doc_number": "INV 2568 0001", "issue_date": "2568-01-15", "amount": "ten"},
        {"issue_date": "15/01/2025"},
    ]
    messages = {w.message for typed in typed_sets for w in cross_check(typed, found()).warnings}
    assert len(messages) >= 10
    for message in messages:
        thai = present.Formatter("th").message(message)
        assert thai != message and re.search("[\u0e00-\u0e7f]", thai), message
    filled = present.translate_message(
        "the file gives 'FR11999999998', which is not valid here: a Thai tax ID has 13 digits",
        "th")
    assert filled == "ค่าในไฟล์ ('FR11999999998') นำมากรอกให้ไม่ได้: เลขประจำตัวผู้เสียภาษีต้องมี 13 หลัก"


def test_retention_periods_in_thai():
    """Every period the retention rule states (on the record page and on form 25) reads
    in Thai."""
    from archive.retention.rules import Closure, Events, RecordFacts, Rule, compute_retain_until

    record = RecordFacts(fiscal_year=2568)
    voucher = Rule("voucher-evidence", 1, "audit_closure", keep_years=10, audited_keep_years=5)
    fixed = Rule("correspondence", 1, "fiscal_year_end", keep_years=10)
    today = dt.date(2026, 11, 25)
    decisions = [
        compute_retain_until(record, fixed, Events(), today),
        compute_retain_until(record, voucher, Events(), today),
        compute_retain_until(record, voucher, Events(), dt.date(2036, 1, 1)),
        compute_retain_until(record, voucher, Events(closures=(
            Closure("no_objection", dt.date(2026, 3, 1)),)), today),
        compute_retain_until(record, voucher, Events(holds=("objection 2568",)), today),
        compute_retain_until(record, Rule("x", 1, "permanent"), Events(), today),
    ]
    periods = {d.period for d in decisions}
    assert len(periods) == 6
    for period in periods:
        thai = present.translate_message(period, "th")
        assert thai != period and re.search("[\u0e00-\u0e7f]", thai), period
    assert present.translate_message(decisions[0].period, "th") == \
        "10 ปีนับจากสิ้นปีงบประมาณ พ.ศ. 2568"
