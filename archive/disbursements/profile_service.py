"""The required-evidence profile in the database: seed, read, change (versioned, audited).

The profile is national data — one for every organisation, like the retention schedules —
so only a records manager attached to a top-level organisation (e.g. DLA) may change it;
everyone who reads vouchers may read it. A change recomputes every voucher's findings (the
``disbursements_recompute`` job, national).
"""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts.principal import Principal, require
from archive.db import rowcount, upsert_ignore
from archive.disbursements.described import stage_profile
from archive.disbursements.models import DisbursementProfile, DisbursementProfileVersion
from archive.disbursements.profiles import (
    DEFAULT_CODE,
    DEFAULT_PROFILE,
    Profile,
    check_profile,
)
from archive.errors import Conflict, InvalidInput, PreconditionFailed
from archive.queue.service import enqueue
from archive.retention.schedules.service import require_national

_CURRENT = sa.select(DisbursementProfile).where(DisbursementProfile.code == DEFAULT_CODE)


def ensure_profile(session: Session) -> DisbursementProfile:
    """The current profile, inserting the default on first use (idempotent, race-safe)."""
    row = session.scalar(_CURRENT)
    if row is not None:
        return row
    now = clock.now()
    created = upsert_ignore(session, DisbursementProfile, {
        "code": DEFAULT_CODE, "version": 1, "data": copy.deepcopy(DEFAULT_PROFILE),
        "updated_by": "system", "updated_at": now}, ["code"], returning=DisbursementProfile)
    for profile in created:
        session.add(DisbursementProfileVersion(
            profile_id=profile.id, version=1, data=profile.data, changed_by="system",
            changed_at=now, reason="default profile (DISBURSEMENT.md)"))
    session.flush()
    row = session.scalar(_CURRENT)
    assert row is not None
    return row


def current_profile(session: Session) -> Profile:
    """The typed profile the rules read (seeded on first use)."""
    row = ensure_profile(session)
    return Profile.from_data(row.data, version=row.version)


def get_profile(session: Session, principal: Principal) -> DisbursementProfile:
    require(principal, "disbursements.profile.read")
    return ensure_profile(session)


def profile_versions(session: Session, principal: Principal) -> list[DisbursementProfileVersion]:
    require(principal, "disbursements.profile.read")
    row = ensure_profile(session)
    return list(session.scalars(
        sa.select(DisbursementProfileVersion)
        .where(DisbursementProfileVersion.profile_id == row.id)
        .order_by(DisbursementProfileVersion.version)))


def set_profile(session: Session, principal: Principal, data: dict[str, Any], *,
                reason: str, expected_version: int | None = None) -> DisbursementProfile:
    """Save ``data`` as the next version of the profile and recompute every voucher."""
    require_national(session, principal, "disbursements.profile.manage")
    problems = check_profile(data)
    if problems:
        raise InvalidInput(problems, code="invalid_profile")
    if not reason or not reason.strip():
        raise InvalidInput([{"field": "reason", "message": "say why the profile changes"}],
                           code="invalid_profile")
    row = ensure_profile(session)
    if expected_version is not None and expected_version != row.version:
        raise PreconditionFailed(f"the profile is at version {row.version}, not "
                                 f"{expected_version}: read it again and re-apply your change")
    if row.data == data:
        return row
    before = row.version
    now = clock.now()
    updated = rowcount(session.execute(
        sa.update(DisbursementProfile)
        .where(DisbursementProfile.id == row.id, DisbursementProfile.version == before)
        .values(version=before + 1, data=data, updated_by=principal.name, updated_at=now)
        .execution_options(synchronize_session=False)))
    if updated != 1:
        raise Conflict("the profile was changed by someone else meanwhile; reload and retry",
                       code="version_conflict")
    session.refresh(row)
    session.add(DisbursementProfileVersion(profile_id=row.id, version=row.version, data=data,
                                           changed_by=principal.name, changed_at=now,
                                           reason=reason))
    stage_profile(session)
    enqueue(session, "disbursements_recompute", {"scope": "national"},
            dedup_key=f"disbursements_recompute:profile:v{row.version}")
    audit.record(session, actor=principal, action="disbursements.profile_update",
                 target_type="disbursement_profile", target_id=row.code,
                 details={"version": row.version, "reason": reason,
                          "changed": sorted(k for k in set(data) | set(_previous(session, row))
                                            if data.get(k) != _previous(session, row).get(k))})
    return row


def _previous(session: Session, row: DisbursementProfile) -> dict[str, Any]:
    prev = session.scalar(sa.select(DisbursementProfileVersion.data).where(
        DisbursementProfileVersion.profile_id == row.id,
        DisbursementProfileVersion.version == row.version - 1))
    return dict(prev or {})
