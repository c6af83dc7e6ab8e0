"""The units of work that run inside sandboxed child processes.

Each job is a module-level function (the sandbox pickles it by reference) that takes
plain arguments and returns a :class:`JobResult`. Expected trouble with the input (not
well-formed XML, an encrypted PDF, an unreadable image) comes back as errors in the result;
only genuine crashes, timeouts and memory exhaustion surface as sandbox errors.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from PIL import Image, UnidentifiedImageError

from archive.inspection.embedded import ExtractedFile, list_embedded
from archive.inspection.image import inspect_image
from archive.inspection.invoice import inspect_invoice_tree, malformed_report
from archive.inspection.ocr import OcrOptions, run_ocr
from archive.inspection.pdfsig import PdfSignaturesUnreadable, verify_pdf_signatures
from archive.inspection.report import InspectionError, InvoiceReport, SignatureReport
from archive.inspection.safexml import DEFAULT_XML_LIMITS, XMLLimits, XMLRejected, parse_untrusted
from archive.inspection.xmlsig import verify_xml_signatures


@dataclass
class JobResult:
    value: Any = None
    errors: list[InspectionError] = field(default_factory=list)


@dataclass
class XmlOutcome:
    invoice: InvoiceReport | None
    signatures: list[SignatureReport]


def xml_job(data: bytes | None, path: str | None, source: str,
            trust_roots: Sequence[bytes] = (),
            xml_limits: XMLLimits = DEFAULT_XML_LIMITS) -> JobResult:
    """Parse XML (bytes, or a file read here), inspect it as an invoice, verify signatures."""
    if data is None:
        assert path is not None
        size = os.path.getsize(path)
        if size > xml_limits.max_bytes:
            return JobResult(errors=[InspectionError(
                "xml", "too_large", f"XML is {size:,} bytes; the limit is "
                f"{xml_limits.max_bytes:,} bytes")])
        with open(path, "rb") as handle:
            data = handle.read()
    try:
        tree = parse_untrusted(data, xml_limits)
    except XMLRejected as exc:
        if exc.code == "malformed":
            where = f" (line {exc.line}, column {exc.column})" \
                if exc.line and "line" not in exc.message else ""
            return JobResult(XmlOutcome(malformed_report(source, exc.message + where), []))
        return JobResult(errors=[InspectionError("xml", exc.code, exc.message)])
    invoice = inspect_invoice_tree(tree, source)
    signatures = verify_xml_signatures(tree, source, trust_roots)
    return JobResult(XmlOutcome(invoice, signatures))


def pdf_embedded_job(path: str, keep_up_to: int = DEFAULT_XML_LIMITS.max_bytes) -> JobResult:
    """List embedded files; keep the bytes of XML ones for invoice inspection."""
    try:
        files: list[ExtractedFile] = list_embedded(path, keep_data_up_to=keep_up_to)
    except pikepdf.PasswordError:
        return JobResult(errors=[InspectionError(
            "embedded_files", "encrypted", "PDF is encrypted; embedded files not listed")])
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        message = str(exc).replace(path, "file").replace("file: ", "")
        return JobResult(errors=[InspectionError(
            "embedded_files", "unreadable", f"PDF structure cannot be read: {message}")])
    return JobResult(files)


def pdf_signatures_job(path: str, trust_roots: Sequence[bytes] = ()) -> JobResult:
    try:
        return JobResult(verify_pdf_signatures(path, trust_roots))
    except PdfSignaturesUnreadable as exc:
        return JobResult(errors=[InspectionError("signatures", "unreadable", str(exc))])


def image_job(path: str) -> JobResult:
    try:
        return JobResult(inspect_image(path))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        return JobResult(errors=[InspectionError("image", "unreadable",
                                                 f"image cannot be read: {exc}")])


def ocr_job(path: str, media_type: str, work_dir: str, options: OcrOptions) -> JobResult:
    """OCR a scan into ``work_dir`` (see :mod:`archive.inspection.ocr`)."""
    return JobResult(run_ocr(path, media_type, work_dir, options))
