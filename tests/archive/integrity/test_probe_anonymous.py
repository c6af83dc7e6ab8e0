"""The WORM probe also proves that the S3 endpoint refuses requests without credentials
(issue 15, "Store deployment").

GIVEN the S3 stack's SeaweedFS, configured with credentials as in production, THEN
anonymous GET, PUT, DELETE and LIST of the probe's canary are refused (403) and the probe
passes; GIVEN a SeaweedFS started without credentials (its gateway then serves anyone),
THEN the probe fails and names what was accepted.
"""

from __future__ import annotations

from pathlib import Path

from archive.integrity.probe import probe
from tests import servers
from tests.conftest import Env, make_s3_store

ANONYMOUS = {"anonymous_get", "anonymous_put", "anonymous_delete", "anonymous_list"}


def test_probe_sees_anonymous_requests_refused(env: Env):
    result = probe(env.store, retention_seconds=5)
    assert result.ok, result.detail
    if env.stack == "sqlite":      # a local folder has no network door to try
        assert not ANONYMOUS & set(result.attempts)
    else:
        assert {k: result.attempts[k] for k in ANONYMOUS} == dict.fromkeys(ANONYMOUS,
                                                                         "refused")


def test_probe_fails_on_an_s3_endpoint_that_serves_anyone(tmp_path: Path):
    weed = servers.start_seaweed(tmp_path / "open-weed", credentials=False)
    try:
        store = make_s3_store(weed)
        store.prepare()
        result = probe(store, retention_seconds=5)
    finally:
        weed.stop()
    assert not result.ok
    assert result.attempts["anonymous_get"] == "ACCEPTED"
    assert result.attempts["anonymous_put"] == "ACCEPTED"
    assert result.attempts["delete"] == "refused"     # the lock itself still holds
    assert "anonymous_get ACCEPTED" in result.detail
