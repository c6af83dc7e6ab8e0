"""The register parser: encodings, Thai/English headers, BE dates, amounts, bad rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from archive.disbursements.register import (
    THAI_HEADERS,
    RegisterError,
    field_for_header,
    parse_amount,
    parse_date,
    parse_kind,
    parse_payment_method,
    read_register,
)

THAI_CSV = (
    "ลำดับ,เลขที่ฎีกา,วันที่ฎีกา,ผู้รับเงิน,เลขประจำตัวผู้เสียภาษี,จำนวนเงิน,ประเภท,วิธีการจ่าย,"
    "วันที่จ่าย,รหัสงบประมาณ\r\n"
    '1,15/2568,15/01/2568,หจก.ทดสอบวัสดุ,0105512345671,"9,469.50",จัดซื้อจัดจ้าง,โอนเงิน,'
    "20/01/2568,00111-3-330\r\n"
    "2,16/2568,๑๖/๐๑/๒๕๖๘,นายสมชาย ใจดี,3100100123452,\"๑,๒๐๐.๐๐\",ค่าเดินทางไปราชการ,เงินสด,,\r\n"
    "3,17/2568,๑๖/๐๑/๒๕๖๘,นายสมชาย ใจดี,3100100123452,๑,๒๐๐.๐๐,ค่าเดินทางไปราชการ,เงินสด,,x\r\n"
)


def test_thai_headers_in_utf8_bom_and_cp874_read_the_same() -> None:
    plain = read_register(THAI_CSV.encode("utf-8"))
    bom = read_register(b"\xef\xbb\xbf" + THAI_CSV.encode("utf-8"))
    cp874 = read_register(THAI_CSV.encode("cp874"))
    assert (plain.encoding, bom.encoding, cp874.encoding) == ("utf-8", "utf-8-sig", "cp874")
    for reg in (plain, bom, cp874):
        assert reg.ignored == ["ลำดับ"]
        assert [r.line for r in reg.rows] == [2, 3, 4]
        first, second, shifted = reg.rows
        assert first.errors == []
        assert first.values["voucher_no"] == "15/2568"
        assert first.values["voucher_date"] == dt.date(2025, 1, 15)
        assert first.values["fiscal_year"] == 2568
        assert first.values["payee_name"] == "หจก.ทดสอบวัสดุ"
        assert first.values["gross_amount"] == Decimal("9469.50")
        assert first.values["net_amount"] == Decimal("9469.50")
        assert first.values["kind"] == "procurement"
        assert first.values["payment_method"] == "e_payment"
        assert first.values["payment_date"] == dt.date(2025, 1, 20)
        assert first.values["budget_code"] == "00111-3-330"
        assert second.errors == []
        assert second.values["voucher_date"] == dt.date(2025, 1, 16)
        assert second.values["gross_amount"] == Decimal("1200.00")
        assert second.values["kind"] == "travel" and second.values["payment_method"] == "cash"
        assert second.values["payment_date"] is None
        # "๑,๒๐๐.๐๐" unquoted splits into two cells: the row is refused, not misread.
        assert "11 cells but the header has 10" in shifted.errors[0]
    assert plain.rows[0].values == cp874.rows[0].values == bom.rows[0].values


def test_english_headers_are_the_api_field_names() -> None:
    text = ("voucher_no,voucher_date,payee_name,payee_tax_id,gross_amount,withholding_tax,"
            "kind,payment_method,payment_date,budget_code,fiscal_year\n"
            "1/2568,2024-10-03,ACME,0105512345671,1000.00,10.00,utilities,cheque,"
            "2024-10-05,X1,2568\n")
    reg = read_register(text.encode())
    (row,) = reg.rows
    assert row.errors == []
    assert row.values["voucher_date"] == dt.date(2024, 10, 3)
    assert row.values["net_amount"] == Decimal("990.00")
    assert row.values["payment_method"] == "cheque"


def test_every_thai_header_is_recognised_with_spacing_and_case_noise() -> None:
    for name, header in THAI_HEADERS.items():
        assert field_for_header(header) == name
        assert field_for_header(f" {header.replace(' ', '')} ") == name
        assert field_for_header(name.upper().replace("_", " ")) == name


@pytest.mark.parametrize("text,expected", [
    ("15/01/2568", dt.date(2025, 1, 15)),
    ("5/1/2568", dt.date(2025, 1, 5)),
    ("15-01-2568", dt.date(2025, 1, 15)),
    ("15.01.68", dt.date(2025, 1, 15)),
    ("15/01/2025", dt.date(2025, 1, 15)),
    ("2025-01-15", dt.date(2025, 1, 15)),
    ("๑๕/๐๑/๒๕๖๘", dt.date(2025, 1, 15)),
    ("15 ม.ค. 2568", dt.date(2025, 1, 15)),
    ("29 กุมภาพันธ์ 2567", dt.date(2024, 2, 29)),
])
def test_dates(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2568", "15/13/2568", "2568/01/15", "yesterday",
                                  "15/01/1800", "29 กุมภาพันธ์ 2568"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize("text,expected", [
    ("9,469.50", "9469.50"), ("1,234,567", "1234567.00"), ("1234.5", "1234.50"),
    ("๙,๔๖๙.๕๐", "9469.50"), ("1,000 บาท", "1000.00"), ("0", "0.00"),
])
def test_amounts(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text,reason", [
    ("9,46,9.50", "group three"), ("12,34", "group three"), ("1,2345", "group three"),
    ("1.234", "two decimal"), ("-5", "negative"), ("abc", "not an amount"),
    ("1.2.3", "not an amount"), (",123", "group three"),
])
def test_bad_amounts(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_amount(text)


def test_kinds_and_methods_in_thai() -> None:
    assert parse_kind("ค่าสาธารณูปโภค") == "utilities"
    assert parse_kind("อื่น ๆ") == "other"
    assert parse_kind("Payroll") == "payroll"
    assert parse_payment_method("e-Payment") == "e_payment"
    assert parse_payment_method("เช็ค") == "cheque"
    with pytest.raises(ValueError, match="use one of"):
        parse_kind("ค่าอาหาร")


def test_bad_rows_are_reported_by_line_and_the_rest_read() -> None:
    text = ("เลขที่ฎีกา,วันที่ฎีกา,ผู้รับเงิน,เลขประจำตัวผู้เสียภาษี,จำนวนเงิน,ประเภท,วิธีการจ่าย\n"
            "1/2568,31/02/2568,A,0105512345671,100,other,cash\n"
            "2/2568,01/02/2568,B,12345,100,other,cash\n"
            "\n"
            "3/2568,01/02/2568,,0105512345671,\"1,00\",ค่าอาหาร,cash\n"
            "4/2568,01/02/2568,D,,100.00,other,cash\n"
            "4/2568,02/02/2568,E,,100.00,other,cash\n")
    reg = read_register(text.encode("cp874"))
    by_line = {r.line: r for r in reg.rows}
    assert sorted(by_line) == [2, 3, 5, 6, 7]
    assert "วันที่ฎีกา" in by_line[2].errors[0] and "valid date" in by_line[2].errors[0]
    assert "13 digits" in by_line[3].errors[0]
    assert len(by_line[5].errors) == 3  # payee missing, amount grouping, unknown kind
    assert by_line[6].errors == [] and by_line[6].values["payee_tax_id"] is None
    assert by_line[7].errors == ["voucher 4/2568 already appears on line 6"]


def test_semicolon_and_tab_delimiters() -> None:
    for sep in (";", "\t"):
        text = sep.join(["voucher_no", "voucher_date", "payee_name", "gross_amount", "kind",
                         "payment_method"]) + "\n" + sep.join(
            ["1/2568", "01/10/2567", "A", "1,500.00", "other", "cash"]) + "\n"
        (row,) = read_register(text.encode()).rows
        assert row.errors == [] and row.values["gross_amount"] == Decimal("1500.00")


@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    ("ผู้รับเงิน,จำนวนเงิน\nA,1\n".encode(), "lacks required columns"),
    ("เลขที่ฎีกา,voucher_no,วันที่ฎีกา,ผู้รับเงิน,จำนวนเงิน,ประเภท,วิธีการจ่าย\n".encode(),
     "both give voucher_no"),
    (b"voucher_no,\xdb\xdc\xfc\n", "neither UTF-8 nor CP874"),
    ("voucher_no\n".encode("utf-16"), "NUL|lacks"),
])
def test_file_level_errors(data: bytes, message: str) -> None:
    with pytest.raises(RegisterError, match=message):
        read_register(data)
