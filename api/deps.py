"""Typed dependencies shared by every router: the unit of work, the store, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from archive.accounts import service as accounts
from archive.accounts.principal import Principal
from archive.config import Settings
from archive.errors import ArchiveError, PermissionDenied, Unauthenticated
from archive.storage import ObjectStore
from archive.unit_of_work import session_scope


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed after the route returns and *before* the
    response is sent (``scope="function"``), so a 201 always means "committed"."""
    with session_scope(request.app.state.sessions) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# async: nothing blocks here, and a plain ``def`` would cost a thread-pool hop per request.
async def get_store(request: Request) -> ObjectStore:
    return request.app.state.store  # type: ignore[no-any-return]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


StoreDep = Annotated[ObjectStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


# The web pages' session cookie (see archive/accounts/web_sessions.py) and its CSRF token.
SESSION_COOKIE = "ea_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_user(request: Request, session: SessionDep) -> Principal:
    """Every API route depends on this: the principal behind the bearer token."""
    return authenticate_request(request, session)


def authenticate_request(request: Request, session: Session, *,
                         csrf_token: str | None = None) -> Principal:
    """The caller: a bearer token (``Authorization``) or, when there is none, the pages'
    session cookie. A cookie is sent by the browser on its own, so a cookie-authenticated
    request that changes anything must also prove it comes from our pages: the session's
    CSRF token in ``X-CSRF-Token`` (page scripts) or the form field (``csrf_token``, read
    by the page routes and passed in here).

    Failures are recorded in the audit trail in their own transaction (the request's
    transaction rolls back with the 401/403).
    """
    client = client_address(request)
    header = request.headers.get("authorization", "")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not header and cookie:
        return _cookie_user(request, session, cookie, csrf_token, client)
    scheme, _, token = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send Authorization: Bearer <token>", code="missing_token")
        return accounts.authenticate(session, token.strip(), client=client)
    except Unauthenticated as exc:
        if exc.code != "missing_token":
            _record_auth_failure(request, exc, token.strip()[:10], client)
        raise


def _cookie_user(request: Request, session: Session, cookie: str, csrf_token: str | None,
                 client: str | None) -> Principal:
    from archive.accounts import web_sessions

    principal, web_session = web_sessions.resume(session, cookie, client=client)
    request.state.web_session = web_session
    # Read now: the page may be rendered after its unit of work has rolled back.
    request.state.csrf = web_session.csrf_secret
    if request.method not in SAFE_METHODS and not web_sessions.csrf_ok(
            web_session, request.headers.get(CSRF_HEADER) or csrf_token):
        exc = PermissionDenied("missing or wrong CSRF token: reload the page and try again",
                               code="csrf_failed")
        _record_auth_failure(request, exc, None, client, actor=principal)
        raise exc
    return principal


def _record_auth_failure(request: Request, exc: ArchiveError, prefix: str | None,
                         client: str | None, actor: Principal | None = None) -> None:
    from archive import audit
    from archive.accounts.principal import Principal as P

    with session_scope(request.app.state.sessions) as session:
        audit.record(session, actor=actor or P(name="anonymous", role="none", client=client),
                     action="auth.failed", outcome="denied",
                     details={"reason": exc.code, "token_prefix": prefix,
                              "path": request.url.path})


CurrentUser = Annotated[Principal, Depends(current_user)]
