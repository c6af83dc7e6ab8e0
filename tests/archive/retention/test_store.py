"""The store follows retention: locks extended (never shortened) when schedules change,
shared bytes kept until their last record goes, and a too-early delete refused by the
store itself (on S3 by the server), retried later by the purge job."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from minio import Minio
from minio.error import S3Error

from archive.audit.models import AuditEvent
from archive.evidence.models import Blob
from archive.failpoints import run_at
from archive.queue.models import Job
from archive.queue.service import enqueue, retry
from archive.retention import execution
from archive.retention.models import DispositionItem
from archive.retention.periodic import SCHEDULE
from archive.storage import blob_key
from tests import servers
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
from tests.conftest import Env
from tests.factories import make_pdf, world


def bkk(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=dt.UTC) - dt.timedelta(hours=7)


def test_schedule_change_extends_records_and_store_locks_but_never_shortens(env: Env):
    tokens = world(env)
    national = env.user("rm-dla", "records_manager", ["dla"])
    rec = ingest(env, tokens, "letter", fiscal_year=2570, doc_type="other")
    run_jobs(env)
    key = blob_key(rec["sha256"])
    rm = env.client(tokens["rm1"])
    info = rm.get(f"/api/v1/retention/records/{rec['id']}").json()
    assert info["schedule_code"] == "correspondence"
    assert info["retain_until"].startswith("2037-09-30T17:00")
    assert env.store.stat(key).retain_until >= bkk(2037, 10, 1)

    # A records manager of one LAO cannot change the national schedule.
    r = rm.patch("/api/v1/retention/schedules/correspondence",
                 json={"keep_years": 3, "reason": "ประหยัดพื้นที่"})
    assert r.status_code == 403 and r.json()["error"] == "national_scope_required"

    dla = env.client(national)
    r = dla.patch("/api/v1/retention/schedules/correspondence",
                  json={"keep_years": 30, "reason": "หนังสือกรม ที่ มท 0808/1"})
    assert r.status_code == 200 and r.json()["version"] == 2
    run_jobs(env)
    info = rm.get(f"/api/v1/retention/records/{rec['id']}").json()
    assert info["retain_until"].startswith("2057-09-30T17:00")
    lock = env.store.stat(key)
    assert lock.retain_until == bkk(2057, 10, 1)          # the store's own answer
    with env.session() as s:
        assert s.scalar(sa.select(Blob.retain_until).where(Blob.sha256 == rec["sha256"])) == \
            bkk(2057, 10, 1)

    r = dla.patch("/api/v1/retention/schedules/correspondence",
                  json={"keep_years": 3, "reason": "ทดลองลดอายุ"})
    assert r.status_code == 200 and r.json()["version"] == 3
    run_jobs(env)
    info = rm.get(f"/api/v1/retention/records/{rec['id']}").json()
    assert info["retain_until"].startswith("2057-09-30T17:00")
    assert "only ever extended" in info["retention_basis"]
    assert env.store.stat(key).retain_until == bkk(2057, 10, 1)
    versions = rm.get("/api/v1/retention/schedules/correspondence").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[1]["reason"] == "หนังสือกรม ที่ มท 0808/1"
    assert versions[0]["values"]["keep_years"] == 10
    events = env.client(tokens["aud1"]).get(
        "/api/v1/audit/events", params={"action": "retention.schedule_update"}).json()
    assert events == []       # schedule events are national: not in a province's scope


def test_new_doc_type_mapping_applies_to_new_records(env: Env):
    tokens = world(env)
    national = env.client(env.user("rm-dla", "records_manager", ["dla"]))
    r = national.put("/api/v1/retention/doc-types/contract", json={
        "schedule_code": "financial-reports", "reason": "สัญญาเก็บเช่นรายงานการเงิน"})
    assert r.status_code == 200, r.text
    rec = ingest(env, tokens, "contract", doc_type="contract")
    info = env.client(tokens["rm1"]).get(f"/api/v1/retention/records/{rec['id']}").json()
    assert info["schedule_code"] == "financial-reports"
    bad = national.put("/api/v1/retention/doc-types/contract", json={
        "schedule_code": "nope", "reason": "x"})
    assert bad.status_code == 404


def test_shared_bytes_survive_until_their_last_record_is_destroyed(env: Env, short_lock):
    """GIVEN the same bytes archived twice in sao-1, for FY 2555 and FY 2556
    WHEN the FY 2555 record is destroyed in 2023 (when FY 2556 is not due yet)
    THEN the bytes stay (the FY 2556 record still reads them), and go with it in 2024.
    (Both dates are in the real past: the store's lock follows the later record.)"""
    tokens = people(env, world(env))
    pdf = make_pdf("shared bytes")
    first = ingest(env, tokens, "s1", fiscal_year=2555, content=pdf)
    second = ingest(env, tokens, "s2", fiscal_year=2556, content=pdf,
                    allow_duplicate="true")     # deliberately: the archive's one rule
    assert first["sha256"] == second["sha256"]
    run_jobs(env)
    wait_for_locks(short_lock)
    key = blob_key(first["sha256"])
    with at("2023-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        approve_all(env, tokens, list_id, sent_on="2023-01-15")
    with at("2023-03-20"):
        assert request_execution(env, tokens, list_id).status_code == 202
        run_jobs(env)
    assert env.client(tokens["aud1"]).get(
        f"/api/v1/evidence/{first['id']}/content").status_code == 410
    assert env.client(tokens["aud1"]).get(
        f"/api/v1/evidence/{second['id']}/content").content == pdf
    assert env.store.stat(key) is not None
    cert = json.loads(env.client(tokens["aud1"]).get(
        f"/api/v1/retention/lists/{list_id}/certificate").content)
    assert cert["items"][0]["object"]["bytes"] == "kept"
    assert cert["items"][0]["object"]["live_records"] == [second["id"]]

    with at("2024-01-15"):
        lists = survey(env, tokens["rm1"])["lists"]
        assert lists and lists[0]["added"] == 1
        approve_all(env, tokens, lists[0]["id"], sent_on="2024-01-15")
    with at("2024-03-20"):
        assert request_execution(env, tokens, lists[0]['id']).status_code == 202
        run_jobs(env)
    assert env.store.stat(key) is None
    assert env.client(tokens["aud1"]).get(
        f"/api/v1/evidence/{second['id']}/content").status_code == 410


def test_a_too_early_delete_is_refused_by_the_store_and_retried_later(env: Env, monkeypatch):
    """GIVEN bytes whose store lock ends in a few seconds (real time), while the record's
    retention ended long ago and every approval is in place
    WHEN the list is executed before the lock ends
    THEN the record is tombstoned but the store itself refuses the delete; the refusal is
    recorded, and once the lock has ended the purge job deletes the bytes and writes a
    supplementary certificate."""
    lock_seconds = 25
    from archive.evidence import service

    locks: list[dt.datetime] = []           # the lock ends handed out, in real time

    def short_lock(*_: object, **__: object) -> dt.datetime:
        locks.append(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lock_seconds))
        return locks[-1]

    monkeypatch.setattr(service, "new_bytes_lock", short_lock)
    tokens = people(env, world(env))
    started = time.monotonic()          # the lock runs from the upload, not from the set-up
    rec = ingest(env, tokens, "early")
    run_jobs(env)
    key = blob_key(rec["sha256"])
    with at("2027-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        approve_all(env, tokens, list_id, sent_on="2027-01-15")
    with at("2027-03-20"):
        assert request_execution(env, tokens, list_id).status_code == 202
        results = dict(run_jobs(env))
    assert time.monotonic() - started < lock_seconds, "too slow to test an active lock"
    blob = results["disposition_execute"]["blobs"][0]
    assert blob["bytes"] == "deferred"
    assert [v["answer"] for v in blob["versions"]] == ["refused"]
    if env.weed is not None:
        assert "AccessDenied" in blob["versions"][0]["detail"]   # the S3 server said no
        raw = Minio(env.weed.endpoint, access_key=servers.ACCESS_KEY,
                    secret_key=servers.SECRET_KEY, secure=False)
        with pytest.raises(S3Error):
            raw.remove_object(env.settings.s3_bucket, key,
                              version_id=blob["versions"][0]["version_id"])
    assert env.store.stat(key) is not None
    assert env.client(tokens["aud1"]).get(
        f"/api/v1/evidence/{rec['id']}/content").status_code == 410
    detail = env.client(tokens["rm1"]).get(f"/api/v1/retention/lists/{list_id}").json()
    assert detail["execution"]["purge_pending"] is True

    # Until the lock the store was given has ended (counted from the upload itself, not
    # from the test's start: on a loaded machine the GIVEN steps take seconds).
    time.sleep(max(0.0, (max(locks) - dt.datetime.now(dt.UTC)).total_seconds()) + 1.5)
    with env.session() as s:            # the daily sweep, without waiting for the retry
        enqueue(s, "disposition_purge", {})
    results = dict(run_jobs(env, RETENTION_KINDS))
    assert results["disposition_purge"]["blobs"][0]["bytes"] == "deleted"
    assert env.store.stat(key) is None
    detail = env.client(tokens["rm1"]).get(f"/api/v1/retention/lists/{list_id}").json()
    assert detail["execution"]["purge_pending"] is False
    assert [c["kind"] for c in detail["certificates"]] == ["execution", "purge"]
    second = json.loads(env.client(tokens["aud1"]).get(
        f"/api/v1/retention/lists/{list_id}/certificate", params={"seq": 2}).content)
    assert second["items"][0]["object"]["bytes"] == "deleted"


def test_forecast_groups_eligibility_and_lists_what_cannot_be_computed(env: Env):
    tokens = world(env)
    national = env.client(env.user("rm-dla", "records_manager", ["dla"]))
    national.put("/api/v1/retention/doc-types/scan", json={
        "schedule_code": "with-parent", "reason": "สำเนาสแกนเก็บตามเอกสารหลัก"})
    ingest(env, tokens, "r1", fiscal_year=2560)
    ingest(env, tokens, "r2", fiscal_year=2561)
    ingest(env, tokens, "r3", fiscal_year=2569)
    scan = ingest(env, tokens, "scan", fiscal_year=2560, doc_type="scan")
    held = ingest(env, tokens, "held", fiscal_year=2560)
    env.client(tokens["rm1"]).post("/api/v1/holds", json={"reason": "คดี",
                                                          "record_ids": [held["id"]]})
    run_jobs(env)
    r = env.client(tokens["aud1"]).get("/api/v1/retention/forecast",
                                       params={"until": "2029-12-31"})
    assert r.status_code == 200, r.text
    body = r.json()
    groups = {(g["org_code"], g["schedule_code"], g["year"]): g for g in body["groups"]}
    assert set(groups) == {("sao-1", "voucher-evidence", 2027),
                           ("sao-1", "voucher-evidence", 2028)}
    assert groups[("sao-1", "voucher-evidence", 2027)]["first_eligible"] == "2027-10-01"
    assert groups[("sao-1", "voucher-evidence", 2027)]["year_be"] == 2570
    assert body["held"] == [{"org_code": "sao-1", "schedule_code": "voucher-evidence",
                             "records": 1}]
    assert [c["evidence_id"] for c in body["cannot_compute"]] == [scan["id"]]
    assert "parent" in body["cannot_compute"][0]["reason"]
    other = env.client(tokens["aud3"]).get("/api/v1/retention/forecast",
                                           params={"until": "2029-12-31"}).json()
    assert other["groups"] == [] and other["cannot_compute"] == []


def test_the_scheduled_jobs_are_valid_cron_specs_with_handlers():
    from apscheduler.triggers.cron import CronTrigger

    import workers.handlers  # noqa: F401
    from workers.registry import HANDLERS

    kinds = {entry["kind"] for entry in SCHEDULE}
    assert {"retention_survey", "retention_sync_locks"} <= kinds
    for entry in SCHEDULE:
        assert entry["kind"] in HANDLERS
        trigger = CronTrigger(**entry["cron"])
        assert str(trigger.timezone) == "Asia/Bangkok"
    survey_trigger = CronTrigger(**next(e for e in SCHEDULE
                                        if e["kind"] == "retention_survey")["cron"])
    first = survey_trigger.get_next_fire_time(
        None, dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC))
    assert first is not None and (first.month, first.day) == (1, 15)   # within 60 days


def test_the_survey_job_only_proposes(env: Env):
    tokens = world(env)
    rec = ingest(env, tokens, "job")
    run_jobs(env)
    with env.session() as s:
        enqueue(s, "retention_survey", {"as_of": "2026-01-15"})
    result = dict(run_jobs(env))["retention_survey"]
    assert result["listed"] == 1 and result["lists"][0]["org_code"] == "sao-1"
    lists = env.client(tokens["rm1"]).get("/api/v1/retention/lists").json()
    assert [entry["status"] for entry in lists] == ["draft"]
    assert env.client(tokens["aud1"]).get(f"/api/v1/evidence/{rec['id']}").json()[
        "status"] != "destroyed"


def _with_rendition(env: Env, rec: dict, tmp_path: Path,
                    lock_seconds: float) -> tuple[uuid.UUID, str, int]:
    """GIVEN a rendition beside the record (the bytes OCR would make): (id, key, blob id)."""
    from archive.evidence import service
    from archive.evidence.models import Evidence, Rendition

    copy = tmp_path / f"{rec['id']}.pdf"
    copy.write_bytes(make_pdf(f"the searchable copy of {rec['id']}"))
    with env.session() as s:
        evidence = s.get(Evidence, uuid.UUID(rec["id"]))
        blob = service.store_derived(
            s, env.store, copy, media_type="application/pdf", tmp_dir=tmp_path,
            retain_until=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lock_seconds))
        row = Rendition(evidence_id=evidence.id, kind="ocr_pdfa",
                        source_blob_id=evidence.blob_id, blob_id=blob.id)
        s.add(row)
        s.flush()
        return row.id, blob.store_key, blob.id


def test_a_rendition_is_locked_and_destroyed_with_its_record(env: Env, short_lock, tmp_path):
    """GIVEN records with a rendition beside each (the bytes OCR would make)
    WHEN the lock sync runs, THEN a rendition's lock follows its record's (FY 2570: 2037);
    WHEN a record is destroyed, THEN its rendition's bytes (and the text they carry) go
    with it, and the rendition's download answers 410 like the original's."""
    tokens = people(env, world(env))
    old = ingest(env, tokens, "paper receipt", fiscal_year=2555)
    kept = ingest(env, tokens, "later letter", fiscal_year=2570, doc_type="other")
    old_copy, old_key, old_blob = _with_rendition(env, old, tmp_path, short_lock)
    _, kept_key, _ = _with_rendition(env, kept, tmp_path, short_lock)
    run_jobs(env)
    assert env.store.stat(kept_key).retain_until == bkk(2037, 10, 1)
    assert env.store.stat(blob_key(kept["sha256"])).retain_until == bkk(2037, 10, 1)

    wait_for_locks(short_lock)
    with at("2023-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        approve_all(env, tokens, list_id, sent_on="2023-01-15")
    with at("2023-03-20"):
        assert request_execution(env, tokens, list_id).status_code == 202
        run_jobs(env)
    assert env.store.stat(old_key) is None
    assert env.store.stat(kept_key) is not None
    with env.session() as s:
        assert s.get(Blob, old_blob).deleted_at is not None
    aud = env.client(tokens["aud1"])
    assert aud.get(f"/api/v1/evidence/{old['id']}/renditions/{old_copy}/content"
                   ).status_code == 410
    with env.session() as s:
        assert execution.purges_to_resume(s) == []   # finished purges are not chosen again


# -- a purge that died between the mark and the delete ---------------------------------

def _killed() -> None:
    raise RuntimeError("killed between the mark and the delete")


def _executing_with_rendition(env: Env, short_lock: float, tmp_path: Path
                              ) -> tuple[dict, str, dict[str, int], dict[str, str]]:
    """GIVEN a FY 2555 record with a rendition, listed, approved and sent for execution in
    2023 (the store's short locks ended): (tokens, list id, blob ids, keys)."""
    tokens = people(env, world(env))
    rec = ingest(env, tokens, "died mid-purge", fiscal_year=2555)
    _, copy_key, copy_blob = _with_rendition(env, rec, tmp_path, short_lock)
    run_jobs(env)
    wait_for_locks(short_lock)
    with env.session() as s:
        original = s.scalar(sa.select(Blob.id).where(Blob.sha256 == rec["sha256"]))
    with at("2023-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        approve_all(env, tokens, list_id, sent_on="2023-01-15")
    with at("2023-03-20"):
        assert request_execution(env, tokens, list_id).status_code == 202
    return (tokens, list_id, {"original": original, "copy": copy_blob},
            {"original": blob_key(rec["sha256"]), "copy": copy_key})


def _delete_events(env: Env) -> list[tuple[str, str]]:
    with env.session() as s:
        return [(e.target_id, e.outcome) for e in s.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "disposition.delete_object")
            .order_by(AuditEvent.seq))]


def _execution_died_after_its_mark(env: Env, short_lock: float, tmp_path: Path
                                   ) -> tuple[dict, str, dict[str, int], dict[str, str], int]:
    """A list executing (a record with a rendition) whose execution job died between
    marking the record's bytes and deleting them, its attempts used up. Returns
    :func:`_executing_with_rendition`'s values and the job's id."""
    tokens, list_id, blobs, keys = _executing_with_rendition(env, short_lock, tmp_path)
    with at("2023-03-20"), run_at("disposition.purge.before_delete", _killed), \
            pytest.raises(RuntimeError):
        run_jobs(env)
    with env.session() as s:
        job = s.scalar(sa.select(Job).where(Job.kind == "disposition_execute"))
        job.status, job.attempts, job.last_error = "failed", job.max_attempts, "killed"
        return tokens, list_id, blobs, keys, job.id


def test_a_purge_that_died_after_its_mark_is_finished_by_the_sweep(env: Env, short_lock,
                                                                   tmp_path):
    """GIVEN the execution job dies between marking the record's bytes and deleting them,
    and is not retried (its attempts used up)
    WHEN the daily purge sweep runs, and itself dies the same way on the rendition
    THEN its next run deletes both: the bytes are gone, the item says so, nothing is
    chosen again; and it certifies the execution (an operator's retry of the job then
    finds it done), the deletion in the certificate."""
    tokens, list_id, blobs, keys, job_id = _execution_died_after_its_mark(
        env, short_lock, tmp_path)
    with env.session() as s:
        assert s.get(Blob, blobs["original"]).deleted_at is not None      # marked …
    assert env.store.versions(keys["original"])                          # … bytes kept

    with env.session() as s:            # the daily sweep; it dies too, on the rendition
        enqueue(s, "disposition_purge", {})
    with run_at("disposition.purge.before_delete", _killed), pytest.raises(RuntimeError):
        run_jobs(env)
    with env.session() as s:
        assert s.get(Blob, blobs["copy"]).deleted_at is not None
    results = dict(run_jobs(env))       # the sweep's next run
    done = {b["blob_id"]: b["bytes"] for b in results["disposition_purge"]["blobs"]}
    assert done == {blobs["original"]: "deleted", blobs["copy"]: "deleted"}
    assert env.store.versions(keys["original"]) == []
    assert env.store.versions(keys["copy"]) == []
    with env.session() as s:
        item = s.scalar(sa.select(DispositionItem).where(DispositionItem.list_id ==
                                                         uuid.UUID(list_id)))
        assert item.result["bytes"] == "deleted"
        assert [v["answer"] for v in item.result["versions"]] == ["deleted"]
        assert item.result["renditions"] == {str(blobs["copy"]): "deleted"}
        assert execution.purges_to_resume(s) == []
    assert sorted(_delete_events(env)) == sorted([(sha, "ok") for sha in _shas(env, blobs)])

    assert _certificates(env, list_id) == [("execution", 1)]     # by the sweep
    with env.session() as s:            # `archive jobs retry`: already done
        retry(s, job_id)
    with at("2023-03-21"):
        run_jobs(env)
    cert = json.loads(env.client(tokens["aud1"]).get(
        f"/api/v1/retention/lists/{list_id}/certificate").content)
    assert cert["items"][0]["object"]["bytes"] == "deleted"
    assert cert["items"][0]["object"]["renditions"] == {str(blobs["copy"]): "deleted"}
    assert cert["summary"]["bytes_deleted"] == 1
    assert len(_delete_events(env)) == 2           # deleted once each, recorded once


def _certificates(env: Env, list_id: str) -> list[tuple[str, int]]:
    from archive.retention.models import DispositionCertificate

    with env.session() as s:
        return [(c.kind, c.seq) for c in s.scalars(
            sa.select(DispositionCertificate).where(
                DispositionCertificate.list_id == uuid.UUID(list_id)))]


def test_the_sweep_finishes_an_execution_whose_job_gave_up(env: Env, short_lock, tmp_path):
    """GIVEN the execution job dies between marking the record's bytes and deleting them,
    and is not retried (its attempts used up): the list is "executing", uncertified
    WHEN the daily purge sweep runs, and dies between storing the certificate and
    registering it, then runs again
    THEN the list is executed with one execution certificate, which says the bytes and
    the rendition's were deleted (once each); a third sweep and the job retried by an
    operator change nothing."""
    tokens, list_id, blobs, keys, job_id = _execution_died_after_its_mark(
        env, short_lock, tmp_path)
    aud = env.client(tokens["aud1"])
    base = f"/api/v1/retention/lists/{list_id}"
    assert aud.get(base).json()["status"] == "executing"

    with env.session() as s:
        enqueue(s, "disposition_purge", {})
    with at("2023-03-21"), run_at("disposition.certificate.before_row", _killed), \
            pytest.raises(RuntimeError):
        run_jobs(env)
    assert aud.get(base).json()["status"] == "executing"
    assert _certificates(env, list_id) == []
    with at("2023-03-21"):
        results = dict(run_jobs(env))          # the sweep's next run
    [done] = results["disposition_purge"]["executed"]
    assert done["list_id"] == list_id and done["certificate"]["seq"] == 1, done
    assert aud.get(base).json()["status"] == "executed"
    assert _certificates(env, list_id) == [("execution", 1)]
    cert = json.loads(aud.get(f"{base}/certificate").content)
    assert cert["kind"] == "execution"
    assert cert["items"][0]["status"] == "destroyed"
    assert cert["items"][0]["object"]["bytes"] == "deleted"
    assert cert["items"][0]["object"]["renditions"] == {str(blobs["copy"]): "deleted"}
    assert env.store.versions(keys["original"]) == []
    assert env.store.versions(keys["copy"]) == []

    with env.session() as s:                   # the next day's sweep: nothing to do
        enqueue(s, "disposition_purge", {})
    assert dict(run_jobs(env))["disposition_purge"]["executed"] == []
    with env.session() as s:                   # `archive jobs retry`: already done
        retry(s, job_id)
    assert dict(run_jobs(env))["disposition_execute"]["status"] == "executed"
    assert _certificates(env, list_id) == [("execution", 1)]
    assert len(_delete_events(env)) == 2       # deleted once each, recorded once


def test_the_sweep_does_not_disturb_a_purge_under_way(env: Env, short_lock, tmp_path):
    """GIVEN the execution job has marked the record's bytes and not yet asked the store
    WHEN the daily sweep runs right then (it now chooses marked blobs too)
    THEN it deletes them; the job, finding that result under the blob's lock, asks the
    store nothing more; one deletion each, recorded once, certified."""
    tokens, list_id, blobs, keys = _executing_with_rendition(env, short_lock, tmp_path)
    swept: list[dict] = []

    def sweep() -> None:
        with env.session() as s:
            enqueue(s, "disposition_purge", {})
        swept.extend(result for kind, result in run_jobs(env, ("disposition_purge",)))

    with at("2023-03-20"), run_at("disposition.purge.before_delete", sweep):
        results = dict(run_jobs(env))
    assert {b["blob_id"]: b["bytes"] for b in swept[0]["blobs"]} == {
        blobs["original"]: "deleted", blobs["copy"]: "deleted"}
    assert [b["bytes"] for b in results["disposition_execute"]["blobs"]] == ["deleted"] * 2
    assert env.store.versions(keys["original"]) == []
    assert len(_delete_events(env)) == 2
    cert = json.loads(env.client(tokens["aud1"]).get(
        f"/api/v1/retention/lists/{list_id}/certificate").content)
    assert cert["items"][0]["object"]["bytes"] == "deleted"
    assert [v["answer"] for v in cert["items"][0]["object"]["versions"]] == ["deleted"]


def _shas(env: Env, blobs: dict[str, int]) -> list[str]:
    with env.session() as s:
        return [s.get(Blob, b).sha256 for b in blobs.values()]
