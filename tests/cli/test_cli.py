"""The `archive` command against both stacks: in this process through the console
script's entry point (tests/clirun.py), and as a real process where marked
``process=True`` (at least one test per command family)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from archive.evidence.models import Evidence
from tests.clirun import command, run
from tests.conftest import Env
from tests.factories import make_pdf, make_png, upload


@pytest.fixture
def orgs(env: Env) -> None:
    env.org("dla", type="dla-office")
    env.org("p-cm", type="province", parent="dla")
    env.org("sao-1", parent="p-cm")


def test_orgs_and_users_add_prints_token_alone_on_last_line(env: Env):
    assert run(env, "orgs", "add", "dla", "--name", "สถ.", "--type",
               "dla-office").returncode == 0
    assert run(env, "orgs", "add", "p-cm", "--name", "สถ.จ.เชียงใหม่", "--type",
               "province", "--parent", "dla").returncode == 0
    added = run(env, "orgs", "add", "sao-9", "--name", "อบต.ทดสอบ", "--parent", "p-cm")
    assert added.returncode == 0, added.stderr
    dup = run(env, "orgs", "add", "sao-9", "--name", "again", process=True)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    bad_type = run(env, "orgs", "add", "x-1", "--name", "x", "--type", "castle")
    assert bad_type.returncode == 1 and "type must be" in bad_type.stderr
    created = run(env, "users", "add", "somchai", "--role", "officer", "--org", "sao-9",
                  process=True)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("ea_") and " " not in token
    r = upload(env.client(token), make_pdf("cli-token"), org_code="sao-9")
    assert r.status_code == 201, r.text
    # revoke: the token stops working
    assert run(env, "tokens", "revoke", "somchai", process=True).returncode == 0
    assert upload(env.client(token), make_pdf("cli-token-2"), org_code="sao-9").status_code == 401
    bad_role = run(env, "users", "add", "x", "--role", "emperor", "--org", "sao-9")
    assert bad_role.returncode == 1 and "role must be" in bad_role.stderr


def test_ingest_folder_recursively_summary_json_and_rerun(env: Env, orgs, tmp_path: Path):
    folder = tmp_path / "inbox"
    (folder / "2568" / "ตุลาคม").mkdir(parents=True)
    (folder / "2568" / "ตุลาคม" / "r1.pdf").write_bytes(make_pdf("r1"))
    (folder / "2568" / "r2.pdf").write_bytes(make_pdf("r2"))
    (folder / "scan.png").write_bytes(make_png())
    (folder / ".DS_Store").write_bytes(b"junk")            # hidden: ignored
    first = run(env, "ingest", str(folder), "--org", "sao-1", "--doc-type", "receipt",
                "--fiscal-year", "2568", "--json", process=True)
    assert first.returncode == 0, first.stderr
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert sorted(r["status"] for r in rows) == ["archived"] * 3
    again = run(env, "ingest", str(folder), "--org", "sao-1", "--doc-type", "receipt")
    assert again.returncode == 0
    assert "3 skipped" in again.stdout
    # The archive's one duplicate rule: skipped naming the existing record, or archived on
    # purpose with --allow-duplicate (recorded as such).
    one = folder / "scan.png"
    png_id = next(r["id"] for r in rows if r["path"] == str(one))
    skipped = json.loads(run(env, "ingest", str(one), "--org", "sao-1", "--doc-type",
                             "scan", "--json").stdout)
    assert skipped["status"] == "skipped" and skipped["id"] == png_id
    assert png_id in skipped["detail"] and "--allow-duplicate" in skipped["detail"]
    forced = run(env, "ingest", str(one), "--org", "sao-1", "--doc-type", "scan",
                 "--allow-duplicate", "--json")
    assert forced.returncode == 0, forced.stderr
    made = json.loads(forced.stdout)
    assert made["status"] == "duplicate" and made["duplicate_allowed"] is True
    assert made["id"] != png_id

    (folder / "evil.pdf").write_bytes(b"MZ" + b"\x00" * 100)
    mixed = run(env, "ingest", str(folder), "--org", "sao-1", "--doc-type", "receipt", "--json")
    assert mixed.returncode == 1
    failed = [json.loads(x) for x in mixed.stdout.splitlines() if '"failed"' in x]
    assert len(failed) == 1 and failed[0]["error"] == "unsupported_media_type"


def test_ingest_rejects_bad_metadata_and_unknown_org(env: Env, orgs, tmp_path: Path):
    f = tmp_path / "a.pdf"
    f.write_bytes(make_pdf("meta"))
    bad = run(env, "ingest", str(f), "--org", "sao-1", "--doc-type", "receipt",
              "--issuer-tax-id", "1234567890123")
    assert bad.returncode == 1 and "check digit" in bad.stderr
    unknown = run(env, "ingest", str(f), "--org", "nowhere", "--doc-type", "receipt")
    assert unknown.returncode == 1 and "no organisation" in unknown.stderr
    missing = run(env, "ingest", str(tmp_path / "nope.pdf"), "--org", "sao-1",
                  "--doc-type", "receipt")
    assert missing.returncode == 2
    assert sum(1 for _ in env.store.list_objects("sha256/")) == 0


def test_verify_is_clean_then_reports_corruption(env: Env, orgs, tmp_path: Path):
    f = tmp_path / "a.pdf"
    f.write_bytes(make_pdf("verify"))
    assert run(env, "ingest", str(f), "--org", "sao-1", "--doc-type", "receipt").returncode == 0
    ok = run(env, "verify", "--json", process=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    if env.stack != "sqlite":
        return  # the S3 server will not let us alter a locked object
    obj = next(env.store.list_objects("sha256/"))
    path = env.settings.objects_dir / obj.key
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    bad = run(env, "verify", "--json")
    assert bad.returncode == 1
    problems = json.loads(bad.stdout)["problems"]
    assert [p["kind"] for p in problems] == ["corrupt"]
    assert problems[0]["records"]


def test_db_upgrade_is_idempotent(env: Env):
    out = run(env, "db", "upgrade", process=True)
    assert out.returncode == 0 and "revision" in out.stdout


def test_jobs_run_runs_one_job_now_and_reports_it(env: Env):
    """GIVEN a fresh archive WHEN an operator runs `archive jobs run worm_probe` THEN the
    probe runs at once, its result is printed and recorded like any scheduled run; an
    unknown kind or a bad payload is a usage error that queues nothing."""
    ok = run(env, "jobs", "run", "worm_probe", "--json", process=True)
    assert ok.returncode == 0, ok.stderr
    state = json.loads(ok.stdout)
    assert state["status"] == "done" and state["kind"] == "worm_probe"
    listed = run(env, "jobs", "list", "--json")
    assert [job["kind"] for job in json.loads(listed.stdout)] == ["worm_probe"]
    unknown = run(env, "jobs", "run", "coffee")
    assert unknown.returncode == 2 and "worm_probe" in unknown.stderr
    bad = run(env, "jobs", "run", "fixity", "--payload", "[1")
    assert bad.returncode == 2 and "JSON" in bad.stderr
    failing = run(env, "jobs", "run", "inspect", "--payload",
                  '{"evidence_id": "00000000-0000-0000-0000-000000000000"}')
    assert failing.returncode == 1 and "failed" in failing.stderr


def test_commands_never_create_an_archive_by_accident(env: Env, orgs, tmp_path: Path):
    """GIVEN a shell in another folder, without the archive's settings WHEN an officer runs
    `archive ingest` THEN it refuses, says where it looked and how to point at the real
    archive, and creates nothing; ARCHIVE_CONFIG (an env file) finds the real one from any
    folder; `archive init` is the way to make a new one."""
    bare = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    tmp_path = tmp_path / "elsewhere"        # not the folder that holds env's archive
    inbox = tmp_path / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "a.pdf").write_bytes(make_pdf("stray"))

    def cli(*args: str, **extra: str) -> Any:
        return command(list(args), {**bare, **extra, "COLUMNS": "200"}, cwd=tmp_path,
                       process=True)

    lost = cli("ingest", "./inbox", "--org", "sao-1", "--doc-type", "receipt")
    assert lost.returncode == 1
    assert f"no archive at {tmp_path / 'var'}" in lost.stderr.replace("\n", "")
    assert "ARCHIVE_DATA_DIR" in lost.stderr and "archive init" in lost.stderr
    assert not (tmp_path / "var").exists()

    config = tmp_path / "archive.env"
    config.write_text("".join(f"{k}={v}\n" for k, v in env.env_vars().items()
                              if k.startswith("ARCHIVE_")), encoding="utf-8")
    found = cli("orgs", "list", ARCHIVE_CONFIG=str(config))
    assert found.returncode == 0, found.stderr
    assert "sao-1" in found.stdout

    fresh = tmp_path / "new-archive"
    made = cli("init", ARCHIVE_DATA_DIR=str(fresh))
    assert made.returncode == 0, made.stderr
    assert (fresh / "archive.db").exists()
    assert cli("orgs", "list", ARCHIVE_DATA_DIR=str(fresh)).returncode == 0


def test_every_command_has_a_whole_sentence_as_its_summary():
    """`archive --help` lists each command by the first line of its help, cut there when the
    output is not a terminal: that line must be a whole sentence, never half of one."""
    import typer.main

    from cli.main import app

    def walk(command: object, path: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        subs = getattr(command, "commands", None)
        if subs is None:
            return [(" ".join(path), getattr(command, "help", None) or "")]
        return [row for name, sub in subs.items() for row in walk(sub, (*path, name))]

    broken = []
    for name, text in walk(typer.main.get_command(app)):
        lines = text.strip().splitlines()
        whole = bool(lines) and lines[0].rstrip().endswith((".", ")", ":")) and \
            (len(lines) == 1 or not lines[1].strip())
        if not whole:
            broken.append(f"{name}: {lines[0] if lines else '(no help)'}")
    assert broken == []


def test_output_into_a_pipe_keeps_names_and_ids_whole(env: Env, orgs, tmp_path: Path):
    """GIVEN a deep folder and a long file name WHEN `archive ingest` prints its table into
    a pipe THEN every path, hash and record id is printed in full (and the id is accepted
    back as input)."""
    deep = tmp_path / "inbox" / "ปีงบประมาณ 2568" / "ใบเสร็จรับเงิน ค่าวัสดุสำนักงาน ไตรมาสที่ 1"
    deep.mkdir(parents=True)
    pdf = deep / "ใบเสร็จรับเงิน เลขที่ 0012345 ร้านวัสดุภัณฑ์เชียงใหม่ จำกัด.pdf"
    pdf.write_bytes(make_pdf("long name"))
    result = run(env, "ingest", str(tmp_path / "inbox"), "--org", "sao-1",
                 "--doc-type", "receipt", "--fiscal-year", "2568", process=True)
    assert result.returncode == 0, result.stderr
    import hashlib
    import re

    assert str(pdf) in result.stdout and "…" not in result.stdout
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() in result.stdout
    [record_id] = re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                             result.stdout)
    shown = run(env, "retention", "record", record_id)
    assert shown.returncode == 0, shown.stderr
    assert "UUID(" not in shown.stdout and "datetime" not in shown.stdout
    assert record_id in shown.stdout


def test_structured_errors_read_as_sentences_not_python():
    from cli.context import readable

    detail = {"message": "the committee has not voted on every item",
              "missing": [{"item": 1, "member": "somsri"}, {"item": 2, "member": "somsri"}]}
    assert readable(detail) == ["the committee has not voted on every item", "missing:",
                                "  - item 1, member somsri", "  - item 2, member somsri"]
    assert readable([{"field": "password", "message": "at least 10 characters"}]) == \
        ["password: at least 10 characters"]


def test_list_commands_answer_json_arrays(env: Env, orgs):
    listed = run(env, "orgs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {o["code"]: o["parent"] for o in json.loads(listed.stdout)} == \
        {"dla": None, "p-cm": "dla", "sao-1": "p-cm"}
    env.user("aud9", "auditor", ["p-cm"])
    users = run(env, "users", "list", "--json")
    assert [(u["name"], u["role"], u["organisations"]) for u in json.loads(users.stdout)] == \
        [("aud9", "auditor", ["p-cm"])]


def test_ingest_through_the_api_in_batches(env: Env, orgs, tmp_path: Path):
    """``archive ingest --api URL`` sends the files in batches to a running archive, as
    the officer of ARCHIVE_API_TOKEN: per file archived, skipped (bytes the organisation
    holds already) or failed (exit 1)."""
    from tests.live import serve

    token = env.user("off-api", "officer", ["sao-1"])
    folder = tmp_path / "backlog"
    folder.mkdir()
    for n in range(3):
        (folder / f"r{n}.pdf").write_bytes(make_pdf(f"api-{n}"))
    (folder / "z-again.pdf").write_bytes(make_pdf("api-0"))
    (folder / "evil.pdf").write_bytes(b"MZ" + b"\x00" * 100)
    with serve(env.app()) as port:
        done = run(env, "ingest", str(folder), "--org", "sao-1", "--doc-type", "receipt",
                   "--api", f"http://127.0.0.1:{port}", "--batch-size", "2", "--json",
                   extra_env={"ARCHIVE_API_TOKEN": token})
        refused = run(env, "ingest", str(folder), "--org", "sao-1", "--doc-type", "receipt",
                      "--api", f"http://127.0.0.1:{port}",
                      extra_env={"ARCHIVE_API_TOKEN": "ea_wrong"})
    assert done.returncode == 1, done.stderr
    rows = {Path(r["path"]).name: r for r in map(json.loads, done.stdout.splitlines())}
    assert [rows[f"r{n}.pdf"]["status"] for n in range(3)] == ["archived"] * 3
    # the one duplicate rule, through the API as here: skipped, naming the record
    assert rows["z-again.pdf"]["status"] == "skipped"
    assert rows["z-again.pdf"]["id"] == rows["r0.pdf"]["id"]
    assert rows["evil.pdf"]["status"] == "failed"
    assert rows["evil.pdf"]["error"] == "unsupported_media_type"
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 3
    assert refused.returncode != 0 and "401" in refused.stderr + refused.stdout
