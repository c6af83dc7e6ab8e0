"""PDF/A flavours (ISO 19005 part + conformance level) and how to name them."""

from __future__ import annotations

FLAVOURS: tuple[str, ...] = ("1a", "1b", "2a", "2b", "2u", "3a", "3b", "3u", "4", "4e", "4f")

# Which flavours a part-wide rule applies to.
PART_FLAVOURS: dict[int, tuple[str, ...]] = {
    1: ("1a", "1b"),
    2: ("2a", "2b", "2u"),
    3: ("3a", "3b", "3u"),
    4: ("4", "4e", "4f"),
}


def part_of(flavour: str) -> int:
    return int(flavour[0])


def level_of(flavour: str) -> str:
    """The conformance level letter (``a``, ``b``, ``u``, ``e``, ``f``) or ``""`` for plain 4."""
    return flavour[1:]


def normalise(flavour: str) -> str:
    """Accept ``2b``, ``2B``, ``PDF/A-2b``, ``PDF_A-2b``, ``pdfa-2b`` and return ``2b``."""
    text = flavour.strip().lower()
    for prefix in ("pdf/a-", "pdf_a-", "pdfa-", "pdfa_", "pdfa"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    if text not in FLAVOURS:
        raise ValueError(f"unknown PDF/A flavour {flavour!r}; "
                         f"expected one of {', '.join(FLAVOURS)}")
    return text


def from_claim(part: str | None, conformance: str | None) -> str | None:
    """Flavour from the XMP ``pdfaid:part`` and ``pdfaid:conformance`` values, or None."""
    if part is None:
        return None
    part = part.strip()
    level = (conformance or "").strip().lower()
    candidate = f"{part}{level}"
    return candidate if candidate in FLAVOURS else None


def label(flavour: str) -> str:
    """Human name, e.g. ``PDF/A-2b``."""
    return f"PDF/A-{flavour}"
