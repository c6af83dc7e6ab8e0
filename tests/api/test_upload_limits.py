"""Issue 15 item 1: slow uploads must not exhaust the database pool, an abandoned body
times out, uploads per account are capped, and an exhausted pool answers 503.

Real sockets against a real uvicorn server on 127.0.0.1 (tests/live.py), bounded in
count and time."""

from __future__ import annotations

import time

import httpx

from archive.db import make_engine
from tests.conftest import Env
from tests.factories import make_pdf, world
from tests.live import read_status, serve, start_slow_upload

# More than either pool holds: SQLite's 5 + 10 overflow, PostgreSQL's 10 + 20.
SLOW = 35


def _upload(port: int, token: str, content: bytes, timeout: float = 10.0) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/api/v1/evidence",
                      headers={"Authorization": f"Bearer {token}"},
                      data={"org_code": "sao-2", "doc_type": "receipt"},
                      files={"file": ("ok.pdf", content, "application/pdf")}, timeout=timeout)


def test_slow_uploads_do_not_hold_database_connections(env: Env):
    """GIVEN 35 uploads by one officer that stop mid-body, THEN other users' requests
    (a read, an upload, /readyz) are answered at once, not after a 30 s pool wait."""
    tokens = world(env)
    app = env.app(uploads_per_account=100, upload_idle_timeout_seconds=60)
    with serve(app) as port:
        slow = [start_slow_upload(port, tokens["off1"]) for _ in range(SLOW)]
        try:
            time.sleep(1.5)   # every slow upload is past authentication, waiting for bytes
            started = time.monotonic()
            read = httpx.get(f"http://127.0.0.1:{port}/api/v1/orgs",
                             headers={"Authorization": f"Bearer {tokens['aud1']}"},
                             timeout=5)
            assert read.status_code == 200, read.text
            other = _upload(port, tokens["off2"], make_pdf("while-slow"), timeout=5)
            assert other.status_code == 201, other.text
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            assert ready.status_code in (200, 503) and "checks" in ready.json()
            assert time.monotonic() - started < 5
        finally:
            for conn in slow:
                conn.close()


def test_uploads_per_account_are_capped_with_retry_after(env: Env):
    tokens = world(env)
    app = env.app(uploads_per_account=2, upload_idle_timeout_seconds=60)
    with serve(app) as port:
        slow = [start_slow_upload(port, tokens["off1"]) for _ in range(2)]
        try:
            time.sleep(0.8)
            third = httpx.post(f"http://127.0.0.1:{port}/api/v1/evidence",
                               headers={"Authorization": f"Bearer {tokens['off1']}"},
                               data={"org_code": "sao-1", "doc_type": "receipt"},
                               files={"file": ("c.pdf", make_pdf("cap"), "application/pdf")},
                               timeout=5)
            assert third.status_code == 429, third.text
            assert third.json()["error"] == "too_many_uploads"
            assert int(third.headers["Retry-After"]) > 0
            # another account is not affected
            assert _upload(port, tokens["off2"], make_pdf("cap-other")).status_code == 201
        finally:
            for conn in slow:
                conn.close()


def test_an_idle_body_times_out_with_408_and_the_connection_closes(env: Env):
    tokens = world(env)
    app = env.app(upload_idle_timeout_seconds=1.0)
    with serve(app) as port:
        conn = start_slow_upload(port, tokens["off1"])
        try:
            started = time.monotonic()
            status, data = read_status(conn, timeout=8)
            assert status == 408, data[:300]
            assert b"request_timeout" in data or b"request_timeout" in conn.recv(65536)
            assert 0.8 < time.monotonic() - started < 5
            conn.settimeout(3)
            rest = b"x"
            while rest:          # the server closes the connection
                rest = conn.recv(65536)
        finally:
            conn.close()


def test_a_trickling_body_hits_the_total_upload_time_limit(env: Env):
    tokens = world(env)
    app = env.app(upload_idle_timeout_seconds=1.0, upload_max_seconds=2.0)
    with serve(app) as port:
        conn = start_slow_upload(port, tokens["off1"])
        try:
            conn.setblocking(True)
            started = time.monotonic()
            status = -1
            while time.monotonic() - started < 8:
                try:
                    conn.sendall(b"x" * 10)      # a few bytes, never idle for 1 s
                except OSError:
                    break
                conn.settimeout(0.3)
                try:
                    head = conn.recv(65536)
                except TimeoutError:
                    continue
                if head:
                    status = int(head.split(b" ", 2)[1])
                break
            assert status == 408
            assert 1.8 < time.monotonic() - started < 5
        finally:
            conn.close()


def test_an_exhausted_pool_answers_503_with_retry_after(env: Env):
    """GIVEN a pool of one connection that is taken, THEN a request waits its pool timeout
    and answers 503 + Retry-After, never 500."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    tokens = world(env)
    engine = make_engine(env.settings.db_url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    app = create_app(env.settings, engine=engine, store=env.store)
    held = engine.connect()
    try:
        resp = TestClient(app, raise_server_exceptions=False).get(
            "/api/v1/orgs", headers={"Authorization": f"Bearer {tokens['off1']}"})
        assert resp.status_code == 503, resp.text
        assert resp.json()["error"] == "busy" and int(resp.headers["Retry-After"]) > 0
    finally:
        held.close()
        engine.dispose()




def test_a_batch_takes_one_of_the_accounts_upload_slots(env: Env):
    """The batch route keeps issue 15's cap: with the account's only slot taken by a
    slow upload, its batch is answered 429 before the body is read; another account's
    batch goes through."""
    tokens = world(env)
    app = env.app(uploads_per_account=1, upload_idle_timeout_seconds=60)

    def batch(token: str) -> httpx.Response:
        return httpx.post(f"http://127.0.0.1:{port}/api/v1/evidence/batch",
                          headers={"Authorization": f"Bearer {token}"},
                          files=[("meta", (None, '{"org_code": "sao-2", "doc_type": '
                                                 '"receipt"}')),
                                 ("file", ("b.pdf", make_pdf(f"batch-{token[:6]}"),
                                           "application/pdf"))], timeout=10)

    with serve(app) as port:
        slow = start_slow_upload(port, tokens["off1"])
        try:
            time.sleep(0.8)
            refused = batch(tokens["off1"])
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"] == "too_many_uploads"
            other = batch(tokens["off2"])
            assert other.status_code == 200 and other.json()["created"] == 1, other.text
        finally:
            slow.close()
