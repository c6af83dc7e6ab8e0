"""Typed dependencies shared by every router: the unit of work, the store, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from archive.accounts import service as accounts
from archive.accounts.principal import Principal
from archive.config import Settings
from archive.db import session_scope
from archive.errors import Unauthenticated
from archive.storage import ObjectStore


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed after the route returns and *before* the
    response is sent (``scope="function"``), so a 201 always means "committed"."""
    session: Session = request.app.state.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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


def current_user(request: Request, session: SessionDep) -> Principal:
    """Every API route depends on this: the principal behind the bearer token.

    Failures are recorded in the audit trail in their own transaction (the request's
    transaction rolls back with the 401).
    """
    client = client_address(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send Authorization: Bearer <token>", code="missing_token")
        return accounts.authenticate(session, token.strip(), client=client)
    except Unauthenticated as exc:
        if exc.code != "missing_token":
            _record_auth_failure(request, exc, token.strip()[:10], client)
        raise


def _record_auth_failure(request: Request, exc: Unauthenticated, prefix: str,
                         client: str | None) -> None:
    from archive import audit
    from archive.accounts.principal import Principal as P

    with session_scope(request.app.state.sessions) as session:
        audit.record(session, actor=P(name="anonymous", role="none", client=client),
                     action="auth.failed", outcome="denied",
                     details={"reason": exc.code, "token_prefix": prefix,
                              "path": request.url.path})


CurrentUser = Annotated[Principal, Depends(current_user)]
