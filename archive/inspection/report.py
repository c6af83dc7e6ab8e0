"""The inspection report: plain dataclasses that travel between processes and become JSON.

The shape of :meth:`InspectionReport.to_dict` is a contract with the API, the database
and the CLI. Adding a key is compatible; renaming, removing or changing the meaning of one
needs ``REPORT_VERSION`` to go up (and docs/inspection.md to say what changed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from archive.inspection.taxid import TaxRegistration
from archive.jsonable import jsonable
from archive.messages import Message, message

REPORT_VERSION = 1

SEVERITIES = ("info", "warning", "error")


def _fields_dict(obj: Any) -> dict[str, Any]:
    return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


@dataclass
class Finding:
    """Something worth telling a person; ``severity`` is info, warning or error."""

    code: str
    severity: str
    message: str
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class InspectionError:
    """An inspection that could not finish (timeout, memory, unreadable input...)."""

    section: str
    kind: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class EmbeddedFile:
    name: str
    af_relationship: str | None
    mime_subtype: str | None
    size: int | None
    sha256: str | None
    description: str | None
    found_in: list[str] = field(default_factory=list)  # "EmbeddedFiles", "AF", "page 1 AF", ...
    declared_size: int | None = None
    checksum_ok: bool | None = None  # /Params /CheckSum (MD5) compared, when present
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class Party:
    name: str | None
    registration: TaxRegistration | None

    def to_dict(self) -> dict[str, Any]:
        reg = self.registration
        return {
            "name": self.name,
            "tax_id": reg.tax_id if reg else None,
            "branch": reg.branch if reg else None,
            "tax_id_raw": reg.raw if reg else None,
            "tax_id_scheme": reg.scheme if reg else None,
        }


@dataclass
class ReferencedDocument:
    id: str | None
    issue_date: str | None
    type_code: str | None
    relation: str  # "additional" or "invoice"

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class InvoiceFields:
    document_type_code: str | None = None
    document_type_name: str | None = None  # from the standard's code list, Thai and English
    document_name: str | None = None  # as written in the file
    document_number: str | None = None
    issue_date: dt.date | None = None
    issue_datetime_raw: str | None = None
    seller: Party | None = None
    buyer: Party | None = None
    currency: str | None = None
    line_total: Decimal | None = None
    tax_total: Decimal | None = None
    grand_total: Decimal | None = None
    referenced_documents: list[ReferencedDocument] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class ValidationStep:
    """One validation layer: ``status`` is valid, invalid or not_checked."""

    status: str
    against: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None
    # Schematron: each failed rule with the number of places it failed.
    rules: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class InvoiceValidation:
    """``verdict``: valid, invalid or not_validated (no schema shipped for this kind)."""

    verdict: str
    reasons: list[str] = field(default_factory=list)
    schema: ValidationStep | None = None
    schematron: ValidationStep | None = None

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class InvoiceReport:
    """What an e-invoice XML says about itself.

    ``kind``: ``etax`` (ETDA ขมธอ. 3-2560), ``cii`` (UN/CEFACT CII D16B: ZUGFeRD 2 /
    Factur-X), ``zugferd1`` (recognised, not extracted) or ``unknown`` (XML that is no
    e-invoice we know).
    """

    kind: str
    source: str  # "file" or "embedded:<name>"
    root: str | None = None
    document_kind: str | None = None  # e.g. TaxInvoice, Receipt (ETDA) or CrossIndustryInvoice
    standard_version: str | None = None
    guideline: str | None = None
    fields: InvoiceFields | None = None
    validation: InvoiceValidation | None = None
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class SignatureReport:
    """One signature, PDF (``pades``/``doc_timestamp``) or XML (``xades``/``xmldsig``).

    ``integrity``: valid (the signed bytes are unchanged and the signature value verifies
    against the embedded certificate), failed (they are not, see ``reason``) or unknown
    (could not be evaluated). ``trust`` is separate: trusted / untrusted against the
    configured roots, or not_checked when none are configured.
    """

    kind: str
    source: str
    field_name: str | None = None
    signer: str | None = None
    signer_certificate_sha256: str | None = None
    signing_time: str | None = None
    signing_time_source: str | None = None  # "signed_attribute", "xades:SigningTime", ...
    integrity: str = "unknown"
    reason: str | None = None
    coverage: str | None = None  # entire_file, entire_revision, partial, unclear (PDF)
    later_changes: str | None = None  # pyHanko modification level of later revisions
    later_changes_allowed: bool | None = None
    timestamp: dict[str, Any] | None = None
    trust: str = "not_checked"
    trust_reason: str | None = None
    findings: list[Finding] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class ImageReport:
    format: str | None
    width: int | None
    height: int | None
    dpi: list[float] | None  # [x, y]; None when the file does not say
    dpi_status: str  # ok, low, unknown
    frames: int = 1
    mode: str | None = None
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class CrossCheckWarning:
    field: str
    typed: Any
    found: Any
    message: str                  # a Message: its code and parameters go along as "msg"

    def to_dict(self) -> dict[str, Any]:
        out = _fields_dict(self)
        if isinstance(self.message, Message):
            out["msg"] = self.message.as_dict()
        return out


@dataclass
class CrossCheckFill:
    """A value the uploader left empty and the file provides; never overwrites."""

    field: str
    value: Any
    source: str  # where in the report it came from, e.g. "invoice.fields.grand_total"
    filled_from_file: bool = True

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class CrossCheck:
    warnings: list[CrossCheckWarning] = field(default_factory=list)
    fills: list[CrossCheckFill] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass
class InspectionReport:
    """Everything :func:`archive.inspection.inspect` learnt about one file.

    Sections that do not apply to the file's type are ``None`` (not inspected), which is
    different from an empty list (inspected, nothing found).
    """

    media_type: str | None
    size: int | None = None
    sha256: str | None = None
    name: str | None = None
    embedded_files: list[EmbeddedFile] | None = None
    invoice: InvoiceReport | None = None
    other_invoices: list[InvoiceReport] = field(default_factory=list)
    signatures: list[SignatureReport] | None = None
    image: ImageReport | None = None
    cross_check: CrossCheck = field(default_factory=CrossCheck)
    errors: list[InspectionError] = field(default_factory=list)
    report_version: int = REPORT_VERSION

    def problems(self) -> list[Message]:
        """Short reasons this file needs a person's attention (empty: nothing wrong found).

        Errors, an invalid or unreadable invoice XML and a signature whose integrity failed
        count; an untrusted signer, warnings and cross-check disagreements do not.
        """
        out = [message("inspection.error", "{section}: {kind}: {detail}", section=e.section,
                       kind=e.kind, detail=e.message) for e in self.errors]
        for inv in [self.invoice, *self.other_invoices]:
            if inv is not None and inv.validation is not None \
                    and inv.validation.verdict == "invalid":
                why = "; ".join(inv.validation.reasons[:2])
                out.append(message("inspection.invoice_invalid", "invoice ({source}) invalid: "
                                   "{why}", source=inv.source, why=why))
        for sig in self.signatures or []:
            if sig.integrity == "failed":
                out.append(message("inspection.signature_failed", "signature ({where}) "
                                   "integrity failed: {reason}",
                                   where=f"{sig.source} {sig.field_name or ''}".strip(),
                                   reason=sig.reason))
        return out

    def to_dict(self) -> dict[str, Any]:
        data = _fields_dict(self)
        problems = self.problems()
        data["problems"] = [str(p) for p in problems]
        data["problems_msg"] = [p.as_dict() for p in problems]   # their codes and parameters
        return data
