"""The one place where errors become HTTP answers: ``{"error": <code>, "detail": ...}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.multipart import MalformedMultipart
from archive import errors as e

log = logging.getLogger("api")

# Looked up along the exception's class hierarchy (most specific first).
STATUS: dict[type[e.ArchiveError], int] = {
    MalformedMultipart: 400,
    e.InvalidInput: 422,
    e.NotFound: 404,
    e.Conflict: 409,
    e.PreconditionFailed: 412,
    e.PreconditionRequired: 428,
    e.PayloadTooLarge: 413,
    e.UnsupportedMediaType: 415,
    e.Unauthenticated: 401,
    e.PermissionDenied: 403,
    e.RetentionLocked: 409,
    e.Gone: 410,
    e.StoreUnavailable: 503,
    e.DatabaseUnavailable: 503,
    e.StoreIntegrityError: 502,
}

_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
               413: "payload_too_large", 415: "unsupported_media_type",
               416: "range_not_satisfiable",
               412: "precondition_failed", 422: "invalid_request",
               428: "precondition_required", 429: "too_many_requests"}


def status_for(exc: e.ArchiveError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


def error_body(code: str, detail: object) -> dict[str, object]:
    return {"error": code, "detail": detail}


def install(app: FastAPI) -> None:
    @app.exception_handler(e.ArchiveError)
    async def archive_error(request: Request, exc: e.ArchiveError) -> JSONResponse:
        status = status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status >= 500:
            log.warning("request.failed path=%s error=%s detail=%s", request.url.path,
                        exc.code, exc.detail)
        return JSONResponse(error_body(exc.code, exc.detail), status_code=status,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path",
                                                                   "header")]
            problems.append({"field": ".".join(loc) or "body",
                             "message": str(err.get("msg", "")).removeprefix("Value error, ")})
        return JSONResponse(error_body("invalid_request", problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, exc.detail), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_down(request: Request, exc: DBAPIError) -> JSONResponse:
        log.warning("database.unavailable path=%s error=%s", request.url.path, exc.orig)
        return JSONResponse(error_body("database_unavailable",
                                       "the database cannot be reached; try again shortly"),
                            status_code=503)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request.crashed path=%s", request.url.path)
        return JSONResponse(error_body("internal_error", "unexpected error; it has been logged"),
                            status_code=500)
