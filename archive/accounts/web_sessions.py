"""Passwords and signed-in browser sessions for the web pages.

* Passwords are argon2id hashes (``users.password_hash``); a user without one signs in
  with an API token only.
* A sign-in creates a ``web_sessions`` row. The browser holds a random 256-bit value in a
  cookie; the row's id is its SHA-256, so the database alone never lets anyone in.
  Sessions end after :data:`IDLE` without use, after :data:`LIFETIME` in any case, at
  sign-out, and when the user's password is changed or the account is disabled.
* Each session has its own CSRF secret; pages put it in every form and the page scripts
  send it as ``X-CSRF-Token`` (checked by the API's request dependency).
* Failed sign-ins are audited and counted per user name + client address and per address;
  past :data:`MAX_FAILURES_PER_NAME` / :data:`MAX_FAILURES_PER_CLIENT` within
  :data:`FAILURE_WINDOW` the attempt is refused before the password is even checked.

Like every service here: ``session`` first, nothing is committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts import service as accounts
from archive.accounts.models import LoginFailure, User, WebSession
from archive.accounts.principal import Principal, require
from archive.db import rowcount
from archive.errors import InvalidInput, PermissionDenied, Unauthenticated
from archive.messages import message

LIFETIME = dt.timedelta(hours=12)
IDLE = dt.timedelta(hours=2)
# last_seen_at is written at most this often (reads should not all become writes).
TOUCH_EVERY = dt.timedelta(minutes=5)
FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_CLIENT = 30
FAILURE_MEMORY = dt.timedelta(days=1)
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024

_DEFAULT_HASHER = PasswordHasher()
_hasher = _DEFAULT_HASHER
# Verified against when the user does not exist, so that an unknown name costs as much
# time as a wrong password (no user enumeration by timing).
_DEFAULT_DUMMY_HASH = _DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def set_password_hasher(hasher: PasswordHasher | None) -> None:
    """Hash and check passwords with ``hasher`` (``None``: argon2's defaults again).

    The seam for tests, which sign in dozens of times: the same algorithm with cheap
    parameters. Production never calls it."""
    global _hasher, _DUMMY_HASH
    if hasher is None:
        _hasher, _DUMMY_HASH = _DEFAULT_HASHER, _DEFAULT_DUMMY_HASH
    else:
        _hasher, _DUMMY_HASH = hasher, hasher.hash(secrets.token_hex(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- passwords -------------------------------------------------------------------------

def check_password_policy(password: str, *, user_name: str | None = None) -> None:
    problems = []
    if len(password) < MIN_PASSWORD_CHARS:
        problems.append(message("password.short", "at least {n} characters",
                                n=MIN_PASSWORD_CHARS))
    if len(password) > MAX_PASSWORD_CHARS:
        problems.append(message("password.long", "at most {n} characters", n=MAX_PASSWORD_CHARS))
    if password.strip() != password or not password.strip():
        problems.append(message("password.spaces", "no spaces at the start or the end"))
    if user_name and user_name.lower() in password.lower():
        problems.append(message("password.user_name", "must not contain the user name"))
    if problems:
        raise InvalidInput([{"field": "password", "message": p} for p in problems],
                           code="weak_password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def set_password(session: Session, principal: Principal, *, user_name: str,
                 password: str) -> User:
    """Set (or replace) a user's password; their open browser sessions end. Only the
    operator's CLI sets another user's password: an administrator who chose it would hold
    that user's credential (administrators reset, see ``reset_password``)."""
    require(principal, "users.manage")
    if not principal.is_system:
        raise PermissionDenied("only the user (their account page) or the operator's CLI sets "
                               "a password; an administrator may reset it",
                               code="own_password_only")
    user = accounts.get_user(session, user_name)
    check_password_policy(password, user_name=user.name)
    user.password_hash = hash_password(password)
    ended = accounts.end_sessions(session, user.id)
    audit.record(session, actor=principal, action="user.password_set", target_type="user",
                 target_id=user.name, details={"sessions_ended": ended})
    return user


def reset_password(session: Session, principal: Principal, *, user_name: str) -> User:
    """An administrator's reset: the password is cleared and the user's browser sessions
    end. The user then sets a new one on their account page (signed in with their own API
    token), or the operator's CLI sets it; the administrator never learns it."""
    require(principal, "users.manage")
    user = accounts.get_user(session, user_name)
    user.password_hash = None
    ended = accounts.end_sessions(session, user.id)
    audit.record(session, actor=principal, action="user.password_reset", target_type="user",
                 target_id=user.name, details={"sessions_ended": ended})
    return user


def change_own_password(session: Session, principal: Principal, *, current: str,
                        new: str) -> None:
    """A signed-in user replaces their own password (knowing the current one)."""
    if principal.user_id is None:
        raise Unauthenticated("only a named user has a password", code="named_user_required")
    user = session.get(User, principal.user_id)
    assert user is not None
    # A user without a password (new, or reset) proves who they are with their own token.
    if user.password_hash is not None and not _verify(user.password_hash, current):
        audit.record(session, actor=principal, action="user.password_change",
                     target_type="user", target_id=user.name, outcome="denied",
                     details={"reason": "wrong current password"})
        raise InvalidInput([{"field": "current", "message": message(
            "password.wrong", "the current password is wrong")}],
                           code="wrong_password")
    check_password_policy(new, user_name=user.name)
    user.password_hash = hash_password(new)
    accounts.end_sessions(session, user.id)
    audit.record(session, actor=principal, action="user.password_change", target_type="user",
                 target_id=user.name)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


# -- signing in and out ----------------------------------------------------------------

@dataclass
class LoginResult:
    """``token`` is the cookie value (only ever here, never stored); ``refusal`` is one of
    ``bad_credentials``, ``rate_limited``, ``account_disabled``, ``account_expired``."""

    token: str | None = None
    web_session: WebSession | None = None
    user: User | None = None
    refusal: str | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def login(session: Session, *, name: str, password: str, client: str | None,
          now: dt.datetime | None = None, today: dt.date | None = None) -> LoginResult:
    """Check a user name and password; on success open a browser session.

    A refusal is recorded (audit event and, for guesses, a failure row) in ``session``:
    the caller commits it like any other outcome.
    """
    now = now or clock.now()
    client_key = (client or "unknown")[:100]
    name = name.strip().lower()[:100]
    if _too_many_failures(session, name, client_key, now):
        _refuse(session, name, client, "rate_limited", count=False)
        return LoginResult(refusal="rate_limited")
    user = session.scalar(sa.select(User).where(User.name == name)) if name else None
    if not _verify(user.password_hash if user else None, password) or user is None:
        _refuse(session, name, client, "bad_credentials", now=now)
        return LoginResult(refusal="bad_credentials")
    try:
        principal = accounts.principal_for(session, user, client=client, today=today)
    except Unauthenticated as exc:
        _refuse(session, name, client, exc.code, count=False)
        return LoginResult(refusal=exc.code)
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    session.execute(sa.delete(LoginFailure).where(LoginFailure.user_name == name,
                                                  LoginFailure.client == client_key))
    session.execute(sa.delete(WebSession).where(WebSession.user_id == user.id,
                                                WebSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    ws = WebSession(id=_digest(token), user_id=user.id, csrf_secret=secrets.token_urlsafe(32),
                    client=client_key, created_at=now, last_seen_at=now,
                    expires_at=now + LIFETIME)
    session.add(ws)
    audit.record(session, actor=principal, action="auth.login", target_type="user",
                 target_id=user.name)
    return LoginResult(token=token, web_session=ws, user=user)


def _too_many_failures(session: Session, name: str, client: str, now: dt.datetime) -> bool:
    since = now - FAILURE_WINDOW
    per_name = session.scalar(sa.select(sa.func.count()).select_from(LoginFailure).where(
        LoginFailure.user_name == name, LoginFailure.client == client,
        LoginFailure.at >= since)) or 0
    if per_name >= MAX_FAILURES_PER_NAME:
        return True
    per_client = session.scalar(sa.select(sa.func.count()).select_from(LoginFailure).where(
        LoginFailure.client == client, LoginFailure.at >= since)) or 0
    return per_client >= MAX_FAILURES_PER_CLIENT


def _refuse(session: Session, name: str, client: str | None, reason: str, *,
            count: bool = True, now: dt.datetime | None = None) -> None:
    now = now or clock.now()
    if count:
        session.execute(sa.delete(LoginFailure).where(LoginFailure.at < now - FAILURE_MEMORY))
        session.add(LoginFailure(user_name=name, client=(client or "unknown")[:100], at=now))
    audit.record(session, actor=Principal(name="anonymous", role="none", client=client),
                 action="auth.login_failed", target_type="user", target_id=name or None,
                 outcome="denied", details={"reason": reason})


def resume(session: Session, token: str, *, client: str | None = None,
           now: dt.datetime | None = None,
           today: dt.date | None = None) -> tuple[Principal, WebSession]:
    """The principal behind a session cookie; ``Unauthenticated`` if it is not valid now."""
    now = now or clock.now()
    if not token or len(token) > 100:
        raise Unauthenticated("no session", code="no_session")
    ws = session.get(WebSession, _digest(token))
    if ws is None or ws.expires_at <= now or ws.last_seen_at + IDLE <= now:
        raise Unauthenticated("the session has ended; sign in again", code="session_expired")
    user = session.get(User, ws.user_id)
    assert user is not None
    principal = accounts.principal_for(session, user, client=client, today=today)
    if now - ws.last_seen_at >= TOUCH_EVERY:
        ws.last_seen_at = now
    return principal, ws


def csrf_ok(ws: WebSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(ws.csrf_secret.encode(),
                                               (given or "").encode())


def logout(session: Session, token: str, principal: Principal) -> None:
    if rowcount(session.execute(sa.delete(WebSession).where(
            WebSession.id == _digest(token)))):
        audit.record(session, actor=principal, action="auth.logout", target_type="user",
                     target_id=principal.name)



