"""``archive export --out FILE.zip [filters]``: an evidence pack (BagIt zip), built here.

The same bag the ``export`` job builds for the API, made synchronously as the system
principal with a progress bar; the export is recorded in the audit trail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from cli.context import Ctx, fail, out, progress_bar


def export_pack(
    out_file: Annotated[Path, typer.Option("--out", help="The zip to write.", dir_okay=False)],
    org: Annotated[str | None, typer.Option("--org", help="Organisation code (and below).")
                   ] = None,
    fiscal_year: Annotated[str | None, typer.Option(
        help="Thai fiscal year (BE; Thai digits accepted).")] = None,
    doc_type: Annotated[str | None, typer.Option(help="receipt, tax_invoice, …")] = None,
    issue_date_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    issue_date_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    uploaded_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD (a Thailand day).")
                             ] = None,
    uploaded_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD (a Thailand day).")
                           ] = None,
    issuer_tax_id: Annotated[str | None, typer.Option("--tax-id", help="13 digits.")] = None,
    voucher_no: Annotated[str | None, typer.Option()] = None,
    doc_number: Annotated[str | None, typer.Option()] = None,
    amount_min: Annotated[str | None, typer.Option(help="Decimal, e.g. 100000.00.")] = None,
    amount_max: Annotated[str | None, typer.Option()] = None,
    pdfa: Annotated[str | None, typer.Option(help="compliant | not | unchecked")] = None,
    status: Annotated[str | None, typer.Option()] = None,
    on_hold: Annotated[bool | None, typer.Option("--on-hold/--not-on-hold")] = None,
    sha256: Annotated[str | None, typer.Option()] = None,
    q: Annotated[str | None, typer.Option("--q", help="Text (Thai substring).")] = None,
    ids: Annotated[list[str] | None, typer.Option(
        "--id", help="A record id (repeat); instead of filters.")] = None,
    disbursement: Annotated[str | None, typer.Option(
        "--disbursement", help="A voucher id: every linked file, the voucher, its findings, "
                               "reviews and audit events; instead of filters.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write an evidence pack: originals, metadata, audit events, BagIt manifests."""
    from archive import audit
    from archive.errors import ArchiveError, InvalidInput
    from archive.evidence.schemas import validation_problems
    from archive.search import exports, packs
    from archive.search.schemas import ExportRequest
    from archive.unit_of_work import read_sessions

    if out_file.exists() and not force:
        fail(f"{out_file} exists (use --force to replace it)", code=2)
    filters: dict[str, Any] = {
        "org_code": org, "fiscal_year": fiscal_year, "doc_type": doc_type,
        "issue_date_from": issue_date_from, "issue_date_to": issue_date_to,
        "uploaded_from": uploaded_from, "uploaded_to": uploaded_to,
        "issuer_tax_id": issuer_tax_id, "voucher_no": voucher_no, "doc_number": doc_number,
        "amount_min": amount_min, "amount_max": amount_max, "pdfa": pdfa, "status": status,
        "on_hold": on_hold, "sha256": sha256, "q": q}
    given = {k: v for k, v in filters.items() if v is not None}
    if sum(bool(x) for x in (ids, given, disbursement)) > 1:
        fail("give --id, --disbursement or filters, not several", code=2)
    try:
        if disbursement:
            request = ExportRequest(disbursement_id=disbursement)
        else:
            request = ExportRequest(ids=ids) if ids else ExportRequest(filters=given)
    except ValidationError as exc:
        fail(InvalidInput(validation_problems(exc), code="invalid_filters"), code=2)

    ctx = Ctx.load()
    principal = ctx.principal
    query = request.as_query()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    # the records are read where the export job reads them: the read replica
    # (ARCHIVE_DATABASE_REPLICA_URL) once it has everything committed until now
    reads = read_sessions(ctx.engine, ctx.settings.database_replica_url,
                          max_lag_seconds=ctx.settings.replica_max_lag_seconds)
    try:
        with ctx.unit_of_work() as session, reads.as_of_now() as records:
            source = exports.pack_source(records, principal, query)
            with progress_bar(source.total, "exporting") as advance:
                def progress(state: dict[str, Any]) -> None:
                    if state.get("phase") == "collecting":
                        advance(1)

                try:
                    result = packs.build_pack(
                        records, ctx.store, source.hits, out=out_file.resolve(),
                        work_dir=ctx.settings.tmp_dir, total=source.total, progress=progress,
                        extra=source.extra,
                        request=packs.PackRequest(exported_by=principal.name,
                                                  role=principal.role, query=query))
                except ArchiveError as exc:
                    fail(exc)
            audit.record(session, actor=principal, action="evidence.export",
                         target_type="export", target_id=result.bag_name,
                         details={"query": query, "records": result.records,
                                  "sha256": result.sha256, "size": result.size,
                                  "file": str(out_file), "checkpoint": result.checkpoint})
    finally:
        reads.dispose()
    out.print(f"wrote {out_file}: {result.records} record(s), {result.size:,} bytes, "
              f"sha256 {result.sha256}")
    out.print(f"audit checkpoint: {result.checkpoint['status']}; verify with "
              f"`bagit.py --validate` after unzipping (see VERIFY.md inside)")
