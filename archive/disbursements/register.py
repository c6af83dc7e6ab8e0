"""Reading a voucher register (ทะเบียนฎีกา) exported as CSV by an LAO's accounting system.

A pure module: bytes in, rows of API field values out, no database. The import service
(``archive.disbursements.importing``) validates each row against the voucher schema and
writes it.

What it accepts, because that is what the exports look like:

* **encoding**: UTF-8 with or without a byte-order mark, UTF-16 with a BOM (Excel's
  "Unicode text"), else CP874 / TIS-620 (Thai Windows exports). Detected, not asked:
  a BOM decides; bytes that are valid UTF-8 are UTF-8 (Thai text in CP874 almost never
  is); anything else is read as CP874, and bytes CP874 does not define are an error.
* **delimiter**: comma, semicolon or tab, whichever the header line uses most.
* **headers** in English (the API's field names) or Thai (``THAI_HEADERS``, with the
  aliases in ``_ALIASES``); case, spaces, ``_``/``-``/``.`` and brackets do not matter.
  Columns not recognised (``ลำดับ`` …) are listed in ``RegisterFile.ignored`` and skipped.
* **dates**: ``dd/mm/yyyy`` (also ``-`` or ``.``) with a Buddhist-Era year
  (``15/01/2568``), a Christian-Era year, or a two-digit BE year (``15/01/68``);
  ISO ``yyyy-mm-dd``; Thai month names and abbreviations (``15 ม.ค. 2568``). A year
  ≥ 2400 is Buddhist Era (no Christian-Era year of a record comes near it).
* **amounts** with thousands separators only where they belong (``9,469.50``,
  ``1,234,567``; not ``9,46,9``), at most two decimals, an optional ``บาท`` suffix.
* **Thai digits** (๐–๙) anywhere a number is read, and in voucher numbers and tax IDs.
* **kind** and **payment method** as the API's codes or in Thai (``KIND_WORDS``,
  ``METHOD_WORDS``).

A row that cannot be read gets its row number (the line in the file, header = 1) and the
reasons; the other rows are unaffected.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from archive.textnorm import clean_text
from archive.thai import fiscal_year

MAX_REGISTER_BYTES = 20 * 1024 * 1024
MAX_REGISTER_ROWS = 100_000
MAX_CELL_CHARS = 4000

FIELDS = (
    "voucher_no", "voucher_date", "fiscal_year", "kind", "payee_name", "payee_tax_id",
    "gross_amount", "withholding_tax", "net_amount", "payment_method", "payment_date",
    "budget_code", "expenditure_category", "procurement_method", "egp_project_no",
    "contract_no", "description",
)
REQUIRED_COLUMNS = ("voucher_no", "voucher_date", "payee_name", "gross_amount", "kind",
                    "payment_method")
DATE_FIELDS = ("voucher_date", "payment_date")
AMOUNT_FIELDS = ("gross_amount", "withholding_tax", "net_amount")

# The Thai header of each field, as the documentation and the template file show it.
THAI_HEADERS: dict[str, str] = {
    "voucher_no": "เลขที่ฎีกา",
    "voucher_date": "วันที่ฎีกา",
    "fiscal_year": "ปีงบประมาณ",
    "kind": "ประเภท",
    "payee_name": "ผู้รับเงิน",
    "payee_tax_id": "เลขประจำตัวผู้เสียภาษี",
    "gross_amount": "จำนวนเงิน",
    "withholding_tax": "ภาษีหัก ณ ที่จ่าย",
    "net_amount": "จำนวนเงินจ่ายสุทธิ",
    "payment_method": "วิธีการจ่าย",
    "payment_date": "วันที่จ่าย",
    "budget_code": "รหัสงบประมาณ",
    "expenditure_category": "หมวดรายจ่าย",
    "procurement_method": "วิธีการจัดซื้อจัดจ้าง",
    "egp_project_no": "เลขที่โครงการ",
    "contract_no": "เลขที่สัญญา",
    "description": "รายการ",
}

# Other headers seen in exports for the same field.
_ALIASES: dict[str, tuple[str, ...]] = {
    "voucher_no": ("ฎีกาเลขที่", "เลขฎีกา", "เลขที่ใบฎีกา", "ที่ฎีกา", "voucher", "voucher number"),
    "voucher_date": ("ฎีกาลงวันที่", "วันที่วางฎีกา", "วันที่ขอเบิก", "date"),
    "fiscal_year": ("ปีงบ", "fy"),
    "kind": ("ประเภทฎีกา", "ประเภทการเบิกจ่าย", "ประเภทการเบิก"),
    "payee_name": ("ชื่อผู้รับเงิน", "เจ้าหนี้", "ชื่อเจ้าหนี้", "ผู้ขาย", "payee"),
    "payee_tax_id": ("เลขประจำตัวผู้เสียภาษีอากร", "เลขผู้เสียภาษี", "เลขที่ผู้เสียภาษี",
                     "เลขประจำตัวผู้เสียภาษีผู้รับเงิน", "เลขประจำตัวประชาชน", "tax id"),
    "gross_amount": ("จำนวนเงินขอเบิก", "ยอดขอเบิก", "จำนวนเงินรวม", "amount"),
    "withholding_tax": ("ภาษีหัก", "ภาษีหักณที่จ่าย", "หักภาษี ณ ที่จ่าย"),
    "net_amount": ("จ่ายสุทธิ", "จำนวนเงินสุทธิ", "ยอดจ่ายสุทธิ", "ยอดสุทธิ"),
    "payment_method": ("วิธีจ่าย", "วิธีการจ่ายเงิน", "วิธีการชำระเงิน"),
    "payment_date": ("วันที่จ่ายเงิน", "วันที่โอนเงิน", "วันจ่าย"),
    "budget_code": ("รหัสงบ", "รหัสงบประมาณรายจ่าย"),
    "expenditure_category": ("หมวด", "หมวดเงิน", "ประเภทรายจ่าย"),
    "procurement_method": ("วิธีจัดซื้อจัดจ้าง", "วิธีการจัดหา", "วิธีการจัดซื้อ"),
    "egp_project_no": ("เลขที่โครงการ e-gp", "เลขโครงการ", "เลขที่โครงการ egp", "egp project no"),
    "contract_no": ("เลขที่สัญญา/ใบสั่งซื้อ", "เลขที่ใบสั่งซื้อ", "เลขที่ใบสั่งซื้อ/สัญญา",
                    "เลขที่สัญญา/ข้อตกลง"),
    "description": ("รายละเอียด", "คำอธิบาย", "รายการเบิกจ่าย"),
}

# kind and payment method: the API's codes, or Thai words an export uses.
KIND_WORDS: dict[str, str] = {
    "procurement": "procurement", "จัดซื้อจัดจ้าง": "procurement", "จัดซื้อ": "procurement",
    "จัดจ้าง": "procurement", "ซื้อจ้าง": "procurement",
    "travel": "travel", "ค่าเดินทางไปราชการ": "travel", "เดินทางไปราชการ": "travel",
    "ค่าเดินทาง": "travel",
    "payroll": "payroll", "เงินเดือน": "payroll", "เงินเดือนค่าจ้างค่าตอบแทน": "payroll",
    "ค่าจ้าง": "payroll", "ค่าตอบแทน": "payroll", "เงินเดือนค่าจ้าง": "payroll",
    "utilities": "utilities", "ค่าสาธารณูปโภค": "utilities", "สาธารณูปโภค": "utilities",
    "other": "other", "อื่นๆ": "other", "อื่น": "other",
}
METHOD_WORDS: dict[str, str] = {
    "e_payment": "e_payment", "epayment": "e_payment", "อิเล็กทรอนิกส์": "e_payment",
    "โอนเงิน": "e_payment", "โอน": "e_payment", "โอนเงินเข้าบัญชี": "e_payment",
    "ktb": "e_payment", "ktbcorporateonline": "e_payment",
    "cheque": "cheque", "check": "cheque", "เช็ค": "cheque", "เช็ก": "cheque",
    "cash": "cash", "เงินสด": "cash",
}

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_HEADER_NOISE = re.compile(r"[\s_\-.()\[\]:]+")
_WORD_NOISE = re.compile(r"[\s_\-.]+")
_AMOUNT = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_THAI_MONTH_DATE = re.compile(r"^(\d{1,2})\s*([^\d\s]+)\s*(\d{2}|\d{4})$")
_THAI_MONTHS = (
    ("มกราคม", "ม.ค."), ("กุมภาพันธ์", "ก.พ."), ("มีนาคม", "มี.ค."), ("เมษายน", "เม.ย."),
    ("พฤษภาคม", "พ.ค."), ("มิถุนายน", "มิ.ย."), ("กรกฎาคม", "ก.ค."), ("สิงหาคม", "ส.ค."),
    ("กันยายน", "ก.ย."), ("ตุลาคม", "ต.ค."), ("พฤศจิกายน", "พ.ย."), ("ธันวาคม", "ธ.ค."),
)
_MONTH_BY_NAME = {
    _WORD_NOISE.sub("", name): month
    for month, names in enumerate(_THAI_MONTHS, start=1) for name in names
}


class RegisterError(ValueError):
    """The file as a whole cannot be read (encoding, headers, size); nothing is imported."""


def _key(text: str) -> str:
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFC", text).casefold())


def _header_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for name in FIELDS:
        for header in (name, THAI_HEADERS[name], *_ALIASES.get(name, ())):
            key = _key(header)
            if table.get(key, name) != name:  # pragma: no cover - a table mistake
                raise AssertionError(f"header {header!r} names two fields")
            table[key] = name
    return table


HEADER_TABLE = _header_table()


def field_for_header(header: str) -> str | None:
    """The API field a column header names, or None."""
    return HEADER_TABLE.get(_key(header))


# ---------------------------------------------------------------------------- decoding

def decode(data: bytes) -> tuple[str, str]:
    """The text of a register file and the encoding it was read in."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            encoding = "cp874"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise RegisterError(
            f"the file is neither UTF-8 nor CP874/TIS-620 (byte 0x{data[exc.start]:02x} at "
            f"offset {exc.start} is not a character in {encoding}); save it as CSV UTF-8"
        ) from None
    if "\x00" in text:
        raise RegisterError("the file contains NUL bytes: not a CSV text file")
    return text, encoding


# ------------------------------------------------------------------------ cell readers

def thai_digits(text: str) -> str:
    return text.translate(_THAI_DIGITS)


def parse_amount(text: str) -> Decimal:
    """A baht amount: ``9,469.50``, ``๙,๔๖๙.๕๐``, ``1234``, ``1,234 บาท``."""
    value = thai_digits(text).strip().removesuffix("บาท").strip()
    if not _AMOUNT.match(value):
        if value.startswith("-") or value.startswith("("):
            raise ValueError(f"{text!r}: amounts must not be negative")
        if re.fullmatch(r"[\d,]+(\.\d+)?", value) and value.count(".") <= 1:
            if "." in value and len(value.rsplit(".", 1)[1]) > 2:
                raise ValueError(f"{text!r}: at most two decimal places (satang)")
            raise ValueError(f"{text!r}: thousands separators must group three digits "
                             f"(e.g. 1,234,567.50)")
        raise ValueError(f"{text!r} is not an amount (e.g. 9,469.50)")
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        raise ValueError(f"{text!r} is not an amount") from None
    return amount.quantize(Decimal("0.01"))


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:          # two-digit years in Thai registers are Buddhist Era
        year += 2500
    if year >= 2400:
        year -= 543
    if not 1990 <= year <= 2200:
        raise ValueError(f"year {text} is out of range")
    return year


def parse_date(text: str) -> dt.date:
    """A date as Thai registers write it (see the module docstring); returns a CE date."""
    value = thai_digits(clean_text(text))
    try:
        if m := _DMY.match(value):
            day, month, year = int(m[1]), int(m[2]), _year(m[3])
        elif m := _ISO.match(value):
            year, month, day = _year(m[1]), int(m[2]), int(m[3])
        elif (m := _THAI_MONTH_DATE.match(value)) and \
                _WORD_NOISE.sub("", m[2]) in _MONTH_BY_NAME:
            day, month, year = int(m[1]), _MONTH_BY_NAME[_WORD_NOISE.sub("", m[2])], _year(m[3])
        else:
            raise ValueError(f"{text!r} is not a date (use dd/mm/yyyy, e.g. 15/01/2568)")
        return dt.date(year, month, day)
    except ValueError as exc:
        if "is not a date" in str(exc):
            raise
        raise ValueError(f"{text!r} is not a valid date ({exc})") from None


def _word(text: str, table: dict[str, str], what: str) -> str:
    key = _WORD_NOISE.sub("", unicodedata.normalize("NFC", text).casefold())
    if key not in table:
        codes = sorted(set(table.values()))
        raise ValueError(f"{text!r} is not a known {what}; use one of {', '.join(codes)}")
    return table[key]


_KIND_TABLE = {_WORD_NOISE.sub("", k.casefold()): v for k, v in KIND_WORDS.items()}
_METHOD_TABLE = {_WORD_NOISE.sub("", k.casefold()): v for k, v in METHOD_WORDS.items()}


def parse_kind(text: str) -> str:
    return _word(text, _KIND_TABLE, "kind of disbursement")


def parse_payment_method(text: str) -> str:
    return _word(text, _METHOD_TABLE, "payment method")


def parse_tax_id(text: str) -> str:
    """13 digits, spaces and dashes removed. The check digit is *not* judged here: a wrong
    one is the ``invalid_payee_tax_id`` finding, not a reason to refuse the row."""
    digits = re.sub(r"[\s\-]", "", thai_digits(text))
    if not (len(digits) == 13 and digits.isascii() and digits.isdigit()):
        raise ValueError(f"{text!r}: a Thai tax ID has 13 digits")
    return digits


def parse_fiscal_year(text: str) -> int:
    value = thai_digits(text).strip()
    if not value.isdigit():
        raise ValueError(f"{text!r} is not a year")
    year = int(value)
    if 1990 <= year <= 2200:
        raise ValueError(f"fiscal year {year} looks like a Christian-Era year; Thai fiscal "
                         f"years are Buddhist Era (e.g. {year + 543})")
    return year


def _cell(name: str, raw: str) -> Any:
    text = clean_text(raw)
    if text in ("", "-"):
        return None
    if len(text) > MAX_CELL_CHARS:
        raise ValueError(f"at most {MAX_CELL_CHARS} characters")
    if name in DATE_FIELDS:
        return parse_date(text)
    if name in AMOUNT_FIELDS:
        return parse_amount(text)
    if name == "kind":
        return parse_kind(text)
    if name == "payment_method":
        return parse_payment_method(text)
    if name == "payee_tax_id":
        return parse_tax_id(text)
    if name == "fiscal_year":
        return parse_fiscal_year(text)
    if name in ("voucher_no", "egp_project_no", "contract_no", "budget_code"):
        return thai_digits(text)
    if name == "description":
        return clean_text(raw, multiline=True)
    return text


# --------------------------------------------------------------------------- the file

@dataclass
class RegisterRow:
    """One data row: ``line`` is its line number in the file (header = 1)."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def voucher_no(self) -> str | None:
        return self.values.get("voucher_no")


@dataclass
class RegisterFile:
    encoding: str
    delimiter: str
    columns: dict[str, str]          # field -> the header as written
    ignored: list[str]               # headers not recognised
    rows: list[RegisterRow]


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_register(data: bytes) -> RegisterFile:
    """Read a register file. File-level problems raise ``RegisterError``; a row's problems
    are in its ``errors`` (and such a row must not be written)."""
    if len(data) > MAX_REGISTER_BYTES:
        raise RegisterError(f"the register is larger than {MAX_REGISTER_BYTES // 2**20} MiB; "
                            f"split it")
    text, encoding = decode(data)
    if not text.strip():
        raise RegisterError("the file is empty")
    delimiter = _delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise RegisterError(f"line 1: {exc}") from None
    columns: dict[str, str] = {}
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, raw in enumerate(header):
        name = field_for_header(raw)
        title = clean_text(raw)
        if name is None:
            if title:
                ignored.append(title)
            continue
        if name in columns:
            raise RegisterError(f"columns {columns[name]!r} and {title!r} both give {name}")
        columns[name] = title
        positions[name] = index
    missing = [n for n in REQUIRED_COLUMNS if n not in columns]
    if missing:
        wanted = ", ".join(f"{n} ({THAI_HEADERS[n]})" for n in missing)
        raise RegisterError(f"the header lacks required columns: {wanted}")

    rows: list[RegisterRow] = []
    seen: dict[tuple[int | None, str], int] = {}
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise RegisterError(f"line {line}: {exc}") from None
        if not any(cell.strip() for cell in record):
            continue                                  # blank lines are not rows
        if len(rows) >= MAX_REGISTER_ROWS:
            raise RegisterError(f"more than {MAX_REGISTER_ROWS} rows; split the register")
        row = RegisterRow(line=line)
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            row.errors.append(f"{len(record)} cells but the header has {len(header)}")
        for name, index in positions.items():
            raw = record[index] if index < len(record) else ""
            try:
                row.values[name] = _cell(name, raw)
            except ValueError as exc:
                row.errors.append(f"{columns[name]}: {exc}")
        _complete(row, columns)
        if not row.errors:
            key = (row.values.get("fiscal_year"), row.values["voucher_no"])
            if key in seen:
                row.errors.append(f"voucher {key[1]} already appears on line {seen[key]}")
            else:
                seen[key] = line
        rows.append(row)
    return RegisterFile(encoding=encoding, delimiter=delimiter, columns=columns,
                        ignored=ignored, rows=rows)


def _complete(row: RegisterRow, columns: dict[str, str]) -> None:
    """Required cells present; fiscal year and net amount defaulted as the API would."""
    values = row.values
    for name in REQUIRED_COLUMNS:
        if values.get(name) is None and not any(e.startswith(f"{columns[name]}:")
                                                for e in row.errors):
            row.errors.append(f"{columns[name]}: required")
    if row.errors:
        return
    if values.get("fiscal_year") is None:
        values["fiscal_year"] = fiscal_year(values["voucher_date"])
    wht = values.get("withholding_tax") or Decimal("0.00")
    if wht > values["gross_amount"]:
        row.errors.append(f"{columns['withholding_tax']}: withholding_tax {wht} is larger "
                          f"than gross_amount {values['gross_amount']}")
    elif values.get("net_amount") is None:
        values["net_amount"] = values["gross_amount"] - wht
