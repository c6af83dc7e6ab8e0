"""Organisations, user accounts and API tokens: the administrator's commands."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.context import Ctx, fail, out, print_json

err = Console(stderr=True)
orgs_app = typer.Typer(help="Organisations (DLA office → province → LAO).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)


# -- organisations -------------------------------------------------------------------

@orgs_app.command("add")
def orgs_add(code: str, name: Annotated[str, typer.Option("--name", help="Full name.")],
             type: Annotated[str, typer.Option(
                 "--type", help="dla-office | province | pao | municipality | sao | pattaya")
             ] = "sao",
             parent: Annotated[str | None, typer.Option(help="Code of the parent.")] = None
             ) -> None:
    """Add an organisation."""
    from archive.orgs import service as orgs

    ctx = Ctx.load()
    with ctx.unit_of_work() as session:
        org = orgs.create(session, ctx.principal, code=code, name=name, type=type,
                          parent_code=parent, code_pattern=ctx.settings.lao_code_pattern)
        out.print(f"added organisation {org.code} ({org.name})")


@orgs_app.command("import")
def orgs_import(file: Annotated[Path, typer.Argument(help="The register: CSV, UTF-8 (with "
                                                     "or without BOM) or CP874.")],
                dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only; "
                                                      "change nothing.")] = False,
                as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
                ) -> None:
    """Import an organisation register (CSV), reporting every line.

    The archive's columns code,name,type,parent_code or the DLA register's รหัส อปท.,
    อปท., ประเภท อปท., จังหวัด: new organisations are created, changed names updated.
    Running it again changes nothing. Exit 1 when a line was refused."""
    from archive.orgs import service as orgs

    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}", code=2)
    ctx = Ctx.load()
    with ctx.unit_of_work() as session:
        report = orgs.import_register(session, ctx.principal, data, dry_run=dry_run,
                                      code_pattern=ctx.settings.lao_code_pattern)
    result = report.as_dict()
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        table = Table("line", "code", "outcome", "detail")
        for r in report.rows:
            if r.outcome != "unchanged" or len(report.rows) <= 50:
                table.add_row(str(r.row), r.code or "", r.outcome, r.detail or "")
        out.print(table)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()))
        out.print(f"{file.name} ({report.encoding}, {report.layout} layout): {counts}"
                  + (" — dry run, nothing changed" if dry_run else ""))
    if report.counts.get("error"):
        raise typer.Exit(1)


@orgs_app.command("list")
def orgs_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List organisations."""
    from archive.orgs import service as orgs

    ctx = Ctx.load()
    with ctx.unit_of_work() as session:
        all_orgs = orgs.list_all(session)
        by_id = {o.id: o.code for o in all_orgs}
        rows = [{"code": o.code, "name": o.name, "type": o.type,
                 "parent": by_id.get(o.parent_id or -1)} for o in all_orgs]
    if as_json:
        print_json(rows)
        return
    table = Table("code", "name", "type", "parent")
    for row in rows:
        table.add_row(row["code"], row["name"], row["type"], row["parent"] or "")
    out.print(table)


# -- users and tokens ----------------------------------------------------------------

@users_app.command("add")
def users_add(name: str,
              role: Annotated[str, typer.Option(
                  help="officer | auditor | records_manager | admin")],
              org: Annotated[list[str] | None, typer.Option(
                  "--org", help="Organisation code (repeat for several).")] = None,
              expires: Annotated[str | None, typer.Option(
                  help="Account expiry, YYYY-MM-DD (e.g. for auditors).")] = None,
              display_name: Annotated[str | None, typer.Option(help="Full name.")] = None
              ) -> None:
    """Create a user; prints a new API token alone on the last line."""
    from archive.accounts import service as accounts

    expires_on = _parse_date(expires, "--expires") if expires else None
    ctx = Ctx.load()
    with ctx.unit_of_work() as session:
        user, token = accounts.create_user(session, ctx.principal, name=name, role=role,
                                           org_codes=org or [], expires_on=expires_on,
                                           display_name=display_name)
    err.print(f"created {user.role} {user.name}; the token below is shown only once:")
    print(token)


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users with their role, organisations and expiry."""
    from archive.accounts import service as accounts

    ctx = Ctx.load()
    with ctx.unit_of_work() as session:
        rows = [{"name": user.name, "role": user.role, "organisations": codes,
                 "expires_on": user.expires_on, "has_password": bool(user.password_hash)}
                for user, codes in accounts.list_users(session, ctx.principal)]
    if as_json:
        print_json(rows)
        return
    table = Table("name", "role", "organisations", "expires", "password")
    for row in rows:
        table.add_row(row["name"], row["role"], ", ".join(row["organisations"]),
                      str(row["expires_on"] or ""), "yes" if row["has_password"] else "")
    out.print(table)


@users_app.command("passwd")
def users_passwd(name: str,
                 stdin: Annotated[bool, typer.Option(
                     "--stdin", help="Read the password from the first line of stdin.")
                 ] = False) -> None:
    """Set the web-page password of user NAME; their open browser sessions end.

    The password is asked twice on the terminal (or read from standard input)."""
    import getpass

    from archive.accounts import web_sessions

    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            fail("no terminal to ask for the password: use --stdin", code=2)
        password = getpass.getpass(f"New password for {name}: ")
        if getpass.getpass("Again: ") != password:
            fail("the two passwords differ", code=2)
    ctx = Ctx.load()
    with ctx.unit_of_work() as session:
        web_sessions.set_password(session, ctx.principal, user_name=name, password=password)
    out.print(f"password set for {name}; their browser sessions ended")


@tokens_app.command("create")
def tokens_create(name: str, label: Annotated[str | None, typer.Option()] = None) -> None:
    """Issue another API token for user NAME; printed alone on the last line."""
    from archive.accounts import service as accounts

    ctx = Ctx.load()
    with ctx.unit_of_work() as session:
        token = accounts.create_token(session, ctx.principal, user_name=name, label=label)
    err.print(f"new token for {name}; it is shown only once:")
    print(token)


@tokens_app.command("revoke")
def tokens_revoke(name: str,
                  prefix: Annotated[str | None, typer.Option(
                      help="The token's first 10 characters; without it, all of NAME's tokens.")
                  ] = None) -> None:
    """Revoke one token of user NAME, or all of them."""
    from archive.accounts import service as accounts

    ctx = Ctx.load()
    with ctx.unit_of_work() as session:
        count = accounts.revoke_tokens(session, ctx.principal, user_name=name, prefix=prefix)
    out.print(f"revoked {count} token(s) of {name}")


def _parse_date(value: str, option: str) -> dt.date:
    """A date as typed anywhere (archive.validators.typed_date: BE years converted)."""
    from archive.validators import typed_date

    try:
        day = typed_date(value)
    except ValueError as exc:
        fail(f"{option}: {exc}", code=2)
    if not isinstance(day, dt.date):
        fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)", code=2)
    return day
