"""``archive inspect FILE...``: what files say about themselves.

E-invoice XML (Thai e-Tax, ZUGFeRD / Factur-X) on its own or embedded in a PDF, PDF and
XML signatures, image resolution. Exit status: 0 when no file has a problem, 1 when any
file had an inspection error, an invalid or unreadable invoice XML, or a signature whose
integrity failed; 2 for usage errors (such as a file that does not exist).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from archive.inspection import InspectionReport, inspect

FORMATS = ("text", "json")

app = typer.Typer(help="Inspect files: e-Tax/CII invoice XML, embedded files, signatures, "
                       "scans.", no_args_is_help=True, invoke_without_command=True)


@app.callback(invoke_without_command=True)
def inspect_files(
    files: Annotated[list[Path], typer.Argument(
        help="Files to inspect.", exists=True, dir_okay=False, readable=True)],
    format: Annotated[str, typer.Option(
        "--format", "-f", help="text (for people) or json (one object per line).")] = "text",
    trust_root: Annotated[list[Path] | None, typer.Option(
        "--trust-root", help="PEM/DER certificate to trust for signatures (repeatable). "
                             "Without it, trust is not checked.",
        exists=True, dir_okay=False, readable=True)] = None,
) -> None:
    """Inspect FILES: e-invoice XML, embedded files, signatures, image resolution.

    Exit 1 if any file has a problem."""
    if format not in FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
    roots = [p.read_bytes() for p in trust_root or []]
    console = Console(highlight=False, soft_wrap=True)
    any_problem = False
    for path in files:
        report = inspect(path, trust_roots=roots)
        data = report.to_dict()
        data["path"] = str(path)
        any_problem = any_problem or bool(data["problems"])
        if format == "json":
            print(json.dumps(data, ensure_ascii=False), flush=True)
        else:
            _print_text(console, path, report, data)
    if any_problem:
        raise typer.Exit(1)


def _print_text(console: Console, path: Path, report: InspectionReport,
                data: dict[str, Any]) -> None:
    status = "[red]PROBLEMS[/]" if data["problems"] else "[green]ok[/]"
    console.print(f"[bold]{escape(str(path))}[/]  {data['media_type']}  {data['size']:,} bytes"
                  f"  {status}")
    for item in data["embedded_files"] or []:
        console.print(f"  embedded  {escape(item['name'])}  rel={item['af_relationship']}  "
                      f"{item['mime_subtype']}  {item['size']} bytes  "
                      f"sha256={(item['sha256'] or '')[:16]}")
    for invoice in [data["invoice"], *data["other_invoices"]]:
        if invoice:
            _print_invoice(console, invoice)
    for sig in data["signatures"] or []:
        line = (f"  signature {sig['kind']} {escape(sig['field_name'] or '')}  "
                f"integrity={_verdict(sig['integrity'])}  trust={sig['trust']}")
        if sig["coverage"]:
            line += f"  coverage={sig['coverage']}"
        console.print(line)
        console.print(f"    signer: {escape(sig['signer'] or '?')}  time: "
                      f"{sig['signing_time'] or '?'}")
        if sig["reason"]:
            console.print(f"    reason: {escape(sig['reason'])}")
        for finding in sig["findings"]:
            console.print(f"    {finding['severity']}: {escape(finding['message'])}")
    if data["image"]:
        image = data["image"]
        dpi = "x".join(f"{v:g}" for v in image["dpi"]) if image["dpi"] else "unknown"
        console.print(f"  image {image['format']} {image['width']}x{image['height']} px  "
                      f"dpi={dpi} ({image['dpi_status']})")
        for finding in image["findings"]:
            console.print(f"    {finding['severity']}: {escape(finding['message'])}")
    for warning in data["cross_check"]["warnings"]:
        console.print(f"  cross-check {warning['field']}: {escape(warning['message'])}")
    for error in data["errors"]:
        console.print(f"  [red]error[/] {error['section']}: {error['kind']}: "
                      f"{escape(error['message'])}")


def _print_invoice(console: Console, invoice: dict[str, Any]) -> None:
    validation = invoice["validation"] or {}
    console.print(f"  invoice {invoice['kind']} {invoice['document_kind'] or ''} "
                  f"v{invoice['standard_version'] or '?'} ({escape(invoice['source'])})  "
                  f"verdict={_verdict(validation.get('verdict') or 'n/a')}")
    for reason in validation.get("reasons", [])[:5]:
        console.print(f"    {escape(reason)}")
    fields = invoice["fields"]
    if fields:
        seller = fields["seller"] or {}
        type_name = escape(fields["document_type_name"] or "")
        console.print(f"    {fields['document_type_code']} {type_name}"
                      f"  no. {escape(fields['document_number'] or '?')}  date "
                      f"{fields['issue_date'] or '?'}  total {fields['grand_total'] or '?'} "
                      f"{fields['currency'] or ''}")
        console.print(f"    seller {escape(seller.get('name') or '?')}  tax ID "
                      f"{seller.get('tax_id') or '?'}  branch {seller.get('branch') or '-'}")
    for finding in invoice["findings"]:
        console.print(f"    {finding['severity']}: {escape(finding['message'])}")


def _verdict(value: str) -> str:
    colour = {"valid": "green", "invalid": "red", "failed": "red"}.get(value, "yellow")
    return f"[{colour}]{value}[/]"
