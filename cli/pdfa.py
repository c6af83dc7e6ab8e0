"""``archive pdfa``: PDF/A conformance checks (ISO 19005), the way people use veraPDF."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import typer

from archive.pdfa import FLAVOURS, PdfaReport, check_pdfa_isolated
from archive.pdfa.flavours import label, normalise

# Also started on its own by cli/launch.py (``archive pdfa …``): the same help options
# and plain errors as the ``archive`` command, no shell-completion installers.
app = typer.Typer(help="PDF/A conformance checks (ISO 19005-1/2/3/4).", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})

FLAVOUR_HELP = f"auto (the file's own claim) or one of: {' '.join(FLAVOURS)}"


def _flavour(value: str) -> str:
    if value == "auto":
        return value
    try:
        return normalise(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


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
    (not the whole inspection stack it preloads for the workers), before its first use."""
    import multiprocessing

    multiprocessing.get_context("forkserver").set_forkserver_preload(
        ["archive.pdfa", "archive.pdfa.isolated", "archive.pdfa.checker"])


@app.command()
def check(
    files: list[Path] = typer.Argument(..., help="PDF files or folders (walked recursively)."),
    flavour: str = typer.Option("auto", "--flavour", "-f", help=FLAVOUR_HELP,
                                callback=_flavour),
    fmt: str = typer.Option("text", "--format", help="text or json (one object per line)."),
    jobs: int = typer.Option(max(1, (os.cpu_count() or 1)), "--jobs", "-j", min=1,
                             help="Files checked at the same time."),
    sandbox: bool = typer.Option(True, "--sandbox/--no-sandbox",
                                 help="Check each file in a child process with limits "
                                      "(10 s CPU, 1 GB); keep it on for untrusted files."),
) -> None:
    """Check PDF files against PDF/A; exit 0 if all comply, 1 if any does not."""
    if fmt not in ("text", "json"):
        raise typer.BadParameter("--format must be text or json", param_hint="--format")
    missing = [str(p) for p in files if not p.exists()]
    if missing:
        typer.echo(f"Error: no such file or folder: {', '.join(missing)}", err=True)
        raise typer.Exit(2)
    paths = list(_files(files))
    if sandbox:
        _light_sandbox()

    def run(path: Path) -> PdfaReport:
        if sandbox:
            return check_pdfa_isolated(path, flavour)
        from archive.pdfa.checker import check_pdfa

        return check_pdfa(path, flavour)

    all_ok = True
    progress = None
    task = None
    if sys.stderr.isatty() and len(paths) > 1:
        from rich.console import Console
        from rich.progress import Progress

        progress = Progress(console=Console(stderr=True), transient=True)
        progress.start()
        task = progress.add_task("Checking PDF/A", total=len(paths))
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for report in pool.map(run, paths):
                all_ok = all_ok and report.compliant and report.error is None
                if fmt == "json":
                    typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
                else:
                    typer.echo(_text(report))
                if progress is not None and task is not None:
                    progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
    raise typer.Exit(0 if all_ok else 1)


@app.command()
def rules(
    flavour: str = typer.Option(None, "--flavour", "-f", help="Only this flavour."),
    missing_only: bool = typer.Option(False, "--missing", help="List only missing rules."),
) -> None:
    """Coverage of the veraPDF profile rules: implemented / total per flavour."""
    flavours = [_flavour(flavour)] if flavour else list(FLAVOURS)
    if "auto" in flavours:
        flavours = list(FLAVOURS)
    from archive.pdfa.registry import coverage

    for fl in flavours:
        cov = coverage(fl)
        typer.echo(f"{label(fl):<10} {len(cov.implemented):>4} / {cov.total:<4} "
                   f"({cov.ratio:.0%}) implemented")
        for ident, desc, reason in cov.missing:
            typer.echo(f"    missing {ident:<14} {reason}: {desc[:90]}")
        if flavour and not missing_only:
            for ident, family in cov.implemented:
                typer.echo(f"    ok      {ident:<14} rules/{family}.py")
