"""PDF/A conformance checker (ISO 19005-1/2/3/4) over pikepdf, with per-clause reports.

>>> from archive.pdfa import check_pdfa
>>> report = check_pdfa("invoice.pdf")          # doctest: +SKIP
>>> report.compliant, report.failures[:1]        # doctest: +SKIP

Use :func:`check_pdfa_isolated` for files from strangers (child process with limits).
Rules are registered in :mod:`archive.pdfa.registry`; see its docstring to add one.
"""

from archive.pdfa import rules as _rules  # noqa: F401 - registers every rule
from archive.pdfa.checker import check_pdfa, claimed_flavour
from archive.pdfa.flavours import FLAVOURS
from archive.pdfa.isolated import PDFA_LIMITS, check_pdfa_isolated
from archive.pdfa.registry import coverage, rules_for
from archive.pdfa.report import Failure, PdfaReport
from archive.pdfa.xmp_extensions import read_extensions as _read_extensions  # noqa: F401


def _warm() -> None:
    """Build the per-flavour rule lists at import, so that sandboxed children forked from
    a process that imported this package start with them ready."""
    for flavour in FLAVOURS:
        rules_for(flavour)


_warm()

__all__ = [
    "FLAVOURS",
    "PDFA_LIMITS",
    "Failure",
    "PdfaReport",
    "check_pdfa",
    "check_pdfa_isolated",
    "claimed_flavour",
    "coverage",
    "rules_for",
]
