"""Run the registered rules over one document and build the report."""

from __future__ import annotations

import io
import os
import re
from itertools import islice
from pathlib import Path
from typing import IO, Any

import pikepdf

from archive.messages import Message
from archive.messages import message as msg
from archive.pdfa import pdfobj as po
from archive.pdfa import rules as _rules  # noqa: F401 - registers every rule
from archive.pdfa import xmp_extensions as _xmp_extensions  # noqa: F401 - used by rules
from archive.pdfa.context import DocContext
from archive.pdfa.flavours import FLAVOURS, from_claim, normalise
from archive.pdfa.registry import rules_for
from archive.pdfa.report import Failure, PdfaReport
from archive.pdfa.xmp import PDFAID, Xmp

Source = str | os.PathLike[str] | bytes | IO[bytes]

_STREAM_NAME = re.compile(r"^stream <[^>]*>:?\s*|^[^:]*\.pdf:\s*")

# Enough occurrences of one rule to act on; more only bloats the stored report.
MAX_PER_RULE = 20

# Where "no PDF/A claim" is reported: ISO 19005-2/-3 6.6.4 test 1 (the same requirement is
# ISO 19005-1 6.7.11-1 and ISO 19005-4 6.7.3-1).
NO_CLAIM = Failure(
    part=None, clause="6.6.4", test=1,
    message=msg("pdfa.no_claim", "The file does not claim PDF/A conformance: its XMP "
                    "metadata has no valid pdfaid:part / pdfaid:conformance (ISO 19005-1 "
                    "6.7.11, -2/-3 6.6.4, -4 6.7.3). Convert it to PDF/A, or check it against "
                    "a chosen flavour."),
)


def _read(source: Source) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), None
    if isinstance(source, str | os.PathLike):
        return Path(source).read_bytes(), os.fspath(source)
    data = source.read()
    return bytes(data), getattr(source, "name", None) if isinstance(
        getattr(source, "name", None), str) else None


def claimed_flavour(xmp: Xmp) -> str | None:
    """The flavour claimed by ``pdfaid:part`` and ``pdfaid:conformance``, or None."""
    if not xmp.ok:
        return None
    part = xmp.simple(PDFAID, "part")
    conformance = xmp.simple(PDFAID, "conformance")
    return from_claim(part, conformance)


def check_pdfa(source: Source, flavour: str = "auto", *, path: str | None = None,
               _depth: int = 0) -> PdfaReport:
    """Check ``source`` (a path, bytes or a binary stream) against a PDF/A flavour.

    ``flavour`` is one of ``1a 1b 2a 2b 2u 3a 3b 3u 4 4e 4f`` or ``auto`` (the flavour
    the file claims in its XMP metadata). Never raises for a bad file: an unreadable one
    gives a report with ``error`` set and ``compliant`` false.
    """
    target = None if flavour == "auto" else normalise(flavour)
    try:
        data, source_path = _read(source)
    except OSError as exc:
        return PdfaReport(path=path, flavour=target, error=msg(
            "pdfa.error.read", "cannot read the file: {error}", error=str(exc)))
    path = path or source_path
    try:
        # Page attributes stay where the file puts them: rules read inheritance through
        # DocContext.inherited (resources inherited from the page tree are a finding).
        # Reading the page list still rejects a broken page tree (a loop) as unreadable.
        pdf = pikepdf.open(io.BytesIO(data), inherit_page_attributes=False)
        try:
            len(pdf.pages)
        except Exception:
            pdf.close()
            raise
    except pikepdf.PasswordError:
        return PdfaReport(
            path=path, flavour=target,
            error=msg("pdfa.error.encrypted", "the file is encrypted with a password"),
            failures=[Failure(None, "6.1.3", 2, msg(
                "pdfa.encrypted", "The file is encrypted; PDF/A forbids encryption (ISO 19005 "
                "6.1.3). Save an unencrypted copy."))])
    except Exception as exc:  # noqa: BLE001 - any parser failure is a clean error
        reason = _STREAM_NAME.sub("", str(exc)).strip() or type(exc).__name__
        return PdfaReport(path=path, flavour=target, error=msg(
            "pdfa.error.unreadable", "not a readable PDF: {reason}", reason=reason))
    with pdf:
        try:
            return _check_open(data, pdf, target, path, _depth)
        except (MemoryError, RecursionError) as exc:
            return PdfaReport(path=path, flavour=target,
                              error=msg("pdfa.error.complex", "the file is too complex to "
                                        "check ({error})", error=type(exc).__name__))


def _check_open(data: bytes, pdf: pikepdf.Pdf, target: str | None, path: str | None,
                depth: int) -> PdfaReport:
    ctx = DocContext(data, pdf, path=path, depth=depth)
    claimed = claimed_flavour(ctx.xmp)
    if target is None:
        if claimed is None:
            return PdfaReport(path=path, claimed=None, flavour=None, compliant=False,
                              failures=[NO_CLAIM])
        target = claimed
    ctx.set_flavour(target)
    failures = run_rules(ctx)
    return PdfaReport(path=path, claimed=claimed, flavour=target, compliant=not failures,
                      failures=failures)


def run_rules(ctx: DocContext) -> list[Failure]:
    failures: list[Failure] = []
    for r in rules_for(ctx.flavour):
        try:
            found = iter(r.check(ctx))
            # Most rules find nothing: take the first issue before building a list.
            first = next(found, None)
            if first is None:
                continue
            items = [first, *islice(found, MAX_PER_RULE)]
        except Exception as exc:  # noqa: BLE001 - a broken object must not pass silently
            failures.append(Failure(r.part, r.clause, r.test, msg(
                "pdfa.not_checkable", "Could not be checked ({error}); requirement: "
                "{requirement}", error=f"{type(exc).__name__}: {exc}",
                requirement=r.description)))
            continue
        more = len(items) > MAX_PER_RULE
        for n, item in enumerate(items[:MAX_PER_RULE]):
            message = item.message
            if more and n == MAX_PER_RULE - 1:
                message = (msg("pdfa.more", "{message} (further occurrences not listed)",
                               message=message) if isinstance(message, Message)
                           else message + " (further occurrences not listed)")
            page = item.page + 1 if item.page is not None else None
            failures.append(Failure(r.part, r.clause, r.test, message, item.obj, page))
    return failures


def object_number(obj: Any) -> int | None:
    return po.objgen(obj)[0] or None


def _warm() -> None:
    """Build the per-flavour rule lists at import, so that sandboxed children forked from
    a process that imported the checker start with them ready."""
    for flavour in FLAVOURS:
        rules_for(flavour)


_warm()
