"""Organisations: the DLA → province → LAO tree that scopes every record."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit
from archive.accounts.principal import Principal, require
from archive.errors import Conflict, InvalidInput, NotFound
from archive.orgs.models import ORG_TYPES, Organisation
from archive.orgs.scope import descendants, limit_to_scope  # noqa: F401 - orgs.descendants
from archive.textnorm import clean_text

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


_BY_CODE = sa.select(Organisation).where(Organisation.code == sa.bindparam("code"))


def get_by_code(session: Session, code: str) -> Organisation:
    org = session.scalar(_BY_CODE, {"code": code})
    if org is None:
        raise NotFound(f"no organisation with code {code!r}", code="org_not_found")
    return org


def create(session: Session, principal: Principal, *, code: str, name: str,
           type: str = "sao", parent_code: str | None = None) -> Organisation:
    require(principal, "orgs.manage")
    if not _CODE.match(code):
        raise InvalidInput("organisation code: 1–32 letters, digits, '.', '_' or '-'")
    if type not in ORG_TYPES:
        raise InvalidInput(f"organisation type must be one of {', '.join(ORG_TYPES)}")
    name = clean_text(name)
    if not name:
        raise InvalidInput("organisation name is empty")
    parent = get_by_code(session, parent_code) if parent_code else None
    if session.scalar(sa.select(Organisation.id).where(Organisation.code == code)):
        raise Conflict(f"organisation {code!r} already exists")
    org = Organisation(code=code, name=name, type=type,
                       parent_id=parent.id if parent else None)
    session.add(org)
    session.flush()
    audit.record(session, actor=principal, action="org.create", target_type="organisation",
                 target_id=org.code, org_id=org.id,
                 details={"name": name, "type": type, "parent": parent_code})
    return org


def list_all(session: Session) -> list[Organisation]:
    return list(session.scalars(sa.select(Organisation).order_by(Organisation.code)))


def visible(session: Session, principal: Principal) -> list[Organisation]:
    """Organisations the principal may see: their scope (administrators see all)."""
    require(principal, "orgs.read")
    if principal.role == "admin":
        return list_all(session)
    q = sa.select(Organisation).order_by(Organisation.code)
    return list(session.scalars(limit_to_scope(session, principal, q, Organisation.id)))
