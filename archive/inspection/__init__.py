"""Inspect evidence files: e-invoice XML (Thai e-Tax, CII), embedded files, signatures, scans.

Entry point: :func:`inspect` returns an :class:`InspectionReport`; ``report.to_dict()`` is
the JSON stored with the evidence record and served by the inspection endpoint. The PDF/A
check is separate (``archive.pdfa``). See docs/inspection.md for what each verdict means.
"""

from archive.inspection.core import InspectionOptions, inspect
from archive.inspection.crosscheck import cross_check
from archive.inspection.embedded import extract_embedded, list_embedded
from archive.inspection.report import REPORT_VERSION, InspectionReport
from archive.inspection.safexml import XMLLimits, XMLRejected, parse_untrusted

__all__ = [
    "REPORT_VERSION",
    "InspectionOptions",
    "InspectionReport",
    "XMLLimits",
    "XMLRejected",
    "cross_check",
    "extract_embedded",
    "inspect",
    "list_embedded",
    "parse_untrusted",
]
