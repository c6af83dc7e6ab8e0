"""Fixtures of the page tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """argon2 with the library's defaults (64 MiB, 3 passes) costs half a second per hash
    on a small machine; the tests sign in dozens of times. Same algorithm, cheap
    parameters — production keeps the defaults."""
    from argon2 import PasswordHasher

    from archive.accounts import web_sessions

    web_sessions.set_password_hasher(
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    web_sessions.set_password_hasher(None)
