"""PDF/A conformance checker (ISO 19005-1/2/3/4) over pikepdf, with per-clause reports.

>>> from archive.pdfa import check_pdfa
>>> report = check_pdfa("invoice.pdf")          # doctest: +SKIP
>>> report.compliant, report.failures[:1]        # doctest: +SKIP

Use :func:`check_pdfa_isolated` for files from strangers (child process with limits).
Rules are registered in :mod:`archive.pdfa.registry`; see its docstring to add one.

Importing the package is light (flavours, reports, the sandboxed entry point): a process
that only hands files to sandboxed children never loads the rules. ``check_pdfa`` and the
registry functions load them on first use (:mod:`archive.pdfa.checker` builds every
flavour's rule list as it is imported, so children forked from a process that imported
it start ready).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from archive.pdfa.flavours import FLAVOURS
from archive.pdfa.isolated import PDFA_LIMITS, check_pdfa_isolated
from archive.pdfa.report import Failure, PdfaReport

if TYPE_CHECKING:  # pragma: no cover
    from archive.pdfa.checker import check_pdfa, claimed_flavour
    from archive.pdfa.registry import coverage, rules_for

_LAZY = {"check_pdfa": "archive.pdfa.checker", "claimed_flavour": "archive.pdfa.checker",
         "coverage": "archive.pdfa.registry", "rules_for": "archive.pdfa.registry"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
