"""Thai e-Tax XML (ETDA ขมธอ. 3-2560) against ETDA's own samples and verdicts.

The expected verdict of each ETDA sample is ETDA's: the test suite of their validator
(ETDA/XMLValidation, ``IntegrateTest.java``) asserts code 0 (valid) or -1/-2/-3 (invalid)
per file. Note that ``invalidXML_fromPRD01..03`` are *valid* there: they were rejected by
an earlier production system, and ETDA's test asserts the fixed validator accepts them (a
processing instruction or comment outside the data does not make a document invalid).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from archive.inspection import etda_schema
from archive.inspection.invoice import inspect_invoice_tree, malformed_report
from archive.inspection.report import InvoiceReport
from archive.inspection.safexml import XMLRejected, parse_untrusted
from tests.archive.inspection.helpers import etda_invoice_xml
from tests.corpus import corpus_path

# file -> None (valid) or a fragment every reason list must contain
EXPECTED: dict[str, str | None] = {
    "etda-xmlvalidation/INV71600001.xml": None,
    "etda-xmlvalidation/INV71800001.xml": None,  # no schemeVersionID: default version
    "etda-xmlvalidation/DBN71600001.xml": None,
    "etda-xmlvalidation/DBN71800001.xml": None,
    "etda-xmlvalidation/TIV_IV2017110007_Sample.xml": None,
    "etda-xmlvalidation/invalidXML_fromPRD01.xml": None,
    "etda-xmlvalidation/invalidXML_fromPRD02.xml": None,
    "etda-xmlvalidation/invalidXML_fromPRD03.xml": None,
    "etda-xades/ETDA-invoice.xml": None,
    "etda-xades/Example_TaxInvoice_2p1_v1.xml": None,
    "etda-xades/signed-ETDA-invoice.xml": None,
    "etda-xades/signed-Example_TaxInvoice_2p1_v1.xml": None,
    "etda-xades/verify-ETDA-invoice.xml": None,
    "soda-etax/resources/data.xml": None,
    "etda-xmlvalidation/INV71800002.xml": "not well-formed",
    "etda-xmlvalidation/invalidXML_fromPRD04.xml": "not well-formed",
    "etda-xmlvalidation/INV71800002_new.xml": "root element",
    "etda-xmlvalidation/DBN71800002v2.xml": "root element",
    "etda-xmlvalidation/INV71800003.xml": "XSD line 8",
    "etda-xmlvalidation/DBN71800003v2.xml": "XSD line 8",
    "etda-xmlvalidation/CDN_CN2017110001_Sample.xml": "XSD line 7",
    "etda-xmlvalidation/INV71800004.xml": "unsupported ETDA schema version",
    "etda-xmlvalidation/DBN71800004v2.xml": "unsupported ETDA schema version",
    "etda-xmlvalidation/INV71800005.xml": "XSD line 16",
    "etda-xmlvalidation/INV71800006.xml": "TIV-Document-001",
    "etda-xmlvalidation/INV71600001_err04.xml": "XSD line 104",
    "etda-xmlvalidation/6102002-Fix.xml": "XSD line 26",
}


def inspect_bytes(data: bytes) -> InvoiceReport:
    try:
        return inspect_invoice_tree(parse_untrusted(data), "file")
    except XMLRejected as exc:
        assert exc.code == "malformed", exc.message
        return malformed_report("file", exc.message)


def test_every_corpus_xml_has_an_expectation() -> None:
    root = corpus_path("etax")
    found = {str(p.relative_to(root)) for p in root.rglob("*.xml")
             if "XMLSchemaV2" not in p.parts and p.name != "pom.xml"}
    assert found == set(EXPECTED)


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_etda_sample_verdict(name: str) -> None:
    report = inspect_bytes((corpus_path("etax") / name).read_bytes())
    expected = EXPECTED[name]
    assert report.validation is not None
    if expected is None:
        assert report.kind == "etax"
        assert report.validation.verdict == "valid", report.validation.reasons
        assert report.validation.schema and report.validation.schema.status == "valid"
        fields = report.fields
        assert fields is not None
        assert fields.document_number and fields.document_type_code
        assert fields.document_type_name, fields.document_type_code
        assert isinstance(fields.issue_date, dt.date)
        assert fields.seller and fields.seller.name
        assert fields.seller.registration and fields.seller.registration.tax_id
        assert len(fields.seller.registration.tax_id) == 13
        assert fields.buyer and fields.buyer.name
        assert fields.currency == "THB"
        assert isinstance(fields.grand_total, Decimal) and fields.grand_total > 0
        assert isinstance(fields.tax_total, Decimal)
    else:
        assert report.validation.verdict == "invalid"
        assert report.validation.reasons
        assert any(expected in reason for reason in report.validation.reasons), \
            report.validation.reasons


@pytest.mark.corpus
def test_fields_of_a_tax_invoice() -> None:
    report = inspect_bytes(corpus_path("etax", "etda-xmlvalidation",
                                       "INV71600001.xml").read_bytes())
    f = report.fields
    assert f is not None and f.seller and f.buyer
    assert (f.document_type_code, f.document_number, f.issue_date) == \
        ("388", "INV71600001", dt.date(2018, 4, 26))
    assert f.document_type_name == "ใบกำกับภาษี (tax invoice)"
    assert f.seller.name == "etax4_outlook"
    assert f.seller.registration is not None
    assert (f.seller.registration.tax_id, f.seller.registration.branch) == \
        ("0105538025143", "00002")
    assert (f.line_total, f.tax_total, f.grand_total) == \
        (Decimal("10000"), Decimal("700"), Decimal("10700"))
    assert report.document_kind == "TaxInvoice" and report.standard_version == "2.0"


@pytest.mark.corpus
def test_debit_note_references_the_original_invoice() -> None:
    report = inspect_bytes(corpus_path("etax", "etda-xmlvalidation",
                                       "DBN71800001.xml").read_bytes())
    assert report.document_kind == "DebitCreditNote"
    assert report.fields is not None
    assert report.fields.document_type_name == "ใบเพิ่มหนี้ (debit note)"
    [ref] = report.fields.referenced_documents
    assert (ref.id, ref.type_code, ref.issue_date) == ("INV71600001", "388", "2018-04-26")


@pytest.mark.corpus
def test_etda_sample_ids_failing_the_check_digit_are_reported_not_rejected() -> None:
    report = inspect_bytes(corpus_path("etax", "etda-xades",
                                       "Example_TaxInvoice_2p1_v1.xml").read_bytes())
    assert report.validation is not None and report.validation.verdict == "valid"
    flagged = {f.field for f in report.findings if f.code == "tax_id_check_digit"}
    assert flagged == {"seller.tax_id", "buyer.tax_id"}
    assert report.validation.schematron is not None
    # v2.1: the v2.0 business rules apply, less the one ETDA's own v2.1 sample relaxes
    assert report.validation.schematron.status == "valid"
    assert "schematron_rule_relaxed" in {f.code for f in report.findings}


def test_generated_invoice_is_valid_and_clean() -> None:
    report = inspect_bytes(etda_invoice_xml())
    assert report.validation is not None and report.validation.verdict == "valid"
    assert report.validation.schematron is not None
    assert report.validation.schematron.status == "valid"
    assert report.findings == []
    assert report.fields is not None and report.fields.grand_total == Decimal("10700.00")


def test_wrong_total_and_type_code_are_caught() -> None:
    report = inspect_bytes(etda_invoice_xml(grand_total="10800.00", type_code="T01"))
    assert report.validation is not None and report.validation.verdict == "invalid"
    assert any("TIV-Document-001" in r for r in report.validation.reasons)
    assert {f.code for f in report.findings} >= {"totals_mismatch"}


def test_processing_instructions_are_noted_not_fatal() -> None:
    pi = '<?xml-model href="x.sch" type="application/xml"?><!-- note -->'
    report = inspect_bytes(etda_invoice_xml(prolog=pi))
    assert report.validation is not None and report.validation.verdict == "valid"
    assert "non_data_nodes" in {f.code for f in report.findings}


def test_an_unreadable_issue_date_is_invalid_and_left_empty() -> None:
    report = inspect_bytes(etda_invoice_xml(issue="15-01-2025T10:30:00"))
    assert report.validation is not None and report.validation.verdict == "invalid"
    assert report.fields is not None and report.fields.issue_date is None
    assert "date_unreadable" in {f.code for f in report.findings}


def test_era_mix_up_is_flagged() -> None:
    # 2568 BE written where 2025 CE belongs: schema-valid, but not a plausible date.
    report = inspect_bytes(etda_invoice_xml(issue="2568-01-15T10:30:00.000"))
    assert report.fields is not None and report.fields.issue_date == dt.date(2568, 1, 15)
    assert "implausible_date" in {f.code for f in report.findings}


def test_document_type_codes_come_from_the_shipped_code_list() -> None:
    codes = etda_schema.document_type_codes()
    for code in ("388", "T01", "T02", "T03", "T04", "T05", "T06", "T07", "80", "81", "380"):
        assert code in codes
        assert etda_schema.document_type_name(code)
    assert etda_schema.document_type_name("999") is None


def test_every_shipped_schema_compiles() -> None:
    for kind in etda_schema.DOCUMENT_KINDS:
        assert etda_schema.xml_schema(kind) is not None
        assert etda_schema.schematron(kind) is not None
    assert (Path(etda_schema.SCHEMA_DIR) / "SOURCE.txt").is_file()


# -- issue 20 item 8: Schematron for v2.1 and unversioned files, reported per rule -----

def _with_version(xml: bytes, version: str | None) -> bytes:
    old = b'schemeVersionID="v2.0"'
    if version is None:
        return xml.replace(b' ' + old, b"")
    return xml.replace(old, f'schemeVersionID="{version}"'.encode())


@pytest.mark.parametrize("version", ["v2.0", "2.1", None])
def test_receipt_code_on_a_tax_invoice_is_invalid_whatever_the_version(
        version: str | None) -> None:
    """GIVEN a tax invoice carrying the receipt code T01, declared 2.0, 2.1 or no version
    THEN the ETDA business rule TIV-Document-001 fails, reported per rule."""
    xml = _with_version(etda_invoice_xml(type_code="T01"), version)
    report = inspect_bytes(xml)
    assert report.validation is not None and report.validation.verdict == "invalid"
    step = report.validation.schematron
    assert step is not None and step.status == "invalid"
    assert {"rule": "TIV-Document-001", "failed": 1} in step.rules
    assert any("TIV-Document-001" in r for r in report.validation.reasons)


@pytest.mark.parametrize("version", ["2.1", None])
def test_valid_invoice_of_another_version_passes_the_rules(version: str | None) -> None:
    report = inspect_bytes(_with_version(etda_invoice_xml(), version))
    assert report.validation is not None and report.validation.verdict == "valid"
    step = report.validation.schematron
    assert step is not None and step.status == "valid" and step.rules == []
    assert step.note and "v2.0 applied" in step.note


# -- issue 20 item 9: VAT = basis × rate, lines = line total ----------------------------

def _amounts(xml: bytes, **swap: tuple[str, str]) -> bytes:
    text = xml.decode()
    for old, new in swap.values():
        assert old in text
        text = text.replace(old, new)
    return text.encode()


def test_vat_not_basis_times_rate_is_a_finding() -> None:
    """VAT 200 on a basis of 2,000 at 7 % (should be 140) passes basis + tax = total."""
    xml = _amounts(etda_invoice_xml(grand_total="2200.00"),
                   basis=("<ram:BasisAmount>10000.00", "<ram:BasisAmount>2000.00"),
                   calc=("<ram:CalculatedAmount>700.00", "<ram:CalculatedAmount>200.00"),
                   line=("<ram:LineTotalAmount>10000.00", "<ram:LineTotalAmount>2000.00"),
                   tb=("<ram:TaxBasisTotalAmount>10000.00", "<ram:TaxBasisTotalAmount>2000.00"),
                   tt=("<ram:TaxTotalAmount>700.00", "<ram:TaxTotalAmount>200.00"),
                   net=("<ram:NetLineTotalAmount>10000.00", "<ram:NetLineTotalAmount>2000.00"))
    report = inspect_bytes(xml)
    codes = {f.code for f in report.findings}
    assert {"vat_rate_mismatch", "vat_total_mismatch"} <= codes
    assert "totals_mismatch" not in codes  # 2,000 + 200 = 2,200 does add up


def test_line_total_not_the_sum_of_the_lines_is_a_finding() -> None:
    xml = _amounts(etda_invoice_xml(),
                   net=("<ram:NetLineTotalAmount>10000.00", "<ram:NetLineTotalAmount>2000.00"))
    report = inspect_bytes(xml)
    [finding] = [f for f in report.findings if f.code == "line_total_mismatch"]
    assert "2000" in finding.message and "10000" in finding.message


@pytest.mark.parametrize(("basis", "rate", "vat", "ok"), [
    ("1234.56", "7", "86.42", True),    # 86.4192: half up / half even
    ("1234.56", "7", "86.41", True),    # truncated to the satang
    ("1234.56", "7", "86.40", False),
    ("2000.00", "7", "200.00", False),
    ("10000.00", "0", "0.00", True),
])
def test_vat_rounding_to_the_satang(basis: str, rate: str, vat: str, ok: bool) -> None:
    from decimal import Decimal

    from archive.inspection.invoice import vat_agrees

    assert vat_agrees(Decimal(basis), Decimal(rate), Decimal(vat)) is ok
