"""``archive retention`` on both stacks, in real time: receipts of FY 2555 are long due,
and the National Archives' consent ends their review at once. The commands run in this
process through the console script's entry point (tests/clirun.py); those marked
``process=True`` run as a real process."""

from __future__ import annotations

import json
from pathlib import Path

from archive import clock
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
from tests.clirun import run
from tests.conftest import Env
from tests.factories import world


def test_the_whole_workflow_from_the_command_line(env: Env, tmp_path: Path):
    tokens = people(env, world(env))
    rec = ingest(env, tokens, "cli")
    run_jobs(env)
    today = clock.today().isoformat()

    preview = run(env, "retention", "survey", "--as-of", "2100-01-01", "--json")
    assert preview.returncode == 0, preview.stderr
    assert json.loads(preview.stdout)["dry_run"] is True       # the future only previews
    surveyed = run(env, "retention", "survey", process=True)
    assert surveyed.returncode == 0, surveyed.stderr
    assert "sao-1" in surveyed.stdout
    lists = json.loads(run(env, "retention", "lists", "--json").stdout)
    list_id = lists[0]["id"]
    shown = run(env, "retention", "show", list_id)
    assert "ลำดับที่" in shown.stdout and "voucher-evidence" in shown.stdout

    # The operator account cannot take a step; a named user's token is needed.
    no_token = run(env, "retention", "committee", list_id, "--chair", "chair1",
                   "--member", "mem1", "--member", "mem2", "--order-ref", "คำสั่ง 1/2570",
                   "--order-date", today)
    assert no_token.returncode == 2 and "--token" in no_token.stderr

    def step(who: str, *args: str) -> None:
        r = run(env, "retention", *args, "--token", tokens[who])
        assert r.returncode == 0, (args, r.stdout, r.stderr)

    # The committee is appointed by the head of agency's order, not by a records manager.
    by_rm = run(env, "retention", "committee", list_id, "--chair", "chair1", "--member",
                "mem1", "--member", "mem2", "--order-ref", "คำสั่ง 1/2570", "--order-date",
                today, "--token", tokens["rm1"])
    assert by_rm.returncode == 1 and "head of agency" in by_rm.stderr
    step("head1", "committee", list_id, "--chair", "chair1", "--member", "mem1",
         "--member", "mem2", "--order-ref", "คำสั่ง 1/2570", "--order-date", today)
    for who in ("chair1", "mem1", "mem2"):
        step(who, "vote", list_id, "--comment", "ครบกำหนด")
    refused = run(env, "retention", "approve", list_id, "--token", tokens["mem1"])
    assert refused.returncode == 1 and "chair" in refused.stderr
    step("chair1", "approve", list_id)
    step("head1", "approve", list_id)
    step("rm1", "archives", list_id, "--sent-on", today, "--reference", "ศธ 0703/1")
    step("rm1", "archives", list_id, "--consent", today)
    early = run(env, "retention", "execute", list_id, "--token", tokens["chair1"])
    assert early.returncode == 1 and "joint record" in early.stderr    # mem1, mem2 first
    step("mem1", "confirm", list_id)
    step("mem2", "confirm", list_id, "--note", "ตรวจสอบแล้ว")
    executed = run(env, "retention", "execute", list_id, "--run", "--token", tokens["chair1"])
    assert executed.returncode == 0, executed.stderr
    assert '"destroyed": 1' in executed.stdout

    target = tmp_path / "certificate.html"
    cert = run(env, "retention", "certificate", list_id, "--html", "-o", str(target))
    assert cert.returncode == 0, cert.stderr
    assert rec["sha256"] in target.read_text() and "บันทึกการทำลาย" in target.read_text()
    assert env.client(tokens["aud1"]).get(
        f"/api/v1/evidence/{rec['id']}/content").status_code == 410

    forecast = run(env, "retention", "forecast", "--until", "2040-01-01", "--json")
    assert forecast.returncode == 0 and json.loads(forecast.stdout)["groups"] == []
    schedules = run(env, "retention", "schedules", "list")
    assert "voucher-evidence" in schedules.stdout


def test_vote_skips_what_was_voted_and_the_head_waits_for_the_committee(env: Env):
    tokens = people(env, world(env))
    for text in ("v1", "v2", "v3"):
        ingest(env, tokens, text)
    run_jobs(env)
    list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
    assert appoint(env, tokens, list_id).status_code == 200
    voted = env.client(tokens["mem1"]).post(f"/api/v1/retention/lists/{list_id}/votes", json={
        "votes": [{"item": 2, "vote": "approve"}]})
    assert voted.status_code == 200, voted.text
    # "Every open item" after voting on one: that one is skipped with a note, the rest
    # are voted on — no abort half-way.
    rest = run(env, "retention", "vote", list_id, "--token", tokens["mem1"])
    assert rest.returncode == 0, rest.stderr
    assert "skipped item(s) 2: you already voted" in rest.stderr
    assert "voted approve on item(s) 1, 3" in rest.stderr
    votes = {e["seq"]: [v["user"] for v in e["votes"]] for e in env.client(tokens["rm1"]).get(
        f"/api/v1/retention/lists/{list_id}").json()["entries"]}
    assert votes == {1: ["mem1"], 2: ["mem1"], 3: ["mem1"]}
    # The head of agency's turn comes after the committee's, and the message says so.
    too_soon = run(env, "retention", "approve", list_id, "--token", tokens["head1"])
    assert too_soon.returncode == 1 and "committee has not finished" in too_soon.stderr
    assert "only the chair" not in too_soon.stderr


def test_an_executed_list_says_what_happened(env: Env):
    tokens = people(env, world(env))
    ingest(env, tokens, "x1")
    ingest(env, tokens, "x2")
    run_jobs(env)
    with at("2027-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        approve_all(env, tokens, list_id, sent_on="2027-01-15")
        r = env.client(tokens["rm1"]).post(
            f"/api/v1/retention/lists/{list_id}/archives-response",
            json={"result": "consent", "responded_on": "2027-01-15", "transfer_items": [2]})
        assert r.status_code == 200, r.text
        assert request_execution(env, tokens, list_id).status_code == 202
        run_jobs(env)
    table = run(env, "retention", "lists")
    assert table.returncode == 0, table.stderr
    assert "destroyed: 1, transferred: 1" in table.stdout
    assert "to be destroyed" not in table.stdout


def test_holds_closures_and_schedules_from_the_command_line(env: Env):
    tokens = world(env)
    rec = ingest(env, tokens, "cli-hold", fiscal_year=2560)
    # A hold is placed by a named user (ARCHIVE_TOKEN or --token), not the operator.
    place = ("retention", "holds", "place", "--reason", "คดี", "--record", rec["id"])
    no_token = run(env, *place)
    assert no_token.returncode == 2 and "--token" in no_token.stderr
    placed = run(env, *place, extra_env={"ARCHIVE_TOKEN": tokens["rm1"]}, process=True)
    assert placed.returncode == 0, placed.stderr
    hold_id = placed.stdout.split()[1]
    listed = json.loads(run(env, "retention", "holds", "list", "--json").stdout)
    assert listed[0]["id"] == hold_id and listed[0]["records"] == 1
    assert listed[0]["created_by"] == "rm1"
    # The same hold again (same record, same reason) while the first is active: refused.
    twice = run(env, *place, "--token", tokens["rm1"])
    assert twice.returncode == 1 and "hold_exists" in twice.stderr and hold_id in twice.stderr
    assert len(env.client(tokens["rm1"]).get("/api/v1/holds").json()) == 1
    released = run(env, "retention", "holds", "release", hold_id, "--reason", "จบคดี",
                   "--token", tokens["rm1"])
    assert released.returncode == 0, released.stderr
    again = run(env, "retention", "holds", "release", hold_id, "--reason", "again",
                "--token", tokens["rm1"])
    assert again.returncode == 1 and "already released" in again.stderr
    closed = run(env, "retention", "closure", "sao-1", "2560", "--result", "no_objection",
                 "--closed-on", "2018-02-01")
    assert closed.returncode == 0, closed.stderr
    info = json.loads(run(env, "retention", "record", rec["id"], "--json").stdout)
    assert info["retain_until"].startswith("2023-01-31T17:00")
    changed = run(env, "retention", "schedules", "set", "voucher-evidence",
                  "--audited-keep-years", "7", "--reason", "นโยบายใหม่")
    assert changed.returncode == 0 and "version 2" in changed.stdout
    bad = run(env, "retention", "survey", "--as-of", "not-a-date")
    assert bad.returncode == 2
