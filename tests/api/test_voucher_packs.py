"""Evidence packs by voucher on both stacks: the API export job and ``archive export
--disbursement``; every linked file, the voucher, its findings, reviews and audit events;
verifiable offline; nothing outside the exporter's scope."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import bagit

from archive.accounts import service as accounts
from archive.disbursements import service as disbursements
from archive.disbursements.schemas import DisbursementCreate, ReviewIn
from tests import clirun
from tests.api.test_exports import run_job, unzip
from tests.conftest import Env
from tests.factories import make_pdf, upload, world


def _voucher(env: Env, tokens: dict[str, str]) -> tuple[str, list[str]]:
    """GIVEN voucher 7/2568 of sao-1 with a receipt and an e-payment report (complete for
    'other' but its receipt shows another amount), and an auditor's review."""
    off1 = env.client(tokens["off1"])
    receipt = upload(off1, make_pdf("receipt 7"), filename="ใบเสร็จ 7.pdf", fiscal_year=2568,
                     amount="900.00", issuer_name="ร้านวัสดุ").json()
    report = upload(off1, make_pdf("ktb 7"), filename="ktb.pdf", doc_type="e_payment_report",
                    fiscal_year=2568).json()
    unrelated = upload(off1, make_pdf("not linked"), fiscal_year=2568).json()
    with env.session() as s:
        officer = accounts.authenticate(s, tokens["off1"])
        v = disbursements.create(s, officer, DisbursementCreate(
            org_code="sao-1", voucher_no="7/2568", voucher_date=dt.date(2025, 1, 10),
            kind="other", payee_name="ร้านวัสดุ", gross_amount="1000.00",
            net_amount="1000.00", payment_method="e_payment"))
        vid = v.id
        disbursements.link(s, officer, vid, evidence_id=uuid.UUID(receipt["id"]), role="receipt")
        disbursements.link(s, officer, vid, evidence_id=uuid.UUID(report["id"]),
                           role="e_payment_report")
    with env.session() as s:
        auditor = accounts.authenticate(s, tokens["aud1"])
        disbursements.add_review(s, auditor, vid, ReviewIn(outcome="observation",
                                                           note="ใบเสร็จไม่ตรงยอด"))
    assert unrelated["id"] not in (receipt["id"], report["id"])
    return str(vid), [receipt["id"], report["id"]]


def _check_bag(bag_dir: Path, voucher_id: str, files: list[str]) -> dict[str, Any]:
    bagit.Bag(str(bag_dir)).validate()
    docs = list(bag_dir.glob(f"data/*/disbursement-{voucher_id}.json"))
    assert len(docs) == 1
    doc = json.loads(docs[0].read_text(encoding="utf-8"))
    assert doc["format"] == "evidence-archive.disbursement/1"
    assert doc["voucher"]["voucher_no"] == "7/2568"
    assert sorted(f["evidence_id"] for f in doc["files"]) == sorted(files)
    for f in doc["files"]:
        assert (bag_dir / f["path"]).is_file() and (bag_dir / f["record"]).is_file()
    assert {f["role"] for f in doc["files"]} == {"receipt", "e_payment_report"}
    assert "amount_mismatch" in {x["code"] for x in doc["findings"]}
    assert [r["outcome"] for r in doc["reviews"]] == ["observation"]
    actions = [e["action"] for e in doc["audit_events"]]
    assert "disbursement.create" in actions and "disbursement.review" in actions
    assert all(e["hash"] for e in doc["audit_events"])
    originals = [p for p in bag_dir.glob("data/*/*") if not p.name.endswith(".json")]
    assert len(originals) == 2                   # the unlinked file is not in the pack
    return doc


def test_voucher_pack_over_the_api(env: Env, tmp_path: Path) -> None:
    tokens = world(env)
    vid, files = _voucher(env, tokens)
    auditor = env.client(tokens["aud1"])
    r = auditor.post("/api/v1/exports", json={"disbursement_id": vid})
    assert r.status_code == 202, r.text
    export = r.json()
    assert export["query"] == {"disbursement_id": vid} and export["progress"]["total"] == 2
    result, _ = run_job(env, export["id"])
    assert result["records"] == 2
    got = auditor.get(f"/api/v1/exports/{export['id']}/download")
    assert got.status_code == 200
    _check_bag(unzip(got.content, tmp_path), vid, files)
    # outside the scope: the voucher does not exist; several targets at once are refused
    assert env.client(tokens["aud3"]).post(
        "/api/v1/exports", json={"disbursement_id": vid}).status_code == 404
    assert auditor.post("/api/v1/exports", json={
        "disbursement_id": vid, "ids": files}).status_code == 422
    assert auditor.post("/api/v1/exports", json={
        "disbursement_id": str(uuid.uuid4())}).status_code == 404


def test_voucher_pack_from_the_cli(env: Env, tmp_path: Path) -> None:
    tokens = world(env)
    vid, files = _voucher(env, tokens)
    out = tmp_path / "pack.zip"
    proc = subprocess.run([sys.executable, "-m", "cli", "export", "--disbursement", vid,
                           "--out", str(out)], capture_output=True, text=True, timeout=120,
                          env={**env.env_vars(), "COLUMNS": "300"})
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "2 record(s)" in proc.stdout
    _check_bag(unzip(out.read_bytes(), tmp_path / "x"), vid, files)
    bad = clirun.command(["export", "--disbursement", str(uuid.uuid4()), "--out",
                          str(tmp_path / "no.zip")], {**env.env_vars(), "COLUMNS": "300"})
    assert bad.returncode != 0 and "voucher" in (bad.stdout + bad.stderr)
    assert not (tmp_path / "no.zip").exists()
