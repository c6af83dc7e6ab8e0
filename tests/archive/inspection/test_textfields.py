"""Fields read from OCR text and text layers (pure functions: fast, many cases)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from archive.inspection.crosscheck import text_cross_check
from archive.inspection.textfields import read_fields, thai_number_words, thai_words_amount

SELLER = "0105550123451"     # check digit right
BUYER = "0994000123451"      # check digit right
WRONG = "0105550123452"      # check digit wrong

RECEIPT = f"""ร้านสมชายพาณิชย์
เลขประจำตัวผู้เสียภาษี {SELLER} สาขา 00000
ใบเสร็จรับเงิน เลขที่ RC-2567/0042
วันที่ 5 มีนาคม 2567
ผู้ซื้อ องค์การบริหารส่วนตำบลบ้านนา เลขประจำตัวผู้เสียภาษี {BUYER}
1 กระดาษ A4 5 รีม 600.00
รวมเงิน 600.00
ภาษีมูลค่าเพิ่ม 7% 42.00
จำนวนเงินรวมทั้งสิ้น 642.00
(หกร้อยสี่สิบสองบาทถ้วน)
"""


def test_a_thai_receipt_gives_every_field_with_where_it_stood():
    found = read_fields(RECEIPT)
    assert found.issuer_tax_id is not None and found.issuer_tax_id.value == SELLER
    assert found.issuer_tax_id.line == 2
    assert [f.value for f in found.tax_ids] == [SELLER, BUYER]
    assert found.doc_number is not None and found.doc_number.value == "RC-2567/0042"
    assert found.issue_date is not None and found.issue_date.value == dt.date(2024, 3, 5)
    total = found.grand_total
    assert total is not None and total.value == Decimal("642.00")
    assert total.note == "confirmed by the amount in words" and total.confidence > 0.9
    assert "จำนวนเงินรวมทั้งสิ้น" in total.excerpt


@pytest.mark.parametrize("written", [
    SELLER, "0-1055-50123-45-1", "0 1055 50123 45 1", "๐๑๐๕๕๕๐๑๒๓๔๕๑",
    "๐-๑๐๕๕-๕๐๑๒๓-๔๕-๑", f"{SELLER}00000",
])
def test_tax_ids_in_thai_or_arabic_digits_with_spaces_or_dashes(written: str):
    found = read_fields(f"เลขประจำตัวผู้เสียภาษี {written}")
    assert [f.value for f in found.tax_ids] == [SELLER]


@pytest.mark.parametrize("text", [f"Tax ID {WRONG}", "โทร 02 123 4567", "12345678901234567",
                                  "เลขที่ 1234567890"])
def test_no_tax_id_without_a_right_check_digit(text: str):
    assert read_fields(text).tax_ids == []


def test_the_buyers_tax_id_is_not_taken_for_the_issuers():
    found = read_fields(f"ลูกค้า เลขประจำตัวผู้เสียภาษี {BUYER}\nผู้ขาย Tax ID {SELLER}")
    assert found.issuer_tax_id is not None and found.issuer_tax_id.value == SELLER


@pytest.mark.parametrize("text,expected", [
    ("วันที่ 5 มีนาคม 2567", dt.date(2024, 3, 5)),
    ("วันที่ ๑๕ ธ.ค. ๖๖", dt.date(2023, 12, 15)),
    ("ลงวันที่ 1 ต.ค 2566", dt.date(2023, 10, 1)),
    ("วันที่ 30 กันยายน พ.ศ. 2568", dt.date(2025, 9, 30)),
    ("Date: 05/03/2024", dt.date(2024, 3, 5)),
    ("วันที่ 05/03/2567", dt.date(2024, 3, 5)),
    ("Date 7 Feb 2025", dt.date(2025, 2, 7)),
    ("วันที่ 31.12.2566", dt.date(2023, 12, 31)),
])
def test_issue_dates_thai_months_be_or_ce_and_numeric(text: str, expected: dt.date):
    found = read_fields(text).issue_date
    assert found is not None and found.value == expected


def test_impossible_dates_are_not_dates():
    assert read_fields("วันที่ 31/02/2567 หรือ 45/13/2024").issue_date is None


@pytest.mark.parametrize("text,expected", [
    ("ยอดรวม 1,250.00 บาท", "1250.00"),
    ("Total 99.5", "99.50"),
    ("รวมเงิน 500.00\nภาษี 35.00\nจำนวนเงินรวมทั้งสิ้น 535.00", "535.00"),
    ("รวมทั้งสิ้น\n12,345.67", "12345.67"),
    ("Grand Total: 2,000,000.00", "2000000.00"),
    ("(สองพันบาทถ้วน)", "2000.00"),
    ("ยอดรวม 1.234,50", "1234.50"),                       # separators misread by OCR
    ("จำนวนเงินรวมทั้งสิ้น 21.929.44\n(สองหมื่นหนึ่งพันเก้าร้อยยี่สิบเก้าบาทสี่สิบสี่สตางค์ )",
     "21929.44"),
    ("จำนวนเงินรวมทั้งสิ้น 28,.488.75\n(สองหมื่นแปดพันสี่ร้อยแปดสิบแปดบาทเจ็ดสิบห้าสตางค์)",
     "28488.75"),
])
def test_grand_total_by_its_labels(text: str, expected: str):
    found = read_fields(text).grand_total
    assert found is not None and found.value == Decimal(expected)


def test_words_correct_a_misread_figure_found_elsewhere():
    text = "ค่าวัสดุ 1,234.50\nรวมทั้งสิ้น 1,284.50\n(หนึ่งพันสองร้อยสามสิบสี่บาทห้าสิบสตางค์)"
    found = read_fields(text).grand_total
    assert found is not None and found.value == Decimal("1234.50")
    assert "1284.50" in (found.note or "")


def test_a_figure_the_words_contradict_keeps_a_low_confidence():
    found = read_fields("รวมทั้งสิ้น 300.00\n(สามร้อยห้าสิบบาทถ้วน)").grand_total
    assert found is not None and found.value == Decimal("300.00") and found.confidence < 0.5


@pytest.mark.parametrize("words,expected", [
    ("หนึ่ง", 1), ("สิบเอ็ด", 11), ("ยี่สิบ", 20), ("ยี่สิบเอ็ด", 21), ("ร้อยเอ็ด", 101),
    ("หนึ่งพันสองร้อยยี่สิบเอ็ด", 1221), ("สามแสนสี่หมื่นห้าพัน", 345000),
    ("สองล้านห้าแสน", 2_500_000), ("สิบล้าน", 10_000_000), ("หนึ่ง ร้อย", 100),
])
def test_thai_number_words(words: str, expected: int):
    assert thai_number_words(words) == expected


@pytest.mark.parametrize("words", ["", "บาท", "หนึ่งสอง", "แมว"])
def test_not_number_words(words: str):
    assert thai_number_words(words) is None


@pytest.mark.parametrize("words,expected", [
    ("หนึ่งพันบาทถ้วน", "1000.00"), ("ห้าสิบบาทยี่สิบห้าสตางค์", "50.25"),
    ("เจ็ดสิบห้าสตางค์", "0.75"), ("หกร้อยสี่สิบสองบาท", "642.00"),
    ("หนึ่งร้อยบาท เก้าสิบเก้า สตางค์", "100.99"),
])
def test_thai_words_amounts(words: str, expected: str):
    assert thai_words_amount(words) == Decimal(expected)


@pytest.mark.parametrize("text,expected", [
    ("ใบเสร็จรับเงิน เลขที่ 000123", "000123"),
    ("เล่มที่ 12 เลขที่ 0456", "0456"),
    ("Invoice No. INV-2024-001", "INV-2024-001"),
    ("เลขที่ใบกำกับภาษี IV6701/15", "IV6701/15"),
])
def test_document_numbers(text: str, expected: str):
    found = read_fields(text).doc_number
    assert found is not None and found.value == expected


def test_a_house_number_is_not_a_document_number():
    assert read_fields("ที่อยู่ เลขที่ 12 หมู่ 3 ตำบลบ้านนา").doc_number is None


def test_empty_and_noise_text_gives_nothing():
    for text in ("", "\n\n", "ๆๆๆ ... ||| ___"):
        found = read_fields(text)
        assert found.best() == {} and found.tax_ids == []


def test_cross_check_warns_on_contradictions_and_suggests_for_empty_fields():
    typed = {"issuer_tax_id": "0994000123451", "amount": "700.00", "doc_number": None,
             "issue_date": dt.date(2024, 3, 5)}
    warnings, suggestions = text_cross_check(typed, read_fields(RECEIPT), source="ocr")
    assert {w["field"] for w in warnings} == {"amount"}, warnings   # the buyer's ID is in it
    assert all(w["source"] == "ocr" and "scan" in w["message"] for w in warnings)
    assert {s["field"]: s["value"] for s in suggestions} == {"doc_number": "RC-2567/0042"}
    warnings, _ = text_cross_check({"issuer_tax_id": "3101001234565"}, read_fields(RECEIPT),
                                   source="text_layer")
    assert [w["field"] for w in warnings] == ["issuer_tax_id"]
