"""Issue 20: the destruction procedure as ระเบียบงานสารบรรณ ข้อ 66–70 describes it, legal
bases that say no more than the regulation, and document types named as they are."""

from __future__ import annotations

import json
import re

from archive.retention.schedules.defaults import DEFAULT_DOC_TYPES, DEFAULT_SCHEDULES
from tests.archive.retention.helpers import (
    appoint,
    approve_all,
    at,
    ingest,
    people,
    request_execution,
    run_jobs,
    survey,
)
from tests.conftest import Env
from tests.factories import upload, world


def _list_for(env: Env, tokens: dict[str, str], *texts: str) -> str:
    for t in texts:
        ingest(env, tokens, t)
    run_jobs(env)
    return str(survey(env, tokens["rm1"])["lists"][0]["id"])


# -- 3. the committee is appointed by the head of agency's order (ข้อ 68) ---------------

def test_the_committee_is_appointed_by_the_heads_order_and_not_by_who_prepared_the_list(
        env: Env):
    """GIVEN a list surveyed by the records manager rm1
    WHEN rm1 appoints a committee chaired by himself with no order, or the head appoints
    one without an order, with a future order, or with rm1 on it
    THEN each is refused and nothing changes; the head's appointment by an order (reference
    and date) of a chair and two members stands, and the head still approves separately."""
    tokens = people(env, world(env))
    with at("2027-01-15"):
        list_id = _list_for(env, tokens, "c3")
        base = f"/api/v1/retention/lists/{list_id}"
        rm = env.client(tokens["rm1"])
        r = rm.put(f"{base}/committee", json={"chair": "rm1", "members": ["mem1", "mem2"]})
        assert r.status_code == 422                         # no order: refused by the schema
        r = appoint(env, tokens, list_id, token="rm1", chair="rm1")
        assert r.status_code == 403 and r.json()["error"] == "not_head_of_agency"
        r = appoint(env, tokens, list_id, order_ref="  ")
        assert r.status_code == 422
        r = appoint(env, tokens, list_id, order_date="2027-02-01")
        assert r.status_code == 422 and r.json()["error"] == "invalid_date"
        r = appoint(env, tokens, list_id, chair="rm1")
        assert r.status_code == 422 and r.json()["error"] == "preparer_on_committee"
        r = appoint(env, tokens, list_id, members=["mem1"])
        assert r.status_code == 422                         # a chair and at least two members
        assert rm.get(base).json()["status"] == "draft"
        r = appoint(env, tokens, list_id, order_date="2027-01-14")
        assert r.status_code == 200, r.text
        committee = r.json()["committee"]
        assert committee["order_ref"] == "คำสั่ง อบต. ที่ 12/2570"
        assert committee["order_date"] == "2027-01-14" and committee["appointed_by"] == "head1"
        assert committee["chair"]["user"] == "chair1"
        for who in ("chair1", "mem1", "mem2"):
            env.client(tokens[who]).post(f"{base}/votes", json={"votes": [
                {"item": 1, "vote": "approve"}]})
        r = env.client(tokens["chair1"]).post(f"{base}/committee-approval", json={})
        assert r.json()["status"] == "committee_approved"   # the head's approval still to come
        r = env.client(tokens["head1"]).post(f"{base}/head-decision",
                                             json={"decision": "approve"})
        assert r.json()["status"] == "head_approved"


# -- 4. the National Archives' review period is data, with its basis (ข้อ 70) ----------

def test_the_archives_review_period_is_rule_data_and_objections_name_items(env: Env):
    """GIVEN a list approved by the head of agency
    WHEN it is sent with a review period of 1 day
    THEN that is refused: the period is the rule's (60 days, with its basis), which a
    national records manager may change (versioned), never a caller; and the archives'
    answer can object to named items (kept until a date, or transferred) while the rest
    may be destroyed."""
    from archive.retention.schedules.defaults import POLICY_TH

    tokens = people(env, world(env))
    rules = env.client(tokens["rm1"]).get("/api/v1/retention/rules").json()
    period = next(r for r in rules if r["code"] == "archives_review_days")
    assert period["value"] == 60 and "ข้อ 70" in period["basis_th"]
    assert POLICY_TH in period["basis_th"]        # counting from the sending date: policy
    lao = env.client(tokens["rm1"]).put("/api/v1/retention/rules/archives_review_days", json={
        "value": 1, "basis_th": "x", "basis_en": "x", "reason": "เร็วขึ้น"})
    assert lao.status_code == 403
    with at("2027-01-15"):
        list_id = _list_for(env, tokens, "a4", "b4", "c4")
        base = f"/api/v1/retention/lists/{list_id}"
        rm = env.client(tokens["rm1"])
        assert appoint(env, tokens, list_id).status_code == 200
        for who in ("chair1", "mem1", "mem2"):
            env.client(tokens[who]).post(f"{base}/votes", json={"votes": [
                {"item": n, "vote": "approve"} for n in (1, 2, 3)]})
        env.client(tokens["chair1"]).post(f"{base}/committee-approval", json={})
        env.client(tokens["head1"]).post(f"{base}/head-decision", json={"decision": "approve"})
        r = rm.post(f"{base}/archives-sent", json={"sent_on": "2027-01-15", "review_days": 1})
        assert r.status_code == 422 and r.json()["error"] == "review_period_too_short"
        r = rm.post(f"{base}/archives-sent", json={"sent_on": "2027-01-15"})
        assert r.status_code == 200, r.text
        arch = r.json()["national_archives"]
        assert arch["review_days"] == 60 and "ข้อ 70" in arch["review_basis"]
        assert arch["executable_on"] == "2027-03-16"
    with at("2027-01-16"):
        assert not rm.get(base).json()["executable"]
        bad = rm.post(f"{base}/archives-response", json={
            "result": "object", "responded_on": "2027-01-16"})
        assert bad.status_code == 422                       # an objection names its items
        r = rm.post(f"{base}/archives-response", json={
            "result": "object", "responded_on": "2027-01-16", "comment": "ขอเก็บ/ขอรับโอน",
            "items": [{"item": 1, "action": "keep", "keep_until": "2035-01-01",
                       "comment": "มีคุณค่าทางประวัติศาสตร์"},
                      {"item": 2, "action": "transfer", "comment": "ขอรับโอน"}]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["national_archives"]["result"] == "object" and body["executable"]
        assert [(e["status"], e["action"]) for e in body["entries"]] == [
            ("kept", "keep"), ("listed", "transfer"), ("listed", "destroy")]
        kept = rm.get(f"/api/v1/retention/records/{body['entries'][0]['evidence_id']}").json()
        assert kept["retain_until"].startswith("2034-12-31T17:00")
        assert "National Archives" in kept["retention_basis"]
    national = env.client(env.user("rm-dla", "records_manager", ["dla"]))
    r = national.put("/api/v1/retention/rules/archives_review_days", json={
        "value": 90, "basis_th": "ข้อ 70 และหนังสือกรมศิลปากร", "basis_en": "clause 70",
        "reason": "หนังสือกรมศิลปากร"})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert r.json()["history"][0]["value"] == 60


# -- 5. the committee's joint record of the destruction (ข้อ 68–69) --------------------

def test_execution_needs_the_committees_joint_record_and_the_certificate_carries_it(
        env: Env):
    """GIVEN an executable list
    WHEN a records manager who is not on the committee asks for execution, or the chair
    asks before the members have confirmed
    THEN both are refused; once every member has confirmed (the chair with the request)
    the job runs and the certificate carries each member's confirmation."""
    tokens = people(env, world(env))
    with at("2027-01-15"):
        list_id = _list_for(env, tokens, "r5")
        approve_all(env, tokens, list_id, sent_on="2027-01-15")
    base = f"/api/v1/retention/lists/{list_id}"
    with at("2027-03-16"):
        r = env.client(tokens["rm1"]).post(f"{base}/execute")
        assert r.status_code == 403 and r.json()["error"] == "not_on_committee"
        r = env.client(tokens["chair1"]).post(f"{base}/execute")
        assert r.status_code == 409 and r.json()["error"] == "steps_missing"
        assert "mem1, mem2" in json.dumps(r.json()["detail"])
        assert env.client(tokens["rm1"]).post(f"{base}/destruction-record",
                                              json={}).status_code == 403
        r = env.client(tokens["mem1"]).post(f"{base}/destruction-record",
                                            json={"note": "ตรวจแล้ว"})
        assert r.status_code == 200
        again = env.client(tokens["mem1"]).post(f"{base}/destruction-record", json={})
        assert again.status_code == 409 and again.json()["error"] == "already_confirmed"
        assert env.client(tokens["mem2"]).post(f"{base}/destruction-record",
                                               json={}).status_code == 200
        r = env.client(tokens["chair1"]).post(f"{base}/execute")
        assert r.status_code == 202, r.text
        run_jobs(env)
    cert = json.loads(env.client(tokens["aud1"]).get(f"{base}/certificate").content)
    record = cert["approvals"]["committee"]["destruction_record"]
    assert {(m["user"], m["function"]) for m in record} == {
        ("chair1", "chair"), ("mem1", "member"), ("mem2", "member")}
    assert all(m["confirmed_at"] for m in record)
    assert next(m for m in record if m["user"] == "mem1")["note"] == "ตรวจแล้ว"
    html = env.client(tokens["aud1"]).get(f"{base}/certificate",
                                          params={"format": "html"}).text
    assert "บันทึกการทำลายของคณะกรรมการ" in html and "นายหนึ่ง กรรมการ" in html


# -- 6. the certificate says exactly what happened, in Thai with BE Thailand dates ------

def test_the_certificate_says_deferred_while_the_store_still_locks_the_bytes(env: Env):
    """GIVEN a record whose bytes the store locks for the default ten years
    WHEN its list is executed
    THEN the certificate does not say the bytes were deleted: the item is "deferred" until
    the lock's date (in the Buddhist Era, Thailand time), with the reason, in Thai and in
    English, and the statement counts it as such; no ISO/UTC instant is shown to people."""
    from archive.retention.certificate import date_th

    tokens = people(env, world(env))
    rec = ingest(env, tokens, "d6")
    run_jobs(env)
    with at("2027-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        approve_all(env, tokens, list_id, sent_on="2027-01-15")
    base = f"/api/v1/retention/lists/{list_id}"
    with at("2027-03-16"):
        assert request_execution(env, tokens, list_id).status_code == 202
        run_jobs(env)
    cert = json.loads(env.client(tokens["aud1"]).get(f"{base}/certificate").content)
    item = cert["items"][0]
    assert item["sha256"] == rec["sha256"] and item["object"]["bytes"] == "deferred"
    until = item["object"]["locked_until"]
    assert item["outcome"] == "deferred"
    assert "ยังไม่ได้ลบไฟล์" in item["outcome_th"] and date_th(until) in item["outcome_th"]
    assert re.search(r"\b25[6-9]\d\b", date_th(until))           # a Buddhist-Era year
    assert "NOT deleted yet" in item["outcome_en"]
    assert "ทำลายและลบไฟล์ทุกรุ่นแล้ว" not in cert["statement_th"]
    assert "cannot be read or reconstructed" not in cert["statement_en"]
    assert "1 item destroyed in the archive, bytes still locked" in cert["statement_en"]
    html = env.client(tokens["aud1"]).get(f"{base}/certificate",
                                          params={"format": "html"}).text
    assert date_th(until) in html and "ยังไม่ได้ลบไฟล์" in html
    assert "คำสั่ง อบต. ที่ 12/2570" in html
    assert date_th("2027-01-15") in html                           # sent, in BE
    for_people = re.sub(r"<code>.*?</code>", "", html, flags=re.S)   # hashes, store's words
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", for_people), "ISO instants shown"


# -- 7. legal bases cite their clause; policy is labelled ------------------------------

def test_seeded_legal_bases_cite_their_clause_and_label_the_archives_policy():
    from archive.retention.schedules.defaults import POLICY_EN, POLICY_TH

    for s in DEFAULT_SCHEDULES:
        th, en = s["legal_basis_th"], s["legal_basis_en"]
        if s["code"] == "with-parent":     # no clause of the regulation says this
            assert th.startswith(POLICY_TH) and en.startswith(POLICY_EN)
            continue
        assert "ข้อ 57" in th and "clause 57" in en, s["code"]
        assert "ข้อ 66–70" in th and "66–70" in en, s["code"]
        # Counting start points are not in ข้อ 57: wherever the text says from when,
        # it says so as the archive's policy.
        assert "นับ" in th.split(POLICY_TH, 1)[1], s["code"]
        assert "นับ" not in th.split(POLICY_TH, 1)[0], s["code"]
    by_code = {s["code"]: s for s in DEFAULT_SCHEDULES}
    for doc_type in ("contract", "inspection_report"):
        schedule = by_code[DEFAULT_DOC_TYPES[doc_type]]
        assert schedule["audited_keep_years"] is None and schedule["keep_years"] == 10
    assert by_code[DEFAULT_DOC_TYPES["receipt"]]["audited_keep_years"] == 5


def test_contracts_and_acceptance_reports_get_the_general_ten_year_schedule(env: Env):
    tokens = world(env)
    for doc_type in ("contract", "inspection_report"):
        rec = ingest(env, tokens, doc_type, doc_type=doc_type, fiscal_year=2566)
        run_jobs(env)
        info = env.client(tokens["rm1"]).get(f"/api/v1/retention/records/{rec['id']}").json()
        assert info["schedule_code"] == "general-records", doc_type
        # 10 years after the end of FY 2566 (30 Sep 2023), not the provisional 5 years.
        assert info["retain_until"].startswith("2033-09-30T17:00"), info


# -- 13. document types named as what they are ------------------------------------------

ROLES = ("request_report", "purchase_order", "contract", "inspection_report", "invoice",
         "tax_invoice", "receipt", "payment_acknowledgement", "payment_certificate",
         "e_payment_report", "withholding_certificate", "travel_order", "travel_report",
         "payroll", "other")


def test_document_types_follow_the_evidence_roles_with_their_thai_names(env: Env):
    from api.web.i18n import label
    from archive.evidence.models import DOC_TYPES

    assert set(ROLES) <= set(DOC_TYPES) and "payment_voucher" not in DOC_TYPES
    th = {code: label("doc_type", code, "th") for code in DOC_TYPES}
    assert th["payment_acknowledgement"] == "ใบสำคัญรับเงิน"
    assert th["payment_certificate"] == "ใบรับรองการจ่ายเงิน"
    assert "50 ทวิ" in th["withholding_certificate"]
    assert "ใบสำคัญรับเงิน" not in {th[c] for c in DOC_TYPES if c != "payment_acknowledgement"}
    tokens = world(env)
    client = env.client(tokens["off1"])
    old = upload(client, b"%PDF-1.4\n%%EOF\n", doc_type="payment_voucher")
    assert old.status_code == 422 and "payment_acknowledgement" in old.text
    for doc_type in ("withholding_certificate", "payment_certificate", "travel_report"):
        r = ingest(env, tokens, doc_type, doc_type=doc_type)
        shown = env.client(tokens["off1"]).get(f"/api/v1/evidence/{r['id']}").json()
        assert shown["doc_type"] == doc_type
    run_jobs(env)
    types = env.client(tokens["rm1"]).get("/api/v1/retention/doc-types").json()
    mapped = {t["doc_type"]: t["schedule_code"] for t in types}
    assert mapped["withholding_certificate"] == "voucher-evidence"
    assert mapped["contract"] == "general-records" and "payment_voucher" not in mapped
