"""Normalising text that users and files hand us: NFC, no control or bidi-override tricks."""

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
