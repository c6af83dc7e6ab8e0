"""PDF signatures (PAdES / PKCS#7 and document time stamps), evaluated with pyHanko.

Integrity and trust are separate answers. Integrity: the bytes in the signature's
/ByteRange hash to the signed digest and the signature value verifies with the signer's
certificate. Coverage: whether that byte range is the whole file or an earlier revision
(later incremental updates are then described by pyHanko's modification analysis). Trust:
only against the configured roots, nothing fetched.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from archive.inspection.report import Finding, SignatureReport
from archive.inspection.trust import (
    NOT_CHECKED,
    TRUSTED,
    UNTRUSTED,
    quiet_pyhanko_logs,
    subject_of,
)
from archive.inspection.trust import validation_context as make_context

MAX_SIGNATURES = 50

_COVERAGE = {
    SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
    SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "partial",
    SignatureCoverageLevel.UNCLEAR: "unclear",
}


class PdfSignaturesUnreadable(Exception):
    """The PDF's signatures cannot be enumerated at all (encrypted, broken structure)."""


def verify_pdf_signatures(path: str | Path,
                          trust_roots: Sequence[bytes] = ()) -> list[SignatureReport]:
    """One report per signature field that holds a signature; [] for unsigned PDFs."""
    quiet_pyhanko_logs()
    if not mentions_byte_range(path):
        return []
    with open(path, "rb") as handle:
        try:
            reader = PdfFileReader(handle, strict=False)
            if reader.encrypted:
                result = reader.decrypt("")
                if not getattr(result, "status", None) or result.status.name == "FAILED":
                    raise PdfSignaturesUnreadable("PDF is encrypted; signatures not evaluated")
            signatures = list(reader.embedded_signatures)[:MAX_SIGNATURES]
        except PdfSignaturesUnreadable:
            raise
        except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds on broken files
            raise PdfSignaturesUnreadable(
                f"signatures cannot be read: {type(exc).__name__}: {exc}") from exc
        return [_evaluate(sig, trust_roots) for sig in signatures]


def mentions_byte_range(path: str | Path, chunk: int = 1 << 20) -> bool:
    """Whether the file contains ``/ByteRange`` anywhere.

    A signature dictionary cannot sit in a compressed object stream (its /Contents is
    patched in place at a known offset), so a file without these bytes has no signature;
    this keeps unsigned, encrypted or broken PDFs away from the signature parser.
    """
    needle = b"/ByteRange"
    tail = b""
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            if needle in tail + block:
                return True
            tail = block[-len(needle):]
    return False


def _evaluate(sig: EmbeddedPdfSignature, trust_roots: Sequence[bytes]) -> SignatureReport:
    is_timestamp = sig.sig_object_type == "/DocTimeStamp"
    report = SignatureReport(kind="pdf_timestamp" if is_timestamp else "pdf", source="file",
                             field_name=str(sig.field_name) if sig.field_name else None)
    subfilter = sig.sig_object.get("/SubFilter")
    report.details["subfilter"] = str(subfilter) if subfilter is not None else None
    try:
        cert = sig.signer_cert
        report.signer = subject_of(cert.dump())
        report.signer_certificate_sha256 = hashlib.sha256(cert.dump()).hexdigest()
    except Exception as exc:  # noqa: BLE001
        report.details["signer_certificate_error"] = f"{type(exc).__name__}: {exc}"
    try:
        claimed = sig.self_reported_timestamp
    except Exception:  # noqa: BLE001
        claimed = None
    if claimed is not None:
        report.signing_time = claimed.isoformat()
        report.signing_time_source = "claimed by signer (signingTime attribute or /M)"

    context = make_context(trust_roots)
    try:
        if is_timestamp:
            status: Any = asyncio.run(async_validate_pdf_timestamp(
                sig, validation_context=context))
        else:
            status = asyncio.run(async_validate_pdf_signature(
                sig, signer_validation_context=context, ts_validation_context=context))
    except Exception as exc:  # noqa: BLE001 - a broken CMS blob is a finding, not a crash
        report.integrity = "failed"
        report.reason = f"signature cannot be validated: {type(exc).__name__}: {exc}"
        return report

    if not status.intact:
        report.integrity = "failed"
        report.reason = ("digest mismatch: the signed byte range was changed after signing")
    elif not status.valid:
        report.integrity = "failed"
        report.reason = "signature value does not verify with the signer's certificate"
    else:
        report.integrity = "valid"
    report.coverage = _COVERAGE.get(status.coverage, str(status.coverage))
    if status.modification_level is not None:
        report.later_changes = status.modification_level.name.lower()
    report.later_changes_allowed = getattr(status, "docmdp_ok", None)
    if is_timestamp:
        report.signing_time = status.timestamp.isoformat()
        report.signing_time_source = "document time stamp"
    else:
        report.timestamp = _timestamp(status.timestamp_validity, trust_roots)
        if status.content_timestamp_validity is not None:
            report.details["content_timestamp"] = _timestamp(
                status.content_timestamp_validity, trust_roots)
    _coverage_findings(report)
    if trust_roots:
        report.trust = TRUSTED if status.trusted else UNTRUSTED
        if not status.trusted:
            report.trust_reason = f"no valid path to a configured root ({status.summary()})"
    else:
        report.trust, report.trust_reason = NOT_CHECKED, "no trust roots configured"
    return report


def _coverage_findings(report: SignatureReport) -> None:
    if report.coverage in ("partial", "unclear"):
        report.findings.append(Finding(
            "coverage", "warning",
            f"the signed byte range does not cover the file cleanly ({report.coverage}); "
            "bytes outside it are not protected by this signature"))
    if report.later_changes_allowed is False:
        report.findings.append(Finding(
            "later_changes", "warning",
            f"the file was changed after this signature ({report.later_changes}) in a way "
            "its signer did not permit"))


def _timestamp(ts: Any, trust_roots: Sequence[bytes]) -> dict[str, Any]:
    if ts is None:
        return {"present": False}
    return {
        "present": True,
        "time": ts.timestamp.isoformat(),
        "integrity": "valid" if ts.intact and ts.valid else "failed",
        "trust": (TRUSTED if ts.trusted else UNTRUSTED) if trust_roots else NOT_CHECKED,
    }
