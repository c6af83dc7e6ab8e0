"""Request-level input guards that apply to every route (issue 15 item 12).

* A NUL character is never valid text in the archive: PostgreSQL cannot store it in a
  text column (the driver raises), SQLite stores it and later comparisons surprise. It is
  refused for every route at once — in the path, the query string, and url-encoded or
  JSON bodies — before any route code runs, so both databases answer the same 422.
  (Multipart fields are checked by their parsers: ``api.multipart`` and the pages' form.)
* Values the database refuses (an integer beyond the column or beyond 64 bits) are the
  caller's input, so they answer 422 rather than 500; see ``api.errors``.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Bodies larger than this are not buffered for the check (uploads are multipart, and the
# JSON/form bodies of this API are a few kilobytes).
MAX_CHECKED_BODY = 1024 * 1024


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def nul_in_query(query: bytes) -> str | None:
    """The first parameter whose name or value holds a NUL, if any."""
    if b"%00" not in query and b"\x00" not in query:
        return None
    for key, value in urllib.parse.parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return key.replace("\x00", "") or "?"
    return None


def nul_in_body(content_type: str, body: bytes) -> bool:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return nul_in_query(body) is not None
    if content_type.startswith("application/json") or content_type.endswith("+json"):
        if b"\\u0000" not in body and b"\x00" not in body:
            return False
        try:
            return _has_nul(json.loads(body))
        except ValueError:
            return False   # not JSON at all: the route's own validation answers
    return False


class RejectNul:
    """Pure ASGI middleware (the body is buffered only when it must be checked)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", ""):
            await _refuse(send, "the path contains a NUL character")
            return
        bad = nul_in_query(scope.get("query_string", b""))
        if bad is not None:
            await _refuse(send, f"query parameter {bad!r} contains a NUL character")
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        length = headers.get(b"content-length", b"")
        checked = ctype.startswith("application/x-www-form-urlencoded") or \
            ctype.startswith("application/json") or ctype.endswith("+json")
        if not checked or not length.isdigit() or int(length) > MAX_CHECKED_BODY:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if nul_in_body(ctype, body):
            await _refuse(send, "a field of the request body contains a NUL character")
            return
        await self.app(scope, _replay([body], None, receive), send)


def _replay(bodies: list[bytes], last: Message | None, receive: Receive) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": b, "more_body": False}
                              for b in bodies]
    if last is not None:
        pending.append(last)

    async def again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()
    return again


async def _refuse(send: Send, detail: str) -> None:
    body = json.dumps({"error": "invalid_text", "detail": detail}).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
