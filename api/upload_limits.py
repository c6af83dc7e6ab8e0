"""Limits on uploads, so that slow or many uploads cannot take the archive down (issue 15
item 1): a cap on concurrent uploads per account, and an idle and a total time limit on
receiving the body. (No database connection is held while the body arrives: see
``api.deps.upload_caller``.)"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from api.errors import RequestTimeout, TooManyRequests


class UploadSlots:
    """Uploads in progress per account, in this process."""

    def __init__(self, per_account: int) -> None:
        self.per_account = per_account
        self._busy: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def take(self, account: str) -> Iterator[None]:
        with self._lock:
            if self._busy.get(account, 0) >= self.per_account:
                raise TooManyRequests(f"at most {self.per_account} uploads at once per "
                                      "account; wait for one to finish",
                                      code="too_many_uploads")
            self._busy[account] = self._busy.get(account, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._busy[account] - 1
                if left:
                    self._busy[account] = left
                else:
                    del self._busy[account]


async def timed(chunks: AsyncIterator[bytes], *, idle: float, total: float
                ) -> AsyncIterator[bytes]:
    """``chunks``, as long as each arrives within ``idle`` seconds of the last and all
    within ``total``; otherwise :class:`RequestTimeout` (408)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + total
    iterator = chunks.__aiter__()
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise RequestTimeout(f"the upload took longer than {total:g} s")
        try:
            # a timeout scope, not wait_for: that wrapped every chunk in a task of its own
            async with asyncio.timeout(min(idle, remaining)):
                chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            if deadline - loop.time() <= 0:
                raise RequestTimeout(f"the upload took longer than {total:g} s") from None
            raise RequestTimeout(f"no data received for {idle:g} s: the upload was "
                                 "abandoned") from None
        yield chunk
