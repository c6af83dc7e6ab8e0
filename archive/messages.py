"""Messages the services give people: a code with parameters, in English or Thai.

A service writes ``message("retention.period.fiscal_year_end", "{years} years after the end
of fiscal year {fy}", years=10, fy=2568)``. The result is a :class:`Message`: a ``str``
(the English sentence, so logs, the API's ``detail`` and the CLI keep working unchanged)
that also carries its code, its English template and its parameters. The pages and the
destruction certificate render it in Thai with :func:`render`.

The translations are a gettext catalog (``archive/locale/th/LC_MESSAGES/archive.po``, the
"archive" domain), with the code as ``msgctxt`` and the English template as ``msgid``;
``pybabel extract -F babel.cfg -k message:1c,2`` finds every message in the sources. The
catalog is compiled in memory when first used (no build step, nothing generated to
commit); a test checks that every message in the code has its Thai, with the same
parameters.
"""

from __future__ import annotations

import functools
import gettext
import io
import json
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "archive"


class Items(tuple[Any, ...]):
    """A list parameter; the template gives the separator as the format spec:
    ``"missing: {groups:; }"`` joins with "; " (", " without a spec)."""

    def __format__(self, spec: str) -> str:
        return (spec or ", ").join(str(x) for x in self)


class Message(str):
    """An English sentence that remembers how it was made (code, template, parameters)."""

    code: str
    template: str
    params: dict[str, Any]

    def __new__(cls, code: str, template: str, params: dict[str, Any]) -> Message:
        self = super().__new__(cls, template.format(**params))
        self.code, self.template, self.params = code, template, params
        return self

    def __getnewargs__(self) -> tuple[str, str, dict[str, Any]]:   # type: ignore[override]
        return (self.code, self.template, self.params)            # copy, pickle

    def as_dict(self) -> dict[str, Any]:
        """``{"code", "params"}`` for JSON (nested messages become dicts too)."""
        return {"code": self.code, "params": {k: _jsonable(v) for k, v in self.params.items()}}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Message):
        return value.as_dict()
    if isinstance(value, Items):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)      # e.g. a PDF name object: its text, as the English shows it


def _revive(value: Any) -> Any:
    if isinstance(value, list):
        return Items(_revive(v) for v in value)
    return from_dict(value) or value


def message(code: str, template: str, /, **params: Any) -> Message:
    """A message: ``code`` names it, ``template`` is its English (``str.format`` fields)."""
    return Message(code, template, params)


def from_dict(data: Any) -> Message | None:
    """The message :meth:`Message.as_dict` wrote (e.g. in a stored report), if it is one
    this version knows; else None (the caller shows the stored English)."""
    if not isinstance(data, dict) or not isinstance(data.get("code"), str):
        return None
    template = templates().get(data["code"])
    params = data.get("params")
    if template is None or not isinstance(params, dict):
        return None
    values = {k: _revive(v) for k, v in params.items()}
    try:
        return Message(data["code"], template, values)
    except (KeyError, IndexError, ValueError):
        return None


def dumps(msg: str, limit: int | None = None) -> str:
    """A message for a text column: JSON of its code and parameters (plain text as is).
    Beyond ``limit`` characters the English text is kept instead, cut to the limit."""
    if isinstance(msg, Message):
        coded = json.dumps(msg.as_dict(), ensure_ascii=False)
        if limit is None or len(coded) <= limit:
            return coded
    return str(msg)[:limit] if limit else str(msg)


def loads(text: str | None) -> str:
    """What :func:`dumps` stored: the message again, or the text of an older row."""
    if text and text.startswith('{"code"'):
        try:
            found = from_dict(json.loads(text))
        except ValueError:
            found = None
        if found is not None:
            return found
    return text or ""


def catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English: the templates themselves)."""
    return load_catalog(LOCALE_DIR, DOMAIN, lang)


@functools.cache
def load_catalog(locale_dir: Path, domain: str, lang: str) -> gettext.NullTranslations:
    """``locale_dir/LANG/LC_MESSAGES/DOMAIN.po`` compiled once (the services' catalog and
    the pages'); English, or a language without a catalog, is the source text itself."""
    path = locale_dir / lang / "LC_MESSAGES" / f"{domain}.po"
    if lang == "en" or not path.exists():
        return gettext.NullTranslations()
    return compile_po(path)


def compile_po(path: Path) -> gettext.GNUTranslations:
    """A ``.po`` file as gettext translations, compiled to ``.mo`` in memory."""
    # Babel only when a catalog is read: the CLI's start-up stays quick.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        cat = read_po(fh)
    buf = io.BytesIO()
    write_mo(buf, cat)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@functools.cache
def templates() -> dict[str, str]:
    """code → English template, from the Thai catalog's entries (for :func:`from_dict`)."""
    from babel.messages.pofile import read_po

    path = LOCALE_DIR / "th" / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as fh:
        return {m.context: m.id for m in read_po(fh) if m.id and m.context
                and isinstance(m.id, str)}


def render(text: Any, lang: str) -> str:
    """``text`` in ``lang``: a :class:`Message` from the catalog, anything else as it is."""
    if not isinstance(text, Message):
        return "" if text is None else str(text)
    if lang == "en":
        return str(text)
    template = catalog(lang).pgettext(text.code, text.template)
    values = {k: _in(v, lang) for k, v in text.params.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):   # a translation with a wrong field
        return str(text)


def _in(value: Any, lang: str) -> Any:
    if isinstance(value, Message):
        return render(value, lang)
    if isinstance(value, Items):
        return Items(_in(v, lang) for v in value)
    return value
