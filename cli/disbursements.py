"""``archive disbursements``: the required-evidence profile and recomputing findings.

Run as the server's operator (the ``system`` principal). The register import
(``archive disbursements import``) lives here too.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from archive.errors import ArchiveError
from cli.context import Ctx, fail

app = typer.Typer(help="Disbursement vouchers (ฎีกา): evidence profile, findings.",
                  no_args_is_help=True)
profile_app = typer.Typer(help="The required-evidence profile, split thresholds and window.",
                          no_args_is_help=True)
app.add_typer(profile_app, name="profile")

out = Console()
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@profile_app.command("show")
def profile_show(as_json: JsonOpt = False,
                 versions: Annotated[bool, typer.Option(help="Every version.")] = False) -> None:
    """The current profile (with its basis), or every version."""
    from archive.disbursements import profile_service

    ctx = Ctx.load()
    with ctx.unit_of_work() as s:
        row = profile_service.get_profile(s, ctx.principal)
        data: Any = {"code": row.code, "version": row.version, "data": row.data,
                     "updated_by": row.updated_by, "updated_at": row.updated_at}
        if versions:
            data["versions"] = [{"version": v.version, "changed_by": v.changed_by,
                                 "changed_at": v.changed_at, "reason": v.reason}
                                for v in profile_service.profile_versions(s, ctx.principal)]
    if as_json:
        _print_json(data)
        return
    profile = data["data"]
    out.print(f"[bold]profile {data['code']}[/] version {data['version']} "
              f"(by {data['updated_by']}, {data['updated_at']:%Y-%m-%d %H:%M})")
    table = Table("kind", "required evidence (a | b = either)")
    for kind, reqs in profile["requirements"].items():
        table.add_row(kind, "; ".join(
            " | ".join(r["any_of"]) + (f" (if {r['if_payment_method']})"
                                       if r.get("if_payment_method") else "") for r in reqs))
    out.print(table)
    split = profile["split"]
    out.print(f"split purchase: {', '.join(split['kinds'])}; thresholds "
              f"{', '.join(split['thresholds'])} baht; window {split['window_days']} days")
    out.print(f"basis: {profile['basis_en']}")
    out.print(f"หลักเกณฑ์: {profile['basis_th']}")
    for v in data.get("versions", []):
        out.print(f"  v{v['version']} {v['changed_at']:%Y-%m-%d %H:%M} {v['changed_by']}: "
                  f"{v['reason'] or ''}")


@profile_app.command("set")
def profile_set(file: Annotated[Path, typer.Argument(help="The whole profile as JSON (see "
                                                           "`profile show --json`, key data).")],
                reason: Annotated[str, typer.Option(help="Why it changes (kept).")],
                threshold: Annotated[list[str] | None, typer.Option(
                    help="Override the split thresholds (repeat), e.g. 100000.00.")] = None,
                window_days: Annotated[int | None, typer.Option(
                    help="Override the split window.")] = None) -> None:
    """Save a new version of the profile (every voucher is then recomputed by a job)."""
    from archive.disbursements import profile_service

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{file}: {exc}", code=2)
    if isinstance(data, dict) and "data" in data and "requirements" not in data:
        data = data["data"]   # the output of `profile show --json`
    if isinstance(data, dict) and isinstance(data.get("split"), dict):
        if threshold:
            data["split"]["thresholds"] = list(threshold)
        if window_days is not None:
            data["split"]["window_days"] = window_days
    ctx = Ctx.load()
    with ctx.unit_of_work() as s:
        row = profile_service.set_profile(s, ctx.principal, data, reason=reason)
        version = row.version
    out.print(f"profile is at version {version}; a recompute of every voucher is queued")


@app.command("recompute")
def recompute_cmd(org: Annotated[str | None, typer.Option("--org", help="One organisation.")
                                 ] = None,
                  fiscal_year: Annotated[int | None, typer.Option(help="With --org.")] = None,
                  national: Annotated[bool, typer.Option(
                      "--national", help="Queue the national job instead of running here.")
                                      ] = False) -> None:
    """Recompute findings: one organisation (and fiscal year) now, or everything."""
    from archive.disbursements import recompute
    from archive.orgs import service as orgs
    from archive.queue.service import enqueue

    if national and org:
        fail("--national and --org exclude each other", code=2)
    ctx = Ctx.load()
    if national:
        with ctx.unit_of_work() as s:
            enqueue(s, "disbursements_recompute", {"scope": "national"})
        out.print("national recompute queued (job disbursements_recompute)")
        return
    started = time.monotonic()
    if org:
        with ctx.unit_of_work() as s:
            org_id = orgs.get_by_code(s, org).id
            result = recompute.recompute_org_year(s, org_id, fiscal_year)
    else:
        from archive.unit_of_work import units_of

        try:
            result = recompute.recompute_all(units_of(ctx.sessions))
        except ArchiveError as exc:
            fail(exc)
    out.print(f"{result.vouchers} vouchers, {result.findings} findings "
              f"in {time.monotonic() - started:.2f} s")
