"""Field checks shared by every input schema (uploads, corrections, searches, holds,
schedules), so that the same value gets the same answer — and the same message, which
the web pages translate — wherever it is typed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator

from archive.doc_types import DOC_TYPES, RENAMED_DOC_TYPES
from archive.messages import Items, Message, message
from archive.textnorm import clean_text
from archive.thai import BE_OFFSET, BE_YEAR_FROM, ascii_digits, fiscal_year

FISCAL_YEAR_MIN, FISCAL_YEAR_MAX = 2533, 2700


def too_long(limit: int) -> Message:
    return message("input.too_long", "at most {n} characters", n=limit)


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
            raise ValueError(message("input.not_whole_number", "{value} is not a whole number",
                                     value=repr(value)))
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
        raise ValueError(message("input.amount_as_string",
                                 "give amounts as decimal strings, e.g. \"1234.50\""))
    if isinstance(value, int):
        return Decimal(value)
    text = ascii_digits(str(value)).strip()
    if text.startswith("-"):
        raise ValueError(message("input.amount_negative", "amount must not be negative"))
    if not (_PLAIN_NUMBER.match(text) or _GROUPED_NUMBER.match(text)):
        if "," in text and re.match(r"^[\d,]+(?:\.\d+)?$", text):
            raise ValueError(message("input.thousands", "{value}: thousands separators go "
                                     "every three digits, e.g. 1,234,567.50",
                                     value=repr(value)))
        raise ValueError(_not_a_number(value))
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the patterns above admit only numbers
        raise ValueError(_not_a_number(value)) from None


def _not_a_number(value: Any) -> Message:
    return message("input.not_a_number", "{value} is not a number", value=repr(value))


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
        raise ValueError(message("input.not_a_date", "{value} is not a date; use YYYY-MM-DD "
                                 "(or D/M/YYYY), Buddhist-Era years are converted",
                                 value=repr(value)))
    try:
        return dt.date(be_year_to_ce(year), month, day)
    except ValueError:
        raise ValueError(message("input.no_such_date", "{value} is not a date of the calendar",
                                 value=repr(value))) from None


def date_param(value: str | None, field: str) -> dt.date | None:
    """A date typed in a query string or a form (not a schema): :func:`typed_date`, with
    its refusal as ``InvalidInput`` naming the field."""
    from archive.errors import InvalidInput

    try:
        day = typed_date(value)
    except ValueError as exc:
        raise InvalidInput([{"field": field, "message": exc.args[0]}],
                           code="invalid_date") from None
    if day is not None and not isinstance(day, dt.date):
        raise InvalidInput([{"field": field, "message": message(
            "input.not_a_date_short", "{value} is not a date", value=repr(value))}],
            code="invalid_date")
    return day


# A date field as people type it (see typed_date): the same rule in every schema.
TypedDate = Annotated[dt.date | None, BeforeValidator(typed_date)]
TypedDay = Annotated[dt.date, BeforeValidator(typed_date)]   # the same, required


def check_doc_type(value: str | None) -> str | None:
    if value in RENAMED_DOC_TYPES:
        raise ValueError(message("input.doc_type_renamed", "unknown document type {value}: it "
                                 "was renamed {new}", value=repr(value),
                                 new=repr(RENAMED_DOC_TYPES[value])))
    if value is not None and value not in DOC_TYPES:
        raise ValueError(message("input.doc_type", "unknown document type; use one of "
                                 "{types}", types=Items(DOC_TYPES)))
    return value


def check_fiscal_year(value: int | None) -> int | None:
    """A Thai fiscal year in the Buddhist Era; a Christian-Era year gets a hint."""
    value = typed_integer(value)
    if value is None:
        return None
    if 1990 <= value <= 2100:
        raise ValueError(message("input.fiscal_year_ce", "fiscal year {value} looks like a "
                                 "Christian-Era year; Thai fiscal years are Buddhist Era (e.g. "
                                 "{be})", value=value, be=value + 543))
    if not FISCAL_YEAR_MIN <= value <= FISCAL_YEAR_MAX:
        raise ValueError(message("input.fiscal_year_range", "fiscal year (Buddhist Era) must be "
                                 "between {low} and {high}", low=FISCAL_YEAR_MIN,
                                 high=FISCAL_YEAR_MAX))
    return value


def required_text(value: Any, limit: int) -> Any:
    """Free text that must say something (a reason, a title): cleaned, non-empty, bounded."""
    if isinstance(value, str):
        value = clean_text(value, multiline=True)
        if not value:
            raise ValueError(message("input.empty", "must not be empty"))
        if len(value) > limit:
            raise ValueError(too_long(limit))
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
        return message("input.fiscal_year_late", "fiscal year {value} is later than the next "
                       "fiscal year ({next}); correct it, or confirm it with "
                       "confirm_fiscal_year=true / ปีงบประมาณ {value} เกินปีงบประมาณถัดไป "
                       "({next}): แก้ไข หรือยืนยันด้วย confirm_fiscal_year=true",
                       value=value, next=next_year)
    if issue_date is not None:
        date_year = fiscal_year(issue_date)
        if abs(value - date_year) > 1:
            return message("input.fiscal_year_far", "fiscal year {value} is more than one year "
                           "from the fiscal year of the issue date {date} ({date_year}); "
                           "correct it, or confirm it with confirm_fiscal_year=true / "
                           "ปีงบประมาณ {value} ห่างจากปีงบประมาณของวันที่เอกสาร ({date_year}) "
                           "เกินหนึ่งปี: แก้ไข หรือยืนยันด้วย confirm_fiscal_year=true",
                           value=value, date=issue_date.isoformat(), date_year=date_year)
    return None


# pydantic's own refusals, by error type: the English as pydantic says it, a code to say it
# in Thai
def _said(code: str) -> Callable[[str], Message]:
    return {
        "missing": lambda d: message("input.missing", "{detail}", detail=d),
        "integer": lambda d: message("input.integer", "{detail}", detail=d),
        "date": lambda d: message("input.date", "{detail}", detail=d),
        "boolean": lambda d: message("input.boolean", "{detail}", detail=d),
        "uuid": lambda d: message("input.uuid", "{detail}", detail=d),
    }[code]


_PYDANTIC_CODES = {
    "missing": "missing", "int_parsing": "integer", "int_type": "integer",
    "int_from_float": "integer", "date_parsing": "date", "date_from_datetime_parsing": "date",
    "date_type": "date", "bool_parsing": "boolean", "bool_type": "boolean",
    "uuid_parsing": "uuid", "uuid_type": "uuid",
}


def problem_message(err: Mapping[str, Any]) -> str:
    """The message of one pydantic error: the service's own :class:`Message` when a
    validator raised one, else pydantic's English with a code for its type."""
    ctx = err.get("ctx") or {}
    error = ctx.get("error")
    if isinstance(error, ValueError) and error.args and isinstance(error.args[0], Message):
        return error.args[0]
    kind = err.get("type")
    text = str(err.get("msg", "")).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return message("input.unknown_field", "unknown field")
    if kind == "literal_error" and "expected" in ctx:
        return message("input.choice", "Input should be {expected}", expected=ctx["expected"])
    if kind == "too_short" and "min_length" in ctx:
        return message("input.too_few", "{detail}", detail=text, n=ctx["min_length"])
    code = _PYDANTIC_CODES.get(str(kind))
    return _said(code)(text) if code else text
