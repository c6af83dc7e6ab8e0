"""Thai domain facts: Buddhist-Era years, the government fiscal year, the 13-digit tax ID."""

from __future__ import annotations

import datetime as dt

BE_OFFSET = 543
# A year this large is a Buddhist-Era year (2400 BE = 1857 CE; no CE year the archive sees
# comes near it): the one rule for every date a person types (README, "Dates").
BE_YEAR_FROM = 2400

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_THAI_DIGITS = str.maketrans(THAI_DIGITS, "0123456789")


def to_be(year_ce: int) -> int:
    return year_ce + BE_OFFSET


def to_ce(year_be: int) -> int:
    return year_be - BE_OFFSET


def fiscal_year(day: dt.date) -> int:
    """The Thai government fiscal year (BE) containing ``day``.

    It runs 1 October – 30 September and is named by the BE year in which it ends:
    FY 2568 = 1 Oct 2567 (2024-10-01 CE) – 30 Sep 2568 (2025-09-30 CE).
    """
    return to_be(day.year) + (1 if day.month >= 10 else 0)


def fiscal_year_bounds(fy_be: int) -> tuple[dt.date, dt.date]:
    """First and last day (CE dates) of fiscal year ``fy_be``."""
    end_ce = to_ce(fy_be)
    return dt.date(end_ce - 1, 10, 1), dt.date(end_ce, 9, 30)


def ascii_digits(text: str) -> str:
    """Thai numerals (๐–๙) as ASCII digits; everything else unchanged."""
    return text.translate(_THAI_DIGITS)


def tax_id_check_digit(first12: str) -> int:
    """Check digit of a 13-digit Thai tax / citizen ID from its first 12 digits
    (DESIGN.md): ``(11 - sum(d[i] * (13 - i) for i in 0..11) mod 11) mod 10``."""
    total = sum(int(d) * (13 - i) for i, d in enumerate(ascii_digits(first12)))
    return (11 - total % 11) % 10


def is_valid_tax_id(value: str) -> bool:
    """13 digits (ASCII or Thai numerals) whose last is the check digit of the others.
    The one implementation: typed metadata and tax IDs read from e-invoices use it."""
    digits = ascii_digits(value)
    return (len(digits) == 13 and digits.isascii() and digits.isdigit()
            and tax_id_check_digit(digits[:12]) == int(digits[12]))


def format_date_be(day: dt.date) -> str:
    """``day`` as d/m/yyyy with the year in the Buddhist Era (as shown in Thai UIs)."""
    return f"{day.day}/{day.month}/{to_be(day.year)}"
