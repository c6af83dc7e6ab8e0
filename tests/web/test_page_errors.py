"""Transactions end in one place: a page that answers with an error commits nothing.

Before, ``PageRoute`` turned a service error into an error page *inside* the request's
unit of work, which then committed: a route that wrote something and then failed
committed half a change unless it remembered to call ``session.rollback()`` itself.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request

from api.deps import SessionDep
from api.web.pages import FormError, PageRoute, PageUser, render
from archive import audit
from archive.errors import Conflict
from archive.orgs import service as orgs
from archive.orgs.models import Organisation
from tests.conftest import Env
from tests.factories import world


def _client_with_failing_pages(env: Env, token: str) -> Any:
    """The real application plus two page routes that write, then fail."""
    from fastapi.testclient import TestClient

    router = APIRouter(route_class=PageRoute)

    @router.post("/test/half-change")
    def half_change(principal: PageUser, session: SessionDep) -> Any:
        orgs.create(session, principal, code="half-1", name="ครึ่งทาง", type="sao",
                    parent_code="p-cm")
        raise Conflict("refused after a write")

    @router.post("/test/half-form")
    def half_form(request: Request, principal: PageUser, session: SessionDep) -> Any:
        try:
            with audit.audited_refusal(principal, "test.half_form"):
                orgs.create(session, principal, code="half-2", name="ครึ่งฟอร์ม",
                            type="sao", parent_code="p-cm")
                raise Conflict("refused after a write")
        except Conflict as exc:
            raise FormError(exc, lambda s, status, error, problems: render(
                request, "error.html", status=status, status_code=status, code="conflict",
                message=f"{error} / seen: {_org_codes(s)}", problems=problems)) from exc

    app = env.app()
    app.include_router(router)
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _org_codes(session: Any) -> list[str]:
    return sorted(session.scalars(sa.select(Organisation.code)
                                  .where(Organisation.code.like("half-%"))))


def test_an_error_page_after_a_write_commits_nothing(env: Env):
    tokens = world(env)
    client = _client_with_failing_pages(env, tokens["admin"])
    r = client.post("/test/half-change")
    assert r.status_code == 409
    assert "text/html" in r.headers["content-type"]
    assert r.headers["X-Frame-Options"] == "DENY"
    with env.session() as s:
        assert _org_codes(s) == []


def test_a_form_error_renders_after_the_rollback_and_audits_the_refusal(env: Env):
    tokens = world(env)
    client = _client_with_failing_pages(env, tokens["admin"])
    r = client.post("/test/half-form")
    assert r.status_code == 409
    assert "seen: []" in r.text            # the form is rendered in a fresh unit of work
    assert r.headers["Content-Security-Policy"]
    with env.session() as s:
        assert _org_codes(s) == []
        refused = s.execute(sa.text(
            "SELECT outcome, actor FROM audit_events WHERE action = 'test.half_form'")).all()
    assert [tuple(row) for row in refused] == [("refused", "admin")]
