"""Nothing is lost and nothing dangles: outages and crashes at the awkward moments."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from archive.db import make_engine
from archive.evidence.models import Blob, Evidence
from tests import servers
from tests.conftest import Env
from tests.factories import make_pdf, upload, world

ARCHIVE = [sys.executable, "-m", "cli"]


def _rows(env: Env) -> int:
    with env.session() as s:
        return (s.scalar(sa.select(sa.func.count()).select_from(Evidence)) or 0) + \
               (s.scalar(sa.select(sa.func.count()).select_from(Blob)) or 0)


def test_store_outage_during_upload_leaves_no_row_and_recovers(env: Env):
    tokens = world(env)
    client = env.client(tokens["off1"])
    if env.weed is not None:
        env.weed.kill()
        try:
            r = upload(client, make_pdf("outage"))
            ready = client.get("/readyz")
        finally:
            env.weed.restart()
    else:
        objects = env.settings.objects_dir
        objects.rename(objects.with_name("objects-away"))
        objects.write_text("the disk went away")
        try:
            r = upload(client, make_pdf("outage"))
            ready = client.get("/readyz")
        finally:
            objects.unlink()
            objects.with_name("objects-away").rename(objects)
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "store_unavailable"
    assert ready.status_code == 503 and ready.json()["checks"]["store"]["status"] != "ok"
    assert _rows(env) == 0
    again = upload(client, make_pdf("outage"))
    assert again.status_code == 201, again.text


def test_database_outage_is_a_clear_503(env: Env, tmp_path: Path):
    tokens = world(env)
    if env.stack == "sqlite":
        (tmp_path / "gone.db").mkdir()          # a directory cannot be opened as a database
        url = f"sqlite:///{tmp_path / 'gone.db'}"
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{servers.free_port()}/nothing"
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(env.settings, engine=make_engine(url), store=env.store)
    client = TestClient(app, raise_server_exceptions=False,
                        headers={"Authorization": f"Bearer {tokens['off1']}"})
    r = upload(client, make_pdf("db-down"))
    assert r.status_code == 503 and r.json()["error"] == "database_unavailable"
    assert client.get("/readyz").status_code == 503


def test_crash_between_put_and_commit_leaves_only_an_orphan_that_verify_reports(
        env: Env, tmp_path: Path):
    env.org("dla", type="dla-office")
    env.org("p-cm", type="province", parent="dla")
    env.org("sao-1", parent="p-cm")
    f = tmp_path / "crash.pdf"
    pdf = make_pdf("crash")
    f.write_bytes(pdf)
    crashed = subprocess.run(
        [*ARCHIVE, "ingest", str(f), "--org", "sao-1", "--doc-type", "receipt"],
        env={**env.env_vars(), "ARCHIVE_FAILPOINTS": "ingest.after_put"},
        capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 99, crashed.stderr
    assert _rows(env) == 0
    report = subprocess.run([*ARCHIVE, "verify", "--json"], env=env.env_vars(),
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 1
    problems = json.loads(report.stdout)["problems"]
    assert [p["kind"] for p in problems] == ["orphan"]
    assert problems[0]["key"].endswith(hashlib.sha256(pdf).hexdigest())
    # re-running the ingest adopts the bytes: the archive is whole again
    rerun = subprocess.run([*ARCHIVE, "ingest", str(f), "--org", "sao-1", "--doc-type",
                            "receipt"], env=env.env_vars(), capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    final = subprocess.run([*ARCHIVE, "verify", "--json"], env=env.env_vars(),
                           capture_output=True, text=True, timeout=120)
    problems = json.loads(final.stdout)["problems"]
    # S3 keeps the crashed upload's version next to the adopted one; locally it is reused
    assert [p["kind"] for p in problems] in ([], ["orphan_version"])


def _serve(env: Env, extra: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = servers.free_port()
    log = open(env.settings.data_dir / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([*ARCHIVE, "serve", "--port", str(port)],
                            env={**env.env_vars(), **extra}, stdout=log, stderr=log)
    try:
        servers.wait_for_port(port, 60, proc)
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def _peak_rss_mb(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


@pytest.mark.slow
def test_one_gigabyte_upload_streams_in_bounded_memory(env: Env):
    if env.stack != "sqlite":
        pytest.skip("the streaming path is the same on both stacks; measured on the embedded one")
    tokens = world(env)
    size = 1024 ** 3
    block = (b"%PDF-1.7\n" + os.urandom(1024 * 1024))[: 1024 * 1024]

    def body_parts(boundary: str) -> tuple[bytes, bytes]:
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"org_code\"\r\n\r\n"
                f"sao-1\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f"name=\"doc_type\"\r\n\r\nscan\r\n--{boundary}\r\nContent-Disposition: "
                f"form-data; name=\"file\"; filename=\"big.pdf\"\r\nContent-Type: "
                f"application/pdf\r\n\r\n").encode()
        return head, f"\r\n--{boundary}--\r\n".encode()

    expected = hashlib.sha256()
    for _ in range(size // len(block)):
        expected.update(block)
    boundary = "bigboundary1234"
    head, tail = body_parts(boundary)

    def stream() -> Iterator[bytes]:
        yield head
        for _ in range(size // len(block)):
            yield block
        yield tail

    for proc, url in _serve(env, {"ARCHIVE_MAX_UPLOAD_BYTES": str(2 * size)}):
        with httpx.Client(timeout=600) as http:
            auth = {"Authorization": f"Bearer {tokens['off1']}"}
            http.get(f"{url}/readyz")
            time.sleep(0.5)
            rss_before, _ = _peak_rss_mb(proc.pid)
            r = http.post(f"{url}/api/v1/evidence", content=stream(), headers={
                **auth, "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + size + len(tail))})
            _, peak = _peak_rss_mb(proc.pid)
        assert r.status_code == 201, r.text
        assert r.json()["sha256"] == expected.hexdigest()
        assert r.json()["size"] == size
        growth = peak - rss_before
        print(f"server RSS before {rss_before:.0f} MB, peak {peak:.0f} MB, growth {growth:.0f} MB")
        assert growth < 100, f"server memory grew by {growth:.0f} MB during a 1 GB upload"
