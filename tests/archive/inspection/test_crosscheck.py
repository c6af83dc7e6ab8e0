"""Cross-checks: what the uploader typed against what the invoice says. Pure functions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from archive.inspection.crosscheck import cross_check
from archive.inspection.report import InvoiceFields, Party
from archive.inspection.taxid import split_registration


def found(**overrides: object) -> InvoiceFields:
    fields = InvoiceFields(
        document_number="INV-2568-0001", issue_date=dt.date(2025, 1, 15),
        seller=Party("บริษัท ทดสอบ จำกัด", split_registration("010553802514300002", "TXID")),
        currency="THB", grand_total=Decimal("10700.00"))
    for key, value in overrides.items():
        setattr(fields, key, value)
    return fields


TYPED_OK = {"issuer_tax_id": "0105538025143", "doc_number": "INV-2568-0001",
            "issue_date": "2025-01-15", "amount": "10700", "currency": "thb",
            "issuer_name": "บริษัท  ทดสอบ จำกัด", "issuer_branch": "00002"}


def test_agreement_gives_no_warnings_and_no_fills() -> None:
    result = cross_check(TYPED_OK, found())
    assert result.warnings == [] and result.fills == []


def test_each_disagreement_is_one_warning_with_both_values() -> None:
    typed = {"issuer_tax_id": "0105538025144", "doc_number": "INV-2568-0002",
             "issue_date": dt.date(2025, 1, 16), "amount": Decimal("10070.00"),
             "currency": "USD", "issuer_name": "Other Co.", "issuer_branch": "00001"}
    result = cross_check(typed, found())
    by_field = {w.field: w for w in result.warnings}
    assert set(by_field) == set(typed)
    assert by_field["amount"].typed == "10070.00" and by_field["amount"].found == "10700.00"
    assert "-630" in by_field["amount"].message
    assert by_field["issue_date"].typed == "2025-01-16"
    assert by_field["issue_date"].found == "2025-01-15"
    assert result.fills == []


def test_missing_typed_values_are_filled_and_marked() -> None:
    result = cross_check({"doc_number": "INV-2568-0001", "amount": "", "currency": None}, found())
    fills = {f.field: f for f in result.fills}
    assert set(fills) == {"issuer_tax_id", "issue_date", "amount", "currency", "issuer_name",
                          "issuer_branch"}
    assert fills["issuer_branch"].value == "00002"
    assert fills["amount"].value == "10700.00"
    assert fills["issue_date"].value == "2025-01-15"
    assert fills["issuer_tax_id"].value == "0105538025143"
    assert all(f.filled_from_file for f in result.fills)
    assert fills["amount"].source == "invoice.fields.grand_total"
    assert result.warnings == []


def test_typed_values_are_never_changed() -> None:
    typed = dict(TYPED_OK, amount="1")
    before = dict(typed)
    cross_check(typed, found())
    assert typed == before


def test_tax_id_with_branch_and_punctuation_matches() -> None:
    assert cross_check({"issuer_tax_id": "0-1055-38025-14-3 00002"}, found()).warnings == []


def test_branch_numbers_compare_as_numbers_and_a_different_branch_is_flagged() -> None:
    assert cross_check({"issuer_branch": "2"}, found()).warnings == []
    [warning] = cross_check({"issuer_branch": "00000"}, found()).warnings
    assert warning.field == "issuer_branch"


def test_buddhist_era_date_is_explained() -> None:
    [warning] = cross_check({"issue_date": "2568-01-15"}, found()).warnings
    assert "Buddhist Era" in warning.message


def test_document_number_punctuation_only() -> None:
    [warning] = cross_check({"doc_number": "INV 2568 0001"}, found()).warnings
    assert "spacing or punctuation" in warning.message


def test_unparseable_typed_values_are_warnings_not_errors() -> None:
    result = cross_check({"amount": "ten thousand", "issue_date": "yesterday"}, found())
    assert {w.field for w in result.warnings} == {"amount", "issue_date"}


def test_amount_with_thousands_separator() -> None:
    assert cross_check({"amount": "10,700.00"}, found()).warnings == []


def test_nothing_found_nothing_to_say() -> None:
    assert cross_check(TYPED_OK, None).warnings == []
    empty = cross_check(TYPED_OK, InvoiceFields())
    assert empty.warnings == [] and empty.fills == []
