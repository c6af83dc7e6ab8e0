"""Signing in and out, the start page, and one's own account."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request, Response

from api.deps import SESSION_COOKIE, SessionDep, client_address
from api.web import present
from api.web.pages import (
    FormDep,
    MaybeUser,
    PageRoute,
    PageUser,
    clear_session_cookie,
    form_text,
    is_https,
    lang_of,
    redirect,
    render,
    set_session_cookie,
)
from archive.accounts import web_sessions
from archive.errors import InvalidInput
from archive.messages import message

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_REFUSAL_STATUS = {"rate_limited": 429}
LOGIN_CSRF_COOKIE = "ea_login_csrf"


def _safe_next(target: str | None) -> str:
    """Only paths on this site (no scheme, no host, no ``//evil``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/")
def start(principal: MaybeUser) -> Response:
    """The signed-in user's first page, or the sign-in page."""
    return redirect(present.home_of(principal) if principal else "/login")


def _login_form(request: Request, *, next: str, error: str | None = None, name: str = "",
                status: int = 200) -> Response:
    """The sign-in form. There is no session yet, so its CSRF token is a random value
    held in a short-lived cookie and repeated in the form (double submit): another site
    can neither read the cookie nor set it, so it cannot sign a browser in."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status=status, next=next, error=error,
                      name=name, login_csrf=token)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True,
                        samesite="strict", secure=is_https(request), path="/login")
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return _login_form(request, next=_safe_next(next))


@router.post("/login")
def login(request: Request, session: SessionDep, form: FormDep) -> Response:
    name = form_text(form, "username") or ""
    password = form.get("password")
    target = _safe_next(form_text(form, "next"))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    given = form_text(form, "csrf_token") or ""
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        return _login_form(request, next=target, error="form_expired", name=name, status=403)
    result = web_sessions.login(session, name=name,
                                password=password if isinstance(password, str) else "",
                                client=client_address(request))
    if not result.ok:
        assert result.refusal is not None
        return _login_form(request, next=target, error=result.refusal, name=name,
                           status=_REFUSAL_STATUS.get(result.refusal, 401))
    assert result.token is not None
    response = redirect(target)
    set_session_cookie(request, response, result.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, principal: PageUser) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        web_sessions.logout(session, token, principal)
    response = redirect("/login")
    clear_session_cookie(request, response)
    return response


@router.get("/account")
def account(request: Request, principal: PageUser) -> Response:
    return render(request, "account.html", done=False, problems=[])


@router.post("/account/password")
def change_password(request: Request, session: SessionDep, principal: PageUser,
                    form: FormDep) -> Response:
    new = form.get("new") if isinstance(form.get("new"), str) else ""
    if new != form.get("again"):
        problems = present.field_problems(
            [{"field": "again", "message": message("password.differ",
                                                   "the two passwords differ")}],
            lang_of(request))
        return render(request, "account.html", status=422, done=False, problems=problems)
    try:
        web_sessions.change_own_password(
            session, principal, current=str(form.get("current") or ""), new=str(new))
    except InvalidInput as exc:   # nothing changed; a wrong password stays on record
        return render(request, "account.html", status=422, done=False,
                      problems=present.field_problems(exc.detail, lang_of(request)))
    response = redirect("/login")
    clear_session_cookie(request, response)
    return response
