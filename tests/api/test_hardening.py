"""Issue 15: what an attacker found through the API, each closed with a regression test
(organisation-code oracle, audit flooding, /metrics, bad input that answered 500)."""

from __future__ import annotations

import uuid

from tests.conftest import Env
from tests.factories import make_pdf, upload, world

# -- item 9: out of scope and unknown give one answer -----------------------------------

def test_an_out_of_scope_org_code_answers_exactly_like_an_unknown_one(env: Env):
    """GIVEN sao-2 (exists, outside off1's and rm1's scope) and zz-none (does not exist),
    THEN uploads, search, the retention survey and audit closures answer the same bytes."""
    tokens = world(env)
    off1, rm1 = env.client(tokens["off1"]), env.client(tokens["rm1"])
    calls = {
        "upload": lambda code: upload(off1, make_pdf("oracle"), org_code=code),
        "search": lambda code: off1.get("/api/v1/evidence", params={"org_code": code}),
        "survey": lambda code: rm1.post("/api/v1/retention/survey",
                                        json={"org_code": code, "dry_run": True}),
        "closure": lambda code: rm1.post("/api/v1/audit-closures", json={
            "org_code": code, "fiscal_year": 2566, "result": "no_objection",
            "closed_on": "2024-01-10"}),
    }
    for name, call in calls.items():
        theirs, missing = call("sao-2"), call("zz-none")
        assert theirs.status_code == missing.status_code == 404, (name, theirs.text)
        assert theirs.content == missing.content, (name, theirs.text, missing.text)
        assert dict(theirs.headers) == dict(missing.headers), name


def test_a_record_page_out_of_scope_reads_like_a_missing_record(env: Env):
    """GIVEN off1's record, THEN an auditor of another province gets the same page (API
    and HTML) for it as for an id that does not exist (the id itself aside)."""
    tokens = world(env)
    record = upload(env.client(tokens["off1"]), make_pdf("oracle-page")).json()["id"]
    absent = str(uuid.uuid4())
    aud3 = env.client(tokens["aud3"])
    for path in ("/api/v1/evidence/{}", "/api/v1/evidence/{}/content",
                 "/api/v1/evidence/{}/inspection", "/api/v1/retention/records/{}",
                 "/records/{}"):
        theirs, missing = aud3.get(path.format(record)), aud3.get(path.format(absent))
        assert theirs.status_code == missing.status_code == 404, (path, theirs.text[:200])
        assert theirs.content.replace(record.encode(), b"ID") == \
            missing.content.replace(absent.encode(), b"ID"), path


# -- item 12: bad input answers 4xx, never 500 -------------------------------------------

def _is_client_error(resp) -> bool:
    if not 400 <= resp.status_code < 500:
        return False
    body = resp.json()
    return set(body) == {"error", "detail"}


def test_nul_bytes_and_huge_integers_are_client_errors(env: Env):
    """GIVEN text parameters with a NUL byte and integers beyond 64 bits (or beyond the
    column), THEN every route answers 4xx {error, detail} on both databases."""
    tokens = world(env)
    off1, aud1, admin = (env.client(tokens[n]) for n in ("off1", "aud1", "admin"))
    rm1 = env.client(tokens["rm1"])
    anonymous = env.client()
    from tests.web.helpers import csrf_of

    answers = {
        "login": anonymous.post("/login", data={"username": "off1\x00", "password": "x",
                                                "csrf_token": csrf_of(anonymous.get(
                                                    "/login").text)}),
        "actor": aud1.get("/api/v1/audit/events", params={"actor": "\x00"}),
        "org_code": off1.get("/api/v1/evidence", params={"org_code": "\x00"}),
        "q": off1.get("/api/v1/evidence", params={"q": "a\x00b"}),
        "path": off1.get("/api/v1/evidence/by-hash/ab%00cd"),
        "json": rm1.post("/api/v1/retention/survey", json={"org_code": "sao\x00"}),
        "form": upload(off1, make_pdf("nul"), description="bad\x00text"),
        "after_seq": aud1.get("/api/v1/audit/events",
                              params={"after_seq": "9223372036854775808"}),
        "fiscal_year": rm1.get("/api/v1/audit-closures",
                               params={"fiscal_year": "1185114312203"}),
        "job_id": admin.post("/api/v1/jobs/99999999999999999999/retry"),
        "search_fy": off1.get("/api/v1/evidence", params={"fiscal_year": "1185114312203"}),
        "amount": off1.get("/api/v1/evidence", params={"amount_min": "1" + "0" * 40}),
    }
    for name, resp in answers.items():
        if name == "login":   # a page: no JSON, but never a crash
            assert 400 <= resp.status_code < 500, (name, resp.status_code, resp.text[:200])
            continue
        assert _is_client_error(resp), (name, resp.status_code, resp.text[:300])


def test_a_multipart_boundary_longer_than_the_parser_takes_is_a_client_error(env: Env):
    tokens = world(env)
    off1 = env.client(tokens["off1"])
    boundary = "b" * 300
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"org_code\"\r\n\r\n"
            f"sao-1\r\n--{boundary}--\r\n").encode()
    resp = off1.post("/api/v1/evidence", content=body, headers={
        "content-type": f"multipart/form-data; boundary={boundary}"})
    assert _is_client_error(resp), (resp.status_code, resp.text[:300])
    assert resp.json()["error"] == "malformed_multipart"


def test_page_forms_refuse_nul_and_long_boundaries(env: Env):
    world(env)
    client = env.client()
    boundary = "c" * 300
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n"
            f"off1\r\n--{boundary}--\r\n").encode()
    long = client.post("/login", content=body, headers={
        "content-type": f"multipart/form-data; boundary={boundary}"})
    assert 400 <= long.status_code < 500, (long.status_code, long.text[:300])
    from tests.web.helpers import csrf_of

    for files in (None, {"x": (None, "y")}):     # url-encoded, then multipart
        form = csrf_of(client.get("/login").text)
        nul = client.post("/login", files=files, data={
            "username": "off1\x00", "password": "x", "csrf_token": form})
        assert 400 <= nul.status_code < 500, (nul.status_code, nul.text[:300])


# -- item 11: /metrics needs a bearer token ----------------------------------------------

def test_metrics_need_the_scrape_token_or_an_administrator(env: Env):
    tokens = world(env)
    scrape = "scrape-" + uuid.uuid4().hex
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    app = env.app(metrics_token=SecretStr(scrape))

    def get(token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return TestClient(app, raise_server_exceptions=False).get(
            "/metrics", headers=headers).status_code

    assert get(None) == 401
    assert get("wrong") == 401
    assert get(tokens["off1"]) == 403 and get(tokens["aud1"]) == 403
    assert get(scrape) == 200
    assert get(tokens["admin"]) == 200
    body = TestClient(app).get("/metrics", headers={"Authorization": f"Bearer {scrape}"})
    assert "archive_jobs" in body.text


# -- item 10: failed authentications cannot flood the audit trail ------------------------

def test_failed_authentications_are_limited_and_aggregated(env: Env):
    """GIVEN 200 requests with a wrong token and a 60 KB path from one address within one
    minute, THEN the first ``limit`` answer 401, the rest 429 with Retry-After, and the
    trail gets exactly one bounded auth.failed event with the count once the minute ends."""
    import json

    import sqlalchemy as sa

    from archive.audit.models import AuditEvent

    world(env)
    now = [1_800_000_000.0 + 1]     # one second into a minute
    app = env.app(auth_failures_per_minute=50)
    from fastapi.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False,
                        headers={"Authorization": "Bearer ea_wrong-token"})
    long_path = "/api/v1/evidence/by-hash/" + "a" * 60_000
    from types import SimpleNamespace

    from api.deps import auth_failures

    limiter = auth_failures(SimpleNamespace(app=app))   # type: ignore[arg-type]
    limiter.clock = lambda: now[0]
    limiter._background = False
    codes = [client.get(long_path).status_code for _ in range(200)]
    assert codes.count(401) == 50 and codes.count(429) == 150, codes
    limited = client.get(long_path)
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert set(limited.json()) == {"error", "detail"}

    def failed_events() -> list[AuditEvent]:
        with env.session() as s:
            return list(s.scalars(sa.select(AuditEvent)
                                  .where(AuditEvent.action == "auth.failed")))

    assert failed_events() == []          # the minute is not over
    now[0] += 60
    limiter.flush()
    events = failed_events()
    assert len(events) == 1
    details = events[0].details
    assert details["count"] == 50 and details["refused"] == 151
    assert details["reasons"] == {"invalid_token": 50}
    assert len(json.dumps(details)) < 1000, len(json.dumps(details))
    # the next minute the address may try again
    assert client.get(long_path).status_code == 401


def test_shutdown_writes_the_open_minute_of_failed_logins_and_stops_the_flusher(env: Env):
    """GIVEN failed authentications counted in a minute that is not over, WHEN the
    application shuts down, THEN the count reaches the trail at once and no flusher thread
    is left to write later (into whatever database is there by then)."""
    import threading

    import sqlalchemy as sa
    from fastapi.testclient import TestClient

    from archive.audit.models import AuditEvent

    world(env)
    with TestClient(env.app(), raise_server_exceptions=False,
                    headers={"Authorization": "Bearer ea_wrong-token"}) as client:
        assert client.get("/api/v1/evidence").status_code == 401
        assert any(t.name == "auth-failures" for t in threading.enumerate())
    assert not any(t.name == "auth-failures" for t in threading.enumerate())
    with env.session() as s:
        events = list(s.scalars(sa.select(AuditEvent)
                                .where(AuditEvent.action == "auth.failed")))
    assert [e.details["count"] for e in events] == [1]
