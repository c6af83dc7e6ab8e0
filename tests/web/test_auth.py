"""Signing in and out, the session cookie, CSRF and rate limiting (TestClient, both stacks)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import urllib.parse

import sqlalchemy as sa

from archive.accounts import web_sessions
from archive.accounts.models import LoginFailure, WebSession
from archive.audit.models import AuditEvent
from tests.conftest import Env
from tests.factories import make_pdf
from tests.web.helpers import PASSWORD, people, sign_in, signed_in


def _events(env: Env, action: str) -> list[AuditEvent]:
    with env.session() as s:
        return list(s.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.seq)))


def test_start_page_leads_to_sign_in_and_pages_redirect_with_next(env: Env):
    people(env)
    client = env.client()
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = client.get("/search?q=x", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fsearch%3Fq%3Dx"
    page = client.get("/login")
    assert page.status_code == 200 and '<html lang="th">' in page.text
    assert "เข้าสู่ระบบ" in page.text and 'for="username"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    english = client.get("/login?lang=en")
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    assert client.cookies.get("ea_lang") == "en"
    assert '<html lang="en">' in client.get("/login").text   # remembered


def test_sign_in_sets_a_strict_http_only_cookie_and_goes_to_the_role_home(env: Env):
    people(env)
    client = env.client()
    r = sign_in(client, "off1")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "ea_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie            # plain http on localhost
    assert client.get("/", follow_redirects=False).headers["location"] == "/upload"
    with env.session() as s:
        row = s.scalar(sa.select(WebSession))
        assert row is not None and row.id != client.cookies.get("ea_session")  # hash only
        assert row.expires_at - row.created_at == web_sessions.LIFETIME
    assert [e.actor for e in _events(env, "auth.login")] == ["off1"]
    # The same cookie authenticates the API for reads.
    assert client.get("/api/v1/orgs").status_code == 200
    for name, home in (("aud1", "/search"), ("rm1", "/search"), ("admin", "/admin/orgs")):
        c = env.client()
        assert sign_in(c, name).status_code == 303
        assert c.get("/", follow_redirects=False).headers["location"] == home


def test_cookie_is_secure_over_https_and_behind_a_trusted_proxy_only(env: Env):
    people(env, "off1")
    https = env.client()
    https.base_url = "https://testserver"
    assert "Secure" in sign_in(https, "off1").headers["set-cookie"]
    spoofed = env.client()
    spoofed.headers["X-Forwarded-Proto"] = "https"
    assert "Secure" not in sign_in(spoofed, "off1").headers["set-cookie"]
    proxied = env.client(env="production", secret_key="a-real-secret-for-the-test")
    proxied.headers["X-Forwarded-Proto"] = "https"
    assert "Secure" in sign_in(proxied, "off1").headers["set-cookie"]


def test_wrong_passwords_are_audited_and_then_rate_limited(env: Env):
    people(env, "off1")
    client = env.client()
    for _ in range(web_sessions.MAX_FAILURES_PER_NAME):
        r = sign_in(client, "off1", "wrong password!")
        assert r.status_code == 401 and "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in r.text
    blocked = sign_in(client, "off1", PASSWORD)
    assert blocked.status_code == 429 and "15" in blocked.text
    assert "ea_session" not in client.cookies
    unknown = sign_in(client, "nobody", "whatever-it-is")
    assert unknown.status_code == 401
    failed = _events(env, "auth.login_failed")
    assert [e.details["reason"] for e in failed] == \
        ["bad_credentials"] * 5 + ["rate_limited", "bad_credentials"]
    assert failed[0].outcome == "denied" and failed[0].target_id == "off1"
    # Another address is not blocked by these failures.
    with env.session() as s:
        s.execute(sa.update(LoginFailure).values(client="10.9.9.9"))
    assert sign_in(client, "off1").status_code == 303


def test_a_user_without_password_or_disabled_or_expired_cannot_sign_in(env: Env):
    people(env, "off1", "aud1")
    assert sign_in(env.client(), "off2", "any password at all").status_code == 401
    from archive.accounts import service as accounts
    from archive.accounts.principal import system_principal

    with env.session() as s:
        accounts.update_user(s, system_principal("t"), user_name="off1", disabled=True)
    r = sign_in(env.client(), "off1")
    assert r.status_code == 401 and "ระงับการใช้งาน" in r.text
    with env.session() as s:
        user = accounts.get_user(s, "aud1")
        user.expires_on = dt.date.today() - dt.timedelta(days=1)
    r = sign_in(env.client(), "aud1")
    assert r.status_code == 401 and "หมดอายุ" in r.text


def test_the_sign_in_form_needs_its_own_token_and_next_stays_on_the_site(env: Env):
    people(env, "off1")
    client = env.client()
    r = client.post("/login", data={"username": "off1", "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 403 and "ea_session" not in client.cookies
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil"):
        r = sign_in(env.client(), "off1", next=evil)
        assert r.status_code == 303 and r.headers["location"] == "/", evil
    r = sign_in(env.client(), "off1", next="/search?q=ค่า")
    assert urllib.parse.unquote(r.headers["location"]) == "/search?q=ค่า"


def test_changes_through_the_cookie_need_the_csrf_token(env: Env):
    people(env)
    client, csrf = signed_in(env, "off1")
    files = {"file": ("r.pdf", make_pdf("csrf"), "application/pdf")}
    data = {"org_code": "sao-1", "doc_type": "receipt"}
    r = client.post("/api/v1/evidence", data=data, files=files)
    assert r.status_code == 403 and r.json()["error"] == "csrf_failed"
    r = client.post("/api/v1/evidence", data=data, files=files,
                    headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    r = client.post("/api/v1/evidence", data=data, files=files, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    # Page forms: the token comes in the form.
    admin, admin_csrf = signed_in(env, "admin")
    form = {"code": "sao-7", "name": "อบต.ทดลอง", "type": "sao", "parent_code": "p-cm"}
    assert admin.post("/admin/orgs", data=form, follow_redirects=False).status_code == 403
    r = admin.post("/admin/orgs", data={**form, "csrf_token": admin_csrf},
                   follow_redirects=False)
    assert r.status_code == 303
    assert any(e.details["reason"] == "csrf_failed" for e in _events(env, "auth.failed"))
    # Bearer tokens are unchanged: no CSRF token needed (nothing ambient to abuse).
    bearer = env.client(env.tokens["admin"])
    form2 = {**form, "code": "sao-8"}
    assert bearer.post("/admin/orgs", data=form2, follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(env: Env):
    people(env, "aud1")
    client, csrf = signed_in(env, "aud1")
    cookie = client.cookies.get("ea_session")
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "ea_session" not in client.cookies
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(WebSession)) == 0
    replay = env.client()
    replay.cookies.set("ea_session", cookie)
    assert replay.get("/api/v1/orgs").status_code == 401
    assert replay.get("/search", follow_redirects=False).status_code == 303
    assert [e.actor for e in _events(env, "auth.logout")] == ["aud1"]


def test_sessions_end_when_idle_too_long_or_too_old(env: Env):
    people(env, "aud1")
    with env.session() as s:
        result = web_sessions.login(s, name="aud1", password=PASSWORD, client="1.2.3.4")
        token = result.token
        start = result.web_session.created_at
    assert token
    with env.session() as s:
        web_sessions.resume(s, token, now=start + dt.timedelta(minutes=90))
    with env.session() as s:   # touched at 90 min: still alive at 3 h
        web_sessions.resume(s, token, now=start + dt.timedelta(hours=3))
    import pytest

    from archive.errors import Unauthenticated

    with env.session() as s, pytest.raises(Unauthenticated):
        web_sessions.resume(s, token, now=start + dt.timedelta(hours=5, minutes=1))
    with env.session() as s, pytest.raises(Unauthenticated):
        web_sessions.resume(s, token, now=start + web_sessions.LIFETIME)


def test_changing_the_password_ends_sessions_and_checks_the_policy(env: Env):
    people(env, "off1")
    client, csrf = signed_in(env, "off1")
    other, _ = signed_in(env, "off1")
    weak = client.post("/account/password", data={
        "csrf_token": csrf, "current": PASSWORD, "new": "short", "again": "short"})
    assert weak.status_code == 422 and "อย่างน้อย 10 ตัวอักษร" in weak.text
    wrong = client.post("/account/password", data={
        "csrf_token": csrf, "current": "not my password", "new": "a much longer one 1",
        "again": "a much longer one 1"})
    assert wrong.status_code == 422 and "รหัสผ่านปัจจุบันไม่ถูกต้อง" in wrong.text
    assert _events(env, "user.password_change")[-1].outcome == "denied"
    ok = client.post("/account/password", data={
        "csrf_token": csrf, "current": PASSWORD, "new": "a much longer one 1",
        "again": "a much longer one 1"}, follow_redirects=False)
    assert ok.status_code == 303
    assert other.get("/api/v1/orgs").status_code == 401      # every session ended
    assert sign_in(env.client(), "off1", "a much longer one 1").status_code == 303


def test_admin_pages_create_users_and_reset_passwords(env: Env):
    people(env, "admin")
    admin, csrf = signed_in(env, "admin")
    r = admin.post("/admin/users", data={"csrf_token": csrf, "name": "somsri",
                                         "role": "auditor", "org_codes": ["p-cm"],
                                         "display_name": "สมศรี ใจดี"})
    assert r.status_code == 201 and "ea_" not in r.text     # no credential for the admin
    ok = admin.post("/admin/users/somsri/password", data={"csrf_token": csrf})
    assert ok.status_code == 200 and "ล้างรหัสผ่านแล้ว" in ok.text
    r = admin.post("/admin/users/somsri", data={"csrf_token": csrf, "role": "auditor",
                                                "org_codes": ["p-cr"], "expires_on": ""},
                   follow_redirects=False)
    assert r.status_code == 303
    assert "p-cr" in admin.get("/admin/users").text
    assert _events(env, "user.update")[-1].details["orgs"] == [["p-cm"], ["p-cr"]]


def test_cli_users_passwd_sets_a_password(env: Env):
    people(env, "aud1")
    run = [sys.executable, "-m", "cli", "users", "passwd", "off2", "--stdin"]
    done = subprocess.run(run, input="รหัสผ่านจากบรรทัดคำสั่ง\n", capture_output=True,
                          text=True, timeout=60, env=env.env_vars())
    assert done.returncode == 0, done.stderr
    assert sign_in(env.client(), "off2", "รหัสผ่านจากบรรทัดคำสั่ง").status_code == 303
    no_tty = subprocess.run(run[:-1], input="", capture_output=True, text=True, timeout=60,
                            env=env.env_vars())
    assert no_tty.returncode == 2 and "--stdin" in no_tty.stderr
