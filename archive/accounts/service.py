"""Users, API tokens, authentication and organisation scope."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts.models import ROLES, ApiToken, User, UserOrganisation, WebSession
from archive.accounts.principal import Principal, require
from archive.db import rowcount
from archive.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from archive.messages import message
from archive.orgs import service as orgs
from archive.orgs.models import Organisation

# Scope (who sees which organisations) lives in archive.orgs.scope; re-exported for the
# callers written before it moved there.
from archive.orgs.scope import ensure_in_scope as ensure_in_scope
from archive.orgs.scope import in_scope as in_scope
from archive.orgs.scope import limit_to_scope as limit_to_scope
from archive.orgs.scope import org_in_scope as org_in_scope
from archive.orgs.scope import scope_ids as scope_ids

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
TOKEN_PREFIX = "ea_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_user(session: Session, name: str) -> User:
    user = session.scalar(sa.select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user {name!r}", code="user_not_found")
    return user


def create_user(session: Session, principal: Principal, *, name: str, role: str,
                org_codes: list[str], expires_on: dt.date | None = None,
                display_name: str | None = None) -> tuple[User, str | None]:
    """Create a user. The operator's CLI (the system principal) also gets a first API
    token to hand over (shown once); an administrator never does: a credential of
    another user would let the administrator act, and read evidence, as that user."""
    require(principal, "users.manage")
    if not _NAME.match(name):
        raise InvalidInput("user name: lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    if role != "admin" and not org_codes:
        raise InvalidInput(f"{_a(role)} needs at least one organisation (--org CODE)")
    if expires_on is not None and expires_on <= clock.today():
        raise InvalidInput(message("input.expiry_past", "expiry date must be in the future"))
    if session.scalar(sa.select(User.id).where(User.name == name)):
        raise Conflict(f"user {name!r} already exists")
    org_list = [orgs.get_by_code(session, code) for code in dict.fromkeys(org_codes)]
    user = User(name=name, role=role, expires_on=expires_on, display_name=display_name)
    session.add(user)
    session.flush()
    for org in org_list:
        session.add(UserOrganisation(user_id=user.id, org_id=org.id))
    audit.record(session, actor=principal, action="user.create", target_type="user",
                 target_id=name, details={"role": role, "orgs": [o.code for o in org_list],
                                          "expires_on": expires_on})
    token = _issue_token(session, user, label="initial") if principal.is_system else None
    return user, token


def _issue_token(session: Session, user: User, label: str | None) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token),
                         prefix=token[:10], label=label))
    return token


def create_token(session: Session, principal: Principal, *, user_name: str,
                 label: str | None = None) -> str:
    """Another API token for ``user_name``: only that user may create it (or the operator's
    CLI). Administrators revoke and reset credentials; they never obtain one."""
    if not principal.is_system and principal.name != user_name:
        raise PermissionDenied("API tokens are created only by their owner; an administrator "
                               "may revoke them (or reset the account)", code="own_tokens_only")
    user = get_user(session, user_name)
    token = _issue_token(session, user, label)
    audit.record(session, actor=principal, action="token.create", target_type="user",
                 target_id=user.name, details={"prefix": token[:10], "label": label})
    return token


def revoke_tokens(session: Session, principal: Principal, *, user_name: str,
                  prefix: str | None = None) -> int:
    """Revoke one token (by its shown prefix) or all of a user's tokens."""
    require(principal, "users.manage")
    user = get_user(session, user_name)
    stmt = sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if prefix:
        stmt = stmt.where(ApiToken.prefix == prefix[:10])
    count = rowcount(session.execute(stmt.values(revoked_at=clock.now())))
    if prefix and not count:
        raise NotFound(f"no active token {prefix!r} for {user_name!r}")
    audit.record(session, actor=principal, action="token.revoke", target_type="user",
                 target_id=user.name, details={"prefix": prefix, "revoked": count})
    return count


def list_users(session: Session, principal: Principal) -> list[tuple[User, list[str]]]:
    require(principal, "users.manage")
    rows = session.execute(
        sa.select(User, Organisation.code)
        .outerjoin(UserOrganisation, UserOrganisation.user_id == User.id)
        .outerjoin(Organisation, Organisation.id == UserOrganisation.org_id)
        .order_by(User.name, Organisation.code)).all()
    out: dict[int, tuple[User, list[str]]] = {}
    for user, code in rows:
        out.setdefault(user.id, (user, []))
        if code:
            out[user.id][1].append(code)
    return list(out.values())


# Built once: the hot path of every request reuses the compiled statement.
_USER_ORG_IDS = (sa.select(sa.func.aggregate_strings(
    sa.cast(UserOrganisation.org_id, sa.String), ","))
    .where(UserOrganisation.user_id == User.id).scalar_subquery())
_BY_TOKEN = (sa.select(User, ApiToken.revoked_at, _USER_ORG_IDS)
             .join(ApiToken, ApiToken.user_id == User.id)
             .where(ApiToken.token_hash == sa.bindparam("token_hash")))
_ORG_IDS = sa.select(UserOrganisation.org_id).where(
    UserOrganisation.user_id == sa.bindparam("user_id"))


def authenticate(session: Session, token: str, *, client: str | None = None,
                 today: dt.date | None = None) -> Principal:
    """The principal behind a bearer token; ``Unauthenticated`` if it is not valid now."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise Unauthenticated("malformed token", code="invalid_token")
    row = session.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    if row is None:
        raise Unauthenticated("unknown token", code="invalid_token")
    user, revoked_at, org_ids = row
    ids = tuple(sorted(int(i) for i in org_ids.split(","))) if org_ids else ()
    return _check_and_build(user, ids, revoked=revoked_at is not None, client=client,
                            today=today)


def principal_for(session: Session, user: User, *, client: str | None = None,
                  today: dt.date | None = None) -> Principal:
    """The principal for a user found by other means (the web pages' session cookie)."""
    ids = tuple(session.scalars(_ORG_IDS, {"user_id": user.id}))
    return _check_and_build(user, ids, revoked=False, client=client, today=today)


def _check_and_build(user: User, org_ids: tuple[int, ...], *, revoked: bool,
                     client: str | None, today: dt.date | None) -> Principal:
    if revoked:
        raise Unauthenticated("token revoked", code="token_revoked")
    if user.disabled:
        raise Unauthenticated("account disabled", code="account_disabled")
    if user.expires_on is not None and (today or clock.today()) > user.expires_on:
        raise Unauthenticated(f"account expired on {user.expires_on}", code="account_expired")
    return Principal(name=user.name, role=user.role, user_id=user.id, org_ids=org_ids,
                     client=client)


_UNSET: object = object()


def update_user(session: Session, principal: Principal, *, user_name: str,
                role: str | None = None, org_codes: list[str] | None = None,
                expires_on: dt.date | None | object = _UNSET,
                disabled: bool | None = None,
                display_name: str | None | object = _UNSET) -> User:
    """Change a user's role, organisations, expiry, display name or disabled flag (only
    what is given); disabling also ends their browser sessions."""
    require(principal, "users.manage")
    user = get_user(session, user_name)
    changes: dict[str, object] = {}
    new_role = role if role is not None else user.role
    if role is not None and role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    current = [c for _, c in session.execute(
        sa.select(UserOrganisation.org_id, Organisation.code)
        .join(Organisation, Organisation.id == UserOrganisation.org_id)
        .where(UserOrganisation.user_id == user.id))]
    codes = list(dict.fromkeys(org_codes)) if org_codes is not None else current
    if new_role != "admin" and not codes:
        raise InvalidInput(f"{_a(new_role)} needs at least one organisation")
    if isinstance(expires_on, dt.date) and expires_on <= clock.today():
        raise InvalidInput(message("input.expiry_past", "expiry date must be in the future"))
    if role is not None and role != user.role:
        changes["role"] = [user.role, role]
        user.role = role
    if org_codes is not None and sorted(codes) != sorted(current):
        found = [orgs.get_by_code(session, code) for code in codes]
        session.execute(sa.delete(UserOrganisation).where(UserOrganisation.user_id == user.id))
        for org in found:
            session.add(UserOrganisation(user_id=user.id, org_id=org.id))
        changes["orgs"] = [sorted(current), sorted(codes)]
    if expires_on is not _UNSET and expires_on != user.expires_on:
        changes["expires_on"] = [user.expires_on, expires_on]
        user.expires_on = expires_on  # type: ignore[assignment]
    if display_name is not _UNSET and display_name != user.display_name:
        changes["display_name"] = [user.display_name, display_name]
        user.display_name = display_name  # type: ignore[assignment]
    if disabled is not None and disabled != user.disabled:
        changes["disabled"] = [user.disabled, disabled]
        user.disabled = disabled
        if disabled:
            end_sessions(session, user.id)
    if changes:
        audit.record(session, actor=principal, action="user.update", target_type="user",
                     target_id=user.name, details=changes)
    return user


def end_sessions(session: Session, user_id: int) -> int:
    """End every browser session of a user (password changed, account disabled)."""
    return rowcount(session.execute(sa.delete(WebSession).where(
        WebSession.user_id == user_id)))


def _a(role: str) -> str:
    """The role with its article, as a sentence names it: "an officer", "a records manager"."""
    words = role.replace("_", " ")
    return f"{'an' if words[:1] in 'aeiou' else 'a'} {words}"
