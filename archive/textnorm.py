"""Normalising text that users and files hand us: NFC, no control or bidi-override tricks,
and the one Thai normalisation that indexing and querying share (:func:`thai_search_form`)."""

from __future__ import annotations

import re
import unicodedata

# Bidi overrides/isolates and zero-width characters make a name display differently from
# what it is ("invoice\u202Efdp.exe"); control characters break logs and headers.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFC-normalised, trimmed, without control or invisible formatting characters.

    Runs of whitespace collapse to one space, except that ``multiline`` text keeps its
    line breaks.
    """
    value = unicodedata.normalize("NFC", value)
    value = _INVISIBLE.sub("", value)
    if multiline:
        lines = (" ".join(_CONTROL.sub(" ", line).split()) for line in value.splitlines())
        return "\n".join(lines).strip()
    return " ".join(_CONTROL.sub(" ", value).split())


def safe_filename(name: str | None) -> str:
    """The last path component of a client-supplied file name, made harmless.

    Path separators (both kinds), ``..``, control and bidi-override characters are removed;
    the result is NFC and at most 255 characters (keeping the extension).
    """
    if not name:
        return "unnamed"
    name = unicodedata.normalize("NFC", name)
    name = _INVISIBLE.sub("", name)
    name = _CONTROL.sub("", name)
    name = name.replace("\\", "/").split("/")[-1].strip().strip(".")
    if not name:
        return "unnamed"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 255 - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else name[:255]
    return name


# -- Thai for search ---------------------------------------------------------------------
#
# NFC alone does not make equal what Thai writers and PDF text layers treat as equal:
#
# * sara am (ำ, U+0E33) is often written as nikhahit + sara aa (ํ + า): NFC does not
#   compose them (ำ has only a compatibility decomposition);
# * Thai upper vowels (ั ิ ี ึ ื) have combining class 0, so NFC keeps a tone mark typed
#   before the vowel (ท + ่ + ี) in that order, while the canonical order (the order of
#   WTT 2.0 / TIS 1566 input sequences, and of every Thai keyboard's output) is
#   consonant + vowel + tone mark (ท + ี + ่); likewise thanthakhat (์) after a vowel and a
#   tone mark before the nikhahit of sara am (น + ้ + ำ);
# * Thai digits (๐–๙) and Arabic digits write the same numbers.
#
# The rule is a list of plain substring replacements applied in order, so that Python
# (queries, extracted text) and SQL (the databases' folding of metadata, migration 0080)
# apply exactly the same one: archive.search builds its SQL from THAI_SEARCH_REPLACEMENTS.

_TONES = "\u0e48\u0e49\u0e4a\u0e4b"                  # ่ ้ ๊ ๋
_UPPER_VOWELS = "\u0e31\u0e34\u0e35\u0e36\u0e37"    # ั ิ ี ึ ื
_LOWER_VOWELS = "\u0e38\u0e39"                        # ุ ู
_THANTHAKHAT = "\u0e4c"                               # ์
_NIKHAHIT, _SARA_AA, _SARA_AM = "\u0e4d", "\u0e32", "\u0e33"

THAI_SEARCH_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    # a mark above typed before the vowel it sits on: vowel first
    *((m + v, v + m) for m in _TONES + _THANTHAKHAT for v in _UPPER_VOWELS),
    # thanthakhat typed before a lower vowel (NFC already orders tone marks after them)
    *((_THANTHAKHAT + v, v + _THANTHAKHAT) for v in _LOWER_VOWELS),
    # nikhahit before the tone mark (น ํ ้ า), and a tone mark after a composed sara am
    *((_NIKHAHIT + t, t + _NIKHAHIT) for t in _TONES),
    # sara am composed, then a tone mark typed after it put before it
    (_NIKHAHIT + _SARA_AA, _SARA_AM),
    *((_SARA_AM + t, t + _SARA_AM) for t in _TONES),
    # Thai digits as Arabic
    *((chr(0x0E50 + d), str(d)) for d in range(10)),
)


def thai_search_form(value: str) -> str:
    """``value`` (NFC already) with the Thai replacements applied: sara am composed,
    marks in canonical order, Thai digits as Arabic digits."""
    for old, new in THAI_SEARCH_REPLACEMENTS:
        if old in value:
            value = value.replace(old, new)
    return value


def thai_search_form_sql(expr: str) -> str:
    """The SQL (PostgreSQL and SQLite alike) of :func:`thai_search_form` applied to
    ``expr``: the same replacements, nested in the same order."""
    for old, new in THAI_SEARCH_REPLACEMENTS:
        expr = f"replace({expr}, '{old}', '{new}')"
    return expr
