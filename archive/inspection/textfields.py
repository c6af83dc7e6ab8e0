"""Fields read from a document's plain text: OCR text of a scan, or a PDF's text layer.

Pure functions, no I/O. :func:`read_fields` finds the issuer's tax ID, the document
number, the issue date and the grand total, each with a confidence (0–1) and where it was
found (line, character offset, the line's text). Nothing here is applied to a record:
the caller offers the values as suggestions and compares them with the typed metadata
(:func:`archive.inspection.crosscheck.text_cross_check`).

Thai specifics: Thai numerals (๐–๙) count as digits; dates are written with Thai month
names or abbreviations and Buddhist-Era years as often as ``dd/mm/yyyy``; the grand total
of a receipt is usually repeated in words, ``(หนึ่งพันสองร้อยบาทห้าสิบสตางค์)``, which is
read too and used to confirm (or correct) the figure.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from archive.jsonable import jsonable
from archive.thai import BE_OFFSET, BE_YEAR_FROM, ascii_digits, is_valid_tax_id


@dataclass
class FoundField:
    """One value read from the text, with how sure we are and where it stood."""

    value: Any
    confidence: float
    line: int           # 1-based line of the (normalised) text
    offset: int         # character offset in the normalised text
    excerpt: str        # the line it was found on (shortened)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"value": jsonable(self.value), "confidence": round(self.confidence, 2),
                "line": self.line, "offset": self.offset, "excerpt": self.excerpt,
                "note": self.note}


@dataclass
class TextFields:
    tax_ids: list[FoundField] = field(default_factory=list)   # every valid candidate
    doc_number: FoundField | None = None
    issue_date: FoundField | None = None
    grand_total: FoundField | None = None

    @property
    def issuer_tax_id(self) -> FoundField | None:
        """The likeliest issuer's tax ID: the most confident, the earliest among equals."""
        if not self.tax_ids:
            return None
        return max(self.tax_ids, key=lambda f: (f.confidence, -f.offset))

    def best(self) -> dict[str, FoundField]:
        """Found fields under the names of the record's metadata."""
        found = {"issuer_tax_id": self.issuer_tax_id, "doc_number": self.doc_number,
                 "issue_date": self.issue_date, "amount": self.grand_total}
        return {k: v for k, v in found.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        return {"tax_ids": [f.to_dict() for f in self.tax_ids],
                **{k: v.to_dict() for k, v in self.best().items()}}


def normalise(text: str) -> str:
    """NFC, Thai numerals as ASCII digits, the split SARA AM OCR produces joined."""
    text = unicodedata.normalize("NFC", text).replace("\u0e4d\u0e32", "\u0e33")
    return ascii_digits(text)


def read_fields(text: str) -> TextFields:
    text = normalise(text)
    lines = _Lines(text)
    return TextFields(tax_ids=_tax_ids(text, lines), doc_number=_doc_number(text, lines),
                      issue_date=_issue_date(text, lines), grand_total=_grand_total(text, lines))


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> tuple[int, str]:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        start = self.starts[lo]
        end = self.text.find("\n", start)
        line = self.text[start:end if end >= 0 else len(self.text)].strip()
        return lo + 1, line[:160]

    def found(self, value: Any, confidence: float, offset: int,
              note: str | None = None) -> FoundField:
        line, excerpt = self.at(offset)
        return FoundField(value, confidence, line, offset, excerpt, note)

    def line_before(self, offset: int) -> str:
        """This line's text up to ``offset``."""
        return self.text[self.text.rfind("\n", 0, offset) + 1:offset]

    def before(self, offset: int, chars: int = 60) -> str:
        """The text just before ``offset`` (this line and the end of the previous one)."""
        return self.text[max(0, offset - chars):offset]


# -- tax IDs ---------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d+(?:[ \-]\d+)*")
_TAX_LABEL = re.compile(r"(เลขประจำตัวผู้เสียภาษี|ผู้เสียภาษี|เลขประจำตัว|tax\s*id|"
                        r"tax\s*identification|taxpayer|เลขที่ภาษี)", re.IGNORECASE)
_BUYER = re.compile(r"(ผู้ซื้อ|ลูกค้า|ผู้รับบริการ|buyer|customer|sold\s*to|bill\s*to)",
                    re.IGNORECASE)


def _tax_ids(text: str, lines: _Lines) -> list[FoundField]:
    """Every 13-digit group sequence (spaces or dashes allowed between groups) whose check
    digit is right; 18-digit runs are the ID and the 5-digit branch."""
    out: list[FoundField] = []
    seen: set[str] = set()
    for run in _DIGIT_RUN.finditer(text):
        groups = [(m.group(), run.start() + m.start())
                  for m in re.finditer(r"\d+", run.group())]
        for i in range(len(groups)):
            digits, start = "", groups[i][1]
            for chunk, _ in groups[i:]:
                digits += chunk
                if len(digits) >= 13:
                    break
            if len(digits) == 18 and i == 0 and len(groups) <= 2:
                digits = digits[:13]
            if len(digits) != 13 or not is_valid_tax_id(digits) or digits in seen:
                continue
            seen.add(digits)
            before = lines.before(start)
            confidence = 0.6
            if _TAX_LABEL.search(before):
                confidence = 0.9
            if _BUYER.search(lines.line_before(start)):
                confidence -= 0.3
            if not out:
                confidence += 0.05      # the seller's header comes first
            out.append(lines.found(digits, min(confidence, 0.95), start))
    return out


# -- document number -------------------------------------------------------------------

_DOC_LABEL = re.compile(
    r"(?P<label>เลขที่\s*(?:ใบเสร็จ(?:รับเงิน)?|ใบกำกับ(?:ภาษี)?|ใบสำคัญ(?:รับเงิน)?|เอกสาร)"
    r"|(?:receipt|invoice|document|doc)\s*(?:no\.?|number|#)"
    r"|เลขที่|no\.|no\b)"
    r"\s*[:：.]?\s*(?P<value>[A-Za-z]{0,6}[\-/]?\d[A-Za-z0-9\-/._]{0,29})",
    re.IGNORECASE)
_ADDRESS_AFTER = re.compile(r"^\s*(หมู่|ม\.|ถนน|ถ\.|ซอย|ซ\.|ตำบล|ต\.|อำเภอ|อ\.|แขวง|เขต|"
                            r"moo|road|soi)", re.IGNORECASE)


def _doc_number(text: str, lines: _Lines) -> FoundField | None:
    best: FoundField | None = None
    for m in _DOC_LABEL.finditer(text):
        value = m.group("value").rstrip(".-/_")
        if _ADDRESS_AFTER.match(text[m.end():m.end() + 12]):
            continue            # "เลขที่ 12 หมู่ 3": a house number
        label = m.group("label").lower()
        specific = len(label) > len("เลขที่") or label.startswith(("receipt", "invoice", "doc"))
        confidence = 0.85 if specific else 0.6
        if not specific and value.isdigit() and len(value) <= 3:
            confidence = 0.4    # a bare short number: a house or a page, as likely
        if not any(c.isdigit() for c in value):
            continue
        found = lines.found(value, confidence, m.start("value"))
        if best is None or found.confidence > best.confidence:
            best = found
    return best


# -- issue date ------------------------------------------------------------------------

THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
               "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
THAI_MONTH_ABBR = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.",
                   "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
_EN_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
              "dec")


def _month_alternatives() -> tuple[str, dict[str, int]]:
    names: dict[str, int] = {}
    for i, name in enumerate(THAI_MONTHS):
        names[name] = i + 1
    for i, abbr in enumerate(THAI_MONTH_ABBR):
        names[abbr] = i + 1
        names[abbr.rstrip(".")] = i + 1         # "ม.ค" without the last dot
        names[abbr.replace(".", "")] = i + 1    # "มค"
    for i, name in enumerate(_EN_MONTHS):
        names[name] = i + 1
    ordered = sorted(names, key=len, reverse=True)
    return "|".join(re.escape(n) + (r"[a-z]*\.?" if n.isascii() else "") for n in ordered), names


_MONTH_RE, _MONTHS = _month_alternatives()
_DATE_WORDS = re.compile(rf"(?<!\d)(?P<d>\d{{1,2}})\s*(?P<m>{_MONTH_RE})\s*"
                         r"(?:พ\.?\s?ศ\.?|ค\.?\s?ศ\.?|b\.?e\.?|c\.?e\.?)?\s*(?P<y>\d{4}|\d{2})(?!\d)",
                         re.IGNORECASE)
_DATE_NUMERIC = re.compile(r"(?<![\d/.\-])(?P<d>\d{1,2})\s?(?P<sep>[/.\-])\s?(?P<m>\d{1,2})"
                           r"\s?(?P=sep)\s?(?P<y>\d{4}|\d{2})(?![\d/.\-])")
_DATE_LABEL = re.compile(r"(วันที่|ลงวันที่|date|dated)\s*[:：]?\s*$", re.IGNORECASE)


def _year(raw: str, *, thai_context: bool) -> int | None:
    year = int(raw)
    if len(raw) == 2:
        # Two-digit years: 50-99 are BE 25xx (2550 = 2007), below that CE 20xx; with a
        # Thai month name they are always BE.
        year = 2500 + year if (thai_context or year >= 50) else 2000 + year
    if year >= BE_YEAR_FROM:
        year -= BE_OFFSET
    return year if 1990 <= year <= 2100 else None


def _issue_date(text: str, lines: _Lines) -> FoundField | None:
    candidates: list[FoundField] = []
    for m in _DATE_WORDS.finditer(text):
        month_text = m.group("m").lower()
        month = _MONTHS.get(month_text) or _MONTHS.get(month_text[:3])
        year = _year(m.group("y"), thai_context=not month_text.isascii())
        if month is None or year is None:
            continue
        _add_date(candidates, lines, year, month, int(m.group("d")), m.start(), 0.75)
    for m in _DATE_NUMERIC.finditer(text):
        year = _year(m.group("y"), thai_context=False)
        if year is None:
            continue
        _add_date(candidates, lines, year, int(m.group("m")), int(m.group("d")), m.start(),
                  0.65)
    if not candidates:
        return None
    return max(candidates, key=lambda f: (f.confidence, -f.offset))


def _add_date(out: list[FoundField], lines: _Lines, year: int, month: int, day: int,
              offset: int, confidence: float) -> None:
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return
    if _DATE_LABEL.search(lines.before(offset, 24)):
        confidence += 0.2
    out.append(lines.found(value, confidence, offset))


# -- grand total -----------------------------------------------------------------------

# Strongest first: the label that names the grand total wins over a sub-total's.
TOTAL_LABELS = ("จำนวนเงินรวมทั้งสิ้น", "รวมเงินทั้งสิ้น", "รวมทั้งสิ้น", "ยอดรวมสุทธิ",
                "ยอดเงินสุทธิ", "grand total", "total amount", "net total", "ยอดสุทธิ",
                "จำนวนเงินรวม", "ยอดรวม", "รวมเงิน", "total", "จำนวนเงิน")
_TOTAL_LABEL = re.compile("|".join(re.escape(x).replace(r"\ ", r"\s*") for x in TOTAL_LABELS),
                          re.IGNORECASE)
# 1,234.50 · 1234.5 · and OCR's misreadings of the separators: 1.234.50, 1,234,50.
_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:[,.]\s?\d{3})+[.,]\d{2}(?!\d)"
                     r"|\d{1,3}(?:,\s?\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
                     r"(?![\d,]*\d)")
_WORDS = re.compile(r"\(([^()\n]{2,120}?บาท[^()\n]{0,60})\)")


def _grand_total(text: str, lines: _Lines) -> FoundField | None:
    figure = _total_figure(text, lines)
    words = _total_in_words(text, lines)
    if figure is not None and words is None:
        figure.note = None      # (held the figure as written, for the comparison below)
    if words is None:
        return figure
    if figure is None:
        words.confidence = 0.7
        words.note = "read from the amount in words"
        return words
    if figure.value == words.value:
        figure.confidence = 0.97
        figure.note = "confirmed by the amount in words"
        return figure
    # They disagree: one of them was misread. The words win when the figure has their
    # digits (a misread separator) or their figure stands elsewhere in the text (an item
    # line, the VAT summary); otherwise the labelled figure, with a low confidence.
    figure_digits = re.sub(r"\D", "", figure.note or "")
    if figure_digits == re.sub(r"\D", "", f"{words.value:.2f}") or any(
            _amount(m.group(1)) == words.value for m in _AMOUNT.finditer(text)):
        words.confidence = 0.6
        words.note = f"the figure after the total's label reads {figure.value}"
        return words
    figure.confidence = 0.45
    figure.note = f"the amount in words reads {words.value}"
    return figure


def _amount(raw: str) -> Decimal | None:
    raw = re.sub(r"\s", "", raw)
    if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+[.,]\d{2}", raw):
        # Every separator but the last groups thousands; the last is the decimal point.
        raw = re.sub(r"[,.]", "", raw[:-3]) + "." + raw[-2:]
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None
    return value.quantize(Decimal("0.01"))


def _total_figure(text: str, lines: _Lines) -> FoundField | None:
    best: tuple[int, int, FoundField] | None = None
    for m in _TOTAL_LABEL.finditer(text):
        label = re.sub(r"\s+", " ", m.group().lower())
        rank = TOTAL_LABELS.index(label) if label in TOTAL_LABELS else len(TOTAL_LABELS)
        end = text.find("\n", m.end())
        rest = text[m.end():end if end >= 0 else len(text)]
        if not rest.strip() or rest.lstrip()[:1] == "(":
            # The figure may stand on the next line (a two-column layout read row-wise).
            nxt = text[end + 1:].split("\n", 1)[0] if end >= 0 else ""
            rest, base = nxt, end + 1
        else:
            base = m.end()
        found = _AMOUNT.search(rest)
        if not found:
            continue
        value = _amount(found.group(1))
        if value is None or value <= 0:
            continue
        confidence = 0.85 if rank < 9 else 0.7
        # The note holds the figure as written, stray separators and all ("28,.488.75"),
        # for the comparison with the amount in words (:func:`_grand_total`).
        written = re.match(r"\d[\d,.]*\d|\d", rest[found.start():])
        item = lines.found(value, confidence, base + found.start(),
                           note=written.group() if written else found.group(1))
        # Stronger label first; among equal labels the last one (totals close a page).
        key = (-rank, m.start())
        if best is None or key > best[:2]:
            best = (key[0], key[1], item)
    return best[2] if best else None


def _total_in_words(text: str, lines: _Lines) -> FoundField | None:
    found: FoundField | None = None
    for m in _WORDS.finditer(text):
        value = thai_words_amount(m.group(1))
        if value is not None and value > 0:
            found = lines.found(value, 0.7, m.start())      # the last one: the total
    return found


_DIGIT_WORDS = {"ศูนย์": 0, "หนึ่ง": 1, "เอ็ด": 1, "สอง": 2, "ยี่": 2, "สาม": 3, "สี่": 4,
                "ห้า": 5, "หก": 6, "เจ็ด": 7, "แปด": 8, "เก้า": 9}
_UNIT_WORDS = {"สิบ": 10, "ร้อย": 100, "พัน": 1000, "หมื่น": 10_000, "แสน": 100_000}
_WORD_TOKENS = sorted([*_DIGIT_WORDS, *_UNIT_WORDS, "ล้าน"], key=len, reverse=True)


def thai_number_words(words: str) -> int | None:
    """``หนึ่งพันสองร้อยยี่สิบเอ็ด`` → 1221; ``None`` when anything is not a number word."""
    words = re.sub(r"\s+", "", words)
    if not words:
        return None
    total = chunk = 0
    digit: int | None = None
    i = 0
    while i < len(words):
        token = next((t for t in _WORD_TOKENS if words.startswith(t, i)), None)
        if token is None:
            return None
        i += len(token)
        if token in _DIGIT_WORDS:
            if digit is not None:
                return None     # two digits in a row: not a number
            digit = _DIGIT_WORDS[token]
        elif token in _UNIT_WORDS:
            chunk += (1 if digit is None else digit) * _UNIT_WORDS[token]
            digit = None
        else:  # ล้าน
            total = (total + chunk + (digit or 0)) * 1_000_000
            chunk, digit = 0, None
    return total + chunk + (digit or 0)


def thai_words_amount(words: str) -> Decimal | None:
    """An amount written in Thai words: ``…บาทถ้วน``, ``…บาท…สตางค์`` or ``…สตางค์``."""
    words = normalise(re.sub(r"\s+", "", words)).replace("ตัวอักษร", "")
    m = re.fullmatch(r"(?:(?P<baht>.+?)บาท)?(?:ถ้วน|(?P<satang>.+?)สตางค์)?(?:ถ้วน)?", words)
    if not m or not (m.group("baht") or m.group("satang")):
        return None
    baht = thai_number_words(m.group("baht")) if m.group("baht") else 0
    satang = thai_number_words(m.group("satang")) if m.group("satang") else 0
    if baht is None or satang is None or satang > 99:
        return None
    return (Decimal(baht) + Decimal(satang) / 100).quantize(Decimal("0.01"))
