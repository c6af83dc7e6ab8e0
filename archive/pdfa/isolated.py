"""Check untrusted files in a child process with CPU, memory and wall-time limits."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from archive.pdfa.report import PdfaReport
from archive.sandbox import Limits, SandboxError, run_limited, run_limited_each

# The checker keeps nothing between files (one pikepdf document and its context per call;
# the rule tables are built before the fork): a child may serve many files.
PDFA_LIMITS = Limits(cpu_seconds=10, wall_seconds=15.0, memory_bytes=1 << 30,
                     calls_per_child=256)


def _child_check(source: str | bytes, flavour: str, path: str | None) -> PdfaReport:
    # Imported here: the parent only hands files over and needs no rules (a child forked
    # from a server that preloaded archive.pdfa.checker finds it imported already).
    from archive.pdfa.checker import check_pdfa

    return check_pdfa(source, flavour, path=path)


def _failed(exc: Exception, path: str | None) -> PdfaReport:
    if isinstance(exc, SandboxError):
        what = {"timeout": "the check took too long", "memory": "the check ran out of memory",
                "crashed": "the checker crashed on this file"}.get(exc.kind, exc.kind)
        return PdfaReport(path=path, error=f"{what} ({exc.detail.splitlines()[0]})")
    return PdfaReport(path=path, error=f"could not run the check: {exc}")


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
    except Exception as exc:  # noqa: BLE001 - the caller must never see an exception
        return _failed(exc, path)


def check_pdfa_isolated_each(paths: Sequence[str | os.PathLike[str]], flavour: str = "auto",
                             *, limits: Limits = PDFA_LIMITS) -> Iterator[PdfaReport]:
    """:func:`check_pdfa_isolated` for each file, in order, with the same limits per file,
    handed to a child in one go (no round trip between processes per file)."""
    names = [os.fspath(p) for p in paths]
    done = 0
    try:
        for result in run_limited_each(_child_check, [(n, flavour, n) for n in names],
                                       limits=limits):
            name = names[done]
            done += 1
            yield _failed(result, name) if isinstance(result, Exception) else result
    except Exception as exc:  # noqa: BLE001 - the caller must never see an exception
        for name in names[done:]:
            yield _failed(exc, name)


def is_pdf_path(path: Path) -> bool:
    return path.suffix.lower() == ".pdf"
