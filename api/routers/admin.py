"""Organisations and user accounts (administrators), and the organisation list for all."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict

from api.deps import CurrentUser, SessionDep, SettingsDep
from archive.accounts import service as accounts
from archive.accounts import web_sessions
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
def create_org(body: OrgIn, principal: CurrentUser, session: SessionDep,
               settings: SettingsDep) -> OrgOut:
    org = orgs.create(session, principal, code=body.code, name=body.name, type=body.type,
                      parent_code=body.parent_code, code_pattern=settings.lao_code_pattern)
    return OrgOut(code=org.code, name=org.name, type=org.type, parent_code=body.parent_code)


REGISTER_MAX_BYTES = 64 * 1024 * 1024


@router.post("/orgs/import", summary="Import the organisation register (CSV; administrators)")
def import_orgs(principal: CurrentUser, session: SessionDep, settings: SettingsDep,
                body: Annotated[bytes, Body(media_type="text/csv",
                                            description="The register: UTF-8 (with or "
                                            "without BOM) or CP874 CSV.")],
                dry_run: Annotated[bool, Query(description="Report only; change nothing.")
                                   ] = False) -> dict[str, Any]:
    """Create the organisations of a register that are new, update changed names, report
    every row (created, updated, unchanged, duplicate, error with the reason); idempotent."""
    if len(body) > REGISTER_MAX_BYTES:
        from archive.errors import PayloadTooLarge

        raise PayloadTooLarge(f"the register is larger than {REGISTER_MAX_BYTES} bytes")
    report = orgs.import_register(session, principal, body, dry_run=dry_run,
                                  code_pattern=settings.lao_code_pattern)
    return report.as_dict()


@router.get("/users", response_model=list[UserOut])
def list_users(principal: CurrentUser, session: SessionDep) -> list[UserOut]:
    return [UserOut(name=u.name, role=u.role, org_codes=codes, expires_on=u.expires_on,
                    display_name=u.display_name, disabled=u.disabled)
            for u, codes in accounts.list_users(session, principal)]


@router.post("/users", status_code=201)
def create_user(body: UserIn, principal: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Create a user. The answer carries no credential: an administrator never holds
    another user's token; the operator prints the first one (``archive tokens create``)."""
    user, _ = accounts.create_user(session, principal, name=body.name, role=body.role,
                                   org_codes=body.org_codes, expires_on=body.expires_on,
                                   display_name=body.display_name)
    return {"name": user.name, "role": user.role}


@router.post("/users/{name}/tokens", status_code=201)
def create_token(name: str, body: TokenIn, principal: CurrentUser,
                 session: SessionDep) -> dict[str, str]:
    """Another token for yourself (``name`` is your own user name); nobody, administrators
    included, creates a token for someone else."""
    return {"token": accounts.create_token(session, principal, user_name=name,
                                           label=body.label)}


@router.post("/users/{name}/tokens/revoke")
def revoke_tokens(name: str, body: RevokeIn, principal: CurrentUser,
                  session: SessionDep) -> dict[str, int]:
    return {"revoked": accounts.revoke_tokens(session, principal, user_name=name,
                                              prefix=body.prefix)}


@router.post("/users/{name}/password/reset")
def reset_password(name: str, principal: CurrentUser, session: SessionDep) -> dict[str, str]:
    """Clear a user's web-page password and end their sessions (administrators); the user
    sets a new one themselves."""
    web_sessions.reset_password(session, principal, user_name=name)
    return {"name": name, "password": "reset"}
