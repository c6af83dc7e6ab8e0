"""The audit trail: events in scope, and verification against the locked checkpoints."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CurrentUser, SessionDep, SettingsDep, StoreDep
from archive.audit import service as audit
from archive.audit.schemas import AuditEventOut

router = APIRouter(tags=["audit"])


@router.get("/audit/events", response_model=list[AuditEventOut])
def list_events(principal: CurrentUser, session: SessionDep,
                target_id: str | None = None, actor: str | None = None,
                action: str | None = None, since: dt.datetime | None = None,
                until: dt.datetime | None = None,
                after_seq: Annotated[int, Query(ge=0)] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Any]:
    """Events about organisations in your scope, oldest first; page with ``after_seq``."""
    return audit.events(session, principal, target_id=target_id, actor=actor, action=action,
                        since=since, until=until, after_seq=after_seq, limit=limit)


@router.get("/audit/verify")
def verify(principal: CurrentUser, session: SessionDep, store: StoreDep,
           settings: SettingsDep) -> dict[str, Any]:
    """Recompute the whole chain and compare it with every checkpoint in the store."""
    gap = dt.timedelta(hours=settings.audit_checkpoint_max_gap_hours)
    return audit.verify(session, store, principal,  # type: ignore[no-any-return]
                        max_gap=gap).to_dict()
