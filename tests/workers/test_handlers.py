"""The core jobs against the real stores: inspect, fixity, WORM probe, checkpoints,
reconcile, and the scheduler's idempotent enqueueing and single leadership."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from archive.evidence.models import Blob, Evidence, EvidenceHistory, Inspection
from archive.queue.models import Job, SystemCheck
from archive.storage.local import LocalStore
from tests import clirun
from tests.archive.inspection.helpers import build_pdfa3, etda_invoice_xml
from tests.archive.pdfa.fixtures import create_pdfa
from tests.conftest import Env, make_s3_store
from tests.factories import make_pdf, upload, world
from workers.runner import Worker
from workers.scheduler import Leadership, Scheduler


def drain(env: Env, kinds: list[str] | None = None, store: Any = None) -> None:
    worker = Worker(env.settings, engine=env.engine, store=store or env.store, kinds=kinds)
    while worker.run_once():
        pass


def enqueue(env: Env, kind: str, payload: dict[str, Any] | None = None) -> None:
    from archive.queue.service import enqueue as add

    with env.session() as s:
        add(s, kind, payload or {})


def last_check(env: Env, kind: str) -> SystemCheck:
    with env.session() as s:
        check = s.scalar(sa.select(SystemCheck).where(SystemCheck.kind == kind)
                         .order_by(SystemCheck.id.desc()))
        assert check is not None
        s.expunge(check)
        return check


def test_inspect_job_stores_the_pdfa_verdict_per_clause(env: Env):
    tokens = world(env)
    officer = env.client(tokens["off1"])
    good = upload(officer, create_pdfa(2, "B"), filename="pdfa.pdf").json()
    plain = upload(officer, make_pdf("not-pdfa"), filename="plain.pdf").json()
    drain(env, ["inspect"])
    ok = officer.get(f"/api/v1/evidence/{good['id']}/inspection").json()
    bad = officer.get(f"/api/v1/evidence/{plain['id']}/inspection").json()
    assert ok["status"] == "inspected" and ok["pdfa"]["compliant"] is True, ok["pdfa"]
    assert ok["pdfa"]["flavour"] == "2b"
    assert bad["pdfa"]["compliant"] is False
    assert any(f["clause"] for f in bad["pdfa"]["failures"])
    with env.session() as s:
        statuses = {name: ok for name, ok in s.execute(
            sa.select(Evidence.original_filename, Evidence.pdfa_compliant))}
    assert statuses == {"pdfa.pdf": True, "plain.pdf": False}
    assert officer.get(f"/api/v1/evidence/{good['id']}").json()["status"] == "inspected"


def test_inspection_report_names_the_uploaded_file_not_a_server_path(env: Env):
    """GIVEN a file uploaded as 'ใบเสร็จ 7.pdf' WHEN it is inspected THEN the report names
    that file and nowhere reveals the worker's temporary folder."""
    tokens = world(env)
    officer = env.client(tokens["off1"])
    rec = upload(officer, create_pdfa(2, "B"), filename="ใบเสร็จ 7.pdf").json()
    drain(env, ["inspect"])
    report = officer.get(f"/api/v1/evidence/{rec['id']}/inspection").json()
    assert report["pdfa"]["path"] == "ใบเสร็จ 7.pdf"
    assert report["report"]["name"] == "ใบเสร็จ 7.pdf"
    text = json.dumps(report, ensure_ascii=False)
    assert str(env.settings.data_dir) not in text and "inspect-" not in text


def test_inspect_fills_missing_metadata_and_warns_on_disagreement(env: Env, tmp_path: Path):
    tokens = world(env)
    officer = env.client(tokens["off1"])
    xml = etda_invoice_xml(number="INV-2568-0001", grand_total="10700.00")
    pdf = build_pdfa3(tmp_path / "etax.pdf", xml).read_bytes()
    rec = upload(officer, pdf, filename="etax.pdf", doc_type="tax_invoice",
                 doc_number="INV-9999").json()          # typed wrong; amount left empty
    drain(env, ["inspect"])
    report = officer.get(f"/api/v1/evidence/{rec['id']}/inspection").json()
    assert "doc_number" in [w["field"] for w in report["warnings"]]
    assert "amount" in report["filled"]
    record = officer.get(f"/api/v1/evidence/{rec['id']}").json()
    assert record["amount"] == "10700.00"               # filled from the file…
    assert record["doc_number"] == "INV-9999"           # …but typed values never overwritten
    assert record["history"][0]["reason"] == "filled from the file"
    assert report["report"]["invoice"]["kind"] == "etax"


def test_inspect_job_is_idempotent(env: Env):
    tokens = world(env)
    rec = upload(env.client(tokens["off1"]), make_pdf("twice")).json()
    enqueue(env, "inspect", {"evidence_id": rec["id"]})        # a second delivery
    drain(env, ["inspect"])
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 1
        done = list(s.scalars(sa.select(Job.result).where(Job.kind == "inspect")))
        assert sorted(json.dumps(d) for d in done)[1].count("already inspected") == 1 or \
            any(d.get("skipped") for d in done)
        history = s.scalar(sa.select(sa.func.count()).select_from(EvidenceHistory))
        assert history == 0


def test_fixity_finds_bytes_that_no_longer_match(env: Env):
    tokens = world(env)
    rec = upload(env.client(tokens["off1"]), make_pdf("fixity")).json()
    upload(env.client(tokens["off1"]), make_pdf("fixity-ok"))
    enqueue(env, "fixity")
    drain(env, ["fixity"])
    assert last_check(env, "fixity").ok
    if env.stack == "sqlite":    # alter the bytes on disk, as bit rot or a intruder would
        path = env.settings.objects_dir / ("sha256/" + rec["sha256"][:2] + "/" +
                                           rec["sha256"][2:4] + "/" + rec["sha256"])
        path.chmod(0o644)
        data = bytearray(path.read_bytes())
        data[5] ^= 0x01
        path.write_bytes(bytes(data))
    else:                        # the S3 server will not let us alter a locked version:
        with env.session() as s:  # point the row at a different expected hash instead
            s.execute(sa.update(Blob).where(Blob.sha256 == rec["sha256"])
                      .values(sha256="0" * 64))
    with env.session() as s:
        s.execute(sa.update(Blob).values(fixity_checked_at=None))
    enqueue(env, "fixity")
    drain(env, ["fixity"])
    check = last_check(env, "fixity")
    assert not check.ok and len(check.details["mismatches"]) == 1
    result = clirun.command(["verify", "--json", "--no-rehash"], env.env_vars())
    assert result.returncode == 1
    assert [a["kind"] for a in json.loads(result.stdout)["alerts"]] == ["fixity_mismatch"]
    events = env.client(tokens["aud1"]).get("/api/v1/audit/events",
                                            params={"action": "fixity.mismatch"}).json()
    assert events and events[0]["outcome"] == "alert"


def test_fixity_covers_every_object_within_the_cycle(env: Env):
    from archive.integrity.fixity import batch_size

    assert batch_size(0, 30) == 1
    assert batch_size(720, 30) == 1
    assert batch_size(721, 30) == 2
    assert batch_size(1_000_000, 30) * 24 * 30 >= 1_000_000


def test_worm_probe_passes_on_a_real_write_once_store(env: Env):
    enqueue(env, "worm_probe")
    drain(env, ["worm_probe"])
    check = last_check(env, "worm_probe")
    assert check.ok, check.details
    assert set(check.details["attempts"].values()) == {"refused"}


def test_worm_probe_catches_a_store_that_accepts_deletes(env: Env, tmp_path: Path):
    tokens = world(env)
    if env.stack == "sqlite":
        careless: Any = LocalStore(env.settings.objects_dir, enforce_lock=False)
    else:
        from minio import Minio

        from tests import servers

        bucket = "nolock-" + env.settings.s3_bucket
        Minio(env.weed.endpoint, access_key=servers.ACCESS_KEY, secret_key=servers.SECRET_KEY,
              secure=False).make_bucket(bucket)
        careless = make_s3_store(env.weed, bucket, require_object_lock=False)
    enqueue(env, "worm_probe")
    drain(env, ["worm_probe"], store=careless)
    check = last_check(env, "worm_probe")
    assert not check.ok
    ready = env.client().get("/readyz").json()
    assert ready["checks"]["worm_probe"]["status"] == "critical"
    result = clirun.command(["verify", "--json", "--no-rehash"], env.env_vars())
    assert result.returncode == 1
    assert "worm_probe_failed" in [a["kind"] for a in json.loads(result.stdout)["alerts"]]
    critical = [e for e in env.client(tokens["aud1"]).get("/api/v1/audit/events").json()
                if e["action"] == "store.worm_probe"]
    assert critical == []     # store events have no organisation: not in an auditor's scope
    with env.session() as s:
        from archive.audit.models import AuditEvent

        assert s.scalar(sa.select(AuditEvent.outcome)
                        .where(AuditEvent.action == "store.worm_probe")) == "critical"


def test_checkpoint_and_reconcile_jobs(env: Env):
    tokens = world(env)
    upload(env.client(tokens["off1"]), make_pdf("reconcile"))
    stray = b"an object nobody points at"
    import hashlib

    from archive.storage import blob_key

    env.store.put(blob_key(hashlib.sha256(stray).hexdigest()), io.BytesIO(stray), len(stray),
                  retain_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    enqueue(env, "audit_checkpoint")
    enqueue(env, "reconcile")
    drain(env, ["audit_checkpoint", "reconcile"])
    assert list(env.store.list_objects("audit/checkpoints/"))
    check = last_check(env, "reconcile")
    assert not check.ok and [p["kind"] for p in check.details["problems"]] == ["orphan"]


def test_scheduler_enqueues_once_per_period(env: Env):
    entry = {"kind": "fixity", "cron": {"minute": 20}, "period": "hour", "payload": {}}
    sched = Scheduler(env.settings, engine=env.engine, schedule=[entry])
    at = dt.datetime(2026, 11, 25, 14, 20, tzinfo=dt.UTC)
    for _ in range(3):
        sched.fire(entry, at)
    sched.fire(entry, at + dt.timedelta(hours=1))
    with env.session() as s:
        keys = sorted(s.scalars(sa.select(Job.dedup_key)))
    assert keys == ["fixity:2026-11-25T21", "fixity:2026-11-25T22"]    # Asia/Bangkok hours


def test_self_checks_run_soon_after_a_scheduler_becomes_active(env: Env):
    """GIVEN a fresh install WHEN its scheduler becomes active THEN the WORM probe, fixity
    and reconcile are queued at once (not at their first cron time, up to a day later),
    and a restart in the same period queues nothing more."""
    for _ in range(2):
        sched = Scheduler(env.settings, engine=env.engine)
        thread = sched.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with env.session() as s:
                kinds = sorted(s.scalars(sa.select(Job.kind)))
            if len(kinds) >= 3:
                break
            time.sleep(0.1)
        sched.stop()
        thread.join(timeout=20)
        assert kinds == ["fixity", "reconcile", "worm_probe"]
    drain(env, ["worm_probe", "fixity", "reconcile"])
    for kind in ("worm_probe", "fixity", "reconcile"):
        assert last_check(env, kind).ok, kind


def test_every_scheduled_entry_makes_a_trigger_and_has_a_handler():
    from zoneinfo import ZoneInfo

    from workers.registry import HANDLERS
    from workers.scheduler import full_schedule, trigger_for

    entries = full_schedule()
    assert {"audit_checkpoint", "fixity", "worm_probe", "reconcile",
            "retention_survey"} <= {e["kind"] for e in entries}
    for entry in entries:
        trigger = trigger_for(entry, ZoneInfo("Asia/Bangkok"))
        assert trigger.get_next_fire_time(None, dt.datetime.now(dt.UTC)) is not None
        assert entry["kind"] in HANDLERS, entry["kind"]


def test_only_one_scheduler_is_active(env: Env):
    other_engine = sa.create_engine(env.settings.db_url)   # another process's connection
    first = Leadership(env.engine, env.settings.data_dir)
    second = Leadership(other_engine, env.settings.data_dir)
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        first.release()
        assert second.try_acquire() is True
    finally:
        first.release()
        second.release()
        other_engine.dispose()


@pytest.mark.parametrize("name", ["inspect", "fixity", "worm_probe", "audit_checkpoint",
                                  "reconcile", "extract_text"])
def test_every_core_job_kind_has_a_handler(name: str):
    from workers.registry import HANDLERS

    assert name in HANDLERS


def test_a_broken_retention_import_stops_the_scheduler():
    """It used to be swallowed: the scheduler ran on without retention's jobs."""
    import importlib

    import workers.scheduler as scheduler

    saved = sys.modules["archive.retention.periodic"]
    sys.modules["archive.retention.periodic"] = None  # type: ignore[assignment]
    try:
        with pytest.raises(ImportError):
            importlib.reload(scheduler)
            scheduler.full_schedule()
    finally:
        sys.modules["archive.retention.periodic"] = saved
        importlib.reload(scheduler)
    assert {e["kind"] for e in scheduler.full_schedule()} >= {"retention_survey"}
