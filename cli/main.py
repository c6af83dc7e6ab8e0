"""The ``archive`` command: the composition root that wires core, API, workers and retention."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli import disbursements as disbursements_cli
from cli import inspection, pdfa
from cli import rebuild as rebuild_cli
from cli import retention as retention_cli
from cli.accounts import orgs_app, tokens_app, users_app
from cli.context import Ctx, fail, out, plural, print_json, progress_bar
from cli.export import export_pack

if TYPE_CHECKING:
    from archive.integrity.verify import Problem
    from archive.retention.locks import Shortfall

app = typer.Typer(help="Evidence Archive: write-once archive of disbursement evidence.",
                  no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(retention_cli.app, name="retention")
app.add_typer(disbursements_cli.app, name="disbursements")
app.command("inspect")(inspection.inspect_files)
app.command("export")(export_pack)


@app.command("pdfa", help=pdfa.HELP, add_help_option=False,
             context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def pdfa_command(ctx: typer.Context) -> None:
    """``archive pdfa …`` has its own argparse front-end (cli/pdfa.py), started without
    the application by cli/launch.py; reached through this app, it gets the rest as is."""
    raise typer.Exit(pdfa.main(ctx.args))


db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
jobs_app = typer.Typer(help="The job queue.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.command("rebuild")(rebuild_cli.rebuild)
app.add_typer(rebuild_cli.catalogue_app, name="catalogue")
app.add_typer(jobs_app, name="jobs")

err = Console(stderr=True)


# -- server --------------------------------------------------------------------------

@app.command()
def serve(host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
          workers: Annotated[int, typer.Option(
              help="API processes (production: about one per core).")] = 1) -> None:
    """Run the archive: the API, the pages and (embedded default) a worker.

    Without configuration: SQLite + a local folder under ./var, created and upgraded on
    first start."""
    import uvicorn

    started = time.time()
    ctx = Ctx.load(create=True)
    ctx.store.prepare()
    _clean_leftovers(ctx, started)
    err.print(f"Evidence Archive on [bold]http://{host}:{port}[/]  "
              f"(database: {ctx.engine.url.render_as_string(hide_password=True)}; "
              f"store: {ctx.store.describe()})")
    from api.server import server_options

    limits = server_options(ctx.settings)   # head timeout, head size, keep-alive
    if workers > 1:
        # Each process builds its own app from the same ARCHIVE_ settings.
        uvicorn.run("api.app:create_app", factory=True, host=host, port=port,
                    workers=workers, log_level="info", access_log=False, **limits)
        return
    from api.app import create_app

    application = create_app(ctx.settings, engine=ctx.engine, store=ctx.store)
    background = _embedded_background(ctx) if ctx.settings.embedded_worker else None
    try:
        uvicorn.run(application, host=host, port=port, log_level="info", access_log=False,
                    **limits)
    finally:
        if background:
            background()


def _clean_leftovers(ctx: Ctx, started: float) -> None:
    """Temporary files of processes that died (kill -9, OOM, power cut): older than this
    process and locked by nobody (archive/tempfiles.py)."""
    from archive.tempfiles import clean_leftovers

    files, size = clean_leftovers(ctx.settings.temp_dirs, older_than=started)
    if files:
        err.print(f"removed {files} temporary files ({size} bytes) left by an interrupted "
                  "process")


def _embedded_background(ctx: Ctx) -> Callable[[], None]:
    """The embedded default runs a worker and the scheduler in the server process."""
    from workers.runner import Worker
    from workers.scheduler import Scheduler

    worker = Worker(ctx.settings, engine=ctx.engine, store=ctx.store)
    scheduler = Scheduler(ctx.settings, engine=ctx.engine, on_enqueue=worker.wake)
    worker.start()
    scheduler.start()
    err.print(f"in-process worker ({worker.concurrency} threads) and scheduler started")

    def stop() -> None:
        scheduler.stop()
        worker.stop(grace=20)
    return stop


@app.command()
def worker(concurrency: Annotated[int | None, typer.Option(
               help="Jobs run at once (default ARCHIVE_WORKER_CONCURRENCY).")] = None,
           kind: Annotated[list[str] | None, typer.Option(
               "--kind", help="Only these job kinds (repeat).")] = None) -> None:
    """Run jobs from the queue until SIGTERM/SIGINT (then finish or release them)."""
    import signal

    from workers.runner import Worker

    _logging()
    started = time.time()
    ctx = Ctx.load()
    if ctx.settings.worker_nice and hasattr(os, "nice"):
        os.nice(ctx.settings.worker_nice)
    _clean_leftovers(ctx, started)
    w = Worker(ctx.settings, concurrency=concurrency, kinds=kind, engine=ctx.engine,
               store=ctx.store)
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    w.start()
    while not done.wait(1.0):
        pass
    w.stop(grace=float(os.environ.get("ARCHIVE_WORKER_GRACE", "30")))


@app.command()
def scheduler() -> None:
    """Enqueue scheduled jobs (one active scheduler at a time; others stand by)."""
    import signal

    from workers.scheduler import Scheduler

    _logging()
    ctx = Ctx.load()
    sched = Scheduler(ctx.settings, engine=ctx.engine)
    signal.signal(signal.SIGTERM, lambda *_: sched.stop())
    signal.signal(signal.SIGINT, lambda *_: sched.stop())
    sched.run()


def _logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")


@jobs_app.command("list")
def jobs_list(status: Annotated[str | None, typer.Option(
                  help="queued | running | done | failed")] = None,
              kind: Annotated[str | None, typer.Option()] = None,
              limit: Annotated[int, typer.Option()] = 50,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Recent jobs, newest first."""
    from archive.queue import service as queue

    ctx = Ctx.load()
    with ctx.unit_of_work() as session:
        jobs = queue.list_jobs(session, status=status, kind=kind, limit=limit)
        rows = [{"id": j.id, "kind": j.kind, "status": j.status, "attempts": j.attempts,
                 "payload": j.payload, "run_after": j.run_after.isoformat(),
                 "progress": j.progress, "last_error": j.last_error} for j in jobs]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "kind", "status", "attempts", "payload", "progress / error")
    for r in rows:
        note = (r["last_error"] or "").splitlines()[-1][:80] if r["last_error"] else \
            json.dumps(r["progress"], ensure_ascii=False) if r["progress"] else ""
        table.add_row(str(r["id"]), r["kind"], r["status"], str(r["attempts"]),
                      json.dumps(r["payload"], ensure_ascii=False)[:60], note)
    out.print(table)


@jobs_app.command("run")
def jobs_run(kind: Annotated[str, typer.Argument(help="The job kind, e.g. worm_probe, "
                                                 "fixity, reconcile, audit_checkpoint.")],
             payload: Annotated[str, typer.Option(help="The job's payload as JSON.")] = "{}",
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Run one job of KIND now, in this process, and print its result.

    It goes through the queue like any job, so it is recorded and audited; exit 1 if it
    failed."""
    import uuid

    import sqlalchemy as sa

    from archive.queue import service as queue
    from archive.queue.models import Job
    from workers.registry import iter_kinds
    from workers.runner import Worker

    kinds = list(iter_kinds())
    if kind not in kinds:
        fail(f"no job kind {kind!r}; the kinds are: {', '.join(kinds)}", code=2)
    try:
        body = json.loads(payload)
    except json.JSONDecodeError as exc:
        fail(f"--payload is not JSON: {exc}", code=2)
    if not isinstance(body, dict):
        fail("--payload must be a JSON object", code=2)
    ctx = Ctx.load()
    key = f"{kind}:cli:{uuid.uuid4()}"
    with ctx.unit_of_work() as session:
        queue.enqueue(session, kind, body, dedup_key=key, max_attempts=1)
    runner = Worker(ctx.settings, concurrency=1, kinds=[kind], engine=ctx.engine,
                    store=ctx.store)
    while True:
        with ctx.unit_of_work() as session:
            job = session.scalar(sa.select(Job).where(Job.dedup_key == key))
            assert job is not None
            state = {"id": job.id, "kind": job.kind, "status": job.status,
                     "result": job.result, "error": job.last_error}
        if state["status"] in ("done", "failed"):
            break
        if not runner.run_once():      # another worker holds it: wait for that one
            threading.Event().wait(0.5)
    if as_json:
        print_json(state)
    elif state["status"] == "done":
        out.print(f"job {state['id']} ({kind}) done: "
                  f"{json.dumps(state['result'], ensure_ascii=False, default=str)}")
    else:
        err.print(f"job {state['id']} ({kind}) failed: {(state['error'] or '').strip()}")
    if state["status"] != "done":
        raise typer.Exit(1)


@jobs_app.command("retry")
def jobs_retry(job_id: int) -> None:
    """Put a failed job back in the queue."""
    from archive.queue import service as queue

    ctx = Ctx.load()
    with ctx.unit_of_work() as session:
        queue.retry(session, job_id)
    out.print(f"job {job_id} queued again")


# -- database ------------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the current version."""
    from archive.db import current_revision, upgrade

    ctx = Ctx.load(create=True, check_schema=False)
    upgrade(ctx.engine)
    out.print(f"database at revision {current_revision(ctx.engine)}")


@app.command()
def init() -> None:
    """Create a new, empty archive where the configuration points.

    That is ARCHIVE_DATA_DIR (or ARCHIVE_DATABASE_URL) and the store; nothing changes for
    an archive that exists already."""
    ctx = Ctx.load(create=True)
    ctx.store.prepare()
    out.print(f"archive ready: database {ctx.engine.url.render_as_string(hide_password=True)}"
              f"; store {ctx.store.describe()}")


# -- audit trail ---------------------------------------------------------------------

@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Write the audit chain head into the write-once store now.

    With ARCHIVE_TSA_URL set it carries an RFC 3161 time-stamp."""
    from archive.audit.checkpoints import http_timestamper, write_checkpoint
    from archive.evidence.service import default_retain_until

    ctx = Ctx.load()
    stamper = http_timestamper(ctx.settings.tsa_url) if ctx.settings.tsa_url else None
    with ctx.unit_of_work() as session:
        row = write_checkpoint(session, ctx.store, timestamper=stamper,
                               retain_until=default_retain_until(
                                   ctx.settings.default_retention_years))
        if row is None:
            out.print("the audit trail is empty: nothing to anchor")
        else:
            out.print(f"checkpoint at seq {row.seq} ({row.hash[:16]}…) in {row.store_key}"
                      + (" with time-stamp" if row.timestamped else ""))


@audit_app.command("verify")
def audit_verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Recompute the chain and compare it with every checkpoint. Exit 1 on tampering."""
    from archive.audit import service as audit

    ctx = Ctx.load()
    gap = dt.timedelta(hours=ctx.settings.audit_checkpoint_max_gap_hours)
    with ctx.unit_of_work() as session:
        report = audit.verify(session, ctx.store, ctx.principal, max_gap=gap)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
    elif report.ok:
        out.print(f"[green]audit trail intact[/]: {plural(report.events, 'event')}, "
                  f"{plural(report.checkpoints, 'checkpoint')}; "
                  f"{plural(report.unanchored_events, 'event')} after the last checkpoint "
                  "not yet anchored")
    else:
        out.print(f"[red]audit trail broken at seq {report.first_bad_seq}[/] "
                  f"({report.problem}): {report.detail}")
        for more in report.problems[1:]:
            out.print(f"  also: {more}")
    if not as_json:
        for warning in report.warnings:
            out.print(f"[yellow]warning[/]: {warning}")
        if report.earlier_than_previous:
            seqs = ", ".join(str(s) for s in report.earlier_than_previous_seqs)
            more = ", …" if report.earlier_than_previous > len(
                report.earlier_than_previous_seqs) else ""
            out.print(f"note: events with a time earlier than the event before them: "
                      f"{report.earlier_than_previous:,} (seq {seqs}{more}) — appended "
                      "before times were decided under the chain's lock (migration 0098); "
                      "their hashes cover the times as stored, this is not tampering")
    if not report.ok:
        raise typer.Exit(1)


# -- ingest --------------------------------------------------------------------------

def _walk(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and not any(part.startswith(".")
                                                           for part in p.relative_to(path).parts)))
        elif path.is_file():
            files.append(path)
        else:
            fail(f"no such file or folder: {path}", code=2)
    return files


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (walked recursively).")],
    org: Annotated[str, typer.Option("--org", help="Organisation code.")],
    doc_type: Annotated[str, typer.Option("--doc-type", help="receipt, tax_invoice, …")],
    fiscal_year: Annotated[str | None, typer.Option(
        help="Thai fiscal year (BE; Thai digits accepted).")] = None,
    confirm_fiscal_year: Annotated[bool, typer.Option(
        "--confirm-fiscal-year", help="Keep a fiscal year more than one year from the issue "
        "date's, or after the next fiscal year.")] = False,
    allow_duplicate: Annotated[bool, typer.Option(
        "--allow-duplicate", help="Archive files whose bytes are already archived for the "
        "organisation as new records (deliberate duplicates, recorded as such); without "
        "it they are skipped, naming the existing record.")] = False,
    voucher_no: Annotated[str | None, typer.Option()] = None,
    doc_number: Annotated[str | None, typer.Option()] = None,
    issue_date: Annotated[str | None, typer.Option(
        help="YYYY-MM-DD; a year of 2400 or more is Buddhist Era.")] = None,
    issuer_name: Annotated[str | None, typer.Option()] = None,
    issuer_tax_id: Annotated[str | None, typer.Option()] = None,
    issuer_branch: Annotated[str | None, typer.Option()] = None,
    amount: Annotated[str | None, typer.Option()] = None,
    vat_amount: Annotated[str | None, typer.Option()] = None,
    currency: Annotated[str, typer.Option()] = "THB",
    description: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    api: Annotated[str | None, typer.Option(
        "--api", help="Send the files to this archive's API (e.g. https://archive.example) "
        "in batches, as the officer whose token is in ARCHIVE_API_TOKEN, instead of writing "
        "to the database and store configured here.")] = None,
    batch_size: Annotated[int, typer.Option(
        "--batch-size", min=1, help="Files per request with --api.")] = 50,
) -> None:
    """Archive files in bulk (folders are walked recursively).

    Files whose bytes are already archived for the organisation are skipped, naming the
    existing record (the archive's one rule for duplicates, see the README, with --api as
    without), unless --allow-duplicate; exit code 1 if any file failed."""
    fields = {"org_code": org, "doc_type": doc_type, "fiscal_year": fiscal_year,
              "voucher_no": voucher_no, "doc_number": doc_number, "issue_date": issue_date,
              "issuer_name": issuer_name, "issuer_tax_id": issuer_tax_id,
              "issuer_branch": issuer_branch, "amount": amount, "vat_amount": vat_amount,
              "currency": currency, "description": description,
              "confirm_fiscal_year": confirm_fiscal_year or None,
              "allow_duplicate": allow_duplicate or None}
    if api is not None:
        results = _ingest_through_api(api, _walk(paths), fields, batch_size, as_json)
    else:
        results = _ingest_here(paths, fields, as_json)
    if not as_json:
        _ingest_summary(results)
    if any(r["status"] == "failed" for r in results):
        raise typer.Exit(1)


def _ingest_through_api(api: str, files: list[Path], fields: dict[str, Any], batch_size: int,
                        as_json: bool) -> list[dict[str, Any]]:
    """POST /api/v1/evidence/batch, ``batch_size`` files a request (each read when its
    request is sent); a request refused as a whole stops the run."""
    import httpx

    token = os.environ.get("ARCHIVE_API_TOKEN")
    if not token:
        fail("--api needs the officer's API token in ARCHIVE_API_TOKEN", code=2)
    meta = json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False)
    results: list[dict[str, Any]] = []
    with httpx.Client(base_url=api.rstrip("/"), timeout=httpx.Timeout(30, write=600, read=600),
                      headers={"Authorization": f"Bearer {token}"}) as client, \
            progress_bar(len(files), "archiving",
                         sum(f.stat().st_size for f in files)) as advance:
        for start in range(0, len(files), batch_size):
            chunk = files[start:start + batch_size]
            parts: list[tuple[str, Any]] = []
            for path in chunk:
                parts += [("meta", (None, meta)),
                          ("file", (path.name, path.read_bytes(), "application/octet-stream"))]
            try:
                response = client.post("/api/v1/evidence/batch", files=parts)
            except httpx.HTTPError as exc:
                fail(f"the archive at {api} did not answer: {exc}")
            if response.status_code != 200:
                try:
                    body = response.json()
                    problem = f"{body.get('error')}: {body.get('detail')}"
                except ValueError:
                    problem = response.text[:300]
                fail(f"the archive refused the batch ({response.status_code}) {problem}")
            for path, item in zip(chunk, response.json()["items"], strict=True):
                row: dict[str, Any] = {"path": str(path)}
                record = item.get("evidence")
                if item["status"] == 201 and record:
                    row.update(status="duplicate" if record["duplicate"] else "archived",
                               sha256=record["sha256"], id=record["id"],
                               media_type=record["media_type"], size=record["size"])
                elif item.get("error") == "duplicate_upload" and \
                        isinstance(item.get("detail"), dict):
                    existing = item["detail"]["existing"][0]
                    row.update(status="skipped", id=existing,
                               detail=f"already archived for {fields['org_code']} as record "
                                      f"{existing} (--allow-duplicate to archive it again)")
                else:
                    row.update(status="failed", error=item.get("error"),
                               detail=item.get("detail"), http_status=item["status"])
                results.append(row)
                if as_json:
                    print(json.dumps(row, ensure_ascii=False, default=str), flush=True)
                advance(path.stat().st_size)
    return results


def _ingest_here(paths: list[Path], fields: dict[str, Any],
                 as_json: bool) -> list[dict[str, Any]]:

    from archive.errors import ArchiveError
    from archive.evidence import service
    from archive.evidence.intake import spool_file
    from archive.evidence.schemas import EvidenceMetadata, parse_metadata
    from archive.orgs import service as orgs
    from archive.textnorm import safe_filename
    from archive.unit_of_work import session_scope

    ctx = Ctx.load()
    try:
        meta = parse_metadata(EvidenceMetadata, {k: v for k, v in fields.items()
                                                 if v is not None})
        with ctx.unit_of_work() as session:
            orgs.get_by_code(session, fields["org_code"])
    except ArchiveError as exc:
        fail(exc)
    files = _walk(paths)
    policy = service.IngestPolicy(ctx.settings.allowed_media_types,
                                  ctx.settings.default_retention_years,
                                  ctx.settings.lock_min_horizon_days)
    results: list[dict[str, Any]] = []
    with progress_bar(len(files), "archiving", sum(f.stat().st_size for f in files)) as advance:
        for path in files:
            row: dict[str, Any] = {"path": str(path)}
            try:
                spool = spool_file(path, max_bytes=ctx.settings.max_upload_bytes,
                                   memory_limit=ctx.settings.spool_memory_bytes,
                                   tmp_dir=ctx.settings.tmp_dir)
                with spool, session_scope(ctx.sessions) as session:
                    row["sha256"] = spool.sha256
                    result = service.ingest(
                        session, ctx.store, ctx.principal, spool=spool, meta=meta,
                        filename=safe_filename(path.name), client_media_type=None,
                        policy=policy)
                    row.update(status="duplicate" if result.duplicate else "archived",
                               id=str(result.evidence.id), media_type=result.blob.media_type,
                               size=result.blob.size)
                    if result.evidence.duplicate_allowed:
                        row["duplicate_allowed"] = True
            except ArchiveError as exc:
                if exc.code == "duplicate_upload" and isinstance(exc.detail, dict):
                    existing = exc.detail["existing"][0]
                    row.update(status="skipped", id=existing,
                               detail=f"already archived for {fields['org_code']} as record "
                                      f"{existing} "
                                      "(--allow-duplicate to archive it again)")
                else:
                    row.update(status="failed", error=exc.code, detail=exc.detail)
            except OSError as exc:
                row.update(status="failed", error="read_error", detail=str(exc))
            results.append(row)
            if as_json:
                print(json.dumps(row, ensure_ascii=False, default=str), flush=True)
            advance(path.stat().st_size if path.exists() else 0)
    return results


def _ingest_summary(results: list[dict[str, Any]]) -> None:
    table = Table("file", "status", "sha256", show_lines=False)
    table.add_column("record / error", min_width=36, overflow="fold")  # ids never cut
    style = {"archived": "green", "duplicate": "cyan", "skipped": "dim", "failed": "red"}
    # A terminal shows the start of the hash (the full one is in --json and on the record);
    # a pipe or a file gets every value whole.
    sha_width = 16 if out.is_terminal else 64
    for r in results:
        table.add_row(r["path"], f"[{style[r['status']]}]{r['status']}[/]",
                      (r.get("sha256") or "")[:sha_width],
                      r["detail"] if r["status"] == "skipped" else
                      r.get("id") or f"{r.get('error')}: {r.get('detail')}")
    out.print(table)
    counts = {s: sum(1 for r in results if r["status"] == s) for s in style}
    out.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no files")


# -- verify --------------------------------------------------------------------------

@app.command()
def verify(as_json: Annotated[bool, typer.Option("--json")] = False,
           no_rehash: Annotated[bool, typer.Option(
               "--no-rehash", help="Compare sizes only (fast).")] = False,
           seal_legacy: Annotated[bool, typer.Option(
               "--seal-legacy", help="First give records created before version hashes "
               "one for their current state (audited as evidence.seal).")] = False,
           catalogue_locks: Annotated[str | None, typer.Option(
               "--catalogue-locks", metavar="N|all|none",
               help="Check the locks of the catalogue objects (what `archive rebuild "
               "--from-store` needs) of N records chosen at random (default 200), of all "
               "records, or none.")] = None) -> None:
    """Walk database and store and list every problem; exit 1 on any.

    Missing, corrupt and orphaned objects; blob keys against their SHA-256; every record's
    metadata against the version hash its audit trail recorded, and every audited
    creation against a row or a tombstone; catalogue objects locked shorter than the
    records they describe need (of 200 records chosen at random unless told otherwise:
    about a dozen store requests a record); temporary files left by killed processes; and
    standing alerts (failed fixity audits or downloads, a failed WORM probe)."""
    import sqlalchemy as sa

    from archive.evidence.models import Blob
    from archive.integrity import alerts
    from archive.integrity import verify as verifier
    from archive.retention import locks

    sample = _catalogue_sample(catalogue_locks)
    ctx = Ctx.load()
    if seal_legacy:
        with ctx.unit_of_work() as session:
            sealed = verifier.seal_legacy(session, ctx.principal)
        if not as_json:
            out.print(f"{sealed} legacy records sealed")
    with ctx.unit_of_work() as session:
        total = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Blob.size), 0))) or 0
        with progress_bar(None, "verifying", int(total)) as advance:
            report = verifier.verify(session, ctx.store, rehash=not no_rehash,
                                     progress=advance, temp_dirs=ctx.settings.temp_dirs)
        catalogue: dict[str, object] | None = None
        if sample != 0:
            records, kept = locks.check_catalogue(session, ctx.store, sample=sample)
            report.problems += [_short_lock(s) for s in kept.short]
            catalogue = {"records": records, "sampled": sample is not None,
                         "listings": kept.listings, "objects": kept.stats,
                         "short": len(kept.short)}
        standing = alerts(session)
    ok = report.ok and not standing
    if as_json:
        print(json.dumps({**report.to_dict(), "ok": ok, "catalogue_locks": catalogue,
                          "alerts": standing}, ensure_ascii=False))
    else:
        out.print(f"{report.blobs_checked} blobs checked, {report.objects_seen} objects seen, "
                  f"{report.bytes_hashed} bytes re-hashed, {report.records_checked} records "
                  "checked against their audited version hashes")
        if catalogue is not None:
            out.print(f"catalogue objects' locks: {catalogue['objects']} objects of "
                      f"{catalogue['records']} records"
                      + (" chosen at random" if catalogue["sampled"] else "")
                      + f" checked, {catalogue['short']} shorter than their records need")
        if report.legacy_unhashed:
            out.print(f"[yellow]{report.legacy_unhashed} records unhashed (legacy)[/]: created "
                      "before version hashes, their metadata cannot be checked "
                      "(`archive verify --seal-legacy`), e.g. "
                      + ", ".join(report.legacy_examples[:5]))
        if ok:
            out.print("[green]no problems[/]")
        if report.problems:
            table = Table("problem", "key", "version", "detail", "records")
            for p in report.problems:
                table.add_row(p.kind, p.key, p.version_id or "", p.detail, ", ".join(p.records))
            out.print(table)
        for alert in standing:
            out.print(f"[red]alert[/] {alert['kind']}: {alert['key'] or ''} {alert['detail']}")
    if not ok:
        raise typer.Exit(1)


def _catalogue_sample(value: str | None) -> int | None:
    """``--catalogue-locks``: a number of records, ``all`` (None) or ``none`` (0)."""
    from archive.retention.locks import CHECK_SAMPLE

    if value is None:
        return CHECK_SAMPLE
    if value == "all":
        return None
    if value == "none":
        return 0
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise typer.BadParameter(f"{value!r}: give a number of records, 'all' or 'none'",
                                 param_hint="--catalogue-locks")
    return n


def _short_lock(short: Shortfall) -> Problem:
    from archive.integrity.verify import Problem

    until = f"{short.retain_until:%Y-%m-%d %H:%M} UTC" if short.retain_until else "not locked"
    return Problem(
        "catalogue_lock_short", short.key,
        f"locked until {until}, but the records it describes keep their bytes locked until "
        f"{short.needed:%Y-%m-%d %H:%M} UTC: the store could let it go first, and `archive "
        "rebuild --from-store` would then lack it. The daily lock sync "
        "(retention_sync_locks) or `archive catalogue backfill` extends it",
        version_id=short.version_id)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
