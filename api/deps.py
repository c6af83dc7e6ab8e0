"""Typed dependencies shared by every router: the unit of work, the store, the caller."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.auth_limits import MAX_PATH, AuthFailures
from api.errors import TooManyRequests
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
    failures = auth_failures(request)
    wait = failures.retry_after(client)
    if wait is not None and (header or cookie):
        raise TooManyRequests("too many failed authentications from your address; "
                              f"try again in {wait} s", retry_after=wait)
    if not header and cookie:
        try:
            return _cookie_user(request, session, cookie, csrf_token, client)
        except Unauthenticated as exc:
            failures.note(client, exc.code, request.url.path, None)
            raise
    scheme, _, token = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send Authorization: Bearer <token>", code="missing_token")
        return accounts.authenticate(session, token.strip(), client=client)
    except Unauthenticated as exc:
        if exc.code != "missing_token":
            failures.note(client, exc.code, request.url.path, token.strip()[:10])
        raise


_FAILURES_LOCK = threading.Lock()


def auth_failures(request: Request) -> AuthFailures:
    """The app's counter of failed authentications (made on first use)."""
    state = request.app.state
    with _FAILURES_LOCK:
        failures = getattr(state, "auth_failures", None)
        if failures is None:
            sessions = state.sessions

            def write(source: str | None, details: dict[str, object]) -> None:
                from archive import audit
                from archive.accounts.principal import Principal as P

                with session_scope(sessions) as s:
                    audit.record(s, actor=P(name="anonymous", role="none", client=source),
                                 action="auth.failed", outcome="denied", details=details)

            failures = AuthFailures(write, limit=state.settings.auth_failures_per_minute)
            state.auth_failures = failures
    return failures  # type: ignore[no-any-return]


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
        _record_auth_failure(request, exc, client, actor=principal)
        raise exc
    return principal


def _record_auth_failure(request: Request, exc: ArchiveError, client: str | None,
                         actor: Principal) -> None:
    """A signed-in user's refused request (CSRF): recorded at once, fields bounded."""
    from archive import audit

    with session_scope(request.app.state.sessions) as session:
        audit.record(session, actor=actor, action="auth.failed", outcome="denied",
                     details={"reason": exc.code, "path": request.url.path[:MAX_PATH]})


CurrentUser = Annotated[Principal, Depends(current_user)]


def upload_caller(request: Request) -> Principal:
    """The caller of an upload, authenticated in a unit of work of its own that has ended
    (connection back in the pool) before the body is read: a slow client sending its
    file holds no database connection (issue 15 item 1)."""
    with session_scope(request.app.state.sessions) as session:
        return authenticate_request(request, session)


UploadCaller = Annotated[Principal, Depends(upload_caller)]
