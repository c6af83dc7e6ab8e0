"""The disposition workflow end to end on both stacks, with time travel:
survey → committee → head of agency → National Archives → execution → certificate."""

from __future__ import annotations

import hashlib
import json
import uuid

import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.evidence.models import Blob, Evidence
from archive.search.models import BlobText
from archive.storage import blob_key
from tests.archive.retention.helpers import (
    appoint,
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
from tests.factories import world


def test_a_record_moves_through_every_step_and_ends_as_a_tombstone(env: Env, short_lock):
    """GIVEN two receipts of FY 2555 (not audited: eligible from 1 Oct 2565 BE / 2022)
    WHEN the survey, the committee, the head of agency and the National Archives' review
    have all happened, and execution is requested
    THEN a job commits tombstones, deletes the bytes, and stores a certificate whose hash
    is in the audit trail; the content answers 410 with the tombstone."""
    tokens = people(env, world(env))
    a = ingest(env, tokens, "a")
    b = ingest(env, tokens, "b")
    run_jobs(env)
    info = env.client(tokens["rm1"]).get(f"/api/v1/retention/records/{a['id']}").json()
    assert info["schedule_code"] == "voucher-evidence"
    assert info["retain_until"].startswith("2022-09-30T17:00")
    assert info["decision"]["final"] and "not audited" in info["retention_basis"]
    wait_for_locks(short_lock)

    with at("2027-01-15"):
        lists = survey(env, tokens["rm1"])["lists"]
        assert len(lists) == 1 and lists[0]["added"] == 2
        list_id = lists[0]["id"]
        # The survey is idempotent: nothing is listed twice.
        assert survey(env, tokens["rm1"])["listed"] == 0
        detail = env.client(tokens["rm1"]).get(f"/api/v1/retention/lists/{list_id}").json()
        assert detail["status"] == "draft" and detail["number"] == "sao-1/2570/1"
        item = detail["entries"][0]
        assert item["file_code"] == "voucher-evidence" and item["doc_reference"] == "ฎีกา ฎ a"
        assert "10 years" in item["retention_period"] and item["reason"]
        approve_all(env, tokens, list_id, sent_on="2027-01-15")
    rm = env.client(tokens["rm1"])
    with at("2027-03-15"):   # review period (60 days) not over
        r = rm.post(f"/api/v1/retention/lists/{list_id}/execute")
        assert r.status_code == 409 and r.json()["error"] == "not_executable"
    with at("2027-03-16"):
        assert rm.get(f"/api/v1/retention/lists/{list_id}").json()["executable"]
        r = request_execution(env, tokens, list_id)
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "executing"
        # Still readable until the job has run.
        assert env.client(tokens["aud1"]).get(
            f"/api/v1/evidence/{a['id']}/content").status_code == 200
        results = dict(run_jobs(env))
    assert results["disposition_execute"].get("destroyed") == 2, results

    gone = env.client(tokens["aud1"]).get(f"/api/v1/evidence/{a['id']}/content")
    assert gone.status_code == 410
    tomb = gone.json()["detail"]["tombstone"]
    assert tomb["sha256"] == a["sha256"] and tomb["schedule"]["code"] == "voucher-evidence"
    assert tomb["approvals"][0]["committee"]["chair"]["user"] == "chair1"
    assert tomb["destroyed_by"] == "chair1" and "sao-1/2570/1" in tomb["reason"]
    assert env.store.stat(blob_key(a["sha256"])) is None
    with env.session() as s:
        blob = s.scalar(sa.select(Blob).where(Blob.sha256 == a["sha256"]))
        assert blob.deleted_at is not None
        assert s.get(BlobText, blob.id) is None
        assert s.scalar(sa.select(Evidence.status).where(Evidence.id == uuid.UUID(b["id"]))) == \
            "destroyed"

    detail = rm.get(f"/api/v1/retention/lists/{list_id}").json()
    assert detail["status"] == "executed" and len(detail["certificates"]) == 1
    cert = env.client(tokens["aud1"]).get(f"/api/v1/retention/lists/{list_id}/certificate")
    assert cert.status_code == 200
    assert hashlib.sha256(cert.content).hexdigest() == detail["certificates"][0]["sha256"]
    doc = json.loads(cert.content)
    assert {i["sha256"] for i in doc["items"]} == {a["sha256"], b["sha256"]}
    assert all(i["object"]["bytes"] == "deleted" for i in doc["items"])
    assert doc["approvals"]["head_of_agency"]["head"]["user"] == "head1"
    assert "cannot be read or reconstructed" in doc["statement_en"]
    assert doc["legal_basis"][0]["legal_basis_th"].startswith("ระเบียบสำนักนายกรัฐมนตรี")
    html = env.client(tokens["aud1"]).get(f"/api/v1/retention/lists/{list_id}/certificate",
                                          params={"format": "html"})
    assert html.status_code == 200 and "บันทึกการทำลาย" in html.text
    assert "chair1" in html.text and a["sha256"] in html.text
    with env.session() as s:
        event = s.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "disposition.certificate"))
        assert event.details["sha256"] == doc_sha(cert.content)
        actions = set(s.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.action.like("disposition.%"))))
    assert {"disposition.survey", "disposition.committee_appoint", "disposition.vote_approve",
            "disposition.committee_approve", "disposition.head_approve",
            "disposition.archives_sent", "disposition.execute_request", "disposition.destroy",
            "disposition.delete_object", "disposition.certificate",
            "disposition.certificate_download"} <= actions


def doc_sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def test_recorded_consent_makes_the_list_executable_before_the_period_ends(env: Env):
    tokens = people(env, world(env))
    ingest(env, tokens, "c")
    wanted = ingest(env, tokens, "d")
    run_jobs(env)
    with at("2027-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        approve_all(env, tokens, list_id, sent_on="2027-01-15")
    rm = env.client(tokens["rm1"])
    with at("2027-01-20"):
        r = rm.post(f"/api/v1/retention/lists/{list_id}/archives-response", json={
            "result": "consent", "responded_on": "2027-01-20", "transfer_items": [2],
            "comment": "ขอรับโอนรายการที่ 2"})
        assert r.status_code == 200, r.text
        assert r.json()["executable"] and r.json()["entries"][1]["action"] == "transfer"
        assert request_execution(env, tokens, list_id).status_code == 202
        done = dict(run_jobs(env))["disposition_execute"]
    assert done["destroyed"] == 1 and done["transferred"] == 1
    executed = env.client(tokens["rm1"]).get(f"/api/v1/retention/lists/{list_id}").json()
    assert executed["outcome"] == {"destroyed": 1, "transferred": 1}
    # The lists page says the same, in Thai and in English.
    thai = env.client(tokens["rm1"]).get("/retention/lists").text
    assert "ทำลายแล้ว: 1" in thai and "ส่งมอบแล้ว: 1" in thai and "ที่จะทำลาย:" not in thai
    english = env.client(tokens["rm1"]).get("/retention/lists?lang=en").text
    assert "destroyed: 1" in english and "transferred: 1" in english
    assert "to be destroyed" not in english
    # The record the archives want is not destroyed (and is not surveyed again).
    assert env.client(tokens["aud1"]).get(
        f"/api/v1/evidence/{wanted['id']}").json()["status"] != "destroyed"
    with at("2028-01-15"):
        assert survey(env, tokens["rm1"])["eligible"] == 0


def test_committee_objections_remove_keep_or_transfer(env: Env):
    tokens = people(env, world(env))
    recs = [ingest(env, tokens, t) for t in ("e", "f", "g")]
    run_jobs(env)
    with at("2027-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        base = f"/api/v1/retention/lists/{list_id}"
        assert appoint(env, tokens, list_id).status_code == 200
        bad = env.client(tokens["mem1"]).post(f"{base}/votes", json={"votes": [
            {"item": 1, "vote": "object"}]})
        assert bad.status_code == 422       # an objection says what instead, with a comment
        r = env.client(tokens["mem1"]).post(f"{base}/votes", json={"votes": [
            {"item": 1, "vote": "object", "action": "remove", "comment": "ยังใช้อ้างอิง"},
            {"item": 2, "vote": "object", "action": "keep", "keep_until": "2030-01-01",
             "comment": "คดียังไม่สิ้นสุด"},
            {"item": 3, "vote": "approve", "comment": "ทำลายได้"}]})
        assert r.status_code == 200, r.text
        again = env.client(tokens["mem1"]).post(f"{base}/votes", json={"votes": [
            {"item": 3, "vote": "approve"}]})
        assert again.status_code == 409 and again.json()["error"] == "already_voted"
        early = env.client(tokens["chair1"]).post(f"{base}/committee-approval", json={})
        assert early.status_code == 409 and early.json()["error"] == "votes_missing"
        # The head of agency acting before the committee has finished is told so.
        head = env.client(tokens["head1"])
        for path, body in (("head-decision", {"decision": "approve"}),
                           ("committee-approval", {})):
            r = head.post(f"{base}/{path}", json=body)
            assert r.status_code == 409 and r.json()["error"] == "committee_not_finished"
            assert "committee has not finished" in r.json()["detail"]
        for who in ("chair1", "mem2"):
            r = env.client(tokens[who]).post(f"{base}/votes", json={"votes": [
                {"item": 2, "vote": "approve"}, {"item": 3, "vote": "approve"}]})
            assert r.status_code == 200, r.text
        not_chair = env.client(tokens["mem1"]).post(f"{base}/committee-approval", json={})
        assert not_chair.status_code == 403
        r = env.client(tokens["chair1"]).post(f"{base}/committee-approval", json={})
        assert r.status_code == 200, r.text
        statuses = [i["status"] for i in r.json()["entries"]]
        assert statuses == ["removed", "kept", "listed"]
        # The counts say what became of each item.
        assert r.json()["outcome"] == {"to_destroy": 1, "kept": 1, "removed": 1}
        listed = env.client(tokens["rm1"]).get("/api/v1/retention/lists").json()
        assert listed[0]["outcome"] == r.json()["outcome"] and listed[0]["items"] == 3
        kept = env.client(tokens["rm1"]).get(f"/api/v1/retention/records/{recs[1]['id']}")
        assert kept.json()["retain_until"].startswith("2029-12-31T17:00")
        assert "committee" in kept.json()["retention_basis"]


def test_one_person_one_function_and_named_users_only(env: Env):
    tokens = people(env, world(env))
    ingest(env, tokens, "h")
    run_jobs(env)
    with at("2027-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
    base = f"/api/v1/retention/lists/{list_id}"
    rm = env.client(tokens["rm1"])
    with at("2027-01-15"):
        r = appoint(env, tokens, list_id, token="rm1")
        assert r.status_code == 403 and r.json()["error"] == "not_head_of_agency"
        assert rm.get(base).json()["status"] == "draft"
        r = appoint(env, tokens, list_id, chair="chair1", members=["chair1", "mem1"])
        assert r.status_code == 422 and r.json()["error"] == "duplicate_person"
        r = appoint(env, tokens, list_id, chair="head1", members=["mem1", "mem2"])
        assert r.status_code == 422 and r.json()["error"] == "duplicate_person"
        r = appoint(env, tokens, list_id, chair="chair1", members=["mem1", "off1"])
        assert r.status_code == 422 and r.json()["error"] == "ineligible_user"
        # Administrators hold no disposition capability: they cannot take any step.
        admin = env.client(tokens["admin"])
        assert appoint(env, tokens, list_id, token="admin").status_code == 403
        approve_all(env, tokens, list_id, sent_on="2027-01-15")
    with at("2027-06-01"):
        assert admin.post(f"{base}/execute").status_code == 403
    with env.session() as s:
        refused = list(s.execute(sa.select(AuditEvent.actor, AuditEvent.action).where(
            AuditEvent.outcome == "refused")))
    assert ("admin", "disposition.execute_request") in refused
    assert ("rm1", "disposition.committee_appoint") in refused
    assert ("head1", "disposition.committee_appoint") in refused


def test_head_of_agency_is_assigned_by_an_admin_and_must_be_the_head(env: Env):
    tokens = people(env, world(env))
    ingest(env, tokens, "i")
    run_jobs(env)
    with at("2027-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        base = f"/api/v1/retention/lists/{list_id}"
        rm = env.client(tokens["rm1"])
        assert appoint(env, tokens, list_id).status_code == 200
        for who in ("chair1", "mem1", "mem2"):
            env.client(tokens[who]).post(f"{base}/votes", json={"votes": [
                {"item": 1, "vote": "approve"}]})
        # A records manager cannot make themself head of agency.
        assert rm.put("/api/v1/retention/heads/sao-1", json={"user": "rm1"}).status_code == 403
        assert env.client(tokens["chair1"]).post(f"{base}/head-decision", json={
            "decision": "approve"}).status_code == 409      # the review is not closed yet
        env.client(tokens["chair1"]).post(f"{base}/committee-approval", json={})
        r = rm.post(f"{base}/head-decision", json={"decision": "approve"})
        assert r.status_code == 403 and r.json()["error"] == "not_head_of_agency"
        r = env.client(tokens["head1"]).post(f"{base}/head-decision", json={
            "decision": "reject", "comment": "ให้ทบทวน"})
        assert r.status_code == 200 and r.json()["status"] == "rejected"
        # Rejected items are free again: the next survey lists the record anew.
        assert survey(env, tokens["rm1"])["listed"] == 1
