"""``inspect()``: decide what applies to a file, run each inspection in a sandbox, merge.

The calling process only hashes the bytes and sniffs their type; every parser of the
untrusted content (pikepdf, pyHanko, lxml, Pillow) runs in a child process with CPU, memory
and wall-clock limits (:mod:`archive.sandbox`). A child that times out, runs out of memory
or crashes becomes an entry in ``report.errors``; the other sections still report.

The PDF/A check is not run here: it lives in ``archive.pdfa`` and the caller combines both.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import magic

from archive.inspection import sandboxed
from archive.inspection.crosscheck import cross_check
from archive.inspection.report import InspectionError, InspectionReport, InvoiceReport
from archive.inspection.safexml import DEFAULT_XML_LIMITS, XMLLimits
from archive.sandbox import DEFAULT_LIMITS, Limits, SandboxError, run_limited

PDF_TYPES = {"application/pdf", "application/x-pdf"}
XML_TYPES = {"text/xml", "application/xml"}
IMAGE_TYPES = {"image/jpeg", "image/png", "image/tiff"}
MAX_EMBEDDED_XML = 10  # embedded XML files inspected per PDF

# Which invoice becomes "the" invoice of a file when several are found.
_PREFERENCE = {"etax": 0, "cii": 1, "zugferd1": 2, "unknown": 3}


@dataclass(frozen=True)
class InspectionOptions:
    """Knobs for :func:`inspect`; the defaults are what ingest uses."""

    limits: Limits = DEFAULT_LIMITS
    xml_limits: XMLLimits = DEFAULT_XML_LIMITS
    trust_roots: tuple[bytes, ...] = ()  # PEM or DER certificates; empty = trust not checked


def inspect(path_or_stream: str | os.PathLike[str] | IO[bytes], media_type: str | None = None,
            typed: Mapping[str, Any] | None = None, *,
            options: InspectionOptions | None = None,
            trust_roots: Sequence[bytes] | None = None) -> InspectionReport:
    """Inspect one file and return its report; never raises for bad content.

    ``path_or_stream`` is a path or a binary stream (spooled to a temporary file first).
    ``media_type`` overrides sniffing (python-magic on the first bytes). ``typed`` is the
    uploader's metadata to cross-check (see :mod:`archive.inspection.crosscheck`).
    ``trust_roots`` is a shortcut for ``options.trust_roots``.
    """
    options = options or InspectionOptions()
    if trust_roots is not None:
        options = InspectionOptions(options.limits, options.xml_limits, tuple(trust_roots))
    with _local_file(path_or_stream) as path:
        size, sha256, head = _hash(path)
        name = os.fspath(path_or_stream) if isinstance(path_or_stream, str | os.PathLike) \
            else getattr(path_or_stream, "name", None)
        report = InspectionReport(media_type=None, size=size, sha256=sha256,
                                  name=os.path.basename(name) if isinstance(name, str) else None)
        report.media_type = _media_type(media_type, head)
        kind = _family(report.media_type, head)
        if kind == "pdf":
            _inspect_pdf(str(path), report, options)
        elif kind == "xml":
            _inspect_xml(str(path), report, options)
        elif kind == "image":
            _inspect_image(str(path), report, options)
        if report.invoice is not None and report.invoice.fields is not None:
            report.cross_check = cross_check(typed, report.invoice.fields)
        return report


# --------------------------------------------------------------------------- input


class _local_file:  # noqa: N801 - used as a context manager
    """A filesystem path for the input; streams are spooled to a temporary file."""

    def __init__(self, source: str | os.PathLike[str] | IO[bytes]) -> None:
        self.source = source
        self.temp: str | None = None

    def __enter__(self) -> Path:
        if isinstance(self.source, str | os.PathLike):
            return Path(self.source)
        fd, self.temp = tempfile.mkstemp(prefix="inspect-")
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(self.source, out, 1 << 20)
        return Path(self.temp)

    def __exit__(self, *exc: object) -> None:
        if self.temp is not None:
            os.unlink(self.temp)


def _hash(path: Path) -> tuple[int, str, bytes]:
    digest = hashlib.sha256()
    size = 0
    head = b""
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            if not head:
                head = block[:8192]
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest(), head


def _media_type(given: str | None, head: bytes) -> str:
    if given:
        return given.split(";")[0].strip().lower()
    if not head:
        return "application/x-empty"
    sniffed = magic.from_buffer(head, mime=True)
    if sniffed == "text/plain" and _looks_like_xml(head):
        return "text/xml"
    return sniffed


def _looks_like_xml(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _family(media_type: str, head: bytes) -> str | None:
    if media_type in PDF_TYPES:
        return "pdf"
    if media_type in XML_TYPES or media_type.endswith("+xml"):
        return "xml"
    if media_type in IMAGE_TYPES:
        return "image"
    return None


# --------------------------------------------------------------------------- sections


def _run(report: InspectionReport, section: str, options: InspectionOptions,
         fn: Callable[..., sandboxed.JobResult], *args: Any) -> Any:
    """Run a job in the sandbox; errors land in the report, the value is returned."""
    try:
        result = run_limited(fn, *args, limits=options.limits)
    except SandboxError as exc:
        detail = exc.detail.splitlines()[0] if exc.detail else exc.kind
        report.errors.append(InspectionError(section, exc.kind, detail))
        return None
    report.errors.extend(result.errors)
    return result.value


def _inspect_pdf(path: str, report: InspectionReport, options: InspectionOptions) -> None:
    files = _run(report, "embedded_files", options, sandboxed.pdf_embedded_job, path,
                 options.xml_limits.max_bytes)
    report.embedded_files = [f.info for f in files] if files is not None else None
    invoices: list[InvoiceReport] = []
    report.signatures = []
    xml_files = [f for f in files or [] if f.data is not None][:MAX_EMBEDDED_XML]
    for item in xml_files:
        outcome = _run(report, "xml", options, sandboxed.xml_job, item.data, None,
                       f"embedded:{item.info.name}", options.trust_roots, options.xml_limits)
        if outcome is None:
            continue
        invoice = outcome.invoice
        if invoice is not None and (invoice.kind != "unknown" or _invalid(invoice)):
            invoices.append(invoice)
        report.signatures.extend(outcome.signatures)
    signatures = _run(report, "signatures", options, sandboxed.pdf_signatures_job, path,
                      options.trust_roots)
    if signatures is not None:
        report.signatures[:0] = signatures
    _choose_invoice(report, invoices)


def _inspect_xml(path: str, report: InspectionReport, options: InspectionOptions) -> None:
    report.signatures = []
    outcome = _run(report, "xml", options, sandboxed.xml_job, None, path, "file",
                   options.trust_roots, options.xml_limits)
    if outcome is None:
        return
    report.signatures = outcome.signatures
    if outcome.invoice is not None:
        _choose_invoice(report, [outcome.invoice])


def _inspect_image(path: str, report: InspectionReport, options: InspectionOptions) -> None:
    report.image = _run(report, "image", options, sandboxed.image_job, path)


def _invalid(invoice: InvoiceReport) -> bool:
    return invoice.validation is not None and invoice.validation.verdict == "invalid"


def _choose_invoice(report: InspectionReport, invoices: list[InvoiceReport]) -> None:
    if not invoices:
        return
    ranked = sorted(invoices, key=lambda inv: _PREFERENCE.get(inv.kind, 9))
    report.invoice = ranked[0]
    report.other_invoices = ranked[1:]
