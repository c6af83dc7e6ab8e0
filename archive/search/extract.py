"""Text from stored files, for full-text search: a PDF's text layer or an XML's character data.

The files come from strangers, so the parsing runs in a sandboxed child process
(:func:`archive.sandbox.run_limited`: CPU, memory and wall-time limits) and XML is parsed
with :func:`archive.inspection.safexml.parse_untrusted` (no network, no entities, no DTDs).
Whatever comes out is normalised the way the search normalises queries
(:func:`normalise`): NFC, no invisible or control characters, white space collapsed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from archive.sandbox import Limits, SandboxError, run_limited
from archive.textnorm import clean_text, thai_search_form

# Enough for any receipt or invoice; a 2,000-page scan with a text layer is cut here.
MAX_CHARS = 1_000_000
MAX_PAGES = 2_000
LIMITS = Limits(cpu_seconds=30, wall_seconds=60.0, memory_bytes=1 << 30)

PDF_TYPES = ("application/pdf",)
XML_TYPES = ("application/xml", "text/xml")


@dataclass(frozen=True)
class Extracted:
    """The outcome for one file: text (possibly empty), or why there is none."""

    extractor: str            # "pdfium", "xml", "none" (a type without text), …
    text: str | None = None
    error: str | None = None
    truncated: bool = False


def normalise(raw: str) -> str:
    """The search form of text, for indexing and for queries alike: NFC, without
    zero-width and control characters, every run of white space (line breaks too) one
    space, and the Thai normalisation (:func:`archive.textnorm.thai_search_form`: sara am
    composed, tone marks and thanthakhat after the vowel, Thai digits as Arabic), so that
    ``จำ`` finds ``จํา``, ``ที่`` finds ``ท่ี`` and ``12500`` finds ``๑๒๕๐๐``."""
    return thai_search_form(clean_text(unicodedata.normalize("NFC", raw)))


def extract_file(path: str, media_type: str, *, limits: Limits = LIMITS) -> Extracted:
    """Extract and normalise the text of the file at ``path`` in a limited child process."""
    if media_type in PDF_TYPES:
        job, extractor = _pdf_text, "pdfium"
    elif media_type in XML_TYPES:
        job, extractor = _xml_text, "xml"
    else:
        return Extracted("none", text="")
    try:
        raw, error, truncated = run_limited(job, path, limits=limits)
    except SandboxError as exc:
        return Extracted(extractor, error=f"{exc.kind}: {exc.detail.splitlines()[0]}")
    if error is not None:
        return Extracted(extractor, error=error)
    return Extracted(extractor, text=normalise(raw), truncated=truncated)


# -- in the child process --------------------------------------------------------------

def _pdf_text(path: str) -> tuple[str, str | None, bool]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        return "", f"unreadable PDF: {exc}", False
    parts: list[str] = []
    total = 0
    truncated = len(pdf) > MAX_PAGES
    try:
        for index in range(min(len(pdf), MAX_PAGES)):
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
                page.close()
            parts.append(text)
            total += len(text)
            if total >= MAX_CHARS:
                truncated = True
                break
    finally:
        pdf.close()
    return "\n".join(parts)[:MAX_CHARS], None, truncated


def _xml_text(path: str) -> tuple[str, str | None, bool]:
    from archive.inspection.safexml import XMLRejected, parse_untrusted

    with open(path, "rb") as handle:
        data = handle.read()
    try:
        tree = parse_untrusted(data)
    except XMLRejected as exc:
        return "", f"{exc.code}: {exc.message}", False
    parts: list[str] = []
    total = 0
    for chunk in tree.getroot().itertext():
        chunk = chunk.strip()
        if chunk:
            parts.append(chunk)
            total += len(chunk) + 1
            if total >= MAX_CHARS:
                return " ".join(parts)[:MAX_CHARS], None, True
    return " ".join(parts), None, False
