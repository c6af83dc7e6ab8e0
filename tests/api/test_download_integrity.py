"""Tampered bytes are never served as genuine (issue 15, item 4).

GIVEN a stored object changed behind the archive's back (the local file rewritten; on S3
the version overwritten through SeaweedFS's filer side door), a download — whole, ranged,
through the API token or the pages' session cookie — is refused (small bodies: 502
``integrity_failure`` before anything is sent) or aborted before its last bytes (large
bodies, hashed while streaming); the failure is audited, shown on the health page and in
``/metrics``, and ``archive verify`` lists it. Evidence packs refuse as well.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import httpx
import pytest
import sqlalchemy as sa

from archive.audit.models import AuditEvent
from archive.evidence.models import Blob
from tests import clirun, servers
from tests.conftest import Env
from tests.factories import make_pdf, upload
from tests.tamper import flip_byte
from tests.web.helpers import people, signed_in

ARCHIVE = [sys.executable, "-m", "cli"]


def _stored(env: Env, record: dict[str, object]) -> tuple[str, str | None]:
    with env.session() as s:
        blob = s.scalar(sa.select(Blob).where(Blob.sha256 == record["sha256"]))
        assert blob is not None
        return blob.store_key, blob.version_id


def _alerts(env: Env) -> list[AuditEvent]:
    with env.session() as s:
        return list(s.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "evidence.integrity_failure").order_by(AuditEvent.seq)))


def test_small_tampered_object_is_refused_before_anything_is_sent(env: Env):
    tokens = people(env, "off1", "admin")
    off1 = env.client(tokens["off1"])
    pdf = make_pdf("small-tamper")
    rec = upload(off1, pdf).json()
    url = f"/api/v1/evidence/{rec['id']}/content"
    genuine = off1.get(url)
    assert genuine.status_code == 200 and genuine.content == pdf
    assert off1.get(url, headers={"Range": "bytes=0-9"}).content == pdf[:10]

    key, version = _stored(env, rec)
    flip_byte(env, key, version)

    whole = off1.get(url)
    assert whole.status_code == 502, whole.text[:200]
    assert whole.json()["error"] == "integrity_failure"
    assert rec["sha256"] in whole.json()["detail"]
    ranged = off1.get(url, headers={"Range": "bytes=0-9"})   # untouched bytes, same object
    assert ranged.status_code == 502 and ranged.json()["error"] == "integrity_failure"
    page_client, _ = signed_in(env, "off1")                    # the record page's link
    via_page = page_client.get(url)
    assert via_page.status_code == 502 and via_page.json()["error"] == "integrity_failure"

    alerts = _alerts(env)
    assert len(alerts) == 3 and {a.outcome for a in alerts} == {"alert"}
    assert alerts[0].actor == "off1" and alerts[0].target_id == rec["id"]
    assert alerts[0].details["sha256"] == rec["sha256"]
    with env.session() as s:   # no download is recorded as having happened
        downloads = s.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "evidence.download"))
    assert downloads == 2                                       # the two genuine ones

    admin, _ = signed_in(env, "admin")
    health = admin.get("/admin/health")
    assert health.status_code == 200
    assert key in health.text and 'role="alert"' in health.text
    metrics = env.client(tokens["admin"]).get("/metrics").text   # not public (item 11)
    assert 'archive_integrity_alerts{kind="fixity_mismatch"} 1.0' in metrics
    assert "archive_download_integrity_failures_total 3.0" in metrics
    assert 'archive_fixity_blobs{result="mismatch"} 1.0' in metrics

    report = clirun.command(["verify", "--json"], env.env_vars())
    assert report.returncode == 1, report.stdout + report.stderr
    problems = {p["key"]: p["kind"] for p in json.loads(report.stdout)["problems"]}
    # locally the file hashes wrong; SeaweedFS's side-door overwrite also drops the
    # version from the S3 listing, so there it is reported missing
    assert problems == {key: "corrupt" if env.stack == "sqlite" else "missing"}


def test_large_tampered_object_is_aborted_before_its_last_bytes(env: Env):
    tokens = people(env, "off1")
    pdf = make_pdf("large-tamper", pad=3 * 1024 * 1024)          # four store chunks
    streamed = env.client(tokens["off1"], verify_before_send_bytes=0)
    rec = upload(streamed, pdf).json()
    url = f"/api/v1/evidence/{rec['id']}/content"
    # untampered: whole and ranges across chunk boundaries come out right
    assert hashlib.sha256(streamed.get(url).content).hexdigest() == rec["sha256"]
    for first, last in ((0, 0), (1024 * 1024 - 5, 1024 * 1024 + 5), (len(pdf) - 7, "")):
        r = streamed.get(url, headers={"Range": f"bytes={first}-{last}"})
        end = len(pdf) if last == "" else int(last) + 1
        assert r.status_code == 206 and r.content == pdf[first:end], (first, last)

    key, version = _stored(env, rec)
    tampered = flip_byte(env, key, version, at=10)               # in the first chunk
    whole = streamed.get(url)
    assert whole.status_code == 200                             # headers had gone out
    assert len(whole.content) < len(pdf)                        # ... but never the end
    assert whole.content != tampered
    head = streamed.get(url, headers={"Range": "bytes=0-99"})   # a range: also cut short
    assert len(head.content) < 100
    assert len(_alerts(env)) == 2


def test_a_real_client_sees_the_aborted_stream_as_an_error(env: Env):
    tokens = people(env, "off1")
    pdf = make_pdf("real-client", pad=2 * 1024 * 1024)
    rec = upload(env.client(tokens["off1"]), pdf).json()
    key, version = _stored(env, rec)
    flip_byte(env, key, version, at=-3)                         # in the last chunk
    port = servers.free_port()
    log = open(env.settings.data_dir / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([*ARCHIVE, "serve", "--port", str(port)],
                            env={**env.env_vars(), "ARCHIVE_EMBEDDED_WORKER": "false",
                                 "ARCHIVE_VERIFY_BEFORE_SEND_BYTES": "0"},
                            stdout=log, stderr=log)
    try:
        servers.wait_for_port(port, 60, proc)
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"http://127.0.0.1:{port}/api/v1/evidence/{rec['id']}/content",
                      headers={"Authorization": f"Bearer {tokens['off1']}"}, timeout=60)
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    assert len(_alerts(env)) == 1


def test_evidence_packs_refuse_tampered_bytes(env: Env):
    from workers.handlers.search import export as export_job
    from workers.registry import JobContext

    tokens = people(env, "off1", "aud1")
    rec = upload(env.client(tokens["off1"]), make_pdf("pack-tamper"), fiscal_year=2568).json()
    key, version = _stored(env, rec)
    flip_byte(env, key, version)
    made = env.client(tokens["aud1"]).post("/api/v1/exports",
                                           json={"filters": {"fiscal_year": 2568}})
    assert made.status_code == 202, made.text
    ctx = JobContext(job_id=1, kind="export", attempt=1, settings=env.settings,
                     sessions=env.sessions, store=env.store, report_progress=lambda p: None,
                     stopping=lambda: False)
    assert export_job(ctx, {"export_id": made.json()["id"]}) == {"failed": "store_integrity"}
    status = env.client(tokens["aud1"]).get(f"/api/v1/exports/{made.json()['id']}").json()
    assert status["status"] == "failed" and status["download"] is None
    assert "do not match" in status["error"] and rec["id"] in status["error"]
