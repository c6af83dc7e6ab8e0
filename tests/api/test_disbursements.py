"""Disbursement vouchers over the API, on both stacks: register (409), read, correct with
history, evidence into vouchers (links audited), every finding code with a planted case and
a clean twin, scope (even through a double-payment finding), recompute when a voucher, a
link, a file's metadata or its inspection changes, reviews, lists, summary, CSV, profile."""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from archive.disbursements.models import Disbursement, DisbursementEvidence
from archive.evidence.models import Evidence
from tests.archive.inspection.helpers import etda_invoice_xml
from tests.conftest import Env
from tests.factories import make_pdf, world

SELLER = "0105538025143"     # the seller of etda_invoice_xml; passes the check digit
OTHER = "0994000165510"
BAD = "0105538025144"        # fails the check digit
_n = itertools.count(1)
ANY = {"If-Match": "*"}      # a correction on purpose, whatever the version


@pytest.fixture
def w(env: Env) -> dict[str, Any]:
    tokens = world(env)
    tokens["off3"] = env.user("off3", "officer", ["sao-3"])
    tokens["aud-nat"] = env.user("aud-nat", "auditor", ["dla"])
    tokens["rm-nat"] = env.user("rm-nat", "records_manager", ["dla"])
    return {name: env.client(token) for name, token in tokens.items()}


def body(**kw: Any) -> dict[str, Any]:
    base = {"org_code": "sao-1", "fiscal_year": 2568, "voucher_no": f"{next(_n)}/2568",
            "voucher_date": "2025-01-10", "kind": "procurement", "payee_name": "ร้านทดสอบ",
            "payee_tax_id": SELLER, "gross_amount": "10,700.00", "withholding_tax": "100.00",
            "net_amount": "10600.00", "payment_method": "e_payment",
            "payment_date": "2025-01-20", "budget_code": "00111", "procurement_method":
            "เฉพาะเจาะจง", "expenditure_category": "ค่าวัสดุ", "egp_project_no": "68019000001",
            "contract_no": "PO 1/2568", "description": "ซื้อวัสดุสำนักงาน"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def new_voucher(client: Any, **kw: Any) -> str:
    r = client.post("/api/v1/disbursements", json=body(**kw))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def put_file(client: Any, voucher: str | None, role: str | None, content: bytes | None = None,
             *, filename: str = "f.pdf", doc_type: str = "other", org: str = "sao-1",
             **fields: Any) -> Any:
    data = {"org_code": org, "doc_type": doc_type, **{k: str(v) for k, v in fields.items()}}
    if voucher is not None:
        data["disbursement_id"] = voucher
    if role is not None:
        data["role"] = role
    return client.post("/api/v1/evidence", data=data, files={
        "file": (filename, content or make_pdf(f"file-{next(_n)}"), "application/pdf")})


def complete(client: Any, voucher: str, *, invoice: dict[str, Any] | None = None,
             org: str = "sao-1", acceptance: str = "2025-01-15") -> dict[str, str]:
    """GIVEN every file a procurement paid by e-payment needs; returns evidence id by role."""
    ids = {}
    for role in ("request_report", "purchase_order", "e_payment_report"):
        r = put_file(client, voucher, role, org=org)
        assert r.status_code == 201, r.text
        ids[role] = r.json()["id"]
    r = put_file(client, voucher, "inspection_report", doc_type="inspection_report",
                 issue_date=acceptance, org=org)
    assert r.status_code == 201, r.text
    ids["inspection_report"] = r.json()["id"]
    fields = {"issuer_tax_id": SELLER, "doc_number": f"INV-{next(_n)}", "amount": "10700.00",
              **(invoice or {})}
    r = put_file(client, voucher, "tax_invoice", doc_type="tax_invoice", org=org,
                 issue_date="2025-01-14", **fields)
    assert r.status_code == 201, r.text
    ids["tax_invoice"] = r.json()["id"]
    return ids


def detail(client: Any, voucher: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/disbursements/{voucher}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def codes(client: Any, voucher: str) -> list[str]:
    return [f["code"] for f in detail(client, voucher)["findings"]]


def count(env: Env, model: Any) -> int:
    with env.session() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


# -- registering and reading ------------------------------------------------------------

def test_register_read_and_a_second_voucher_with_the_same_number_is_409(env: Env, w):
    off = w["off1"]
    r = off.post("/api/v1/disbursements", json=body(voucher_no="15/2568"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["findings"] == ["missing_evidence"] and created["complete"] is False
    again = off.post("/api/v1/disbursements", json=body(voucher_no="15/2568"))
    assert again.status_code == 409 and again.json()["error"] == "duplicate_voucher"
    other_year = off.post("/api/v1/disbursements",
                          json=body(voucher_no="15/2568", fiscal_year=2567))
    assert other_year.status_code == 201
    d = detail(off, created["id"])
    v = d["voucher"]
    assert v["org_code"] == "sao-1" and v["voucher_no"] == "15/2568"
    assert v["gross_amount"] == "10700.00" and v["net_amount"] == "10600.00"
    assert d["completeness"]["required"] == [
        ["request_report"], ["purchase_order", "contract"], ["inspection_report"],
        ["receipt", "tax_invoice", "payment_acknowledgement"], ["e_payment_report"]]
    assert d["completeness"]["missing"] == d["completeness"]["required"]
    assert d["evidence"] == [] and d["reviews"] == [] and d["history"] == []
    assert count(env, Disbursement) == 2


@pytest.mark.parametrize("change, field", [
    ({"fiscal_year": 2025}, "fiscal_year"),
    ({"kind": "bribe"}, "kind"),
    ({"payment_method": "crypto"}, "payment_method"),
    ({"net_amount": "20000.00"}, "body"),
    ({"gross_amount": "1.234"}, "gross_amount"),
    ({"payee_tax_id": "12345"}, "payee_tax_id"),
    ({"voucher_date": "2568-01-10"}, "voucher_date"),
    ({"voucher_no": None}, "voucher_no"),
    ({"colour": "red"}, "colour"),
])
def test_bad_vouchers_are_422_and_change_nothing(env: Env, w, change, field):
    r = w["off1"].post("/api/v1/disbursements", json=body(**change))
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_voucher"
    assert field in [p["field"] for p in r.json()["detail"]], r.json()
    assert count(env, Disbursement) == 0


def test_only_officers_register_and_only_in_their_organisation(env: Env, w):
    assert w["aud1"].post("/api/v1/disbursements", json=body()).status_code == 403
    r = w["off2"].post("/api/v1/disbursements", json=body(org_code="sao-1"))
    assert r.status_code == 404
    assert count(env, Disbursement) == 0


def test_correction_keeps_history_and_honours_if_match(env: Env, w):
    off = w["off1"]
    vid = new_voucher(off)
    r = off.get(f"/api/v1/disbursements/{vid}")
    assert r.headers["ETag"] == '"1"'
    missing = off.patch(f"/api/v1/disbursements/{vid}", json={"payee_name": "ร้านใหม่"})
    assert missing.status_code == 428 and missing.json()["error"] == "precondition_required"
    r = off.patch(f"/api/v1/disbursements/{vid}", json={"payee_name": "ร้านใหม่",
                                                        "reason": "สะกดผิด"},
                  headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"2"'
    assert r.json()["voucher"]["payee_name"] == "ร้านใหม่"
    hist = r.json()["history"]
    assert hist[0]["version"] == 1 and hist[0]["values"]["payee_name"] == "ร้านทดสอบ"
    assert hist[0]["changed"] == ["payee_name"] and hist[0]["reason"] == "สะกดผิด"
    stale = off.patch(f"/api/v1/disbursements/{vid}", json={"payee_name": "x"},
                      headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["error"] == "precondition_failed"
    removed = off.patch(f"/api/v1/disbursements/{vid}", json={"gross_amount": None},
                        headers=ANY)
    assert removed.status_code == 422
    assert w["aud1"].patch(f"/api/v1/disbursements/{vid}", json={"payee_name": "y"},
                           headers=ANY).status_code == 403
    assert w["off2"].patch(f"/api/v1/disbursements/{vid}", json={"payee_name": "y"},
                           headers=ANY).status_code == 404
    assert detail(off, vid)["voucher"]["version"] == 2


# -- evidence into vouchers -------------------------------------------------------------

def _events(env: Env, action: str, target: str) -> list[dict[str, Any]]:
    from archive.audit.models import AuditEvent

    with env.session() as s:
        rows = s.scalars(sa.select(AuditEvent).where(AuditEvent.action == action,
                                                     AuditEvent.target_id == target)
                         .order_by(AuditEvent.seq))
        return [{"actor": e.actor, "details": e.details} for e in rows]


def test_upload_into_a_voucher_link_and_unlink_are_audited(env: Env, w):
    off = w["off1"]
    vid = new_voucher(off)
    r = put_file(off, vid, "request_report")
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    d = detail(off, vid)
    assert [(e["evidence_id"], e["role"]) for e in d["evidence"]] == [(eid, "request_report")]
    assert d["evidence"][0]["sha256"] == r.json()["sha256"]
    assert ["request_report"] not in d["completeness"]["missing"]
    # a file already archived, linked in a second role and to a second voucher
    other = new_voucher(off)
    assert off.post(f"/api/v1/disbursements/{vid}/evidence",
                    json={"evidence_id": eid, "role": "purchase_order"}).status_code == 201
    again = off.post(f"/api/v1/disbursements/{vid}/evidence",
                     json={"evidence_id": eid, "role": "purchase_order"})
    assert again.status_code == 409 and again.json()["error"] == "already_linked"
    assert off.post(f"/api/v1/disbursements/{other}/evidence",
                    json={"evidence_id": eid, "role": "contract"}).status_code == 201
    links = _events(env, "disbursement.link", vid)
    assert [e["details"]["role"] for e in links] == ["request_report", "purchase_order"]
    assert all(e["details"]["evidence_id"] == eid and e["actor"] == "off1" for e in links)
    r = off.delete(f"/api/v1/disbursements/{vid}/evidence/{eid}",
                   params={"role": "purchase_order"})
    assert r.status_code == 200 and r.json()["roles"] == ["purchase_order"]
    r = off.delete(f"/api/v1/disbursements/{vid}/evidence/{eid}")
    assert r.status_code == 200 and r.json()["roles"] == ["request_report"]
    assert off.delete(f"/api/v1/disbursements/{vid}/evidence/{eid}").status_code == 404
    unlinks = _events(env, "disbursement.unlink", vid)
    assert [e["details"]["roles"] for e in unlinks] == [["purchase_order"], ["request_report"]]
    assert detail(off, vid)["evidence"] == []
    assert [e["role"] for e in detail(off, other)["evidence"]] == ["contract"]
    # the file itself stays archived
    assert off.get(f"/api/v1/evidence/{eid}").status_code == 200


def test_a_bad_upload_into_a_voucher_changes_nothing(env: Env, w):
    off = w["off1"]
    vid = new_voucher(off)
    before = count(env, Evidence)
    cases = [(str(uuid.uuid4()), "receipt", 404), (vid, "napkin", 422), (vid, None, 422),
             (None, "receipt", 422), ("not-a-uuid", "receipt", 422)]
    for voucher, role, status in cases:
        r = put_file(off, voucher, role)
        assert r.status_code == status, (voucher, role, r.text)
    # another organisation's voucher: not found; a file for another organisation: 422
    other = new_voucher(w["off3"], org_code="sao-3")
    assert put_file(off, other, "receipt").status_code == 404
    assert put_file(w["off3"], other, "receipt", org="sao-1").status_code in (404, 422)
    assert count(env, Evidence) == before
    assert count(env, DisbursementEvidence) == 0


def test_a_file_of_another_organisation_cannot_be_linked(env: Env, w):
    officer = env.user("off-both", "officer", ["sao-1", "sao-2"])
    both = env.client(officer)
    vid = new_voucher(both)
    eid = put_file(both, None, None, org="sao-2").json()["id"]
    r = both.post(f"/api/v1/disbursements/{vid}/evidence",
                  json={"evidence_id": eid, "role": "receipt"})
    assert r.status_code == 422 and r.json()["error"] == "other_organisation"
    out_of_scope = put_file(w["off3"], None, None, org="sao-3").json()["id"]
    r = w["off1"].post(f"/api/v1/disbursements/{vid}/evidence",
                       json={"evidence_id": out_of_scope, "role": "receipt"})
    assert r.status_code == 404


# -- every finding code: a planted case and a clean twin --------------------------------

def test_a_complete_consistent_voucher_has_no_finding(env: Env, w):
    vid = new_voucher(w["off1"])
    complete(w["off1"], vid)
    d = detail(w["off1"], vid)
    assert d["findings"] == []
    assert d["completeness"]["complete"] is True and d["completeness"]["missing"] == []


def test_missing_evidence_shows_alternatives(env: Env, w):
    off = w["off1"]
    planted = new_voucher(off)
    ids = complete(off, planted)
    off.delete(f"/api/v1/disbursements/{planted}/evidence/{ids['tax_invoice']}")
    d = detail(off, planted)
    assert d["completeness"]["missing"] == [["receipt", "tax_invoice",
                                             "payment_acknowledgement"]]
    assert [f["code"] for f in d["findings"]] == ["missing_evidence"]
    twin = new_voucher(off, payment_method="cheque")
    ids = complete(off, twin)
    off.delete(f"/api/v1/disbursements/{twin}/evidence/{ids['e_payment_report']}")
    assert codes(off, twin) == []          # no transfer report needed for a cheque


def test_amount_mismatch(env: Env, w):
    off = w["off1"]
    planted = new_voucher(off)
    complete(off, planted, invoice={"amount": "10000.00"})
    finding = detail(off, planted)["findings"]
    assert [f["code"] for f in finding] == ["amount_mismatch"]
    assert finding[0]["severity"] == "error" and "10,700.00" in finding[0]["message"]
    twin = new_voucher(off)
    complete(off, twin, invoice={"amount": "10700.00"})
    assert codes(off, twin) == []


def test_payee_mismatch(env: Env, w):
    off = w["off1"]
    planted = new_voucher(off)
    ids = complete(off, planted, invoice={"issuer_tax_id": OTHER})
    finding = detail(off, planted)["findings"]
    assert [f["code"] for f in finding] == ["payee_mismatch"]
    assert finding[0]["evidence_ids"] == [ids["tax_invoice"]]
    twin = new_voucher(off, payee_tax_id=OTHER)
    complete(off, twin, invoice={"issuer_tax_id": OTHER})
    assert codes(off, twin) == []


def test_paid_before_acceptance(env: Env, w):
    off = w["off1"]
    planted = new_voucher(off, payment_date="2025-01-12")
    complete(off, planted, acceptance="2025-01-15")
    assert codes(off, planted) == ["paid_before_acceptance"]
    twin = new_voucher(off, payment_date="2025-01-15")
    complete(off, twin, acceptance="2025-01-15")
    assert codes(off, twin) == []


def test_invalid_payee_tax_id_is_accepted_and_found(env: Env, w):
    off = w["off1"]
    planted = new_voucher(off, payee_tax_id=BAD)
    assert "invalid_payee_tax_id" in codes(off, planted)
    twin = new_voucher(off, payee_tax_id=SELLER)
    assert "invalid_payee_tax_id" not in codes(off, twin)


def test_split_purchase_and_its_neighbour_is_recomputed(env: Env, w):
    off = w["off1"]
    first = new_voucher(off, gross_amount="60000.00", net_amount="60000.00",
                        withholding_tax=None, voucher_date="2025-01-10",
                        payment_method="cheque")
    second = new_voucher(off, gross_amount="50000.00", net_amount="50000.00",
                         withholding_tax=None, voucher_date="2025-01-25",
                         payment_method="cheque")
    twin = new_voucher(off, gross_amount="50000.00", net_amount="50000.00",
                       withholding_tax=None, voucher_date="2025-03-25",
                       payment_method="cheque")
    a, b = detail(off, first)["findings"], detail(off, second)["findings"]
    split_a = [f for f in a if f["code"] == "split_purchase"]
    split_b = [f for f in b if f["code"] == "split_purchase"]
    assert split_a and split_b
    assert split_a[0]["disbursement_ids"] == [second]
    assert split_b[0]["disbursement_ids"] == [first]
    assert "split_purchase" not in codes(off, twin)
    # moving the second voucher out of the window clears the first one's finding too
    r = off.patch(f"/api/v1/disbursements/{second}", json={"voucher_date": "2025-03-01"},
                  headers=ANY)
    assert r.status_code == 200, r.text
    assert "split_purchase" not in codes(off, first)
    assert "split_purchase" not in codes(off, second)
    # and moving it back brings both back
    off.patch(f"/api/v1/disbursements/{second}", json={"voucher_date": "2025-01-24"},
              headers=ANY)
    assert "split_purchase" in codes(off, first)


# -- double payments across organisations, and scope ------------------------------------

def test_duplicate_invoice_across_organisations_is_counted_never_shown(env: Env, w):
    mine = new_voucher(w["off1"], voucher_no="7/2568")
    complete(w["off1"], mine, invoice={"doc_number": "INV-77"})
    theirs = new_voucher(w["off3"], org_code="sao-3", voucher_no="99/2568")
    complete(w["off3"], theirs, invoice={"doc_number": "inv 77"}, org="sao-3")
    twin = new_voucher(w["off1"])
    complete(w["off1"], twin, invoice={"doc_number": "INV-78"})
    assert codes(w["off1"], twin) == []

    r = w["off1"].get(f"/api/v1/disbursements/{mine}")
    finding = r.json()["findings"]
    assert [f["code"] for f in finding] == ["duplicate_invoice"]
    assert finding[0]["disbursement_ids"] == [] and finding[0]["outside_scope"] == 1
    assert "1 voucher outside your scope" in finding[0]["message"]
    assert theirs not in r.text and "99/2568" not in r.text and "sao-3" not in r.text
    assert w["off1"].get(f"/api/v1/disbursements/{theirs}").status_code == 404
    # the province's auditor neither; the national auditor sees both sides
    r = w["aud1"].get("/api/v1/disbursements", params={"finding": "duplicate_invoice"})
    assert [i["id"] for i in r.json()["items"]] == [mine] and theirs not in r.text
    national = w["aud-nat"].get(f"/api/v1/disbursements/{mine}").json()["findings"][0]
    assert national["disbursement_ids"] == [theirs] and national["outside_scope"] == 0
    # unlinking on one side clears the other side (the partner is recomputed)
    tax_invoice = [e for e in detail(w["off3"], theirs)["evidence"]
                   if e["role"] == "tax_invoice"][0]["evidence_id"]
    w["off3"].delete(f"/api/v1/disbursements/{theirs}/evidence/{tax_invoice}")
    assert codes(w["off1"], mine) == []


def test_duplicate_by_the_same_bytes(env: Env, w):
    off = w["off1"]
    receipt = make_pdf("the same receipt")
    first, second = new_voucher(off), new_voucher(off)
    r = put_file(off, first, "receipt", receipt, doc_type="receipt")
    assert r.status_code == 201, r.text
    # The same bytes into another voucher of the organisation: the one duplicate rule
    # refuses them (link the existing record instead), unless the upload says so.
    refused = put_file(off, second, "receipt", receipt, doc_type="receipt")
    assert refused.status_code == 409 and refused.json()["error"] == "duplicate_upload"
    assert refused.json()["detail"]["existing"] == [r.json()["id"]]
    r = put_file(off, second, "receipt", receipt, doc_type="receipt", allow_duplicate="true")
    assert r.status_code == 201, r.text
    f = [x for x in detail(off, first)["findings"] if x["code"] == "duplicate_invoice"]
    assert f and f[0]["disbursement_ids"] == [second]
    assert f[0]["details"]["matches"][0]["basis"] == ["bytes"]
    # the same bytes as a contract on two vouchers (instalments) is no double payment
    contract = make_pdf("one contract")
    a, b = new_voucher(off), new_voucher(off)
    for vid in (a, b):
        put_file(off, vid, "contract", contract, doc_type="contract", allow_duplicate="true")
    assert "duplicate_invoice" not in codes(off, a)


# -- recompute when a file changes ------------------------------------------------------

def test_recompute_on_a_file_correction(env: Env, w):
    off = w["off1"]
    vid = new_voucher(off)
    ids = complete(off, vid)
    assert codes(off, vid) == []
    r = off.patch(f"/api/v1/evidence/{ids['tax_invoice']}", json={"amount": "10000.00"},
                  headers=ANY)
    assert r.status_code == 200, r.text
    assert codes(off, vid) == ["amount_mismatch"]
    off.patch(f"/api/v1/evidence/{ids['tax_invoice']}", json={"amount": "10700.00"},
              headers=ANY)
    assert codes(off, vid) == []


def test_recompute_on_inspection_the_file_s_grand_total_counts(env: Env, w):
    """GIVEN an e-Tax Invoice whose typed amount is wrong (9,000) but whose own grand total
    is the voucher's 10,700, WHEN the inspection reads the file, THEN the amount matches."""
    from workers.runner import Worker

    off = w["off1"]
    vid = new_voucher(off)
    ids = complete(off, vid)
    off.delete(f"/api/v1/disbursements/{vid}/evidence/{ids['tax_invoice']}")
    xml = etda_invoice_xml(number=f"INV-{next(_n)}", grand_total="10700.00")
    r = put_file(off, vid, "tax_invoice", xml, filename="etax.xml", doc_type="tax_invoice",
                 amount="9000.00")
    assert r.status_code == 201, r.text
    assert codes(off, vid) == ["amount_mismatch"]
    worker = Worker(env.settings, engine=env.engine, store=env.store, kinds=["inspect"])
    while worker.run_once():
        pass
    d = detail(off, vid)
    assert [f["code"] for f in d["findings"]] == []
    tax_invoice = [e for e in d["evidence"] if e["role"] == "tax_invoice"][0]
    assert tax_invoice["amount"] == "9000.00"                  # typed value untouched
    assert tax_invoice["inspection"]["grand_total"] == "10700.00"
    assert tax_invoice["inspection"]["seller_tax_id"].startswith(SELLER)


# -- reviews ----------------------------------------------------------------------------

def test_reviews_are_audited_listed_and_never_editable(env: Env, w):
    vid = new_voucher(w["off1"])
    assert w["off1"].post(f"/api/v1/disbursements/{vid}/reviews",
                          json={"outcome": "no_observation"}).status_code == 403
    assert w["aud3"].post(f"/api/v1/disbursements/{vid}/reviews",
                          json={"outcome": "no_observation"}).status_code == 404
    bad = w["aud1"].post(f"/api/v1/disbursements/{vid}/reviews", json={"outcome": "observation"})
    assert bad.status_code == 422                       # an observation says what
    first = w["aud1"].post(f"/api/v1/disbursements/{vid}/reviews",
                           json={"outcome": "observation", "note": "ไม่มีใบตรวจรับ"})
    assert first.status_code == 201, first.text
    second = w["aud1"].post(f"/api/v1/disbursements/{vid}/reviews",
                            json={"outcome": "no_observation", "note": "ได้รับเอกสารแล้ว"})
    assert second.status_code == 201
    reviews = detail(w["aud1"], vid)["reviews"]
    assert [(r["outcome"], r["current"]) for r in reviews] == [("observation", False),
                                                               ("no_observation", True)]
    events = _events(env, "disbursement.review", vid)
    assert [e["details"]["outcome"] for e in events] == ["observation", "no_observation"]
    assert events[0]["details"]["findings"] == ["missing_evidence"]
    rid = first.json()["id"]
    for method in ("put", "patch", "delete"):
        r = getattr(w["aud1"], method)(f"/api/v1/disbursements/{vid}/reviews/{rid}")
        assert r.status_code in (404, 405)


# -- lists, summary, CSV ----------------------------------------------------------------

def test_list_filters_pages_and_csv(env: Env, w):
    off = w["off1"]
    made = [new_voucher(off, voucher_date=f"2025-01-{d:02d}") for d in range(1, 8)]
    done = new_voucher(off, voucher_date="2025-01-09")
    complete(off, done)
    new_voucher(w["off2"], org_code="sao-2", kind="utilities", payee_tax_id=BAD)
    new_voucher(w["off3"], org_code="sao-3")
    aud = w["aud1"]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"org_code": "sao-1", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        r = aud.get("/api/v1/disbursements", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 8
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [done, *reversed(made)]                      # newest voucher date first
    r = aud.get("/api/v1/disbursements", params={"complete": "true"}).json()
    assert [i["id"] for i in r["items"]] == [done] and r["items"][0]["findings"] == []
    r = aud.get("/api/v1/disbursements", params={"complete": "false", "kind": "procurement"})
    assert r.json()["total"] == 7
    assert all(i["findings"] == ["missing_evidence"] for i in r.json()["items"])
    r = aud.get("/api/v1/disbursements", params={"finding": "invalid_payee_tax_id"}).json()
    assert [i["org_code"] for i in r["items"]] == ["sao-2"]
    r = aud.get("/api/v1/disbursements", params={"q": made[0] and "ร้านทด", "org_code": "sao-2"})
    assert r.json()["total"] == 1
    assert aud.get("/api/v1/disbursements", params={"org_code": "sao-3"}).status_code == 404
    assert aud.get("/api/v1/disbursements", params={"finding": "nonsense"}).status_code == 422
    assert aud.get("/api/v1/disbursements", params={"cursor": "xyz"}).status_code == 422
    assert w["aud3"].get("/api/v1/disbursements").json()["total"] == 1
    csv_r = aud.get("/api/v1/disbursements.csv", params={"org_code": "sao-1"})
    assert csv_r.status_code == 200 and csv_r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(csv_r.content.decode("utf-8-sig"))))
    assert len(rows) == 8 and rows[0]["id"] == done and rows[0]["complete"] == "true"
    assert rows[1]["findings"] == "missing_evidence" and rows[1]["payee_name"] == "ร้านทดสอบ"


def test_summary_one_row_per_lao_of_the_province(env: Env, w):
    new_voucher(w["off1"], gross_amount="100.00", net_amount="100.00", withholding_tax=None)
    new_voucher(w["off1"], gross_amount="200.50", net_amount="200.50", withholding_tax=None,
                payee_tax_id=BAD)
    new_voucher(w["off2"], org_code="sao-2")
    new_voucher(w["off3"], org_code="sao-3")
    r = w["aud1"].get("/api/v1/disbursements/summary", params={"fiscal_year": 2568})
    assert r.status_code == 200, r.text
    rows = {row["org_code"]: row for row in r.json()["rows"]}
    assert set(rows) == {"sao-1", "sao-2"}
    assert rows["sao-1"]["vouchers"] == 2 and rows["sao-1"]["gross_amount"] == "300.50"
    assert rows["sao-1"]["findings"]["invalid_payee_tax_id"] == 1
    assert rows["sao-1"]["findings"]["missing_evidence"] == 2
    assert r.json()["totals"]["vouchers"] == 3
    other_year = w["aud1"].get("/api/v1/disbursements/summary", params={"fiscal_year": 2567})
    assert other_year.json()["totals"]["vouchers"] == 0
    csv_r = w["aud1"].get("/api/v1/disbursements/summary.csv", params={"fiscal_year": 2568})
    assert csv_r.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(csv_r.content.decode("utf-8-sig"))))
    assert lines[0][:4] == ["org_code", "org_name", "fiscal_year", "vouchers"]
    assert [line[0] for line in lines[1:]] == ["sao-1", "sao-2", "*"]
    nat = w["aud-nat"].get("/api/v1/disbursements/summary").json()
    assert {row["org_code"] for row in nat["rows"]} == {"sao-1", "sao-2", "sao-3"}


# -- the profile ------------------------------------------------------------------------

def test_profile_changes_are_national_versioned_and_recompute_everything(env: Env, w):
    from workers.runner import Worker

    off = w["off1"]
    first = new_voucher(off, gross_amount="30000.00", net_amount="30000.00",
                        withholding_tax=None, payment_method="cheque")
    new_voucher(off, gross_amount="30000.00", net_amount="30000.00", withholding_tax=None,
                payment_method="cheque", voucher_date="2025-01-12")
    assert "split_purchase" not in codes(off, first)
    r = w["rm-nat"].get("/api/v1/disbursements/profile")
    assert r.status_code == 200 and r.json()["version"] == 1
    data = r.json()["data"]
    data["split"]["thresholds"] = ["50000.00", "100000.00"]
    refused = w["rm1"].put("/api/v1/disbursements/profile",
                           json={"data": data, "reason": "ลดวงเงิน"})
    assert refused.status_code == 403          # a records manager of one LAO
    bad = w["rm-nat"].put("/api/v1/disbursements/profile",
                          json={"data": {**data, "split": {"thresholds": []}},
                                "reason": "x"})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_profile"
    stale = w["rm-nat"].put("/api/v1/disbursements/profile", headers={"If-Match": '"7"'},
                            json={"data": data, "reason": "ลดวงเงิน"})
    assert stale.status_code == 412
    r = w["rm-nat"].put("/api/v1/disbursements/profile", headers={"If-Match": '"1"'},
                        json={"data": data, "reason": "ลดวงเงินตามหนังสือสั่งการ"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    assert [v["reason"] for v in r.json()["versions"]] == [
        "default profile (DISBURSEMENT.md)", "ลดวงเงินตามหนังสือสั่งการ"]
    worker = Worker(env.settings, engine=env.engine, store=env.store,
                    kinds=["disbursements_recompute"])
    ran = 0
    while worker.run_once():
        ran += 1
    assert ran == 1
    assert "split_purchase" in codes(off, first)


def test_the_national_job_and_the_organisation_recompute(env: Env, w):
    """Findings written behind the service's back (e.g. a restore) are put right by the
    national job; the per-organisation recompute gives the same answer."""
    from archive.disbursements import recompute
    from archive.disbursements.models import DisbursementFinding
    from archive.orgs import service as orgs
    from archive.queue.service import enqueue
    from workers.runner import Worker

    a = new_voucher(w["off1"], payee_tax_id=BAD)
    b = new_voucher(w["off3"], org_code="sao-3")
    with env.session() as s:
        s.execute(sa.delete(DisbursementFinding))
    assert codes(w["aud-nat"], a) == [] and codes(w["aud-nat"], b) == []
    with env.session() as s:
        out = recompute.recompute_org_year(s, orgs.get_by_code(s, "sao-1").id, 2568)
    assert out.vouchers == 1
    assert codes(w["aud-nat"], a) == ["invalid_payee_tax_id", "missing_evidence"]
    assert codes(w["aud-nat"], b) == []
    with env.session() as s:
        enqueue(s, "disbursements_recompute", {"scope": "national"})
    worker = Worker(env.settings, engine=env.engine, store=env.store,
                    kinds=["disbursements_recompute"])
    while worker.run_once():
        pass
    assert codes(w["aud-nat"], b) == ["missing_evidence"]
