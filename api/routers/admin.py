"""Organisations and user accounts (administrators), and the organisation list for all."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import CurrentUser, SessionDep
from archive.accounts import service as accounts
from archive.orgs import service as orgs
from archive.validators import TypedDate

router = APIRouter(tags=["administration"])


class OrgIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str
    type: str = "sao"
    parent_code: str | None = None


class OrgOut(BaseModel):
    code: str
    name: str
    type: str
    parent_code: str | None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    role: str
    org_codes: list[str] = []
    expires_on: TypedDate = None
    display_name: str | None = None


class UserOut(BaseModel):
    name: str
    role: str
    org_codes: list[str]
    expires_on: dt.date | None
    display_name: str | None
    disabled: bool


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = None


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prefix: str | None = None


@router.get("/orgs", response_model=list[OrgOut])
def list_orgs(principal: CurrentUser, session: SessionDep) -> list[OrgOut]:
    """Organisations in your scope (administrators: all)."""
    rows = orgs.visible(session, principal)
    codes = {o.id: o.code for o in orgs.list_all(session)}
    return [OrgOut(code=o.code, name=o.name, type=o.type,
                   parent_code=codes.get(o.parent_id or -1)) for o in rows]


@router.post("/orgs", response_model=OrgOut, status_code=201)
def create_org(body: OrgIn, principal: CurrentUser, session: SessionDep) -> OrgOut:
    org = orgs.create(session, principal, code=body.code, name=body.name, type=body.type,
                      parent_code=body.parent_code)
    return OrgOut(code=org.code, name=org.name, type=org.type, parent_code=body.parent_code)


@router.get("/users", response_model=list[UserOut])
def list_users(principal: CurrentUser, session: SessionDep) -> list[UserOut]:
    return [UserOut(name=u.name, role=u.role, org_codes=codes, expires_on=u.expires_on,
                    display_name=u.display_name, disabled=u.disabled)
            for u, codes in accounts.list_users(session, principal)]


@router.post("/users", status_code=201)
def create_user(body: UserIn, principal: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Create a user; the answer carries its first API token (shown only this once)."""
    user, token = accounts.create_user(session, principal, name=body.name, role=body.role,
                                       org_codes=body.org_codes, expires_on=body.expires_on,
                                       display_name=body.display_name)
    return {"name": user.name, "role": user.role, "token": token}


@router.post("/users/{name}/tokens", status_code=201)
def create_token(name: str, body: TokenIn, principal: CurrentUser,
                 session: SessionDep) -> dict[str, str]:
    return {"token": accounts.create_token(session, principal, user_name=name,
                                           label=body.label)}


@router.post("/users/{name}/tokens/revoke")
def revoke_tokens(name: str, body: RevokeIn, principal: CurrentUser,
                  session: SessionDep) -> dict[str, int]:
    return {"revoked": accounts.revoke_tokens(session, principal, user_name=name,
                                              prefix=body.prefix)}
