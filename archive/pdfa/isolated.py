"""Check untrusted files in a child process with CPU, memory and wall-time limits."""

from __future__ import annotations

import os
from pathlib import Path

from archive.pdfa.report import PdfaReport
from archive.sandbox import Limits, SandboxError, run_limited

PDFA_LIMITS = Limits(cpu_seconds=10, wall_seconds=15.0, memory_bytes=1 << 30)


def _child_check(source: str | bytes, flavour: str, path: str | None) -> PdfaReport:
    # Imported here: the parent only hands files over and needs no rules (a child forked
    # from a server that preloaded archive.pdfa.checker finds it imported already).
    from archive.pdfa.checker import check_pdfa

    return check_pdfa(source, flavour, path=path)


def check_pdfa_isolated(source: str | os.PathLike[str] | bytes, flavour: str = "auto", *,
                        path: str | None = None, limits: Limits = PDFA_LIMITS) -> PdfaReport:
    """Like :func:`check_pdfa`, in a limited child process; never raises.

    A timeout, the memory limit or a crash of the parser gives a report with ``error``
    set (``compliant`` false) instead of an exception or a hung caller.
    """
    arg: str | bytes = source if isinstance(source, bytes) else os.fspath(source)
    if path is None and not isinstance(source, bytes):
        path = os.fspath(source)
    try:
        return run_limited(_child_check, arg, flavour, path, limits=limits)
    except SandboxError as exc:
        what = {"timeout": "the check took too long", "memory": "the check ran out of memory",
                "crashed": "the checker crashed on this file"}.get(exc.kind, exc.kind)
        return PdfaReport(path=path, error=f"{what} ({exc.detail.splitlines()[0]})")
    except Exception as exc:  # noqa: BLE001 - the caller must never see an exception
        return PdfaReport(path=path, error=f"could not run the check: {exc}")


def is_pdf_path(path: Path) -> bool:
    return path.suffix.lower() == ".pdf"
