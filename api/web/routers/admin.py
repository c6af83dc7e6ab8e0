"""Administrators: organisations, user accounts (tokens shown once, passwords), heads of
agency, and the health of the system (queue, failed jobs, self-checks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import SessionDep
from api.web.pages import (
    FormDep,
    FormError,
    PageRoute,
    PageUser,
    form_list,
    form_text,
    redirect,
    render,
)
from archive import integrity
from archive.accounts import service as accounts
from archive.accounts import web_sessions
from archive.accounts.models import ROLES
from archive.accounts.principal import Principal, require
from archive.audit import audited_refusal
from archive.errors import ArchiveError
from archive.inspection.ocr import ocr_tools
from archive.orgs import service as orgs
from archive.orgs.models import ORG_TYPES
from archive.queue import heartbeats
from archive.queue import service as queue
from archive.queue.models import JOB_STATUSES
from archive.retention import disposition
from archive.validators import date_param

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CHECKS = ("worm_probe", "fixity", "reconcile")


# -- organisations ---------------------------------------------------------------------

@router.get("/admin/orgs")
def orgs_page(request: Request, principal: PageUser, session: SessionDep) -> Response:
    return _orgs(request, principal, session)


def _orgs(request: Request, principal: Principal, session: SessionDep, *, status: int = 200,
          error: str | None = None, problems: list[dict[str, str]] | None = None,
          values: dict[str, Any] | None = None) -> Response:
    require(principal, "orgs.manage")
    rows = orgs.list_all(session)
    codes = {o.id: o.code for o in rows}
    return render(request, "admin/orgs.html", status=status, orgs=rows, codes=codes,
                  types=ORG_TYPES, error=error, problems=problems or [], values=values or {})


@router.post("/admin/orgs")
def create_org(request: Request, principal: PageUser, session: SessionDep,
               form: FormDep) -> Response:
    values = {k: form_text(form, k) or "" for k in ("code", "name", "type", "parent_code")}
    try:
        orgs.create(session, principal, code=values["code"], name=values["name"],
                    type=values["type"] or "sao", parent_code=values["parent_code"] or None,
                    code_pattern=request.app.state.settings.lao_code_pattern)
    except ArchiveError as exc:
        raise FormError(exc, lambda s, **shown: _orgs(request, principal, s, values=values,
                                                      **shown)) from exc
    return redirect("/admin/orgs")


@router.post("/admin/orgs/{code}/head")
def set_head(request: Request, code: str, principal: PageUser, session: SessionDep,
             form: FormDep) -> Response:
    """Assign the head of agency who approves the organisation's disposition lists."""
    user = form_text(form, "user") or ""
    try:
        with audited_refusal(principal, "retention.head_assign", target_type="organisation",
                             target_id=code):
            disposition.set_head(session, principal, code, user)
    except ArchiveError as exc:
        raise FormError(exc, lambda s, **shown: _orgs(request, principal, s, **shown)) from exc
    return redirect("/admin/orgs")


# -- users -----------------------------------------------------------------------------

@router.get("/admin/users")
def users_page(request: Request, principal: PageUser, session: SessionDep) -> Response:
    return _users(request, principal, session)


def _users(request: Request, principal: Principal, session: SessionDep, *,
           status: int = 200, error: str | None = None,
           problems: list[dict[str, str]] | None = None, values: dict[str, Any] | None = None,
           token: str | None = None, token_user: str | None = None) -> Response:
    return render(request, "admin/users.html", status=status,
                  users=accounts.list_users(session, principal), roles=ROLES,
                  orgs=orgs.list_all(session), error=error, problems=problems or [],
                  values=values or {}, token=token, token_user=token_user)


@router.post("/admin/users")
def create_user(request: Request, principal: PageUser, session: SessionDep,
                form: FormDep) -> Response:
    values = {"name": form_text(form, "name") or "", "role": form_text(form, "role") or "",
              "display_name": form_text(form, "display_name") or "",
              "expires_on": form_text(form, "expires_on") or "",
              "org_codes": form_list(form, "org_codes")}
    try:
        user, token = accounts.create_user(
            session, principal, name=values["name"], role=values["role"],
            org_codes=values["org_codes"], expires_on=_date(values["expires_on"]),
            display_name=values["display_name"] or None)
    except ArchiveError as exc:
        raise FormError(exc, lambda s, **shown: _users(request, principal, s, values=values,
                                                       **shown)) from exc
    # The token is shown on this answer only: it is not kept anywhere (only its hash).
    return _users(request, principal, session, status=201, token=token, token_user=user.name)


@router.get("/admin/users/{name}")
def user_page(request: Request, name: str, principal: PageUser,
              session: SessionDep) -> Response:
    return _user(request, principal, session, name)


def _user(request: Request, principal: Principal, session: SessionDep, name: str, *,
          status: int = 200, error: str | None = None,
          problems: list[dict[str, str]] | None = None, token: str | None = None,
          note: str | None = None) -> Response:
    found = next(((u, c) for u, c in accounts.list_users(session, principal) if u.name == name),
                 None)
    if found is None:
        accounts.get_user(session, name)    # raises NotFound
    assert found is not None
    return render(request, "admin/user.html", status=status, account=found[0],
                  account_orgs=found[1], roles=ROLES, orgs=orgs.list_all(session),
                  error=error, problems=problems or [], token=token, note=note)


@router.post("/admin/users/{name}")
def update_user(request: Request, name: str, principal: PageUser, session: SessionDep,
                form: FormDep) -> Response:
    try:
        accounts.update_user(session, principal, user_name=name,
                             role=form_text(form, "role"),
                             org_codes=form_list(form, "org_codes"),
                             expires_on=_date(form_text(form, "expires_on")),
                             display_name=form_text(form, "display_name"),
                             disabled=form_text(form, "disabled") == "1")
    except ArchiveError as exc:
        raise FormError(exc, lambda s, **shown: _user(request, principal, s, name,
                                                      **shown)) from exc
    return redirect(f"/admin/users/{name}")


@router.post("/admin/users/{name}/password")
def reset_password(request: Request, name: str, principal: PageUser,
                   session: SessionDep) -> Response:
    """Reset, never set: the password is cleared and the user's sessions end; the user
    chooses the new one (account page) so that no administrator ever knows it."""
    try:
        web_sessions.reset_password(session, principal, user_name=name)
    except ArchiveError as exc:
        raise FormError(exc, lambda s, **shown: _user(request, principal, s, name,
                                                      **shown)) from exc
    return _user(request, principal, session, name, note="password_reset")


@router.post("/admin/users/{name}/tokens")
def create_token(request: Request, name: str, principal: PageUser, session: SessionDep,
                 form: FormDep) -> Response:
    try:
        token = accounts.create_token(session, principal, user_name=name,
                                      label=form_text(form, "label"))
    except ArchiveError as exc:
        raise FormError(exc, lambda s, **shown: _user(request, principal, s, name,
                                                      **shown)) from exc
    return _user(request, principal, session, name, status=201, token=token)


@router.post("/admin/users/{name}/tokens/revoke")
def revoke_tokens(request: Request, name: str, principal: PageUser, session: SessionDep,
                  form: FormDep) -> Response:
    try:
        accounts.revoke_tokens(session, principal, user_name=name,
                               prefix=form_text(form, "prefix"))
    except ArchiveError as exc:
        raise FormError(exc, lambda s, **shown: _user(request, principal, s, name,
                                                      **shown)) from exc
    return _user(request, principal, session, name, note="tokens_revoked")


# -- system health ---------------------------------------------------------------------

@router.get("/admin/health")
def health_page(request: Request, principal: PageUser, session: SessionDep) -> Response:
    require(principal, "system.health")
    depth: dict[str, dict[str, int]] = {}
    for kind, status, n in queue.queue_depth(session):
        depth.setdefault(kind, {})[status] = n
    return render(request, "admin/health.html", depth=dict(sorted(depth.items())),
                  statuses=JOB_STATUSES, failed=queue.list_jobs(session, status="failed",
                                                                limit=50),
                  checks={k: integrity.latest(session, k) for k in CHECKS},
                  alerts=integrity.alerts(session), workers=heartbeats.states(session),
                  ocr=ocr_tools(request.app.state.settings))


@router.post("/admin/jobs/{job_id}/retry")
def retry_job(request: Request, job_id: int, principal: PageUser,
              session: SessionDep) -> Response:
    require(principal, "jobs.manage")
    queue.retry(session, job_id)
    return redirect("/admin/health#failed")


def _date(value: str | None) -> dt.date | None:
    return date_param(value, "expires_on")


