"""Scheduled proofs that the archive still holds what it says: fixity audits, the WORM
probe, and the latest results of each (``system_checks``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive.queue.models import SystemCheck


def latest(session: Session, kind: str) -> SystemCheck | None:
    return session.scalar(sa.select(SystemCheck).where(SystemCheck.kind == kind)
                          .order_by(SystemCheck.at.desc(), SystemCheck.id.desc()).limit(1))


def alerts(session: Session) -> list[dict[str, str | None]]:
    """Standing integrity alerts: blobs whose bytes failed a check (a fixity audit or a
    download) and a failed last WORM probe."""
    from archive.integrity.fixity import failing_blobs

    found: list[dict[str, str | None]] = [
        {"kind": "fixity_mismatch", "key": b.store_key, "version_id": b.version_id,
         "detail": f"checked at {b.fixity_checked_at:%Y-%m-%d %H:%M} UTC (fixity audit or "
                   "download): the stored bytes no longer match their SHA-256"}
        for b in failing_blobs(session)]
    probe = latest(session, "worm_probe")
    if probe is not None and not probe.ok:
        found.append({"kind": "worm_probe_failed", "key": None, "version_id": None,
                      "detail": f"{probe.at:%Y-%m-%d %H:%M} UTC: {probe.summary}"})
    return found
