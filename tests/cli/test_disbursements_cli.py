"""`archive disbursements profile show/set` and `recompute` (in this process through the
console script's entry point, tests/clirun.py; ``process=True`` as a real process)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from tests.clirun import run
from tests.conftest import Env
from tests.factories import world


def test_profile_show_and_set_a_new_version(env: Env, tmp_path: Path):
    shown = run(env, "disbursements", "profile", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    current = json.loads(shown.stdout)
    assert current["version"] == 1
    assert current["data"]["split"]["thresholds"] == ["100000.00", "500000.00"]
    assert "พระราชบัญญัติการจัดซื้อจัดจ้าง" in current["data"]["basis_th"]
    human = run(env, "disbursements", "profile", "show")
    assert human.returncode == 0 and "e_payment_report (if e_payment)" in human.stdout

    path = tmp_path / "profile.json"
    path.write_text(shown.stdout, encoding="utf-8")     # the output of show is accepted
    changed = run(env, "disbursements", "profile", "set", str(path), "--reason",
                  "หนังสือสั่งการ 2569", "--threshold", "50000.00", "--window-days", "45",
                  process=True)
    assert changed.returncode == 0, changed.stderr
    after = json.loads(run(env, "disbursements", "profile", "show", "--json",
                           "--versions").stdout)
    assert after["version"] == 2
    assert after["data"]["split"] == {"kinds": ["procurement"], "thresholds": ["50000.00"],
                                      "window_days": 45}
    assert [v["reason"] for v in after["versions"]][-1] == "หนังสือสั่งการ 2569"
    from archive.queue.models import Job

    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.kind == "disbursements_recompute")) == 1

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"requirements": {}}), encoding="utf-8")
    refused = run(env, "disbursements", "profile", "set", str(bad), "--reason", "x")
    assert refused.returncode == 1 and "invalid_profile" in refused.stderr
    assert json.loads(run(env, "disbursements", "profile", "show", "--json").stdout
                      )["version"] == 2


def test_recompute_one_organisation_and_queue_the_national_job(env: Env):
    tokens = world(env)
    r = env.client(tokens["off1"]).post("/api/v1/disbursements", json={
        "org_code": "sao-1", "voucher_no": "1/2568", "voucher_date": "2025-01-10",
        "kind": "other", "payee_name": "x", "payee_tax_id": "0105538025144",
        "gross_amount": "10.00", "net_amount": "10.00", "payment_method": "cash"})
    assert r.status_code == 201, r.text
    done = run(env, "disbursements", "recompute", "--org", "sao-1", "--fiscal-year", "2568",
               process=True)
    assert done.returncode == 0, done.stderr
    assert "1 vouchers, 2 findings" in done.stdout
    unknown = run(env, "disbursements", "recompute", "--org", "nowhere")
    assert unknown.returncode == 1
    queued = run(env, "disbursements", "recompute", "--national")
    assert queued.returncode == 0 and "queued" in queued.stdout
