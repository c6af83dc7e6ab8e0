"""Legal holds and audit closures: a hold blocks disposition at every step; releasing
recomputes; an objection closure holds that organisation's year; no objection shortens."""

from __future__ import annotations

import sqlalchemy as sa

from archive.evidence.models import Blob
from archive.storage import blob_key
from tests.archive.retention.helpers import appoint, at, ingest, people, run_jobs, survey
from tests.conftest import Env
from tests.factories import world


def _hold(env: Env, token: str, record_id: str) -> str:
    r = env.client(token).post("/api/v1/holds", json={
        "reason": "คดีความ ศาลปกครอง 12/2570", "record_ids": [record_id]})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _release(env: Env, token: str, hold_id: str) -> None:
    r = env.client(token).post(f"/api/v1/holds/{hold_id}/release",
                               json={"reason": "คดีสิ้นสุด"})
    assert r.status_code == 200, r.text


def _held(resp) -> bool:
    return resp.status_code == 409 and resp.json()["error"] == "record_on_hold"


def test_a_hold_blocks_the_record_at_every_step(env: Env):
    tokens = people(env, world(env))
    rec = ingest(env, tokens, "held")
    run_jobs(env)
    rm = env.client(tokens["rm1"])
    with at("2027-01-15"):
        # Survey: a held record is not listed.
        hold = _hold(env, tokens["rm1"], rec["id"])
        assert survey(env, tokens["rm1"])["eligible"] == 0
        _release(env, tokens["rm1"], hold)
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        base = f"/api/v1/retention/lists/{list_id}"
        assert appoint(env, tokens, list_id).status_code == 200
        # Committee: approving a held record is refused (objecting is not).
        hold = _hold(env, tokens["rm1"], rec["id"])
        assert _held(env.client(tokens["chair1"]).post(f"{base}/votes", json={"votes": [
            {"item": 1, "vote": "approve"}]}))
        _release(env, tokens["rm1"], hold)
        for who in ("chair1", "mem1", "mem2"):
            assert env.client(tokens[who]).post(f"{base}/votes", json={"votes": [
                {"item": 1, "vote": "approve"}]}).status_code == 200
        # Closing the committee review.
        hold = _hold(env, tokens["rm1"], rec["id"])
        assert _held(env.client(tokens["chair1"]).post(f"{base}/committee-approval", json={}))
        _release(env, tokens["rm1"], hold)
        assert env.client(tokens["chair1"]).post(f"{base}/committee-approval",
                                                 json={}).status_code == 200
        # Head of agency.
        hold = _hold(env, tokens["rm1"], rec["id"])
        assert _held(env.client(tokens["head1"]).post(f"{base}/head-decision", json={
            "decision": "approve"}))
        _release(env, tokens["rm1"], hold)
        assert env.client(tokens["head1"]).post(f"{base}/head-decision", json={
            "decision": "approve"}).status_code == 200
        # Sending to the National Archives.
        hold = _hold(env, tokens["rm1"], rec["id"])
        assert _held(rm.post(f"{base}/archives-sent", json={"sent_on": "2027-01-15"}))
        _release(env, tokens["rm1"], hold)
        assert rm.post(f"{base}/archives-sent", json={"sent_on": "2027-01-15"}
                       ).status_code == 200
    with at("2027-04-01"):
        # The committee's record of the destruction, and the execution request.
        hold = _hold(env, tokens["rm1"], rec["id"])
        assert _held(env.client(tokens["mem1"]).post(f"{base}/destruction-record", json={}))
        _release(env, tokens["rm1"], hold)
        for who in ("mem1", "mem2"):
            assert env.client(tokens[who]).post(f"{base}/destruction-record",
                                                json={}).status_code == 200
        hold = _hold(env, tokens["rm1"], rec["id"])
        assert _held(env.client(tokens["chair1"]).post(f"{base}/execute"))
        _release(env, tokens["rm1"], hold)
        assert env.client(tokens["chair1"]).post(f"{base}/execute").status_code == 202
        # And the job itself: a hold placed after the request still stops destruction.
        hold = _hold(env, tokens["rm1"], rec["id"])
        done = dict(run_jobs(env))["disposition_execute"]
    assert done["destroyed"] == 0 and done["blocked"] == 1
    assert env.client(tokens["aud1"]).get(
        f"/api/v1/evidence/{rec['id']}/content").status_code == 200
    item = rm.get(f"/api/v1/retention/lists/{list_id}").json()["entries"][0]
    assert item["status"] == "blocked" and "legal hold" in item["result"]["blocked"]


def test_hold_is_mirrored_to_the_store_and_release_recomputes(env: Env):
    tokens = people(env, world(env))
    rec = ingest(env, tokens, "mirror")
    run_jobs(env)
    rm = env.client(tokens["rm1"])
    hold = _hold(env, tokens["rm1"], rec["id"])
    info = rm.get(f"/api/v1/retention/records/{rec['id']}").json()
    assert info["on_hold"] and info["decision"]["held"] and info["decision"]["retain_until"] is None
    run_jobs(env)
    assert env.store.stat(blob_key(rec["sha256"])).legal_hold is True
    assert rm.get(f"/api/v1/holds/{hold}").json()["record_ids"] == [rec["id"]]
    _release(env, tokens["rm1"], hold)
    info = rm.get(f"/api/v1/retention/records/{rec['id']}").json()
    assert not info["on_hold"] and info["decision"]["final"]
    run_jobs(env)
    assert env.store.stat(blob_key(rec["sha256"])).legal_hold is False
    with env.session() as s:
        assert s.scalar(sa.select(Blob.legal_hold).where(Blob.sha256 == rec["sha256"])) is False
    again = rm.post(f"/api/v1/holds/{hold}/release", json={"reason": "twice"})
    assert again.status_code == 409


def test_holds_by_filter_stay_in_scope_and_are_audited(env: Env):
    tokens = world(env)
    mine = ingest(env, tokens, "f1", fiscal_year=2560)
    other = ingest(env, tokens, "f2", fiscal_year=2560, org_code="sao-2", token="off2")
    ingest(env, tokens, "f3", fiscal_year=2561)
    rm = env.client(tokens["rm1"])
    r = rm.post("/api/v1/holds", json={"reason": "สอบข้อเท็จจริง",
                                       "filter": {"fiscal_year": 2560}})
    assert r.status_code == 201, r.text
    assert r.json()["record_ids"] == [mine["id"]] and r.json()["organisations"] == ["sao-1"]
    # The identical hold again (same filter, same reason) while it is active: 409.
    twice = rm.post("/api/v1/holds", json={"reason": "สอบข้อเท็จจริง",
                                           "filter": {"fiscal_year": 2560}})
    assert twice.status_code == 409 and twice.json()["error"] == "hold_exists"
    assert twice.json()["detail"]["hold_id"] == r.json()["id"]
    by_id = {"reason": "คดี", "record_ids": [mine["id"]]}
    assert rm.post("/api/v1/holds", json=by_id).status_code == 201
    assert rm.post("/api/v1/holds", json=by_id).status_code == 409
    r = rm.post("/api/v1/holds", json={"reason": "x", "filter": {"org_code": "sao-2"}})
    assert r.status_code == 404
    r = rm.post("/api/v1/holds", json={"reason": "x", "record_ids": [other["id"]]})
    assert r.status_code == 404
    r = rm.post("/api/v1/holds", json={"reason": "x", "filter": {}})
    assert r.status_code == 422
    assert env.client(tokens["off1"]).post("/api/v1/holds", json={
        "reason": "x", "record_ids": [mine["id"]]}).status_code == 403
    assert len(rm.get("/api/v1/holds").json()) == 2
    listed = env.client(tokens["aud3"]).get("/api/v1/holds").json()
    assert listed == []
    events = env.client(tokens["aud1"]).get("/api/v1/audit/events",
                                            params={"action": "hold.create"}).json()
    assert events and events[0]["details"]["reason"] == "สอบข้อเท็จจริง"


def test_audit_closure_no_objection_allows_the_shorter_period(env: Env):
    """GIVEN a receipt of FY 2566 (ends 30 Sep 2023), provisional until audited
    WHEN the SAO closes the audit with no objection on 10 Jan 2024
    THEN it is kept until 10 Jan 2029 — not until 1 Oct 2033."""
    tokens = world(env)
    rec = ingest(env, tokens, "audited", fiscal_year=2566)
    run_jobs(env)
    rm = env.client(tokens["rm1"])
    info = rm.get(f"/api/v1/retention/records/{rec['id']}").json()
    assert info["decision"]["final"] is False
    assert info["retain_until"].startswith("2028-09-30T17:00")   # 1 Oct 2028, the earliest
    assert info["decision"]["eligible_on"] == "2033-10-01"
    r = rm.post("/api/v1/audit-closures", json={
        "org_code": "sao-1", "fiscal_year": 2566, "result": "no_objection",
        "closed_on": "2024-01-10", "reference": "ตผ 0012/123"})
    assert r.status_code == 201, r.text
    info = rm.get(f"/api/v1/retention/records/{rec['id']}").json()
    assert info["decision"]["final"] and info["retain_until"].startswith("2029-01-09T17:00")
    assert "no objection" in info["retention_basis"]
    bad = rm.post("/api/v1/audit-closures", json={
        "org_code": "sao-1", "fiscal_year": 2566, "result": "no_objection",
        "closed_on": "2023-09-01"})
    assert bad.status_code == 422      # before the fiscal year ended
    with at("2029-01-15"):
        assert survey(env, tokens["rm1"])["listed"] == 1


def test_audit_objection_holds_the_year_including_later_records(env: Env):
    tokens = world(env)
    before = ingest(env, tokens, "obj1", fiscal_year=2555)
    ingest(env, tokens, "other-year", fiscal_year=2556)
    run_jobs(env)
    rm = env.client(tokens["rm1"])
    r = rm.post("/api/v1/audit-closures", json={
        "org_code": "sao-1", "fiscal_year": 2555, "result": "objection",
        "closed_on": "2013-05-01", "reference": "สตง. ทักท้วง"})
    assert r.status_code == 201 and r.json()["hold_id"]
    after = ingest(env, tokens, "obj2", fiscal_year=2555)
    run_jobs(env)
    for rec in (before, after):
        assert rm.get(f"/api/v1/retention/records/{rec['id']}").json()["on_hold"]
    with at("2027-01-15"):
        result = survey(env, tokens["rm1"])
        assert result["listed"] == 1          # only FY 2556
    _release(env, tokens["rm1"], r.json()["hold_id"])
    info = rm.get(f"/api/v1/retention/records/{before['id']}").json()
    assert not info["on_hold"] and "objection" in info["retention_basis"]
    assert info["retain_until"].startswith("2022-09-30T17:00")  # falls back to 10 years
