"""The HTTP server's own limits (issue 15 item 3): what uvicorn does not bound by itself.

uvicorn closes a connection that stays idle *between* requests (``timeout_keep_alive``),
but a connection that sends half a request head and then trickles or stops is kept for
ever: 1,000 of them were never closed. :class:`HeaderTimeoutH11` gives every request head
``header_timeout_seconds`` from the moment the connection opens (or the previous answer
ends) to arrive complete, whatever it sends meanwhile; then the connection is closed.
The size of a head is bounded by h11 (``h11_max_incomplete_event_size``).

In production a reverse proxy sits in front (deploy/nginx); these limits keep the
server safe on its own as well (embedded use, or a misconfigured proxy).
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("api")


@lru_cache(maxsize=1)
def _settings_timeout() -> float:
    from archive.config import Settings

    return Settings().header_timeout_seconds


class HeaderTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._head_deadline = self.loop.call_later(_settings_timeout(), self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:   # the head is in
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()                              # the next head gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info("http.head_timeout client=%s", self.client)
            self.transport.close()


def server_options(settings: Any) -> dict[str, Any]:
    """uvicorn options for ``archive serve``."""
    return {"http": HeaderTimeoutH11, "timeout_keep_alive": settings.keep_alive_seconds,
            "h11_max_incomplete_event_size": settings.max_header_bytes}
