"""What officers and auditors come for, and what retention depends on, back from the store
alone (issue 18): vouchers with their files, history and reviews (findings recomputed), legal
holds (placed, released, on a voucher, by an audit objection), audit closures, renditions
— on both stacks: the database lost, `archive rebuild --from-store` into an empty one, and
every voucher, hold, closure, rendition and record's retention reads as before."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from archive.accounts.principal import system_principal
from archive.audit.checkpoints import write_checkpoint
from archive.catalogue import objects
from archive.disbursements.described import voucher_key as described_voucher_key
from archive.disbursements.models import DisbursementFinding
from archive.inspection import renditions
from archive.inspection.ocr import OcrOutcome
from archive.retention.described import closure_key as described_closure_key
from archive.retention.described import hold_key as described_hold_key
from cli.main import app as cli_app
from tests.archive.catalogue.crashes import crash_at_each
from tests.archive.catalogue.test_rebuild import KINDS, _fresh
from tests.archive.retention.helpers import ingest, run_jobs
from tests.conftest import Env, StackBase
from tests.factories import make_pdf, make_xml, upload, world

JOBS = (*KINDS, "disbursements_recompute")
VOUCHER = {"org_code": "sao-1", "voucher_date": "2025-01-20", "kind": "procurement",
           "payee_name": "ร้านวัสดุ", "gross_amount": "1200.00", "withholding_tax": "0.00",
           "net_amount": "1200.00", "payment_method": "e_payment",
           "payment_date": "2025-01-25"}


def _ok(r: Any, *codes: int) -> Any:
    assert r.status_code in (codes or (200, 201)), r.text
    return r.json()


def _users(env: Env, *, rebuilt: bool = False) -> dict[str, str]:
    """The people who read what was restored (users are not restored: made again)."""
    made = {"rmp": env.user("rmp", "records_manager", ["p-cm"])}
    if rebuilt:
        made["aud1"] = env.user("aud1", "auditor", ["p-cm"])
    return made


def _rendition(env: Env, rid: str, tmp_path: Path) -> None:
    """A rendition made through the service (OCR itself is the OCR tests' business)."""
    out = tmp_path / "rendition.pdf"
    out.write_bytes(make_pdf("rendition of d"))
    analysis = renditions.ScanAnalysis(
        OcrOutcome("done", pages=1, ocr_pages=[1], output=str(out), text="ใบเสร็จรับเงิน",
                   engine={"tool": "test"}),
        pdfa={"flavour": "2b", "compliant": False, "failures": [{"rule": "6.1"}]})
    with env.session() as s:
        result = renditions.record(s, env.store, system_principal("worker"), uuid.UUID(rid),
                                   analysis, tmp_dir=tmp_path)
    assert result["rendition"], result


def _never_committed(env: Env, hold_id: str, checkpoint_at: dt.datetime) -> None:
    """A release of ``hold_id`` and a closure with no objection whose objects were written
    but whose transactions never committed (two hours before the last checkpoint, and not
    in the audit trail): the rebuild must leave both out — each would shorten retention."""
    at = checkpoint_at - dt.timedelta(hours=2)
    placed = [objects.read(env.store, i.key)
              for i in env.store.list_objects(f"{objects.HOLDS}{hold_id}/")]
    assert len(placed) == 1
    released = {**placed[0], "status": "released", "released_by": "rmp", "released_at": at,
                "release_reason": "never committed"}
    objects.put(env.store, described_hold_key(released), released,
                dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    closure = [objects.read(env.store, i.key) for i in env.store.list_objects(objects.CLOSURES)
               if objects.read(env.store, i.key)["fiscal_year"] == 2566][0]
    phantom = {**closure, "id": 99, "fiscal_year": 2555, "closed_on": "2013-02-01",
               "recorded_at": at}
    objects.put(env.store, described_closure_key(phantom), phantom,
                dt.datetime.now(dt.UTC) + dt.timedelta(days=1))


def _never_committed_vouchers(env: Env, voucher_id: str, checkpoint_at: dt.datetime) -> None:
    """A correction of ``voucher_id``, a review of it and a whole voucher whose objects were
    written but whose transactions never committed (two hours before the last checkpoint,
    and not in the audit trail): the rebuild must leave all three out — the voucher as it
    was before the correction, without the review, and no voucher that was never
    registered."""
    at = (checkpoint_at - dt.timedelta(hours=2)).isoformat()
    current = max((objects.read(env.store, i.key) for i in
                   env.store.list_objects(f"{objects.VOUCHERS}{voucher_id}/")),
                  key=lambda d: d["version"])
    later = {**current, "version": current["version"] + 1, "updated_at": at,
             "fields": {**current["fields"], "payee_name": "never committed"}}
    phantom = {**current, "id": str(uuid.uuid4()), "version": 1, "history": [],
               "created_at": at, "updated_at": at,
               "fields": {**current["fields"], "voucher_no": "99/2568"}}
    review = {"format": "evidence-archive.voucher-review/1", "id": str(uuid.uuid4()),
              "voucher": voucher_id, "outcome": "rejected", "note": "never committed",
              "reviewer": "aud1", "reviewer_role": "auditor", "created_at": at}
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for document in (later, phantom):
        objects.put(env.store, described_voucher_key(document), document, until)
    objects.put(env.store, f"{objects.REVIEWS}{voucher_id}/{review['id']}.json", review, until)


def _seen(env: Env, tokens: dict[str, str], vouchers: list[str], records: list[str],
          holds: list[str]) -> dict[str, Any]:
    aud, rm = env.client(tokens["aud1"]), env.client(tokens["rmp"])
    seen: dict[str, Any] = {}
    page = _ok(aud.get("/api/v1/disbursements", params={"limit": 100}))
    seen["voucher list"] = page["items"]
    for vid in vouchers:
        seen[f"voucher {vid}"] = _ok(aud.get(f"/api/v1/disbursements/{vid}"))
    for rid in records:
        retention = _ok(rm.get(f"/api/v1/retention/records/{rid}"))
        seen[f"retention {rid}"] = {k: retention[k] for k in
                                    ("retain_until", "retention_basis", "on_hold", "holds",
                                     "schedule_code")}
        seen[f"renditions {rid}"] = _ok(aud.get(f"/api/v1/evidence/{rid}/renditions"))
        inspection = aud.get(f"/api/v1/evidence/{rid}/inspection")
        seen[f"inspection {rid}"] = inspection.json() if inspection.status_code == 200 else None
    seen["holds"] = _ok(rm.get("/api/v1/holds"))
    for hid in holds:
        seen[f"hold {hid}"] = _ok(rm.get(f"/api/v1/holds/{hid}"))
    seen["closures"] = _ok(rm.get("/api/v1/audit-closures"))
    seen["profile"] = _ok(aud.get("/api/v1/disbursements/profile"))
    return seen


# Where the rebuild is made to crash, one after the other: between its steps and inside
# the steps that commit in several units of work.
CRASH_POINTS = ("rebuild.before organisations and schedules", "rebuild.vouchers.batch",
                "rebuild.before records", "rebuild.records.batch",
                "rebuild.before legal holds and audit closures", "rebuild.holds.items",
                "rebuild.before findings", "rebuild.before audit")


def _rebuild(variables: dict[str, str], monkeypatch: pytest.MonkeyPatch,
             crashes: bool) -> Any:
    """`archive rebuild --from-store`, in one run or (``crashes``) dying at each of
    :data:`CRASH_POINTS` in turn and run again each time, until a run finishes."""
    runner = CliRunner()
    if not crashes:
        return runner.invoke(cli_app, ["rebuild", "--from-store"], env=variables)
    crash_at_each(CRASH_POINTS, ["rebuild", "--from-store"], variables, monkeypatch)
    run = runner.invoke(cli_app, ["rebuild", "--from-store"], env=variables)
    assert "resumed an interrupted rebuild" in run.stdout, run.stdout
    return run


@pytest.mark.parametrize("crashes", [False, True], ids=["one-run", "crashes-and-resumes"])
def test_rebuild_restores_vouchers_holds_closures_and_renditions(
        env: Env, stack: StackBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        crashes: bool) -> None:
    """GIVEN vouchers (one corrected, files linked, one unlinked and linked again in another
    role, a file supporting two vouchers, an auditor's review with a note), a hold on a
    record placed after its date was computed, a hold placed and released, a hold on a
    voucher, an audit closure with no objection and one with an objection (its hold then
    covers a record archived later), and a rendition
    WHEN the database is lost and `archive rebuild --from-store` fills an empty one
    THEN the vouchers list and read the same (fields, files, history, reviews, findings),
    every record's retain-until, basis and hold state are as before, the holds and closures
    list the same, the renditions and inspection reports are the same — also when the
    rebuild crashes at each point in turn and is run again (resumed) until it finishes."""
    tokens = world(env)
    tokens.update(_users(env))
    a = ingest(env, tokens, "a", fiscal_year=2568)
    b = ingest(env, tokens, "b", fiscal_year=2568)
    r = upload(env.client(tokens["off1"]), make_xml("INV-7"), filename="inv.xml",
               fiscal_year=2568, doc_type="tax_invoice", amount="1200.00",
               issuer_tax_id="0105545012345")
    c = _ok(r)
    d = ingest(env, tokens, "d", fiscal_year=2566)            # audit closed, no objection
    e = ingest(env, tokens, "e", fiscal_year=2555)            # held after its date was set
    f = ingest(env, tokens, "f", fiscal_year=2555)            # held, then released
    g = ingest(env, tokens, "g", fiscal_year=2568, org_code="sao-2", token="off2")
    run_jobs(env, KINDS)
    officer, auditor = env.client(tokens["off1"]), env.client(tokens["aud1"])
    rm = env.client(tokens["rmp"])
    v1 = _ok(officer.post("/api/v1/disbursements", json={**VOUCHER, "voucher_no": "1/2568"}))
    v2 = _ok(officer.post("/api/v1/disbursements", json={
        **VOUCHER, "voucher_no": "2/2568", "kind": "other", "gross_amount": "500.00",
        "net_amount": "500.00", "payment_method": "cash", "payment_date": None}))
    for vid, rid, role in ((v1["id"], a["id"], "request_report"),
                           (v1["id"], c["id"], "invoice"), (v1["id"], b["id"], "receipt"),
                           (v2["id"], b["id"], "receipt")):
        _ok(officer.post(f"/api/v1/disbursements/{vid}/evidence",
                         json={"evidence_id": rid, "role": role}))
    _ok(officer.delete(f"/api/v1/disbursements/{v1['id']}/evidence/{c['id']}",
                       params={"role": "invoice"}))
    _ok(officer.post(f"/api/v1/disbursements/{v1['id']}/evidence",
                     json={"evidence_id": c["id"], "role": "tax_invoice"}))
    _ok(officer.patch(f"/api/v1/disbursements/{v1['id']}", headers={"If-Match": '"1"'},
                      json={"payee_name": "ร้านวัสดุ ก่อสร้าง", "reason": "ชื่อผู้รับเงินผิด"}))
    _ok(auditor.post(f"/api/v1/disbursements/{v1['id']}/reviews",
                     json={"outcome": "observation", "note": "ขาดรายงานการโอนเงิน"}))
    hold_e = _ok(rm.post("/api/v1/holds", json={"reason": "คดีความ 12/2570",
                                                "record_ids": [e["id"]]}))["id"]
    hold_f = _ok(rm.post("/api/v1/holds", json={"reason": "สอบข้อเท็จจริง",
                                                "record_ids": [f["id"]]}))["id"]
    _ok(rm.post(f"/api/v1/holds/{hold_f}/release", json={"reason": "สอบเสร็จ"}))
    hold_v = _ok(rm.post("/api/v1/holds", json={"reason": "ร้องเรียน",
                                                "disbursement_id": v2["id"]}))["id"]
    _ok(rm.post("/api/v1/audit-closures", json={
        "org_code": "sao-1", "fiscal_year": 2566, "result": "no_objection",
        "closed_on": "2024-01-10", "reference": "ตผ 0012/123"}))
    objection = _ok(rm.post("/api/v1/audit-closures", json={
        "org_code": "sao-2", "fiscal_year": 2568, "result": "objection",
        "closed_on": "2025-12-01", "reference": "สตง. ทักท้วง"}))
    h = ingest(env, tokens, "h", fiscal_year=2568, org_code="sao-2", token="off2")
    # The profile changed (national data): e-payment reports no longer required.
    national = env.client(env.user("rmn", "records_manager", ["dla"]))
    profile = _ok(national.get("/api/v1/disbursements/profile"))["data"]
    profile["requirements"]["procurement"] = [
        r for r in profile["requirements"]["procurement"] if "e_payment_report" not in r["any_of"]]
    _ok(national.put("/api/v1/disbursements/profile",
                     json={"data": profile, "reason": "หนังสือสั่งการ ว 1234"}))
    _rendition(env, d["id"], tmp_path)
    run_jobs(env, JOBS)
    # Everything is described in the store.
    for prefix in (objects.VOUCHERS, objects.REVIEWS, objects.HOLDS, objects.CLOSURES):
        assert list(env.store.list_objects(prefix)), prefix
    records = [a["id"], b["id"], c["id"], d["id"], e["id"], f["id"], g["id"], h["id"]]
    holds = [hold_e, hold_f, hold_v, objection["hold_id"]]
    vouchers = [v1["id"], v2["id"]]
    before = _seen(env, tokens, vouchers, records, holds)
    assert before[f"retention {e['id']}"]["on_hold"] is True
    assert before[f"retention {e['id']}"]["retain_until"] is not None   # decided before
    assert before[f"retention {b['id']}"]["on_hold"] is True            # by the voucher hold
    assert before[f"retention {h['id']}"]["on_hold"] is True            # archived later
    assert before[f"retention {d['id']}"]["retain_until"].startswith("2029-01-0")
    assert len(before[f"renditions {d['id']}"]) == 1
    assert before[f"voucher {v1['id']}"]["reviews"][0]["note"] == "ขาดรายงานการโอนเงิน"
    assert len(before[f"voucher {v1['id']}"]["history"]) == 1
    assert before["profile"]["version"] == 2, before["profile"]
    missing = [f for f in before[f"voucher {v1['id']}"]["findings"]
               if f["code"] == "missing_evidence"]
    assert "e_payment_report" not in str(missing), missing
    with env.session() as s:
        findings = s.scalar(sa.select(sa.func.count()).select_from(DisbursementFinding))
    assert findings
    with env.session() as s:
        checkpoint = write_checkpoint(s, env.store, retain_until=dt.datetime.now(dt.UTC) +
                                      dt.timedelta(days=2))
        assert checkpoint is not None
    _never_committed(env, hold_e, checkpoint.at)
    _never_committed_vouchers(env, v1["id"], checkpoint.at)

    rebuilt, dropped = _fresh(env, stack, tmp_path)
    try:
        variables = {k: v for k, v in rebuilt.env_vars().items() if k.startswith("ARCHIVE_")}
        run = _rebuild(variables, monkeypatch, crashes)
        assert run.exit_code == 0, run.output
        assert "2 vouchers (4 linked files, 1 review;" in run.stdout, run.stdout
        assert "1 rendition;" in run.stdout, run.stdout
        assert "4 legal holds (3 records held), 2 audit closures" in run.stdout, run.stdout
        assert "2 hold or closure objects never committed" in run.stdout, run.stdout
        assert "3 voucher or review objects never committed" in run.stdout, run.stdout
        run_jobs(rebuilt, JOBS)
        after = _seen(rebuilt, _users(rebuilt, rebuilt=True), vouchers, records, holds)
        for key in before:
            assert after[key] == before[key], (key, before[key], after[key])
    finally:
        rebuilt.close()
        rebuilt.engine.dispose()
        dropped()


def test_backfill_describes_vouchers_holds_and_closures_made_before(
        env: Env, stack: StackBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a voucher with a file and a review, a hold and a closure made by a version that
    wrote no catalogue objects (an archive from before they were described)
    WHEN `archive catalogue backfill` runs (twice)
    THEN the first run writes them and the second nothing; a rebuild from the store then
    gives back the voucher, the hold (and its record's date) and the closure."""
    from archive.unit_of_work import make_session_factory

    monkeypatch.setattr(objects, "write_pending",
                        lambda session: session.info.pop("catalogue_pending", None))
    old = dataclasses.replace(env, sessions=make_session_factory(env.engine, env.store),
                              apps=[])
    tokens = world(old)
    tokens.update(_users(old))
    a = ingest(old, tokens, "a", fiscal_year=2566)
    run_jobs(old, KINDS)
    officer, rm = old.client(tokens["off1"]), old.client(tokens["rmp"])
    v = _ok(officer.post("/api/v1/disbursements", json={**VOUCHER, "voucher_no": "9/2568"}))
    _ok(officer.post(f"/api/v1/disbursements/{v['id']}/evidence",
                     json={"evidence_id": a["id"], "role": "receipt"}))
    _ok(old.client(tokens["aud1"]).post(f"/api/v1/disbursements/{v['id']}/reviews",
                                        json={"outcome": "no_observation"}))
    hold = _ok(rm.post("/api/v1/holds", json={"reason": "คดี", "record_ids": [a["id"]]}))
    _ok(rm.post("/api/v1/audit-closures", json={
        "org_code": "sao-1", "fiscal_year": 2566, "result": "no_objection",
        "closed_on": "2024-01-10"}))
    run_jobs(old, KINDS)
    old.close()
    monkeypatch.undo()
    assert not list(env.store.list_objects(objects.PREFIX))
    before = _seen(env, tokens, [v["id"]], [a["id"]], [hold["id"]])

    counted = ("vouchers", "links", "reviews", "holds", "closures")
    variables = {k: v for k, v in env.env_vars().items() if k.startswith("ARCHIVE_")}
    run = CliRunner().invoke(cli_app, ["catalogue", "backfill", "--json"], env=variables)
    assert run.exit_code == 0, run.output
    assert {k: json.loads(run.stdout)[k] for k in counted} == dict.fromkeys(counted, 1)
    again = CliRunner().invoke(cli_app, ["catalogue", "backfill", "--json"], env=variables)
    assert {k: json.loads(again.stdout)[k] for k in counted} == dict.fromkeys(counted, 0)

    rebuilt, dropped = _fresh(env, stack, tmp_path)
    try:
        run = CliRunner().invoke(cli_app, ["rebuild", "--from-store"], env={
            k: v for k, v in rebuilt.env_vars().items() if k.startswith("ARCHIVE_")})
        assert run.exit_code == 0, run.output
        run_jobs(rebuilt, KINDS)
        after = _seen(rebuilt, _users(rebuilt, rebuilt=True), [v["id"]], [a["id"]], [hold["id"]])
        for key in before:
            assert after[key] == before[key], (key, before[key], after[key])
    finally:
        rebuilt.close()
        rebuilt.engine.dispose()
        dropped()
