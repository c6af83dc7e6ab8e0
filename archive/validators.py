"""Field checks shared by every input schema (uploads, corrections, searches, holds,
schedules), so that the same value gets the same answer — and the same message, which
the web pages translate — wherever it is typed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator

from archive.doc_types import DOC_TYPES, RENAMED_DOC_TYPES
from archive.textnorm import clean_text
from archive.thai import BE_OFFSET, BE_YEAR_FROM, ascii_digits, fiscal_year

FISCAL_YEAR_MIN, FISCAL_YEAR_MAX = 2533, 2700


def blank_to_none(value: Any) -> Any:
    """Strings of only spaces count as not given."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# -- numbers and dates as people type them ------------------------------------------------
#
# Thai digits are accepted wherever a number is typed (and read as Arabic digits);
# thousands separators only every three digits left of the point (1,070 and 1,234,567.50,
# never 1,0,7,0); a year of BE_YEAR_FROM or more is a Buddhist-Era year and is converted.

_PLAIN_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_GROUPED_NUMBER = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def typed_digits(value: Any) -> Any:
    """A typed string with Thai digits read as Arabic digits (other values unchanged)."""
    return ascii_digits(value) if isinstance(value, str) else value


def typed_integer(value: Any) -> Any:
    """An integer field: Thai digits accepted, no separators, no sign, no decimals."""
    value = blank_to_none(value)
    if isinstance(value, str):
        text = ascii_digits(value)
        if not (text.isascii() and text.isdigit()):
            raise ValueError(f"{value!r} is not a whole number")
        return int(text)
    return value


def typed_decimal(value: Any) -> Decimal | None:
    """A decimal typed as text: Thai digits accepted; thousands separators only in their
    places. Floats are refused (a binary float is not an amount in satang)."""
    value = blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (bool, float)):
        raise ValueError("give amounts as decimal strings, e.g. \"1234.50\"")
    if isinstance(value, int):
        return Decimal(value)
    text = ascii_digits(str(value)).strip()
    if text.startswith("-"):
        raise ValueError("amount must not be negative")
    if not (_PLAIN_NUMBER.match(text) or _GROUPED_NUMBER.match(text)):
        if "," in text and re.match(r"^[\d,]+(?:\.\d+)?$", text):
            raise ValueError(f"{value!r}: thousands separators go every three digits, "
                             "e.g. 1,234,567.50")
        raise ValueError(f"{value!r} is not a number")
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the patterns above admit only numbers
        raise ValueError(f"{value!r} is not a number") from None


def be_year_to_ce(year: int) -> int:
    """The one era rule: a year of BE_YEAR_FROM or more is Buddhist Era → Christian Era."""
    return year - BE_OFFSET if year >= BE_YEAR_FROM else year


def typed_date(value: Any) -> Any:
    """A date as a person types it: ``YYYY-MM-DD`` or ``D/M/YYYY``, Thai or Arabic digits,
    the year in either era (≥ 2400 is Buddhist Era and converted). Dates and datetimes
    pass through; anything else is left to the field's own parser (which refuses it)."""
    value = blank_to_none(value)
    if not isinstance(value, str):
        return value
    text = ascii_digits(value).strip()
    iso = _ISO_DATE.match(text)
    dmy = _DMY_DATE.match(text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif dmy:
        day, month, year = (int(g) for g in dmy.groups())
    else:
        if "T" in text or " " in text:  # a timestamp: its date part, same rule
            return typed_date(text.replace("T", " ").split(" ", 1)[0])
        raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD (or D/M/YYYY), "
                         "Buddhist-Era years are converted")
    try:
        return dt.date(be_year_to_ce(year), month, day)
    except ValueError:
        raise ValueError(f"{value!r} is not a date of the calendar") from None


def date_param(value: str | None, field: str) -> dt.date | None:
    """A date typed in a query string or a form (not a schema): :func:`typed_date`, with
    its refusal as ``InvalidInput`` naming the field."""
    from archive.errors import InvalidInput

    try:
        day = typed_date(value)
    except ValueError as exc:
        raise InvalidInput([{"field": field, "message": str(exc)}],
                           code="invalid_date") from None
    if day is not None and not isinstance(day, dt.date):
        raise InvalidInput([{"field": field, "message": f"{value!r} is not a date"}],
                           code="invalid_date")
    return day


# A date field as people type it (see typed_date): the same rule in every schema.
TypedDate = Annotated[dt.date | None, BeforeValidator(typed_date)]
TypedDay = Annotated[dt.date, BeforeValidator(typed_date)]   # the same, required


def check_doc_type(value: str | None) -> str | None:
    if value in RENAMED_DOC_TYPES:
        raise ValueError(f"unknown document type {value!r}: it was renamed "
                         f"{RENAMED_DOC_TYPES[value]!r}")
    if value is not None and value not in DOC_TYPES:
        raise ValueError(f"unknown document type; use one of {', '.join(DOC_TYPES)}")
    return value


def check_fiscal_year(value: int | None) -> int | None:
    """A Thai fiscal year in the Buddhist Era; a Christian-Era year gets a hint."""
    value = typed_integer(value)
    if value is None:
        return None
    if 1990 <= value <= 2100:
        raise ValueError(f"fiscal year {value} looks like a Christian-Era year; Thai fiscal years "
                         f"are Buddhist Era (e.g. {value + 543})")
    if not FISCAL_YEAR_MIN <= value <= FISCAL_YEAR_MAX:
        raise ValueError(f"fiscal year (Buddhist Era) must be between {FISCAL_YEAR_MIN} and "
                         f"{FISCAL_YEAR_MAX}")
    return value


def required_text(value: Any, limit: int) -> Any:
    """Free text that must say something (a reason, a title): cleaned, non-empty, bounded."""
    if isinstance(value, str):
        value = clean_text(value, multiline=True)
        if not value:
            raise ValueError("must not be empty")
        if len(value) > limit:
            raise ValueError(f"at most {limit} characters")
    return value


def fiscal_year_problem(value: int, issue_date: dt.date | None, today: dt.date) -> str | None:
    """Why a typed fiscal year is implausible, or None.

    The retention of a record counts from its fiscal year, and the write-once store makes
    a wrong one expensive. A payment's fiscal year may differ from its document's (an
    invoice of September paid in October), but not by more than a year, and no payment is
    made in a fiscal year after the next. Outside that window the uploader must confirm
    (``confirm_fiscal_year``); the mismatch then stays a cross-check warning."""
    next_year = fiscal_year(today) + 1
    if value > next_year:
        return (f"fiscal year {value} is later than the next fiscal year ({next_year}); "
                "correct it, or confirm it with confirm_fiscal_year=true / "
                f"ปีงบประมาณ {value} เกินปีงบประมาณถัดไป ({next_year}): แก้ไข หรือยืนยันด้วย "
                "confirm_fiscal_year=true")
    if issue_date is not None:
        date_year = fiscal_year(issue_date)
        if abs(value - date_year) > 1:
            return (f"fiscal year {value} is more than one year from the fiscal year of the "
                    f"issue date {issue_date.isoformat()} ({date_year}); correct it, or confirm "
                    "it with confirm_fiscal_year=true / "
                    f"ปีงบประมาณ {value} ห่างจากปีงบประมาณของวันที่เอกสาร ({date_year}) เกินหนึ่งปี: "
                    "แก้ไข หรือยืนยันด้วย confirm_fiscal_year=true")
    return None
