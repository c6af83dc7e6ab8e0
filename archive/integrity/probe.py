"""The WORM probe: prove that the store really refuses to destroy evidence.

A canary object is written with a short COMPLIANCE retention; then the probe tries to
delete its version, to overwrite it, and to shorten its retention. Each attempt must be
refused (for an overwrite on a versioned bucket: the original version must stay intact).
It also sends the S3 endpoint requests without credentials — read, write, delete and
list the canary, and plain HTTP to a TLS endpoint: each must be refused (401/403), or
anyone who can reach the store could read or destroy evidence around the archive.
If any succeeds, the store is not write-once: a critical alert is recorded and shown on
``/readyz`` and by ``archive verify``. Canaries of earlier runs are removed once their
retention has passed.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass, field
from typing import Any

from archive import clock
from archive.errors import RetentionLocked, StoreIntegrityError, StoreUnavailable
from archive.storage import ObjectStore

PREFIX = "probe/"


@dataclass
class ProbeResult:
    ok: bool
    attempts: dict[str, str] = field(default_factory=dict)   # what → refused | ACCEPTED | …
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "attempts": self.attempts, "detail": self.detail}


def probe(store: ObjectStore, *, retention_seconds: int = 60) -> ProbeResult:
    now = clock.system_now()
    key = f"{PREFIX}{now:%Y%m%dT%H%M%S}-{os.urandom(4).hex()}"
    body = b"evidence-archive WORM canary " + key.encode()
    until = now + dt.timedelta(seconds=retention_seconds)
    info = store.put(key, io.BytesIO(body), len(body), retain_until=until,
                     content_type="text/plain")
    attempts: dict[str, str] = {}

    try:
        store.delete_version(key, info.version_id)
        attempts["delete"] = "ACCEPTED"
    except RetentionLocked:
        attempts["delete"] = "refused"

    other = b"overwritten " + body
    try:
        store.put(key, io.BytesIO(other), len(other), retain_until=until)
        refused = False
    except (RetentionLocked, StoreIntegrityError):
        refused = True
    try:
        intact = store.read_all(key, info.version_id) == body
    except StoreIntegrityError:
        intact = False
    attempts["overwrite"] = "refused" if refused or intact else "ACCEPTED"

    try:
        store.set_retention(key, info.version_id, now)
        stat = store.stat(key, info.version_id)
        shortened = stat is None or stat.retain_until is None or stat.retain_until < until
        attempts["shorten_retention"] = "ACCEPTED" if shortened else "refused"
    except RetentionLocked:
        attempts["shorten_retention"] = "refused"

    try:
        attempts.update(store.anonymous_attempts(key, info.version_id))
    except StoreUnavailable as exc:
        attempts["anonymous"] = f"unclear ({exc.detail})"

    ok = all(v == "refused" for v in attempts.values())
    accepted = [k for k, v in attempts.items() if v != "refused"]
    detail = ("the store refused every attempt to destroy the canary or to reach it "
              "without credentials" if ok else
              f"the store did not refuse: {', '.join(f'{k} {attempts[k]}' for k in accepted)}"
              " — evidence is not safe there")
    return ProbeResult(ok, attempts, detail)


def sweep_canaries(store: ObjectStore) -> int:
    """Delete canaries whose retention has passed; returns how many went."""
    removed = 0
    now = clock.system_now()
    for info in list(store.list_objects(PREFIX)):
        stat = store.stat(info.key, info.version_id)
        if stat is None or (stat.retain_until and stat.retain_until > now) or stat.legal_hold:
            continue
        try:
            store.delete_version(info.key, info.version_id)
            removed += 1
        except (RetentionLocked, StoreIntegrityError, ValueError):
            continue
    return removed
