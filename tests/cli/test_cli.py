"""The `archive` command, run as a real process against both stacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Env
from tests.factories import make_pdf, make_png, upload

ARCHIVE = [sys.executable, "-m", "cli"]


def run(env: Env, *args: str, cwd: Path | None = None,
        extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ARCHIVE, *args], capture_output=True, text=True, timeout=120,
                          env={**env.env_vars(), **(extra_env or {}), "COLUMNS": "200"},
                          cwd=cwd)


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
    dup = run(env, "orgs", "add", "sao-9", "--name", "again")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    bad_type = run(env, "orgs", "add", "x-1", "--name", "x", "--type", "castle")
    assert bad_type.returncode == 1 and "type must be" in bad_type.stderr
    created = run(env, "users", "add", "somchai", "--role", "officer", "--org", "sao-9")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("ea_") and " " not in token
    r = upload(env.client(token), make_pdf("cli-token"), org_code="sao-9")
    assert r.status_code == 201, r.text
    # revoke: the token stops working
    assert run(env, "tokens", "revoke", "somchai").returncode == 0
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
                "--fiscal-year", "2568", "--json")
    assert first.returncode == 0, first.stderr
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert sorted(r["status"] for r in rows) == ["archived"] * 3
    again = run(env, "ingest", str(folder), "--org", "sao-1", "--doc-type", "receipt")
    assert again.returncode == 0
    assert "3 skipped" in again.stdout

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
    ok = run(env, "verify", "--json")
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
    out = run(env, "db", "upgrade")
    assert out.returncode == 0 and "revision" in out.stdout
