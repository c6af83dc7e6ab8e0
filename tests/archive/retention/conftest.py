"""Fixtures of the retention tests."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture
def short_lock(monkeypatch: pytest.MonkeyPatch) -> float:
    """New blobs are locked in the store for a few seconds instead of ten years, so the
    test can see the store refuse a delete and later accept it (real time: neither the
    store nor the S3 server follows the test's clock)."""
    seconds = 3.0
    from archive.evidence import service

    monkeypatch.setattr(service, "new_bytes_lock", lambda *_, **__:
                        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))
    return seconds
