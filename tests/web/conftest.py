"""Fixtures of the page tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with the library's defaults (64 MiB, 3 passes) costs half a second per hash
    on a small machine; the tests sign in dozens of times. Same algorithm, cheap
    parameters — production keeps the defaults."""
    from argon2 import PasswordHasher

    from archive.accounts import web_sessions

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(web_sessions, "_hasher", cheap)
    monkeypatch.setattr(web_sessions, "_DUMMY_HASH", cheap.hash("not a password"))
