"""How things are shown on the pages: Buddhist-Era dates, amounts, labels, the navigation,
error messages and validation problems in the reader's language, PDF/A failures in plain
words.

The services' messages reach the pages as :class:`archive.messages.Message` (a code with
parameters; in stored reports as ``{"code", "params"}``) and are rendered from the
catalogs; a stored text without a code (older rows) is shown as it was written."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from api.web import i18n
from archive import clock, messages
from archive.accounts.principal import Principal
from archive.errors import ArchiveError
from archive.messages import Message
from archive.thai import to_be
from archive.validators import typed_date

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

    def date_input(self, value: Any) -> str:
        """A date as a date field shows it: ``3/12/2569`` (Thai) or ``2569-12-03``
        (English), the year in the Buddhist Era; the field accepts these, ISO dates and
        Thai digits back (:func:`archive.validators.typed_date`). Anything that is not a
        date is shown as it was typed."""
        if value is None or value == "":
            return ""
        try:
            day = _as_date(typed_date(value) if isinstance(value, str) else value)
        except ValueError:
            day = None
        if day is None:
            return str(value)
        year = to_be(day.year)
        return f"{day.day}/{day.month}/{year}" if self.lang == "th" else \
            f"{year}-{day.month:02}-{day.day:02}"

    def date_hint(self) -> str:
        """What a date field takes, with today as the example."""
        return i18n.translator(self.lang)("A date of the Buddhist Era, e.g. {example}",
                                          example=self.date_input(clock.today()))

    def datetime(self, value: Any) -> str:
        when = _as_datetime(value)
        if when is None:
            return self.date(value)
        local = when.astimezone(BANGKOK)
        return f"{self.date(local.date())} {local:%H:%M}"

    def message(self, text: Any, coded: Any = None) -> str:
        """A service's message in the reader's language: a :class:`Message`, or the
        ``{"code", "params"}`` a stored report kept beside its English ``text``."""
        return message_text(text, self.lang, coded)

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
        name = i18n.label(kind, code, self.lang)
        return str(code) if name is None else name

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

def message_text(text: Any, lang: str, coded: Any = None) -> str:
    """``text`` in ``lang``: rendered from the catalog when it is a :class:`Message` or
    ``coded`` is its stored code and parameters; otherwise as it is."""
    if not isinstance(text, Message) and isinstance(coded, Mapping):
        text = messages.from_dict(coded) or text
    return messages.render(text, lang)


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
        raw = item.get("message")
        message = message_text(raw or "", lang, item.get("msg"))
        if lang == "th" and not isinstance(raw, Message) and not item.get("msg"):
            message = i18n.translator(lang)("Not valid ({detail})", detail=message)
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
    if isinstance(detail, Message):          # the service said it in a code: say that
        return messages.render(detail, lang)
    raw = str(detail or "")
    if known:
        # An English detail would be a foreign sentence on a Thai page: the code says it.
        return f"{tr(known)} ({raw})" if raw and lang == "en" else tr(known)
    return raw or tr("Something went wrong.")


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
        topic = fmt.label("pdfa_family", _families(flavour).get(label, "document"))
        said = messages.from_dict(f.get("msg")) or f.get("message") or ""
        if lang == "en" or isinstance(said, Message):
            text, detail = messages.render(said, lang), ""
        else:   # a rule without Thai words yet: say which requirement, keep its detail
            text = i18n.translator(lang)(
                "The file does not meet requirement {clause} of ISO 19005 ({topic}).",
                clause=label, topic=topic)
            detail = str(said)
        g = grouped.setdefault(label, {
            "label": label, "count": 0, "message": text, "detail": detail, "pages": [],
            "topic": topic})
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
