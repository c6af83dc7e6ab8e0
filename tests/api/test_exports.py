"""Evidence packs on both stacks: request over HTTP, build with the ``export`` job, download
from the store, and verify offline with the ``bagit`` library and ``sha256sum``."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import bagit
import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from tests import clirun
from tests.archive.search.helpers import make_text_pdf
from tests.conftest import Env
from tests.factories import make_pdf, make_png, upload, world
from workers.handlers.search import export as export_job
from workers.registry import JobContext


@pytest.fixture
def tokens(env: Env) -> dict[str, str]:
    tokens = world(env)
    tokens["aud1b"] = env.user("aud1b", "auditor", ["p-cm"])
    return tokens


def run_job(env: Env, export_id: str) -> tuple[dict[str, object], list[dict[str, object]]]:
    progress: list[dict[str, object]] = []
    ctx = JobContext(job_id=1, kind="export", attempt=1, settings=env.settings,
                     sessions=env.sessions, store=env.store, report_progress=progress.append,
                     stopping=lambda: False)
    return export_job(ctx, {"export_id": export_id}), progress


def seed(env: Env, tokens: dict[str, str]) -> list[dict[str, object]]:
    off1, off2 = env.client(tokens["off1"]), env.client(tokens["off2"])
    recs = [
        upload(off1, make_text_pdf(["ใบเสร็จรับเงิน ค่าวัสดุ"]), filename="ใบเสร็จ 01.pdf",
               fiscal_year=2568, amount="1500.00", issuer_name="ร้านวัสดุภัณฑ์").json(),
        upload(off1, make_png(), filename="../scan%20?.png", fiscal_year=2568).json(),
        upload(off2, make_pdf("sutep"), org_code="sao-2", fiscal_year=2568).json(),
        upload(off1, make_pdf("older"), fiscal_year=2567).json(),
    ]
    env.client(tokens["off1"]).patch(f"/api/v1/evidence/{recs[0]['id']}",
                                     json={"description": "แก้ไข", "reason": "typo"},
                                     headers={"If-Match": '"1"'})
    return recs


def unzip(data: bytes, where: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        top = {n.split("/")[0] for n in names}
        assert len(top) == 1
        zf.extractall(where)
    return where / top.pop()


def test_round_trip_export_download_validate_and_tamper(env: Env, tokens, tmp_path):
    recs = seed(env, tokens)
    auditor = env.client(tokens["aud1"])
    r = auditor.post("/api/v1/exports", json={"filters": {"fiscal_year": 2568}})
    assert r.status_code == 202, r.text
    export = r.json()
    assert export["status"] == "queued" and export["progress"]["total"] == 3
    assert r.headers["location"] == f"/api/v1/exports/{export['id']}"
    assert auditor.get(f"/api/v1/exports/{export['id']}/download").status_code == 409

    result, progress = run_job(env, export["id"])
    assert result["records"] == 3
    assert [p["phase"] for p in progress][-1] == "storing"
    assert run_job(env, export["id"])[0] == {"skipped": "done"}        # safe to run twice

    status = auditor.get(f"/api/v1/exports/{export['id']}").json()
    assert status["status"] == "done" and status["record_count"] == 3
    download = auditor.get(status["download"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert hashlib.sha256(download.content).hexdigest() == status["sha256"]

    bag_dir = unzip(download.content, tmp_path)
    bag = bagit.Bag(str(bag_dir))
    bag.validate()                                             # raises if anything is off
    assert bag.version_info == (1, 0)
    assert set(bag.algorithms) == {"sha256", "sha512"}
    manifest = dict((path, digest) for path, digest in
                    ((p, bag.entries[p]["sha256"]) for p in bag.entries if p.startswith("data/")))
    expected = {r["sha256"] for r in recs[:3]}
    originals = {p: d for p, d in manifest.items() if not p.endswith(".json")}
    assert set(originals.values()) == expected
    for path, digest in originals.items():
        assert hashlib.sha256((bag_dir / path).read_bytes()).hexdigest() == digest

    docs = [json.loads((bag_dir / p).read_text("utf-8")) for p in manifest if p.endswith(".json")]
    by_id = {d["record"]["id"]: d for d in docs}
    assert set(by_id) == {r["id"] for r in recs[:3]}
    first = by_id[recs[0]["id"]]
    assert first["file"]["sha256"] == recs[0]["sha256"]
    assert first["file"]["path"] in originals
    assert first["record"]["issuer_name"] == "ร้านวัสดุภัณฑ์"
    assert first["record"]["description"] == "แก้ไข"
    assert first["history"][0]["reason"] == "typo"
    actions = [e["action"] for e in first["audit_events"]]
    assert actions[:2] == ["evidence.create", "evidence.update"]
    chain = first["audit_events"]
    assert all(len(e["hash"]) == 64 and len(e["prev_hash"]) == 64 for e in chain)
    # names are safe: no traversal, no percent signs, Thai kept
    assert all(".." not in p and "%" not in p for p in manifest)
    assert any("ใบเสร็จ 01.pdf" in p for p in manifest)

    info = bag.info
    assert info["Export-Requested-By"] == "aud1"
    assert json.loads(info["Export-Query"]) == {"filters": {"fiscal_year": 2568}}
    assert info["Export-Record-Count"] == "3"
    assert info["Audit-Checkpoint-Status"] in ("unanchored", "anchored", "partly anchored")
    assert int(info["Audit-Head-Seq"]) >= max(e["seq"] for d in docs for e in d["audit_events"])
    verify = (bag_dir / "VERIFY.md").read_text("utf-8")
    assert "bagit.py --validate" in verify and "sha256sum -c" in verify

    if shutil.which("sha256sum"):
        for manifest_file in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
            check = subprocess.run(["sha256sum", "--strict", "-c", manifest_file],
                                   cwd=bag_dir, capture_output=True, text=True)
            assert check.returncode == 0, check.stdout + check.stderr

    # tampering with any original is caught
    victim = bag_dir / next(iter(originals))
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes() + b"x")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag_dir)).validate()

    with env.session() as s:
        done = s.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.target_type == "export").order_by(AuditEvent.seq)).all()
    assert done == ["export.request", "evidence.export", "export.download"]


def test_who_may_see_and_download_an_export(env: Env, tokens):
    seed(env, tokens)
    made = env.client(tokens["aud1"]).post("/api/v1/exports",
                                           json={"filters": {"org_code": "sao-1"}}).json()
    run_job(env, made["id"])
    url = f"/api/v1/exports/{made['id']}"
    assert env.client(tokens["aud1b"]).get(url).status_code == 200        # same scope
    assert env.client(tokens["aud1b"]).get(url + "/download").status_code == 200
    assert env.client(tokens["rm1"]).get(url).status_code == 200          # sao-1 covers it
    for other in ("aud3",):                          # may export, but not this scope
        assert env.client(tokens[other]).get(url).status_code == 404, other
        assert env.client(tokens[other]).get(url + "/download").status_code == 404, other
    for role_without_exports in ("off1", "off2", "admin"):
        assert env.client(tokens[role_without_exports]).get(url).status_code == 403
        assert env.client(tokens[role_without_exports]).get(url + "/download").status_code \
            == 403
    # officers may not export at all; exports of records out of scope are refused
    assert env.client(tokens["off1"]).post(
        "/api/v1/exports", json={"filters": {}}).status_code == 403
    assert env.client(tokens["aud3"]).post(
        "/api/v1/exports", json={"filters": {"org_code": "sao-1"}}).status_code == 404


def test_export_by_ids_refuses_records_outside_scope(env: Env, tokens, tmp_path):
    recs = seed(env, tokens)
    aud3 = env.client(tokens["aud3"])
    assert aud3.post("/api/v1/exports", json={"ids": [recs[0]["id"]]}).status_code == 404
    aud1 = env.client(tokens["aud1"])
    made = aud1.post("/api/v1/exports", json={"ids": [recs[1]["id"], recs[2]["id"]]}).json()
    assert run_job(env, made["id"])[0]["records"] == 2
    bag_dir = unzip(aud1.get(f"/api/v1/exports/{made['id']}/download").content, tmp_path)
    bagit.Bag(str(bag_dir)).validate()


@pytest.mark.parametrize("body", [
    {}, {"filters": {}, "ids": []}, {"ids": []}, {"ids": ["not-a-uuid"]},
    {"filters": {"amount_min": "9", "amount_max": "1"}}, {"filters": {"sort": "x"}},
    {"filters": {"issue_date_from": "2025-02-30"}},
])
def test_bad_export_requests_are_422(env: Env, tokens, body):
    r = env.client(tokens["aud1"]).post("/api/v1/exports", json=body)
    assert r.status_code == 422, r.text
    assert set(r.json()) == {"error", "detail"}


def test_unknown_export_is_404(env: Env, tokens):
    client = env.client(tokens["aud1"])
    assert client.get("/api/v1/exports/0190c3b4-0000-7000-8000-000000000000").status_code == 404
    assert client.get("/api/v1/exports/nope").status_code == 422


def test_cli_export_writes_the_same_kind_of_bag(env: Env, tokens, tmp_path):
    recs = seed(env, tokens)
    out = tmp_path / "pack.zip"
    proc = subprocess.run([sys.executable, "-m", "cli", "export", "--out", str(out),
                           "--org", "sao-1", "--fiscal-year", "2568"],
                          capture_output=True, text=True, timeout=180, env=env.env_vars())
    assert proc.returncode == 0, proc.stderr
    bag_dir = unzip(out.read_bytes(), tmp_path / "x")
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    digests = {bag.entries[p]["sha256"] for p in bag.entries
               if p.startswith("data/") and not p.endswith(".json")}
    assert digests == {recs[0]["sha256"], recs[1]["sha256"]}
    assert bag.info["Export-Role"] == "system"
    again = clirun.command(["export", "--out", str(out)], env.env_vars())
    assert again.returncode == 2 and "exists" in again.stderr
    bad = clirun.command(["export", "--out", str(tmp_path / "b.zip"), "--amount-min", "5",
                          "--amount-max", "1"], env.env_vars())
    assert bad.returncode == 2
    with env.session() as s:
        actions = s.scalars(sa.select(AuditEvent.action)
                            .where(AuditEvent.action == "evidence.export")).all()
    assert actions == ["evidence.export"]
