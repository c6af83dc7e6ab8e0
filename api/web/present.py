"""How things are shown on the pages: Buddhist-Era dates, amounts, labels, the navigation,
error messages and validation problems in the reader's language, PDF/A failures in plain
words."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from api.web import i18n
from archive.accounts.principal import Principal
from archive.errors import ArchiveError
from archive.thai import to_be

BANGKOK = ZoneInfo("Asia/Bangkok")
MONTHS_TH = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.",
             "ต.ค.", "พ.ย.", "ธ.ค.")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(BANGKOK).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        text = str(value)
        return (dt.datetime.fromisoformat(text).astimezone(BANGKOK).date() if "T" in text
                else dt.date.fromisoformat(text[:10]))
    except ValueError:
        return None


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


class Formatter:
    """Formatting for one language; dates are always in the Buddhist Era, times in
    Thailand's time zone."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def date(self, value: Any) -> str:
        day = _as_date(value)
        if day is None:
            return "" if value in (None, "") else str(value)
        if self.lang == "th":
            return f"{day.day} {MONTHS_TH[day.month - 1]} {to_be(day.year)}"
        return f"{day.day} {MONTHS_EN[day.month - 1]} {to_be(day.year)} BE"

    def datetime(self, value: Any) -> str:
        when = _as_datetime(value)
        if when is None:
            return self.date(value)
        local = when.astimezone(BANGKOK)
        return f"{self.date(local.date())} {local:%H:%M}"

    def message(self, text: Any) -> str:
        """A service's message (English) in the reader's language, where we have the words."""
        return translate_message(str(text or ""), self.lang)

    def amount(self, value: Any, currency: str | None = None) -> str:
        if value is None or value == "":
            return ""
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        text = f"{number:,.2f}"
        return f"{text} {currency}" if currency else text

    def number(self, value: Any) -> str:
        if value is None:
            return ""
        try:
            return f"{int(value):,}"
        except (TypeError, ValueError):
            return str(value)

    def size(self, value: Any) -> str:
        if value is None:
            return ""
        n = float(value)
        for unit in ("B", "KB", "MB", "GB"):
            if n < 1024 or unit == "GB":
                return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
            n /= 1024
        return str(value)

    def label(self, kind: str, code: Any) -> str:
        """A code (document type, role, status …) in the reader's language."""
        if code is None:
            return ""
        names = i18n.LABELS.get(kind, {}).get(str(code))
        if names is None:
            return str(code)
        return names[0] if self.lang == "th" else names[1]

    def field(self, name: str) -> str:
        return self.label("field", name)

    def yesno(self, value: Any) -> str:
        if value is None:
            return "–"
        return i18n.translator(self.lang)("yes" if value else "no")


# -- navigation ------------------------------------------------------------------------

# (path, label, capability needed)
_NAV = (
    ("/upload", "Upload", "evidence.create"),
    ("/search", "Search", "evidence.search"),
    ("/vouchers", "Vouchers", "disbursements.read"),
    ("/retention", "Retention", "retention.read"),
    ("/retention/holds", "Legal holds", "retention.read"),
    ("/retention/lists", "Disposition", "retention.read"),
    ("/admin/orgs", "Organisations", "orgs.manage"),
    ("/admin/users", "Users", "users.manage"),
    ("/admin/health", "System health", "system.health"),
)


def nav(principal: Principal) -> list[tuple[str, str]]:
    return [(path, label) for path, label, cap in _NAV if principal.can(cap)]


def home_of(principal: Principal) -> str:
    items = nav(principal)
    return items[0][0] if items else "/account"


# -- errors and validation problems ----------------------------------------------------

def translate_message(message: str, lang: str) -> str:
    """A service's (English) message in the reader's language: known messages by pattern,
    anything else as it is."""
    if lang == "en":
        return message
    for pattern, thai in i18n.MESSAGES:
        match = pattern.search(message)
        if match:
            # a part may itself be a message (a reason quoted inside another)
            return thai.format(*(translate_message(g, lang) if g else g
                                 for g in match.groups()))
    return message


def field_problems(detail: Any, lang: str) -> list[dict[str, str]]:
    """The API's ``[{"field", "message"}]`` with field labels and messages translated."""
    if not isinstance(detail, list):
        return []
    out = []
    fmt = Formatter(lang)
    for item in detail:
        if not isinstance(item, dict):
            continue
        field = str(item.get("field") or "")
        field = field.split(".")[-1] if field else ""
        message = translate_message(str(item.get("message") or ""), lang)
        if lang == "th" and message == item.get("message"):
            message = f"ข้อมูลไม่ถูกต้อง ({message})"
        out.append({"field": field, "label": fmt.field(field) if field else "",
                    "message": message})
    return out


def error_text(exc: ArchiveError, lang: str) -> str:
    """One sentence for an error: by its code when we have words for it, else its
    detail translated by pattern."""
    tr = i18n.translator(lang)
    known = i18n.ERROR_CODES.get(exc.code)
    detail = exc.detail
    if isinstance(detail, dict):
        detail = detail.get("message", "")
    if isinstance(detail, list):
        return tr(known) if known else tr("Some fields are not valid.")
    raw = str(detail or "")
    text = translate_message(raw, lang)
    if lang == "th" and text != raw:         # a message we have Thai words for
        return text
    if known:
        return f"{tr(known)} ({raw})" if raw else tr(known)
    return text or tr("Something went wrong.")


# -- PDF/A and inspection --------------------------------------------------------------

_CLAUSE_NAME = re.compile(r"^(\d+(?:\.\d+)*)")


def pdfa_failures(pdfa: dict[str, Any] | None, lang: str) -> list[dict[str, Any]]:
    """Failed requirements grouped by clause: what the rule is about (in the reader's
    language), how often, the first message in full and the pages."""
    if not pdfa:
        return []
    fmt = Formatter(lang)
    grouped: dict[str, dict[str, Any]] = {}
    for f in pdfa.get("failures") or []:
        label = f"{f.get('clause')}-{f.get('test')}" if f.get("test") is not None \
            else str(f.get("clause"))
        # A file that claims no flavour is reported against part 2's clauses: the part
        # of each failure says whose numbering it uses.
        flavour = pdfa.get("flavour") or _PART_FLAVOUR.get(f.get("part") or 0)
        g = grouped.setdefault(label, {
            "label": label, "count": 0, "message": f.get("message") or "", "pages": [],
            "topic": fmt.label("pdfa_family", _families(flavour).get(label, "document"))})
        g["count"] += 1
        if f.get("page") and f["page"] not in g["pages"]:
            g["pages"].append(f["page"])
    return list(grouped.values())


_PART_FLAVOUR = {1: "1b", 2: "2b", 3: "3b", 4: "4"}


@functools.lru_cache(maxsize=16)
def _families(flavour: str | None) -> dict[str, str]:
    """clause-test label → rule family (the module the rule lives in) for a flavour."""
    if not flavour:
        return {}
    try:
        from archive.pdfa.registry import rules_for

        return {r.label: r.family for r in rules_for(flavour)}
    except Exception:  # noqa: BLE001 - an unknown flavour just has no topics
        return {}


def pdfa_verdict(pdfa: dict[str, Any] | None) -> str:
    """compliant | not_compliant | not_checked | unreadable"""
    if pdfa is None:
        return "not_checked"
    if pdfa.get("error") and not pdfa.get("failures"):
        return "unreadable"
    return "compliant" if pdfa.get("compliant") else "not_compliant"


FILTERS: dict[str, Any] = {"pdfa_verdict": pdfa_verdict}
