"""What every page route shares: the caller, the form and its CSRF token, the language,
rendering, and errors shown as pages.

Page routes use :class:`PageRoute`: an error from a service (403, 404, 409, 422 …) becomes
an HTML page with the same status code instead of the API's JSON; a caller without a
session is sent to ``/login``. Who may do what is decided by the same services as in the
API; the routes only parse, call one service and render.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from python_multipart.exceptions import FormParserError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, SessionDep, authenticate_request
from api.errors import status_for
from api.multipart import MalformedMultipart, boundary_of
from api.web import i18n, present
from archive import clock
from archive.accounts.principal import Principal
from archive.errors import ArchiveError, InvalidInput, NotFound, Unauthenticated
from archive.unit_of_work import session_scope
from archive.validators import problem_message

HERE = Path(__file__).parent
LANG_COOKIE = "ea_lang"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
                               "object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(["html"], default=True),
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
templates.filters.update(present.FILTERS)


class FormError(Exception):
    """A service refused what a form asked: show the form again, with the error.

    A page route raises it (``raise FormError(exc, again) from exc``) instead of
    rendering the refusal itself. It leaves the route like any error, so the request's
    unit of work rolls back (and audits a refused attempt); then the page machinery calls
    ``again(session, status=…, error=…, problems=…)`` in a fresh, read-only unit of work
    to render the form with the error in the caller's language."""

    def __init__(self, error: ArchiveError, again: Callable[..., Response]) -> None:
        super().__init__(str(error))
        self.error = error
        self.again = again


class _ErrorPage(Exception):
    """An error page already rendered, on its way out of the unit of work (which rolls
    back) to :func:`install`'s handler, which answers with it."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class LoginRequired(Exception):
    """No valid session (or token): the browser goes to the sign-in page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- language --------------------------------------------------------------------------

def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    return cookie if cookie in i18n.LANGS else i18n.DEFAULT


# -- the caller ------------------------------------------------------------------------

async def page_form(request: Request) -> FormData:
    """The submitted form of a page (empty for reads and for script requests that send
    their CSRF token as a header and their own body)."""
    if request.method in SAFE_METHODS or request.headers.get(CSRF_HEADER):
        return FormData()
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        if ctype.startswith("multipart/form-data"):
            boundary_of(ctype)   # refuses a missing or over-long boundary (400, not 500)
        try:
            form = await request.form(max_files=0, max_fields=200)
        except FormParserError as exc:
            raise MalformedMultipart(f"malformed form body: {exc}") from None
        for key, value in form.multi_items():
            if "\x00" in key or (isinstance(value, str) and "\x00" in value):
                raise InvalidInput(f"form field {key.replace(chr(0), '')!r} contains a NUL "
                                   "character", code="invalid_text")
        return form
    return FormData()


FormDep = Annotated[FormData, Depends(page_form)]


def _authenticate(request: Request, session: SessionDep, csrf: str | None) -> Principal:
    try:
        principal = authenticate_request(request, session, csrf_token=csrf)
    except Unauthenticated as exc:
        raise LoginRequired(exc.code) from None
    request.state.principal = principal
    return principal


def page_user(request: Request, session: SessionDep, form: FormDep) -> Principal:
    """The caller of a page: session cookie (CSRF token from the form or the header) or
    a bearer token; without either, :class:`LoginRequired`."""
    csrf = form.get("csrf_token")
    return _authenticate(request, session, csrf if isinstance(csrf, str) else None)


def maybe_user(request: Request, session: SessionDep) -> Principal | None:
    try:
        return _authenticate(request, session, None)
    except LoginRequired:
        return None


PageUser = Annotated[Principal, Depends(page_user)]
MaybeUser = Annotated[Principal | None, Depends(maybe_user)]


def script_uploader(request: Request) -> Principal:
    """The caller of the upload page's file endpoint (CSRF token in the header), found in
    a unit of work of its own that ends before the body is read (no connection is held
    while it arrives)."""
    with session_scope(request.app.state.sessions) as session:
        return _authenticate(request, session, None)


ScriptUploader = Annotated[Principal, Depends(script_uploader)]


def form_text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def form_list(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


# -- rendering -------------------------------------------------------------------------

def context(request: Request, **extra: Any) -> dict[str, Any]:
    lang = lang_of(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    tr = i18n.translator(lang)
    query = dict(request.query_params)
    query.pop("lang", None)

    def switch(to: str) -> str:
        return request.url.path + "?" + urllib.parse.urlencode({**query, "lang": to})

    return {
        "request": request, "lang": lang, "_": tr, "user": principal,
        "csrf": getattr(request.state, "csrf", ""),
        "nav": present.nav(principal) if principal else [],
        "path": request.url.path, "switch_lang": switch,
        "fmt": present.Formatter(lang), "now": clock.now(),
        **extra,
    }


def render(request: Request, template: str, *, status: int = 200,
           headers: dict[str, str] | None = None, **extra: Any) -> HTMLResponse:
    ctx = context(request, **extra)
    body = templates.get_template(template).render(ctx)
    response = HTMLResponse(body, status_code=status, headers=headers)
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="lax",
                            secure=is_https(request), httponly=True)
    return response


def redirect(url: str, *, status: int = 303) -> RedirectResponse:
    return RedirectResponse(url, status_code=status)


def is_https(request: Request) -> bool:
    """HTTPS as the browser sees it. ``X-Forwarded-Proto`` is believed only in production
    (ARCHIVE_ENV=production), where the archive runs behind a proxy that sets it; anywhere
    else a client could send it."""
    if request.url.scheme == "https":
        return True
    settings = request.app.state.settings
    return bool(settings.env == "production" and
                request.headers.get("x-forwarded-proto", "").lower() == "https")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=is_https(request), path="/")


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict",
                           secure=is_https(request), path="/")


# -- errors as pages -------------------------------------------------------------------

def _error_page(request: Request, exc: ArchiveError, status: int) -> HTMLResponse:
    lang = lang_of(request)
    return render(request, "error.html", status=status, status_code=status, code=exc.code,
                  message=present.error_text(exc, lang),
                  problems=present.field_problems(exc.detail, lang))


def _login_redirect(request: Request) -> Response:
    if request.headers.get("hx-request"):   # htmx: reload the whole page at /login
        return Response(status_code=204, headers={"HX-Redirect": "/login"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in SAFE_METHODS:
        target = "/"
    return redirect("/login?" + urllib.parse.urlencode({"next": target}))


def _secured(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _form_again(request: Request, exc: FormError) -> Response:
    from archive.unit_of_work import session_scope

    lang = lang_of(request)
    with session_scope(request.app.state.sessions) as session:
        return exc.again(session, status=status_for(exc.error),
                         error=present.error_text(exc.error, lang),
                         problems=present.field_problems(exc.error.detail, lang))


def install(app: FastAPI) -> None:
    """Answer page errors once the request's unit of work has rolled back."""

    @app.exception_handler(_ErrorPage)
    async def error_page(request: Request, exc: _ErrorPage) -> Response:
        return exc.response

    @app.exception_handler(FormError)
    async def form_again(request: Request, exc: FormError) -> Response:
        return _secured(await run_in_threadpool(_form_again, request, exc))


class PageRoute(APIRoute):
    """A route that answers with pages: service errors become error pages (same status),
    a missing session a redirect to the sign-in page; security headers on every answer.

    A service error leaves the route as an exception whatever page it becomes, so the
    request's unit of work rolls back; nothing here or in the routes rolls back by hand."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                response = _login_redirect(request)
            except FormError:
                raise
            except ArchiveError as exc:
                raise _ErrorPage(_secured(_error_page(request, exc, status_for(exc)))) from exc
            except RequestValidationError as exc:
                bad_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
                err: ArchiveError = NotFound("no such page") if bad_path else InvalidInput(
                    [{"field": ".".join(str(p) for p in e.get("loc", ())[1:]),
                      "message": problem_message(e)} for e in exc.errors()])
                response = _error_page(request, err, 404 if bad_path else 422)
            except StarletteHTTPException as exc:
                response = _error_page(request, ArchiveError(exc.detail, code="http_error"),
                                       exc.status_code)
            return _secured(response)

        return page_handler
