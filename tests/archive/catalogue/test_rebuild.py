"""The catalogue back from the store alone (``archive rebuild --from-store``), on both
stacks: records ingested, corrected, inspected and some destroyed; the database lost; a
fresh one rebuilt; then the archive's own checks pass and it answers as before."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from archive.audit.checkpoints import verify_chain, write_checkpoint
from archive.audit.models import AuditEvent
from archive.catalogue import objects
from archive.db import make_engine
from archive.integrity.verify import verify
from archive.storage import blob_key
from archive.unit_of_work import make_session_factory
from cli.main import app as cli_app
from tests.archive.retention.helpers import (
    RETENTION_KINDS,
    approve_all,
    at,
    ingest,
    people,
    request_execution,
    run_jobs,
    survey,
    wait_for_locks,
)
from tests.conftest import Env, StackBase
from tests.factories import make_xml, upload, world

KINDS = ("inspect", "extract_text", *RETENTION_KINDS)
LOCK_SECONDS = 3.0
QUERIES: list[dict[str, Any]] = [
    {}, {"q": "ร้านวัสดุ"}, {"fiscal_year": 2568}, {"org_code": "sao-2"},
    {"doc_type": "tax_invoice"}, {"amount_min": "1000", "amount_max": "1300"},
    {"q": "receipt-c"}, {"status": "destroyed"}, {"voucher_no": "ฎ c"},
]


@pytest.fixture
def short_lock(monkeypatch: pytest.MonkeyPatch) -> float:
    """New bytes locked for seconds, so an approved disposition can delete them."""
    from archive.evidence import service

    monkeypatch.setattr(service, "new_bytes_lock", lambda *_, **__:
                        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LOCK_SECONDS))
    return LOCK_SECONDS


def _correct(env: Env, token: str, rid: str, reason: str, **fields: Any) -> None:
    client = env.client(token)
    etag = client.get(f"/api/v1/evidence/{rid}").headers["ETag"]
    r = client.patch(f"/api/v1/evidence/{rid}", json={**fields, "reason": reason},
                     headers={"If-Match": etag})
    assert r.status_code == 200, r.text


def _seen(env: Env, token: str, ids: list[str], anchored: int) -> dict[str, Any]:
    """What an auditor sees: each record with its history, inspection and audit events up
    to seq ``anchored``, and searches."""
    client = env.client(token)
    seen: dict[str, Any] = {}
    for rid in ids:
        record = client.get(f"/api/v1/evidence/{rid}").json()
        record["audit"] = [e for e in record["audit"] if e["seq"] <= anchored]
        for entry in record.get("history") or []:
            entry.pop("id", None)
        inspection = client.get(f"/api/v1/evidence/{rid}/inspection")
        seen[rid] = {"record": record, "inspection_status": inspection.status_code,
                     "inspection": inspection.json() if inspection.status_code == 200 else None}
    for params in QUERIES:
        r = client.get("/api/v1/evidence", params=params)
        assert r.status_code == 200, r.text
        seen[f"search {params}"] = ([i["id"] for i in r.json()["items"]], r.json()["total"])
    return seen


def _fresh(env: Env, stack: StackBase, tmp_path: Any) -> tuple[Env, Callable[[], None]]:
    """The same store; a new, empty (migrated) database, and how to drop it."""
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if stack.name == "sqlite":
        db_file = tmp_path / "rebuilt.db"
        shutil.copy(stack.template, db_file)  # type: ignore[arg-type]
        url = f"sqlite:///{db_file}"
    else:
        pg = stack.pg
        assert pg is not None
        name = pg.create_database("archive_rebuilt")
        url = pg.url(name)
        drop = lambda: pg.drop_database(name)  # noqa: E731
    from archive.db import upgrade

    engine = make_engine(url)
    upgrade(engine)
    settings = env.settings.model_copy(update={"database_url": url})
    settings.__dict__.pop("db_url", None)        # a cached property, copied along
    return dataclasses.replace(env, settings=settings, engine=engine,
                               sessions=make_session_factory(engine, env.store),
                               tokens={}, apps=[]), drop


def test_rebuild_from_the_store_gives_back_the_archive(env: Env, stack: StackBase, tmp_path,
                                                       short_lock: float) -> None:
    """GIVEN records ingested in two organisations, corrected (twice, once after the last
    audit checkpoint), inspected, two of them destroyed by an executed disposition
    WHEN the database is lost and `archive rebuild --from-store` fills an empty one
    THEN `archive verify` and the audit chain pass on what was rebuilt, every record reads
    as before (metadata, history, inspection, tombstone), searches answer the same; users
    are not restored (said so); a second rebuild is refused."""
    tokens = people(env, world(env))
    a = ingest(env, tokens, "a")
    b = ingest(env, tokens, "b")
    c = ingest(env, tokens, "c", fiscal_year=2568)
    d = ingest(env, tokens, "d", fiscal_year=2568, doc_type="tax_invoice")
    r = upload(env.client(tokens["off2"]), make_xml("INV-9"), filename="inv.xml",
               org_code="sao-2", doc_type="tax_invoice", fiscal_year=2568, amount="107.00")
    assert r.status_code == 201, r.text
    e = r.json()
    ids = [a["id"], b["id"], c["id"], d["id"], e["id"]]
    _correct(env, tokens["off1"], c["id"], "ผิดเลขที่", doc_number="IV-77")
    officer = env.client(tokens["off1"])
    r = officer.post("/api/v1/disbursements", json={
        "org_code": "sao-1", "voucher_no": "ฎ 1/2568", "voucher_date": "2025-01-20",
        "kind": "procurement", "payee_name": "ร้านวัสดุ", "gross_amount": "1250.50",
        "withholding_tax": "0.00", "net_amount": "1250.50",
        "payment_method": "e_payment"})
    assert r.status_code == 201, r.text
    r = officer.post(f"/api/v1/disbursements/{r.json()['id']}/evidence",
                     json={"evidence_id": c["id"], "role": "receipt"})
    assert r.status_code in (200, 201), r.text
    link = [objects.read(env.store, i.key) for i in
            env.store.list_objects(f"{objects.LINKS}{c['id']}/")]
    assert [(x["kind"], x["action"], x["target"]["voucher_no"]) for x in link] == \
        [("voucher", "link", "ฎ 1/2568")]
    _correct(env, tokens["off1"], c["id"], "ยอดผิด", amount="1250.50", description="receipt-c")
    run_jobs(env, KINDS)
    # The lock sync keeps a record's descriptions as long as its bytes.
    bytes_lock = env.store.stat(blob_key(c["sha256"])).retain_until
    assert bytes_lock > dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
    described = [i for prefix in (objects.RECORDS, objects.INSPECTIONS, objects.LINKS)
                 for i in env.store.list_objects(f"{prefix}{c['id']}/")]
    assert len(described) == 5      # 3 versions, the inspection, the voucher link
    assert all(env.store.stat(i.key, i.version_id).retain_until >= bytes_lock
               for i in described)
    wait_for_locks(short_lock)
    with at("2027-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        approve_all(env, tokens, list_id, sent_on="2027-01-15")
    with at("2027-03-16"):
        assert request_execution(env, tokens, list_id).status_code == 202
        run_jobs(env, KINDS)
    # A tombstone is proof of a lawful destruction: locked as long as the certificate.
    tombstones = [env.store.stat(f"{objects.TOMBSTONES}{rid}.json") for rid in ids]
    proof = [t.retain_until for t in tombstones if t is not None]
    assert len(proof) == 2, proof
    assert all(t is not None and t > dt.datetime.now(dt.UTC) + dt.timedelta(days=29 * 365)
               for t in proof), proof
    with env.session() as s:
        checkpoint = write_checkpoint(s, env.store, retain_until=dt.datetime.now(dt.UTC) +
                                      dt.timedelta(days=2))
        assert checkpoint is not None
        anchored = checkpoint.seq
    _uncommitted_version(env, c["id"], checkpoint.at)
    # Made after the last checkpoint: its audit event is lost with the database.
    _correct(env, tokens["off1"], d["id"], "ชื่อผู้ขาย", issuer_name="ร้านวัสดุ ใหม่")
    run_jobs(env, KINDS)
    before = _seen(env, tokens["aud1"], ids, anchored)
    assert before[a["id"]]["record"]["status"] == "destroyed"
    assert len(before[c["id"]]["record"]["history"]) == 2

    rebuilt, dropped = _fresh(env, stack, tmp_path)
    try:
        _rebuild_and_compare(rebuilt, before, ids, anchored)
    finally:
        rebuilt.close()
        rebuilt.engine.dispose()
        dropped()


def _uncommitted_version(env: Env, rid: str, checkpoint_at: dt.datetime) -> None:
    """A manifest whose transaction never committed (written, then the commit failed),
    two hours before the checkpoint: the trail proves it never happened."""
    from archive.evidence import versions

    keys = sorted(i.key for i in env.store.list_objects(f"{objects.RECORDS}{rid}/"))
    latest = objects.read(env.store, keys[-1])
    fields = {**latest["fields"], "description": "never committed"}
    version = latest["version"] + 1
    meta_hash = versions.version_hash(evidence_id=rid, version=version, fields=fields,
                                      blob_sha256=latest["sha256"], previous=latest["meta_hash"])
    doc = {**latest, "version": version, "fields": fields, "meta_hash": meta_hash,
           "previous": latest["meta_hash"],
           "change": {**latest["change"], "at": checkpoint_at - dt.timedelta(hours=2)}}
    objects.put(env.store, f"{objects.RECORDS}{rid}/{version:06d}-{meta_hash}.json", doc,
                dt.datetime.now(dt.UTC) + dt.timedelta(days=1))


def _rebuild_and_compare(rebuilt: Env, before: dict[str, Any], ids: list[str],
                         anchored: int) -> None:
    # The command in this process (a subprocess costs ~10 s of start-up on a loaded box).
    runner = CliRunner()
    variables = {k: v for k, v in rebuilt.env_vars().items() if k.startswith("ARCHIVE_")}
    run = runner.invoke(cli_app, ["rebuild", "--from-store"], env=variables)
    assert run.exit_code == 0, run.output
    assert "not restored" in run.stdout and "users" in run.stdout
    assert "5 records" in run.stdout and "2 tombstones" in run.stdout, run.stdout
    assert "1 record version made after the last audit checkpoint" in run.stdout, run.stdout
    assert "1 record version never committed" in run.stdout, run.stdout
    again = runner.invoke(cli_app, ["rebuild", "--from-store"], env=variables)
    assert again.exit_code == 1 and "not empty" in again.stderr, again.output

    run_jobs(rebuilt, KINDS)
    with rebuilt.session() as s:
        report = verify(s, rebuilt.store)
        assert report.ok, report.problems
        assert report.records_checked == 5 and report.legacy_unhashed == 0
        chain = verify_chain(s, rebuilt.store)
        assert chain.ok, chain.problems
        actions = set(s.scalars(sa.select(AuditEvent.action)))
    assert {"evidence.create", "evidence.update", "disposition.destroy", "evidence.restore",
            "archive.rebuild"} <= actions
    # Users are not restored: they are created again, with the same scopes.
    rebuilt.user("aud1", "auditor", ["p-cm"])
    after = _seen(rebuilt, rebuilt.tokens["aud1"], ids, anchored)
    for key in before:
        if isinstance(before[key], dict):
            for part in before[key]:
                was, now = before[key][part], after[key][part]
                differs = {f: (was[f], now.get(f)) for f in was if was[f] != now.get(f)} \
                    if isinstance(was, dict) else (was, now)
                assert was == now, (key, part, differs)
        assert after[key] == before[key], key
