"""Field checks shared by every input schema (uploads, corrections, searches, holds,
schedules), so that the same value gets the same answer — and the same message, which
the web pages translate — wherever it is typed."""

from __future__ import annotations

from typing import Any

from archive.doc_types import DOC_TYPES, RENAMED_DOC_TYPES
from archive.textnorm import clean_text

FISCAL_YEAR_MIN, FISCAL_YEAR_MAX = 2533, 2700


def blank_to_none(value: Any) -> Any:
    """Strings of only spaces count as not given."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def check_doc_type(value: str | None) -> str | None:
    if value in RENAMED_DOC_TYPES:
        raise ValueError(f"unknown document type {value!r}: it was renamed "
                         f"{RENAMED_DOC_TYPES[value]!r}")
    if value is not None and value not in DOC_TYPES:
        raise ValueError(f"unknown document type; use one of {', '.join(DOC_TYPES)}")
    return value


def check_fiscal_year(value: int | None) -> int | None:
    """A Thai fiscal year in the Buddhist Era; a Christian-Era year gets a hint."""
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
