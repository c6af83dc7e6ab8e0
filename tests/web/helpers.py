"""GIVEN steps for the page tests: people with passwords, a signed-in TestClient."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Env
from tests.factories import world

PASSWORD = "ลับมาก-Secret-2568"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def people(env: Env, *names: str) -> dict[str, str]:
    """GIVEN the usual world (tests/factories.py) and a password for each of ``names``
    (default: everyone)."""
    from archive.accounts import web_sessions
    from archive.accounts.principal import system_principal

    tokens = world(env)
    with env.session() as s:
        for name in names or tuple(tokens):
            web_sessions.set_password(s, system_principal("test"), user_name=name,
                                      password=PASSWORD)
    return tokens


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: Any, name: str, password: str = PASSWORD, *,
            next: str | None = None) -> Any:
    """Open the sign-in page (for its form token) and post the form; returns the answer."""
    page = client.get("/login", params={"next": next} if next else None)
    assert page.status_code == 200, page.text[:300]
    return client.post("/login", data={"username": name, "password": password,
                                       "csrf_token": csrf_of(page.text),
                                       "next": next or "/"},
                       follow_redirects=False)


def signed_in(env: Env, name: str, **overrides: Any) -> tuple[Any, str]:
    """A client with a session cookie for ``name`` and the session's CSRF token."""
    client = env.client(**overrides)
    r = sign_in(client, name)
    assert r.status_code == 303, r.text[:500]
    account = client.get("/account")
    assert account.status_code == 200, account.text[:300]
    return client, csrf_of(account.text)
