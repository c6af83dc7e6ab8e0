"""``archive retention``: schedules, holds, audit closures and the disposition workflow.

Reading and proposing (``survey``, ``forecast``, ``lists``, ``show``, ``record``) run as the
server's operator. The steps of a disposition list (``committee``, ``vote``, ``approve``,
``archives``, ``withdraw``, ``confirm``, ``execute``) and placing or releasing a legal hold
(``holds place``, ``holds release``) are taken by named users: give your own API token
with ``--token`` (or ``ARCHIVE_TOKEN``). The operator account cannot take
them, so the CLI cannot skip a step either. Every attempt, refused ones included, is audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from archive import clock
from archive.accounts.principal import Principal
from archive.errors import ArchiveError
from cli.context import Ctx, fail, out, print_fields, print_json

app = typer.Typer(help="Retention schedules, legal holds and disposition (ระเบียบงานสารบรรณ "
                       "ข้อ 66–70).", no_args_is_help=True)
schedules_app = typer.Typer(help="Retention schedules and the document-type mapping.",
                            no_args_is_help=True)
holds_app = typer.Typer(help="Legal holds.", no_args_is_help=True)
app.add_typer(schedules_app, name="schedules")
app.add_typer(holds_app, name="holds")

err = Console(stderr=True)

TokenOpt = Annotated[str | None, typer.Option(
    "--token", envvar="ARCHIVE_TOKEN", help="Your API token: disposition steps are taken by "
    "named users.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _date(value: str | None, option: str) -> dt.date | None:
    """A date as typed anywhere (archive.validators.typed_date: BE years converted)."""
    from archive.validators import typed_date

    if value is None:
        return None
    try:
        day = typed_date(value)
    except ValueError as exc:
        fail(f"{option}: {exc}", code=2)
    if not isinstance(day, dt.date):
        fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)", code=2)
    return day


def _uuid(value: str, what: str = "list id") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{value!r} is not a {what}", code=2)


_print_json = print_json


@contextmanager
def _work(ctx: Ctx, token: str | None = None, action: str | None = None,
          target: tuple[str, Any] | None = None) -> Iterator[tuple[Session, Principal]]:
    """A unit of work as the operator, or as the user behind ``token``; refusals of
    ``action`` are audited."""
    from archive.accounts import service as accounts
    from archive.audit import audited_refusal
    from archive.unit_of_work import session_scope

    try:
        with session_scope(ctx.sessions) as session:
            principal = ctx.principal
            if token is not None:
                principal = accounts.authenticate(session, token, client="cli")
            if action is None:
                yield session, principal
            else:
                with audited_refusal(principal, action,
                                     target_type=target[0] if target else None,
                                     target_id=target[1] if target else None):
                    yield session, principal
    except ArchiveError as exc:
        fail(exc)


def _need_token(token: str | None) -> str:
    if not token:
        fail("this step is taken by a named user: give your API token with --token or "
             "ARCHIVE_TOKEN", code=2)
    return token


# -- survey, forecast, lists -----------------------------------------------------------

@app.command()
def survey(as_of: Annotated[str | None, typer.Option(
               "--as-of", help="Survey as on this date (default today); a future date "
               "only previews.")] = None,
           org: Annotated[str | None, typer.Option("--org", help="One organisation.")] = None,
           dry_run: Annotated[bool, typer.Option("--dry-run", help="Preview only.")] = False,
           as_json: JsonOpt = False) -> None:
    """Draft disposition lists (form 25, ข้อ 66) of records past retention and not held.

    Only proposes: nothing is destroyed without the committee, the head of agency and the
    National Archives."""
    from archive.retention import survey as surveying

    ctx = Ctx.load()
    with _work(ctx, action="disposition.survey") as (session, principal):
        result = surveying.survey(session, principal, as_of=_date(as_of, "--as-of"),
                                    dry_run=dry_run, org_code=org)
    if as_json:
        _print_json(result.__dict__)
        return
    if result.note:
        err.print(f"[yellow]{result.note}[/]")
    table = Table("organisation", "list", "records added" if not result.dry_run else "eligible")
    for entry in result.lists:
        table.add_row(entry["org_code"], entry.get("number", "(preview)"),
                      str(entry.get("added", entry.get("records"))))
    out.print(table)
    out.print(f"{result.eligible} record(s) eligible on {result.as_of}; {result.listed} newly "
              f"listed{' (dry run)' if result.dry_run else ''}")


@app.command()
def forecast(until: Annotated[str, typer.Option("--until", help="YYYY-MM-DD")],
             as_json: JsonOpt = False) -> None:
    """What becomes eligible when, by organisation, schedule and year."""
    from archive.retention.forecast import forecast as run

    ctx = Ctx.load()
    with _work(ctx) as (session, principal):
        body = run(session, principal, until=_date(until, "--until") or clock.today())
    if as_json:
        _print_json(body)
        return
    table = Table("organisation", "schedule", "year (BE)", "records", "first", "last",
                  "already listed")
    for g in body["groups"]:
        table.add_row(g["org_code"], g["schedule_code"], str(g["year_be"]), str(g["records"]),
                      str(g["first_eligible"]), str(g["last_eligible"]),
                      str(g["already_listed"]))
    out.print(table)
    for h in body["held"]:
        out.print(f"held: {h['org_code']} {h['schedule_code']}: {h['records']} record(s)")
    if body["cannot_compute_total"]:
        out.print(f"[yellow]{body['cannot_compute_total']} record(s) whose retention cannot be "
                  "computed:[/]")
        for c in body["cannot_compute"][:50]:
            out.print(f"  {c['evidence_id']} {c['org_code']} {c['doc_type']}: {c['reason']}")


@app.command("lists")
def lists(status: Annotated[str | None, typer.Option(help="draft, committee_review, …")] = None,
          org: Annotated[str | None, typer.Option("--org")] = None,
          as_json: JsonOpt = False) -> None:
    """Disposition lists and where each stands."""
    from archive.retention import read_models

    ctx = Ctx.load()
    with _work(ctx) as (session, principal):
        rows = read_models.lists(session, principal, status=status, org_code=org)
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("id", "number", "organisation", "status", "items", "outcome",
                  "executable on")
    for r in rows:
        table.add_row(str(r.id), r.number, r.org_code, r.status, str(r.items),
                      _outcome(r.outcome), str(r.executable_on or ""))
    out.print(table)


# The words of the counts (archive.retention.list_queries.OUTCOMES).
_COUNT_WORDS = {"to_destroy": "to be destroyed", "to_transfer": "to be transferred",
                "to_keep": "to be kept longer", "on_hold": "of them on legal hold",
                "destroyed": "destroyed", "transferred": "transferred", "kept": "kept longer",
                "held": "not destroyed (legal hold)", "blocked": "not destroyed (blocked)",
                "removed": "removed"}


def _outcome(counts: dict[str, int]) -> str:
    """What a list's items came to: "destroyed: 3, kept longer: 1"."""
    return ", ".join(f"{_COUNT_WORDS.get(k, k)}: {n}" for k, n in counts.items()) or "-"


@app.command()
def show(list_id: str, as_json: JsonOpt = False) -> None:
    """One list: its items with the fields of form 25, votes and approvals."""
    from archive.retention import read_models

    ctx = Ctx.load()
    with _work(ctx) as (session, principal):
        detail = read_models.list_detail(session, principal, _uuid(list_id))
    if as_json:
        _print_json(detail.model_dump(mode="json"))
        return
    out.print(f"[bold]{detail.number}[/] {detail.org_name} — {detail.status}"
              + (f", executable on {detail.executable_on}" if detail.executable_on else ""))
    out.print(f"{detail.items} item(s): {_outcome(detail.outcome)}")
    table = Table("ลำดับที่", "รหัสแฟ้ม", "ที่", "ลงวันที่", "เรื่อง", "อายุการเก็บ", "การพิจารณา",
                  "votes")
    for i in detail.entries:
        table.add_row(str(i.seq), i.file_code, i.doc_reference or "", str(i.doc_date or ""),
                      i.subject, i.retention_period,
                      f"{i.status} ({i.action})" + (" [held]" if i.on_hold else ""),
                      ", ".join(f"{v['user']}:{v['vote']}" for v in i.votes))
    out.print(table)


@app.command()
def record(evidence_id: str, as_json: JsonOpt = False) -> None:
    """A record's schedule, retain-until and why, holds and the store's lock."""
    from archive.retention import read_models

    ctx = Ctx.load()
    with _work(ctx) as (session, principal):
        info = read_models.record_retention(session, ctx.store, principal,
                                      _uuid(evidence_id, "record id"))
    if as_json:
        _print_json(info.model_dump(mode="json"))
    else:
        print_fields(info.model_dump(mode="json"))


# -- the steps (named users) -----------------------------------------------------------

def _step(list_id: str, token: str | None, action: str,
          fn: Callable[[Session, Principal, uuid.UUID], Any]) -> None:
    from archive.retention import disposition

    ctx = Ctx.load()
    lid = _uuid(list_id)
    with _work(ctx, _need_token(token), action, ("disposition_list", lid)) as (s, p):
        fn(s, p, lid)
        dl, _ = disposition.load(s, p, lid)
        status = dl.status
    out.print(f"list {list_id}: {status}")


@app.command()
def committee(list_id: str,
              chair: Annotated[str, typer.Option(help="User name of the chair.")],
              member: Annotated[list[str], typer.Option(help="A member (at least two).")],
              order_ref: Annotated[str, typer.Option(help="The appointing order (คำสั่ง "
                                                     "ที่ …).")],
              order_date: Annotated[str, typer.Option(help="Its date (YYYY-MM-DD).")],
              token: TokenOpt = None) -> None:
    """As head of agency, appoint the committee of a draft list by an order (ข้อ 68).

    A chair and at least two members, with the order's reference and date."""
    from archive.retention import disposition
    from archive.retention.schemas import CommitteeIn

    try:
        data = CommitteeIn(chair=chair, members=member, order_ref=order_ref,
                           order_date=_date(order_date, "--order-date"))
    except ValueError as exc:
        fail(str(exc), code=2)
    _step(list_id, token, "disposition.committee_appoint",
          lambda s, p, lid: disposition.appoint_committee(s, p, lid, data))


@app.command()
def vote(list_id: str,
         items: Annotated[list[int] | None, typer.Option("--item", help="Item number(s); "
                                                         "default: every open item.")] = None,
         object_: Annotated[bool, typer.Option("--object", help="Object instead of approve.")
                            ] = False,
         action: Annotated[str | None, typer.Option(help="With --object: remove, keep or "
                                                    "transfer.")] = None,
         keep_until: Annotated[str | None, typer.Option(help="With --action keep.")] = None,
         comment: Annotated[str | None, typer.Option()] = None,
         token: TokenOpt = None) -> None:
    """Your vote as a committee member, per item (final).

    Without --item: every open item you have not voted on yet; items you already voted
    on are skipped with a note, and so (when approving) are items whose record is on
    legal hold."""
    from archive.retention import disposition
    from archive.retention.schemas import VoteIn

    notes: list[str] = []

    def run(s: Session, p: Principal, lid: uuid.UUID) -> None:
        seqs = list(items or [])
        if not seqs:
            seqs, voted, held = disposition.votes_to_cast(s, p, lid)
            if voted:
                notes.append(f"skipped item(s) {_seqs(voted)}: you already voted on them "
                             "(votes are final)")
            if held and not object_:
                seqs = [n for n in seqs if n not in held]
                notes.append(f"skipped item(s) {_seqs(held)}: the record is under legal "
                             "hold and cannot be approved; object, or withdraw the item")
            if not seqs:
                notes.append("nothing left for you to vote on")
                return
        votes = [VoteIn(item=n, vote="object" if object_ else "approve", comment=comment,
                        action=action, keep_until=_date(keep_until, "--keep-until"))
                 for n in seqs]
        disposition.vote(s, p, lid, votes)
        notes.insert(0, f"voted {'object' if object_ else 'approve'} on item(s) "
                        f"{_seqs(seqs)}")

    try:
        _step(list_id, token, "disposition.vote", run)
    except ValueError as exc:
        fail(str(exc), code=2)
    for note in notes:
        err.print(note)


def _seqs(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


@app.command()
def approve(list_id: str, reject: Annotated[bool, typer.Option(
                "--reject", help="As head of agency: reject the list.")] = False,
            comment: Annotated[str | None, typer.Option()] = None,
            token: TokenOpt = None) -> None:
    """Give the approval that is yours: the chair's or the head of agency's.

    As committee chair, close the committee's review; as head of agency, approve (or
    --reject) the list."""
    from archive.retention import disposition

    def run(s: Session, p: Principal, lid: uuid.UUID) -> None:
        dl, _ = disposition.load(s, p, lid)
        if dl.status == "committee_review":
            disposition.committee_approve(s, p, lid, comment=comment)
        else:
            disposition.head_decision(s, p, lid, decision="reject" if reject else "approve",
                                      comment=comment)

    _step(list_id, token, "disposition.approve", run)


@app.command()
def archives(list_id: str,
             sent_on: Annotated[str | None, typer.Option(help="Sent to the National "
                                                         "Archives on (YYYY-MM-DD).")] = None,
             review_days: Annotated[int | None, typer.Option(
                 help="Their review period; default: the rule (60 days); never shorter.")
                 ] = None,
             reference: Annotated[str | None, typer.Option(help="Letter number.")] = None,
             consent: Annotated[str | None, typer.Option(help="Approval received on.")
                                ] = None,
             objection: Annotated[str | None, typer.Option(help="Objection received on "
                                                           "(name the items with --keep or "
                                                           "--transfer).")] = None,
             keep: Annotated[list[str] | None, typer.Option(help="With --objection: ITEM:"
                                                            "YYYY-MM-DD, an item the archives "
                                                            "want kept until then (repeat).")
                             ] = None,
             transfer: Annotated[list[int] | None, typer.Option(help="Item the archives "
                                                                "want (repeat).")] = None,
             comment: Annotated[str | None, typer.Option()] = None,
             token: TokenOpt = None) -> None:
    """National Archives review: mark the list sent, or record their answer."""
    from archive.retention import national_archives
    from archive.retention.schemas import ArchivesResponseIn, ArchivesSentIn

    if sum(x is not None for x in (sent_on, consent, objection)) != 1:
        fail("give exactly one of --sent-on, --consent or --objection", code=2)
    if sent_on:
        sent = ArchivesSentIn(sent_on=_date(sent_on, "--sent-on"), reference=reference,
                              review_days=review_days)
        _step(list_id, token, "disposition.archives_sent",
              lambda s, p, lid: national_archives.archives_sent(s, p, lid, sent))
        return
    try:
        if consent:
            answer = ArchivesResponseIn(result="approve",
                                        responded_on=_date(consent, "--consent"),
                                        transfer_items=transfer or [], comment=comment)
        else:
            why = comment or "objection of the National Archives"
            objected: list[dict[str, Any]] = [
                {"item": n, "action": "transfer", "comment": why} for n in transfer or []]
            for spec in keep or []:
                seq, _, until = spec.partition(":")
                if not seq.isdigit():
                    fail(f"--keep {spec!r}: expected ITEM:YYYY-MM-DD", code=2)
                objected.append({"item": int(seq), "action": "keep", "comment": why,
                                 "keep_until": _date(until, "--keep")})
            answer = ArchivesResponseIn(result="object",
                                        responded_on=_date(objection, "--objection"),
                                        items=objected, comment=comment)
    except ValueError as exc:
        fail(str(exc), code=2)
    _step(list_id, token, "disposition.archives_response",
          lambda s, p, lid: national_archives.archives_response(s, p, lid, answer))


@app.command()
def withdraw(list_id: str, item: int, reason: Annotated[str, typer.Option()],
             token: TokenOpt = None) -> None:
    """Take an item off a list before execution."""
    from archive.retention import disposition

    _step(list_id, token, "disposition.item_withdraw",
          lambda s, p, lid: disposition.withdraw_item(s, p, lid, item, reason=reason))


@app.command()
def confirm(list_id: str, note: Annotated[str | None, typer.Option()] = None,
            token: TokenOpt = None) -> None:
    """As a committee member, confirm the destruction in the committee's joint record.

    Every member confirms, before or with the request to execute."""
    from archive.retention import execution_request
    from archive.retention.schemas import ConfirmIn

    _step(list_id, token, "disposition.destruction_confirm",
          lambda s, p, lid: execution_request.confirm_destruction(s, p, lid,
                                                                  ConfirmIn(note=note)))


@app.command()
def execute(list_id: str, token: TokenOpt = None,
            run: Annotated[bool, typer.Option(
                "--run", help="Also run the execution job here instead of waiting for a "
                "worker.")] = False) -> None:
    """As a committee member, request execution of an executable list.

    Your confirmation goes with it; the job writes tombstones, deletes and a certificate."""
    from archive.retention import execution, execution_request, job_bodies
    from archive.unit_of_work import units_of

    _step(list_id, token, "disposition.execute_request", execution_request.request_execution)
    if run:
        ctx = Ctx.load()
        result = execution.execute(units_of(ctx.sessions), ctx.store, _uuid(list_id),
                                   certificate_years=job_bodies.CERTIFICATE_YEARS)
        _print_json(result)


@app.command()
def certificate(list_id: str, seq: Annotated[int | None, typer.Option()] = None,
                html: Annotated[bool, typer.Option("--html", help="The readable rendering.")
                                ] = False,
                output: Annotated[Path | None, typer.Option("-o", "--output")] = None) -> None:
    """Download a destruction certificate (checked against its hash)."""
    from archive.retention import read_models

    ctx = Ctx.load()
    with _work(ctx) as (session, principal):
        body, _, name = read_models.certificate(session, ctx.store, principal, _uuid(list_id),
                                          seq=seq, fmt="html" if html else "json")
    if output is None:
        print(body.decode("utf-8"))
    else:
        output.write_bytes(body)
        err.print(f"wrote {output} ({name})")


@app.command("closure")
def closure(org: str, fiscal_year: Annotated[str, typer.Argument(
                help="Thai fiscal year (BE; Thai digits accepted).")],
            result: Annotated[str, typer.Option(help="no_objection | objection")],
            closed_on: Annotated[str, typer.Option(help="YYYY-MM-DD")],
            reference: Annotated[str | None, typer.Option()] = None) -> None:
    """Record a State Audit Office closure (an objection places a hold)."""
    from archive.retention import holds
    from archive.retention.schemas import ClosureIn

    ctx = Ctx.load()
    try:
        data = ClosureIn(org_code=org, fiscal_year=fiscal_year, result=result,  # type: ignore[arg-type]
                         closed_on=_date(closed_on, "--closed-on"), reference=reference)
    except ValueError as exc:
        fail(str(exc), code=2)
    with _work(ctx, action="retention.audit_closure", target=("organisation", org)) as (s, p):
        c = holds.record_closure(s, p, data)
        hold = c.hold_id
    out.print(f"recorded {result} for {org} FY {fiscal_year}" +
              (f"; hold {hold} placed" if hold else ""))


@app.command("head")
def head(org: str, user: str) -> None:
    """Assign the head of agency of an organisation (who approves its lists)."""
    from archive.retention import disposition

    ctx = Ctx.load()
    with _work(ctx, action="retention.head_assign", target=("organisation", org)) as (s, p):
        disposition.set_head(s, p, org, user)
    out.print(f"{user} is head of agency of {org}")


# -- schedules -------------------------------------------------------------------------

@schedules_app.command("list")
def schedules_list(as_json: JsonOpt = False) -> None:
    """The schedules with their legal basis and document types."""
    from archive.retention.schedules import service

    ctx = Ctx.load()
    with _work(ctx) as (session, principal):
        rows = service.list_schedules(session, principal)
        doc_types = service.doc_types_by_schedule(session)
        data = [{**service.schedule_values(s), "doc_types": doc_types.get(s.id, [])}
                for s in rows]
    if as_json:
        _print_json(data)
        return
    table = Table("code", "v", "title", "counted from", "keep", "audited", "then",
                  "document types")
    for d in data:
        table.add_row(d["code"], str(d["version"]), d["title_en"], d["trigger"],
                      str(d["keep_years"] or "-"), str(d["audited_keep_years"] or "-"),
                      d["action"], ", ".join(d["doc_types"]))
    out.print(table)


@schedules_app.command("set")
def schedules_set(code: str, reason: Annotated[str, typer.Option()],
                  keep_years: Annotated[int | None, typer.Option()] = None,
                  audited_keep_years: Annotated[int | None, typer.Option()] = None,
                  action: Annotated[str | None, typer.Option()] = None,
                  legal_basis_th: Annotated[str | None, typer.Option()] = None,
                  legal_basis_en: Annotated[str | None, typer.Option()] = None) -> None:
    """Change a schedule (a new version; records are recomputed, never shortened)."""
    from archive.retention.schedules import service
    from archive.retention.schedules.schemas import ScheduleUpdate

    given = {k: v for k, v in {"keep_years": keep_years,
                               "audited_keep_years": audited_keep_years, "action": action,
                               "legal_basis_th": legal_basis_th,
                               "legal_basis_en": legal_basis_en}.items() if v is not None}
    try:
        changes = ScheduleUpdate(reason=reason, **given)
    except ValueError as exc:
        fail(str(exc), code=2)
    ctx = Ctx.load()
    with _work(ctx, action="retention.schedule_update",
               target=("retention_schedule", code)) as (s, p):
        schedule = service.update_schedule(s, p, code, changes)
        version = schedule.version
    out.print(f"{code} is at version {version}")


@schedules_app.command("map")
def schedules_map(doc_type: str, schedule: str, reason: Annotated[str, typer.Option()]) -> None:
    """Map a document type to a schedule (for records ingested from now on)."""
    from archive.retention.schedules import service

    ctx = Ctx.load()
    with _work(ctx, action="retention.doc_type_update",
               target=("retention_doc_type", doc_type)) as (s, p):
        service.set_doc_type(s, p, doc_type, schedule_code=schedule, reason=reason)
    out.print(f"{doc_type} → {schedule}")


# -- holds -----------------------------------------------------------------------------

@holds_app.command("list")
def holds_list(status: Annotated[str | None, typer.Option(help="active | released")] = None,
               as_json: JsonOpt = False) -> None:
    """Legal holds in your scope, with the records each holds."""
    from archive.retention import holds, read_models

    ctx = Ctx.load()
    with _work(ctx) as (session, principal):
        rows = [read_models.hold_out(session, h, n).model_dump(mode="json")
                for h, n in holds.list_holds(session, principal, status=status)]
    if as_json:
        _print_json(rows)
        return
    table = Table("id", "status", "records", "organisations", "reason", "by")
    for h in rows:
        table.add_row(h["id"], h["status"], str(h["records"]), ", ".join(h["organisations"]),
                      h["reason"], h["created_by"])
    out.print(table)


@holds_app.command("place")
def holds_place(reason: Annotated[str, typer.Option()],
                record: Annotated[list[str] | None, typer.Option(help="Record id (repeat).")
                                  ] = None,
                org: Annotated[str | None, typer.Option("--org")] = None,
                fiscal_year: Annotated[str | None, typer.Option(
                    help="Thai fiscal year (BE; Thai digits accepted).")] = None,
                doc_type: Annotated[str | None, typer.Option()] = None,
                disbursement: Annotated[str | None, typer.Option(
                    "--disbursement", help="A voucher id: every file linked to it, now and "
                                           "later.")] = None,
                token: TokenOpt = None) -> None:
    """Place a legal hold on records, on the records matching filters, or on a voucher.

    Placed by a named user (your API token), like the steps of a disposition; an
    identical hold (same records or filter, same reason) already active is refused."""
    from archive.retention import holds
    from archive.retention.schemas import HoldIn
    from archive.search.schemas import SearchFilters

    try:
        if disbursement:
            if record or org or fiscal_year or doc_type:
                fail("give --disbursement alone, without records or filters", code=2)
            data = HoldIn(reason=reason,
                          disbursement_id=_uuid(disbursement, "disbursement id"))
        elif record:
            data = HoldIn(reason=reason, record_ids=[_uuid(r, "record id") for r in record])
        else:
            data = HoldIn(reason=reason, filter=SearchFilters(
                org_code=org, fiscal_year=fiscal_year, doc_type=doc_type))
    except ValueError as exc:
        fail(str(exc), code=2)
    ctx = Ctx.load()
    with _work(ctx, _need_token(token), action="hold.create",
               target=("legal_hold", None)) as (s, p):
        hold = holds.create_hold(s, p, data)
        hold_id = hold.id
    out.print(f"hold {hold_id} placed")


@holds_app.command("release")
def holds_release(hold_id: str, reason: Annotated[str, typer.Option()],
                  token: TokenOpt = None) -> None:
    """Release a hold (the records' retention is recomputed); by a named user."""
    from archive.retention import holds

    ctx = Ctx.load()
    hid = _uuid(hold_id, "hold id")
    with _work(ctx, _need_token(token), action="hold.release",
               target=("legal_hold", hid)) as (s, p):
        holds.release_hold(s, p, hid, reason=reason)
    out.print(f"hold {hold_id} released")
