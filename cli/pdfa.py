"""``archive pdfa``: PDF/A conformance checks (ISO 19005), the way people use veraPDF.

Written with :mod:`argparse` rather than Typer: ``archive pdfa check`` is started once per
batch of files, and Typer (with Click, Rich and pydantic behind it) took longer to import
than a small batch takes to check. ``cli/launch.py`` calls :func:`main` directly; the
application's Typer app (``cli.main``) hands ``archive pdfa …`` to it unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from archive.pdfa.flavours import FLAVOURS, label, normalise

if TYPE_CHECKING:  # pragma: no cover
    from archive.pdfa.report import PdfaReport

HELP = "PDF/A conformance checks (ISO 19005-1/2/3/4)."
FLAVOUR_HELP = f"auto (the file's own claim) or one of: {' '.join(FLAVOURS)}"


def _flavour(value: str) -> str:
    if value == "auto":
        return value
    try:
        return normalise(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return n


def parser(prog: str = "archive pdfa") -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=prog, description=HELP)
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser(
        "check", help="Check PDF files against PDF/A; exit 0 if all comply, 1 if any does not.",
        description="Check PDF files against PDF/A; exit 0 if all comply, 1 if any does not.")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE",
                       help="PDF files or folders (walked recursively).")
    check.add_argument("-f", "--flavour", type=_flavour, default="auto", help=FLAVOUR_HELP)
    check.add_argument("--format", dest="fmt", choices=("text", "json"), default="text",
                       help="text or json (one object per line).")
    check.add_argument("-j", "--jobs", type=_positive, default=max(1, os.cpu_count() or 1),
                       help="Files checked at the same time (default: the number of cores).")
    check.add_argument("--sandbox", action=argparse.BooleanOptionalAction, default=True,
                       help="Check each file in a child process with limits (10 s CPU, "
                            "1 GB); keep it on for untrusted files.")
    rules = sub.add_parser(
        "rules", help="Coverage of the veraPDF profile rules: implemented / total per flavour.",
        description="Coverage of the veraPDF profile rules: implemented / total per flavour.")
    rules.add_argument("-f", "--flavour", type=_flavour, default=None, help="Only this flavour.")
    rules.add_argument("--missing", dest="missing_only", action="store_true",
                       help="List only missing rules.")
    return top


def main(argv: Sequence[str] | None = None, prog: str = "archive pdfa") -> int:
    """Run ``archive pdfa …``; the exit status (2 for a usage error, as argparse gives)."""
    ap = parser(prog)
    args = ap.parse_args(argv)
    if args.command == "check":
        return check(args.files, flavour=args.flavour, fmt=args.fmt, jobs=args.jobs,
                     sandbox=args.sandbox)
    if args.command == "rules":
        return rules(args.flavour, missing_only=args.missing_only)
    ap.print_help()
    return 2


def _files(paths: list[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            for root, dirs, names in os.walk(p):
                dirs.sort()
                for n in sorted(names):
                    if n.lower().endswith(".pdf"):
                        yield Path(root) / n
        else:
            yield p


def _text(report: PdfaReport) -> str:
    checked = label(report.flavour) if report.flavour else "no flavour"
    claim = f", claims {label(report.claimed)}" if report.claimed else ", no PDF/A claim"
    if report.error:
        head = f"ERROR {report.path}: {report.error}"
    elif report.compliant:
        return f"PASS  {report.path} ({checked}{claim})"
    else:
        n = len(report.failures)
        head = f"FAIL  {report.path} ({checked}{claim}): {n} failure{'s' if n != 1 else ''}"
    lines = [head]
    for f in report.failures:
        ident = f"{f.clause}-{f.test}" if f.test is not None else f.clause
        where = []
        if f.page is not None:
            where.append(f"page {f.page}")
        if f.object is not None:
            where.append(f"obj {f.object}")
        at = f" [{', '.join(where)}]" if where else ""
        lines.append(f"      {ident:<14}{f.message}{at}")
    return "\n".join(lines)


def _light_sandbox() -> None:
    """Children that check PDF/A need the checker only: have the fork server import that
    (not the whole inspection stack it preloads for the workers), and start it now, so
    that it imports while this process lists the files and starts its threads."""
    import multiprocessing
    import multiprocessing.forkserver

    import archive.sandbox  # noqa: F401 - sets its own preload first; ours replaces it

    multiprocessing.get_context("forkserver").set_forkserver_preload(
        ["archive.pdfa", "archive.pdfa.isolated", "archive.pdfa.checker"])
    multiprocessing.forkserver.ensure_running()


def check(files: list[Path], *, flavour: str = "auto", fmt: str = "text", jobs: int = 1,
          sandbox: bool = True) -> int:
    """Check the files (folders walked) and print one report each; the exit status."""
    missing = [str(p) for p in files if not p.exists()]
    if missing:
        print(f"Error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if sandbox:
        _light_sandbox()
    paths = list(_files(files))
    import json
    from concurrent.futures import ThreadPoolExecutor

    from archive.pdfa.isolated import check_pdfa_isolated_each

    def run(chunk: list[Path]) -> list[PdfaReport]:
        if sandbox:
            return list(check_pdfa_isolated_each(chunk, flavour))
        from archive.pdfa.checker import check_pdfa

        return [check_pdfa(path, flavour) for path in chunk]

    all_ok = True
    progress = None
    task = None
    if sys.stderr.isatty() and len(paths) > 1:
        from rich.console import Console
        from rich.progress import Progress

        progress = Progress(console=Console(stderr=True), transient=True)
        progress.start()
        task = progress.add_task("Checking PDF/A", total=len(paths))
    out = sys.stdout
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for report in (r for chunk in pool.map(run, _chunks(paths, jobs)) for r in chunk):
                all_ok = all_ok and report.compliant and report.error is None
                if fmt == "json":
                    out.write(json.dumps(report.to_dict(), ensure_ascii=False) + "\n")
                else:
                    out.write(_text(report) + "\n")
                if progress is not None and task is not None:
                    progress.advance(task)
    finally:
        out.flush()
        if progress is not None:
            progress.stop()
    return 0 if all_ok else 1


def _chunks(paths: list[Path], jobs: int) -> list[list[Path]]:
    """Files in runs of consecutive ones, handed to a sandboxed child at a time: about
    four runs per job keeps the jobs evenly busy, at most 32 files each keeps the output
    flowing."""
    size = max(1, min(32, -(-len(paths) // (4 * jobs))))
    return [paths[i:i + size] for i in range(0, len(paths), size)]


def rules(flavour: str | None, *, missing_only: bool = False) -> int:
    """Print the coverage of the veraPDF profile rules per flavour."""
    from archive.pdfa.registry import coverage

    flavours = list(FLAVOURS) if flavour in (None, "auto") else [flavour]
    for fl in flavours:
        cov = coverage(fl)
        print(f"{label(fl):<10} {len(cov.implemented):>4} / {cov.total:<4} "
              f"({cov.ratio:.0%}) implemented")
        for ident, desc, reason in cov.missing:
            print(f"    missing {ident:<14} {reason}: {desc[:90]}")
        if flavour not in (None, "auto") and not missing_only:
            for ident, family in cov.implemented:
                print(f"    ok      {ident:<14} rules/{family}.py")
    return 0
