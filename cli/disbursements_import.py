"""``archive disbursements import FILE --org CODE [--dry-run] [--json]``: a voucher register
(CSV) into an organisation's vouchers, with a report per row and a progress bar on a
terminal. Registered on the ``disbursements`` command group (``cli/disbursements.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.context import Ctx, fail, progress_bar

out = Console()

_STYLE = {"created": "green", "updated": "cyan", "unchanged": "dim", "error": "red"}


def import_register(
    file: Annotated[Path, typer.Argument(help="The register (CSV; Thai or English headers; "
                                              "UTF-8 or CP874/TIS-620).", dir_okay=False)],
    org: Annotated[str, typer.Option("--org", help="The organisation's code.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; keep "
                                                            "nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import a voucher register: new vouchers are created, changed ones updated (history
    kept), the same file twice changes nothing; bad rows are reported by line and change
    nothing. Exit status 1 when any row was refused."""
    from archive.disbursements import importing, register
    from archive.errors import ArchiveError

    try:
        size = file.stat().st_size
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}", code=2)
    if size > register.MAX_REGISTER_BYTES:
        fail(f"{file}: larger than {register.MAX_REGISTER_BYTES // 2**20} MiB; split it", code=2)
    data = file.read_bytes()
    ctx = Ctx.load()
    try:
        rows = len(register.read_register(data).rows)
    except register.RegisterError as exc:
        fail(f"{file}: {exc}")
    with ctx.unit_of_work() as session, progress_bar(rows, "importing") as advance:
        try:
            report = importing.import_register(
                session, ctx.principal, org_code=org, data=data, filename=file.name,
                dry_run=dry_run, progress=lambda _done, _total: advance(1))
        except ArchiveError as exc:
            fail(exc)
    body = report.as_dict()
    if as_json:
        print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        table = Table("line", "voucher", "status", "changed / reasons")
        for row in report.rows:
            if row.status == "unchanged":
                continue
            detail = "; ".join(row.errors) if row.errors else ", ".join(row.changed)
            table.add_row(str(row.line), row.voucher_no or "",
                          f"[{_STYLE[row.status]}]{row.status}[/]", detail)
        if table.row_count:
            out.print(table)
        counts = body["counts"]
        out.print(("[bold]dry run[/] (nothing kept): " if dry_run else "") +
                  f"{counts['created']} created, {counts['updated']} updated, "
                  f"{counts['unchanged']} unchanged, {counts['error']} refused "
                  f"({report.encoding}; {len(report.rows)} rows)")
        if report.ignored:
            out.print(f"columns not used: {', '.join(report.ignored)}")
    if body["counts"]["error"]:
        raise typer.Exit(1)
