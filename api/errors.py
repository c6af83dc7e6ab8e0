"""The one place where errors become HTTP answers: ``{"error": <code>, "detail": ...}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.multipart import MalformedMultipart
from archive import errors as e
from archive.validators import problem_message

log = logging.getLogger("api")

# Seconds a client is told to wait when the archive is busy (pool exhausted, too many
# uploads at once, too many failed sign-ins).
RETRY_AFTER = 5


class RequestTimeout(e.ArchiveError):
    """The request body did not arrive in time."""
    code = "request_timeout"


class TooManyRequests(e.ArchiveError):
    """Too many requests of this kind at once; try again later."""
    code = "too_many_requests"

    def __init__(self, detail: object = None, *, code: str | None = None,
                 retry_after: int = RETRY_AFTER) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after

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
    RequestTimeout: 408,
    TooManyRequests: 429,
}

_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
               413: "payload_too_large", 415: "unsupported_media_type",
               408: "request_timeout", 416: "range_not_satisfiable",
               412: "precondition_failed", 422: "invalid_request",
               428: "precondition_required", 429: "too_many_requests"}


def status_for(exc: e.ArchiveError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


def error_body(code: str, detail: object) -> dict[str, object]:
    return {"error": code, "detail": detail}


ERROR_SCHEMA = {
    "title": "Error", "type": "object", "required": ["error", "detail"],
    "properties": {"error": {"type": "string", "description": "machine-readable code"},
                   "detail": {"description": "what went wrong: a sentence, or a list of "
                                             "{field, message} for invalid fields"}},
}


def document_errors(app: FastAPI) -> None:
    """FastAPI documents its own 422 body (``{"detail": [{loc, msg, type}]}``); this API
    answers ``{"error", "detail"}`` (see ``invalid_request`` below), so the OpenAPI says so."""
    generate = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in components:
            components["HTTPValidationError"] = ERROR_SCHEMA
            components.pop("ValidationError", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    @app.exception_handler(e.ArchiveError)
    async def archive_error(request: Request, exc: e.ArchiveError) -> JSONResponse:
        status = status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if status == 408:
            headers["Connection"] = "close"   # the rest of the body is not read
        if status >= 500:
            log.warning("request.failed path=%s error=%s detail=%s", request.url.path,
                        exc.code, exc.detail)
        return JSONResponse(error_body(exc.code, exc.detail), status_code=status,
                            headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path",
                                                                   "header")]
            problems.append({"field": ".".join(loc) or "body",
                             "message": problem_message(err)})
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

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        # Every database connection is busy: the caller should come back, not see a crash.
        log.warning("database.pool_exhausted path=%s", request.url.path)
        return JSONResponse(error_body("busy", "the archive is busy; try again shortly"),
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER)})

    @app.exception_handler(DataError)
    async def database_refused_value(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the caller sent (a number beyond the column, text
        # it cannot hold): the caller's input, not our fault.
        log.info("request.bad_value path=%s error=%s", request.url.path,
                 str(exc.orig).splitlines()[0][:200] if exc.orig else "")
        return JSONResponse(error_body("invalid_input",
                                       "a value is out of range or not valid here"),
                            status_code=422)

    @app.exception_handler(OverflowError)
    async def number_too_large(request: Request, exc: OverflowError) -> JSONResponse:
        # SQLite's driver cannot bind an integer beyond 64 bits.
        return JSONResponse(error_body("invalid_input",
                                       "a number is too large (at most 64 bits)"),
                            status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request.crashed path=%s", request.url.path)
        return JSONResponse(error_body("internal_error", "unexpected error; it has been logged"),
                            status_code=500)
