"""``archive rebuild --from-store``: the catalogue back from the write-once store."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.context import Ctx, err, fail, out, plural


def rebuild(
    from_store: Annotated[bool, typer.Option(
        "--from-store", help="Read everything from the object store (the only source so "
        "far; required, so that nobody rebuilds by accident).")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Rebuild an EMPTY database from the object store alone.

    Restores organisations, schedules, records with their version history, blobs,
    inspections, renditions, tombstones, vouchers with their files and reviews (findings
    recomputed), legal holds, audit closures and the audit trail up to its last
    checkpoint. Users and sessions are not restored. Refuses a database that holds
    anything; run again to resume an interrupted rebuild. The last line of defence:
    restore PostgreSQL's own backup first if you have one."""
    from archive.catalogue.rebuild import NOT_RESTORED
    from archive.catalogue.rebuild import rebuild as run
    from archive.errors import ArchiveError
    from archive.evidence.service import default_retain_until
    from archive.unit_of_work import units_of

    if not from_store:
        fail("say where to rebuild from: `archive rebuild --from-store`", code=2)
    ctx = Ctx.load(create=True)
    ctx.store.prepare()
    try:
        report = run(units_of(ctx.sessions), ctx.store, ctx.principal,
                     checkpoint_until=default_retain_until(ctx.settings.default_retention_years),
                     step=lambda s: err.print(f"restoring {s}…") if not as_json else None)
    except ArchiveError as exc:
        fail(exc)
    finally:
        ctx.engine.dispose()
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
    else:
        out.print(("[yellow]resumed an interrupted rebuild[/]; " if report.resumed else "")
                  + f"restored from {ctx.store.describe()}: "
                  f"{plural(report.organisations, 'organisation')}, "
                  f"{plural(report.schedules, 'schedule')}, "
                  f"{plural(report.records, 'record')} ({plural(report.versions, 'version')}), "
                  f"{plural(report.blobs, 'blob')} ({report.blobs_destroyed:,} destroyed), "
                  f"{plural(report.inspections, 'inspection')}, "
                  f"{plural(report.tombstones, 'tombstone')}, "
                  f"{plural(report.events, 'audit event')} under "
                  f"{plural(report.checkpoints, 'checkpoint')}")
        if report.unconfirmed_versions:
            out.print(f"{plural(report.unconfirmed_versions, 'record version')} made after the "
                      "last audit checkpoint: their audit events were lost with the database; "
                      "each is recorded now as evidence.restore")
        if report.uncommitted_versions:
            out.print(f"{plural(report.uncommitted_versions, 'record version')} never committed "
                      "(manifest written, commit failed; not in the audit trail although "
                      "older than its last checkpoint): left out")
        out.print(f"vouchers: {plural(report.vouchers, 'voucher')} "
                  f"({plural(report.voucher_links, 'linked file')}, "
                  f"{plural(report.reviews, 'review')}; "
                  f"{plural(report.findings, 'finding')} recomputed); "
                  f"{plural(report.renditions, 'rendition')}; "
                  f"retention: {plural(report.holds, 'legal hold')} "
                  f"({plural(report.held_records, 'record')} held), "
                  f"{plural(report.closures, 'audit closure')}")
        if report.uncommitted_vouchers:
            out.print(f"{plural(report.uncommitted_vouchers, 'voucher or review object')} "
                      "never committed (written to the store, not in the audit trail although "
                      "older than its last checkpoint): left out")
        if report.uncommitted_retention:
            out.print(f"{plural(report.uncommitted_retention, 'hold or closure object')} "
                      "never committed (written to the store, not in the audit trail although "
                      "older than its last checkpoint): left out")
        out.print("[bold]not restored[/]: " + "; ".join(NOT_RESTORED))
        out.print("next: `archive users add …` for the administrators and users, then run a "
                  "worker (text for search and retention dates are queued), `archive verify` "
                  "and `archive audit verify`")
        for problem in report.problems:
            out.print(f"[red]problem[/]: {problem}")
    if not report.ok:
        raise typer.Exit(1)


catalogue_app = typer.Typer(help="The catalogue the store keeps beside the bytes.",
                            no_args_is_help=True)


@catalogue_app.command("backfill")
def catalogue_backfill(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Write into the store what it does not describe yet.

    For an archive from before the store described itself: organisations, schedules,
    record manifests, inspections, tombstones, vouchers (with their files' links and
    reviews), the evidence profile, legal holds, audit closures and the audit segments of
    past checkpoints; then extends the locks of those written before the lock sync kept
    them as long as their records. Safe to run again."""
    from archive.catalogue.backfill import backfill
    from archive.errors import ArchiveError
    from archive.evidence.service import default_retain_until
    from archive.unit_of_work import units_of

    ctx = Ctx.load()
    try:
        report = backfill(units_of(ctx.sessions), ctx.store, ctx.principal,
                          retain_until=default_retain_until(
                              ctx.settings.default_retention_years))
    except ArchiveError as exc:
        fail(exc)
    finally:
        ctx.engine.dispose()
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    out.print(f"written: {plural(report.organisations, 'organisation')}, "
              f"{plural(report.schedules, 'schedules snapshot')}, "
              f"{plural(report.manifests, 'record manifest')}, "
              f"{plural(report.inspections, 'inspection')}, "
              f"{plural(report.tombstones, 'tombstone')}, "
              f"{plural(report.vouchers, 'voucher')}, "
              f"{plural(report.links, 'voucher link')}, "
              f"{plural(report.reviews, 'review')}, "
              f"{plural(report.profiles, 'profile snapshot')}, "
              f"{plural(report.renditions, 'rendition link')}, "
              f"{plural(report.holds, 'legal hold')}, "
              f"{plural(report.closures, 'audit closure')}, "
              f"{plural(report.segments, 'audit segment')}; "
              f"{plural(report.locks_extended, 'lock')} extended")
    for line in report.skipped:
        out.print(f"[yellow]skipped[/]: {line}")
