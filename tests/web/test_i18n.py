"""The pages' words and the services' messages in Thai, from gettext catalogs: every string
the templates and routes use, every label and every message code has its Thai (and its
English); dates in the Buddhist Era; amounts with separators."""

from __future__ import annotations

import datetime as dt
import json
import re
import string
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from api.web import i18n, present
from archive import messages
from archive.errors import InvalidInput, NotFound
from archive.messages import Message

ROOT = Path(__file__).parents[2]
WEB = ROOT / "api" / "web"
WEB_PO = WEB / "locale" / "th" / "LC_MESSAGES" / "messages.po"
ARCHIVE_PO = ROOT / "archive" / "locale" / "th" / "LC_MESSAGES" / "archive.po"
_LABEL = re.compile(r"""(?:fmt\.label|Formatter\([^)]*\)\.label)\(\s*"([a-z_]+)\"""")
# Messages whose Thai uses parameters their English template leaves out.
EXTRA_PARAMS = {"date.iso_be": {"d", "m"}, "input.too_few": {"n"}}


def _extract(dirname: Path, keywords: dict[str, object] | None = None) -> list[tuple]:
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    kw = keywords if keywords is not None else {"_": None}
    return list(extract_from_dir(dirname, method_map, options_map, keywords=kw,
                                 comment_tags=()))


def _catalog(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


@pytest.mark.parametrize("path", [WEB_PO, ARCHIVE_PO], ids=["pages", "services"])
def test_catalogs_parse_and_are_complete(path):
    cat = _catalog(path)
    assert not cat.fuzzy and len(cat) > 100
    for m in cat:
        if not m.id:
            continue
        assert m.string and isinstance(m.string, str), (m.context, m.id)
        assert not m.fuzzy and "fuzzy" not in m.flags, m.id
        words = re.sub(r"\{[^}]*\}", "", m.string)
        assert re.search("[\u0e00-\u0e7f]", words) or m.string == m.id or \
            not re.search("[A-Za-z]", words), (m.id, m.string)
    messages.compile_po(path)            # gettext reads what Babel wrote


def test_every_page_string_has_thai():
    cat = _catalog(WEB_PO)
    used = {m[2] if isinstance(m[2], str) else m[2][0] for m in _extract(WEB)}
    used |= {label for _, label, _ in present._NAV}
    used |= set(i18n.ERROR_CODES.values())
    missing = sorted(k for k in used if not (cat.get(k) and cat.get(k).string))
    assert not missing, f"no Thai for: {missing}"
    assert len(used) > 400
    th = i18n.translator("th")
    assert th("{n} times", n=3) == "3 ครั้ง" and i18n.translator("en")("{n} times", n=3) == \
        "3 times"


def test_every_label_has_thai_and_english():
    cat = _catalog(WEB_PO)
    for kind, names in i18n.LABELS.items():
        for code, english in names.items():
            assert english, (kind, code)
            entry = cat.get(english, context=kind)
            assert entry is not None and entry.string, (kind, code, english)
            assert i18n.label(kind, code, "th") == entry.string
            assert i18n.label(kind, code, "en") == english


def test_every_label_kind_exists():
    kinds = set()
    for path in WEB.rglob("*"):
        if path.suffix in (".html", ".py"):
            kinds.update(_LABEL.findall(path.read_text()))
    kinds.discard("number")          # page sizes: shown as they are
    assert kinds and not kinds - set(i18n.LABELS) - {"doc_type"}
    import workers.handlers  # noqa: F401 - registers the handlers
    from archive.evidence.models import DOC_TYPES, STATUSES
    from archive.retention.models import ITEM_ACTIONS, ITEM_STATUSES, LIST_STATUSES
    from archive.retention.schedules.models import ACTIONS, TRIGGERS
    from workers.registry import HANDLERS

    for kind, codes in (("doc_type", DOC_TYPES), ("status", STATUSES),
                        ("list_status", LIST_STATUSES), ("item_status", ITEM_STATUSES),
                        ("item_action", ITEM_ACTIONS), ("trigger", TRIGGERS),
                        ("disposal_action", ACTIONS), ("job_kind", HANDLERS)):
        assert all(i18n.label(kind, c, "th") for c in codes), kind
    outcomes = {o for package in ("archive", "workers", "api", "cli")
                for path in (ROOT / package).rglob("*.py")
                for o in re.findall(r'outcome="([a-z_]+)"', path.read_text())}
    assert outcomes and outcomes <= set(i18n.LABELS["outcome"]), outcomes


def test_every_message_code_has_thai_and_english():
    """Every ``message(code, English)`` in the sources is in the services' catalog with
    the same English and a Thai using only its parameters; the catalog keeps no code the
    sources no longer use."""
    from archive.disbursements.profiles import ROLES

    cat = _catalog(ARCHIVE_PO)
    found = _extract(ROOT / "archive", {"message": ((1, "c"), 2), "msg": ((1, "c"), 2)})
    found += _extract(ROOT / "api", {"message": ((1, "c"), 2)})
    used: dict[str, str] = {}
    for _, _, msgid, _, context in found:
        assert context, f"a message without a literal code: {msgid!r}"
        assert used.setdefault(context, msgid) == msgid, f"{context}: two English texts"
    used |= {f"evidence_role.{r}": r for r in ROLES}          # role_name(): by code
    assert len(used) > 120
    for code, english in used.items():
        entry = cat.get(english, context=code)
        assert entry is not None and entry.string, f"no Thai for {code}: {english!r}"
        assert _fields(entry.string) <= _fields(english) | EXTRA_PARAMS.get(code, set()), code
    stale = {m.context for m in cat if m.id} - set(used)
    assert not stale, f"codes in the catalog that nothing uses: {stale}"


def test_a_message_is_english_text_with_its_code():
    said = messages.message("retention.period.fiscal_year_end",
                            "{years} years after the end of fiscal year {fy}", years=10, fy=2568)
    assert said == "10 years after the end of fiscal year 2568" and said.code.startswith("ret")
    assert messages.render(said, "th") == "10 ปีนับจากสิ้นปีงบประมาณ พ.ศ. 2568"
    again = messages.loads(messages.dumps(said))
    assert isinstance(again, Message) and messages.render(again, "th") == \
        messages.render(said, "th")
    assert messages.loads("10 years after …") == "10 years after …"     # an older row
    assert messages.dumps(said, limit=10) == "10 years a"                # too long: English
    assert messages.from_dict({"code": "no.such.code", "params": {}}) is None


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
    from pydantic import ValidationError

    from archive.evidence.schemas import EvidenceMetadata, validation_problems

    try:
        EvidenceMetadata.model_validate({"issuer_tax_id": "0105538025141", "fiscal_year": 2025,
                                         "issue_date": "ไม่ใช่วันที่", "amount": "1.234",
                                         "doc_type": "receipt", "bogus": "x"})
    except ValidationError as exc:
        detail = validation_problems(exc)
    problems = {p["field"]: p for p in present.field_problems(
        [*detail, {"field": "body.vat_amount", "message": "something nobody translated"}], "th")}
    assert problems["issuer_tax_id"] == {
        "field": "issuer_tax_id", "label": "เลขประจำตัวผู้เสียภาษีของผู้ออก",
        "message": "เลขประจำตัวผู้เสียภาษีไม่ถูกต้อง: หลักที่ 13 (เลขตรวจสอบ) ควรเป็น 3"}
    assert "2568" in problems["fiscal_year"]["message"] and \
        "ปีพุทธศักราช" in problems["fiscal_year"]["message"]
    assert "ไม่ใช่วันที่" in problems["issue_date"]["message"]
    assert problems["amount"]["message"] == "ทศนิยมได้ไม่เกิน 2 ตำแหน่ง (สตางค์)"
    assert problems["bogus"]["message"] == "ไม่รู้จักช่องข้อมูลนี้"
    assert problems["vat_amount"]["message"] == "ข้อมูลไม่ถูกต้อง (something nobody translated)"
    # the API keeps its English, word for word
    assert {p["field"]: p["message"] for p in detail}["amount"] == \
        "at most two decimal places (satang)"
    assert present.error_text(NotFound("no such evidence record"), "th") == \
        "ไม่พบ หรืออยู่นอกขอบเขตของคุณ"
    assert present.error_text(NotFound("no such evidence record"), "en") == \
        "Not found, or outside your scope. (no such evidence record)"
    assert present.error_text(InvalidInput([{"field": "x", "message": "y"}],
                                           code="invalid_metadata"), "en") == \
        "Some fields are not valid."


def test_pdfa_failures_in_plain_words():
    from archive.pdfa.checker import NO_CLAIM

    pdfa = {"flavour": "2b", "compliant": False, "claimed": None, "error": None, "failures": [
        {"part": 2, "clause": "6.6.2.1", "test": 1, "message": "No XMP metadata", "page": None},
        {"part": 2, "clause": "6.2.11.4.1", "test": 1, "message": "Font not embedded",
         "page": 1},
        {"part": 2, "clause": "6.2.11.4.1", "test": 1, "message": "Font not embedded",
         "page": 2},
        NO_CLAIM.to_dict()]}
    rows = present.pdfa_failures(pdfa, "th")
    assert [(r["label"], r["count"], r["pages"]) for r in rows] == \
        [("6.6.2.1-1", 1, []), ("6.2.11.4.1-1", 2, [1, 2]), ("6.6.4-1", 1, [])]
    assert rows[0]["topic"] == "ข้อมูลกำกับ (metadata)" and rows[1]["topic"] == "แบบอักษร (ฟอนต์)"
    # a rule without Thai words: which requirement, in Thai; its English kept as the detail
    assert rows[1]["message"] == "ไฟล์ไม่เป็นไปตามข้อกำหนด 6.2.11.4.1-1 ของ ISO 19005 " \
                                 "(เรื่องแบบอักษร (ฟอนต์))"
    assert rows[1]["detail"] == "Font not embedded"
    # a coded failure: from the catalog, no English left
    assert rows[2]["message"].startswith("ไฟล์ไม่ได้ระบุว่าเป็นไปตามมาตรฐาน PDF/A") and \
        not rows[2]["detail"]
    english = present.pdfa_failures(pdfa, "en")
    assert english[1]["message"] == "Font not embedded" and english[2]["message"] == \
        str(NO_CLAIM.message)
    assert present.pdfa_verdict(pdfa) == "not_compliant"
    assert present.pdfa_verdict(None) == "not_checked"


def test_pdfa_failures_of_every_rule_family_in_thai():
    """A file that breaks a rule of every family, checked for real: each failure reads in
    Thai on the record page (no English detail, no fallback), its topic too; the API keeps
    the English word for word."""
    import pikepdf

    from archive.pdfa import check_pdfa
    from archive.pdfa.registry import all_rules
    from tests.archive.pdfa.fixtures import create_pdfa

    name = pikepdf.Name

    def breaks(pdf: pikepdf.Pdf) -> None:
        page = pdf.pages[0].obj
        page[name.AA] = pikepdf.Dictionary(O=pikepdf.Dictionary(S=name.Named, N=name.NextPage))
        page.Annots = pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(   # no /F
            Type=name.Annot, Subtype=name.Link, Rect=[0, 0, 10, 10]))])
        page.Resources.Font = pikepdf.Dictionary(F1=pdf.make_indirect(pikepdf.Dictionary(
            Subtype=name.Type1, BaseFont=name.Helvetica)))                    # no /Type
        page.Resources.ExtGState = pikepdf.Dictionary(G1=pdf.make_indirect(pikepdf.Dictionary(
            Type=name.ExtGState, TR=name.Identity)))
        pdf.Root[name.Requirements] = pikepdf.Array([])
        pdf.Root[name.Big] = 2 ** 40
        pdf.attachments["note.txt"] = pikepdf.AttachedFileSpec(pdf, b"hello",
                                                               mime_type="text/plain")

    data = create_pdfa(2, mutate=breaks,
                       content=b"/G1 gs 0 0 0 1 k 10 10 50 50 re f BT /F1 12 Tf (Hi) Tj ET")
    report = check_pdfa(data, "2a").to_dict()             # a 2b file checked as 2a
    families = present._families("2a")
    rows = present.pdfa_failures(json.loads(json.dumps(report)), "th")   # as stored
    assert {families[r["label"]] for r in rows} == {r.family for r in all_rules()}
    for row in rows:
        assert re.search("[\u0e00-\u0e7f]", row["message"]) and not row["detail"], row
        assert "ISO 19005" not in row["message"], row                    # not the fallback
        assert re.search("[\u0e00-\u0e7f]", row["topic"]), row
    thai = {families[r["label"]]: r["message"] for r in rows}
    assert thai["colour"].startswith("มีการใช้ระบบสี DeviceCMYK สำหรับการระบายสีพื้น")
    assert thai["embedded"] == "ไฟล์แนบต้องเป็น PDF/A-1 หรือ PDF/A-2 แต่ไฟล์แนบไม่ใช่ไฟล์ PDF"
    assert thai["metadata"] == "pdfaid:conformance เป็น 'B' แต่สำหรับ PDF/A-2a ต้องเป็น A"
    not_embedded = next(r["message"] for r in rows if r["label"] == "6.2.11.4.1-1")
    assert not_embedded.startswith("ไม่ได้ฝังแบบอักษร Helvetica (Type1) ไว้ในไฟล์")
    # a report stored when this message took the font as plain text still reads in Thai
    old = {"part": 2, "clause": "6.2.11.4.1", "test": 1, "page": 1, "message": "The program "
           "of font X (Type1) is not embedded; embed the font (text that is drawn must use "
           "embedded fonts).", "msg": {"code": "pdfa.font_not_embedded",
                                       "params": {"font": "font X (Type1)"}}}
    shown = present.pdfa_failures({"flavour": "2b", "failures": [old]}, "th")[0]
    assert shown["message"].startswith("ไม่ได้ฝังfont X (Type1) ไว้ในไฟล์") and not shown["detail"]
    english = {f["clause"]: f["message"] for f in report["failures"]}
    assert english["6.8"] == "An embedded file must be PDF/A-1, PDF/A-2, but it is not a " \
        "PDF file."
    assert english["6.2.4.3"] == "DeviceCMYK is used for fill but the file has no CMYK PDF/A " \
        "output intent or Default colour space; add an output intent or use a calibrated " \
        "(ICCBased) colour space."


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
    said = {w.message for typed in typed_sets for w in cross_check(typed, found()).warnings}
    assert len(said) >= 10
    for message in said:
        stored = cross_check(typed_sets[0], found()).warnings[0].to_dict()
        assert stored["msg"]["code"].startswith("crosscheck.")
        thai = present.Formatter("th").message(message)
        assert thai != message and re.search("[\u0e00-\u0e7f]", thai), message
        # as a stored report has it: the English and the code beside it
        assert present.Formatter("th").message(str(message), message.as_dict()) == thai
    filled = messages.render(messages.message(
        "crosscheck.fill_invalid", "the file gives {value}, which is not valid here: {problem}",
        value="'FR11999999998'", problem=messages.message(
            "input.tax_id_digits", "a Thai tax ID has 13 digits")), "th")
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
        thai = messages.render(period, "th")
        assert thai != period and re.search("[\u0e00-\u0e7f]", thai), period
    assert messages.render(decisions[0].period, "th") == \
        "10 ปีนับจากสิ้นปีงบประมาณ พ.ศ. 2568"


def test_date_fields_show_and_take_buddhist_era_dates():
    """A date field shows its date with the Buddhist-Era year and takes it back (and ISO,
    and Thai digits); what is not a date is shown as it was typed."""
    from archive.validators import typed_date

    th, en = present.Formatter("th"), present.Formatter("en")
    day = dt.date(2026, 12, 3)
    assert th.date_input(day) == "3/12/2569" and en.date_input(day) == "2569-12-03"
    for shown in (th.date_input(day), en.date_input(day), "2026-12-03", "๓/๑๒/๒๕๖๙",
                  "03/12/2569"):
        assert typed_date(shown) == day, shown
    assert th.date_input("2026-12-03") == th.date_input("3/12/2569") == "3/12/2569"
    assert th.date_input(dt.datetime(2026, 12, 2, 20, 0, tzinfo=dt.UTC)) == "3/12/2569"
    assert th.date_input("31/2/2569") == "31/2/2569" and th.date_input(None) == ""
    with pytest.raises(ValueError) as refused:
        typed_date("31/2/2569")
    assert messages.render(refused.value.args[0], "th") == "'31/2/2569' ไม่มีวันนี้ในปฏิทิน"
    assert "2569" in th.date_hint()
