"""The retention domain's jobs, as plain functions of a job context and a payload.

``workers/handlers/retention.py`` registers them with the worker (the core must not
import ``workers``); the context is anything with ``session()`` (one unit of work per
call), ``store``, ``settings`` and ``progress()`` — the worker's ``JobContext``. Every
job takes ids, opens one unit of work per step through ``ctx.session`` and is safe to
run twice.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.accounts.principal import system_principal
from archive.catalogue.objects import PROOF_YEARS
from archive.config import Settings
from archive.evidence.models import Blob, Evidence, blob_users
from archive.retention import compute, execution, locks, survey
from archive.retention.models import LegalHoldItem
from archive.storage import ObjectStore

# Destruction certificates are proof that destruction was lawful: kept (locked) long, as
# long as the tombstones they list (archive.catalogue.objects.PROOF_YEARS).
CERTIFICATE_YEARS = PROOF_YEARS


class Context(Protocol):
    settings: Settings
    store: ObjectStore

    def session(self) -> AbstractContextManager[Session]: ...

    def progress(self, state: dict[str, Any]) -> None: ...


def retention_compute(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """``{"evidence_id"}``: compute one record's retention (queued by ingest)."""
    with ctx.session() as session:
        outcomes = compute.recompute(session, [uuid.UUID(payload["evidence_id"])])
    if not outcomes:
        return {"skipped": "no such live record"}
    d = outcomes[0].decision
    return {"retain_until": d.retain_until.isoformat() if d.retain_until else None,
            "final": d.final, "held": d.held, "changed": outcomes[0].changed}


def retention_recompute(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """Recompute many records: ``{"schedule_id"}``, ``{"org_id", "fiscal_year"}``,
    ``{"hold"}`` (a hold's records) or ``{"stale": true}`` (not computed or provisional)."""
    with ctx.session() as session:
        if "schedule_id" in payload:
            ids = compute.ids_where(session, Evidence.schedule_id == payload["schedule_id"])
        elif "org_id" in payload:
            ids = compute.ids_where(session, Evidence.org_id == payload["org_id"],
                                    Evidence.fiscal_year == payload["fiscal_year"])
        elif "hold" in payload:
            ids = list(session.scalars(sa.select(LegalHoldItem.evidence_id).where(
                LegalHoldItem.hold_id == uuid.UUID(payload["hold"]))))
        else:
            # Not computed yet, or provisional with the earliest date passed (their final
            # date may have come: the not-audited period ran out).
            ids = compute.ids_where(session, sa.or_(
                Evidence.retain_until.is_(None), Evidence.schedule_id.is_(None),
                sa.and_(Evidence.retention_basis.like("%: provisional,%"),
                        Evidence.retain_until <= clock.now())))
    changed = 0
    for start in range(0, len(ids), compute.BATCH):
        with ctx.session() as session:
            changed += sum(o.changed for o in
                           compute.recompute(session, ids[start:start + compute.BATCH]))
        ctx.progress({"done": min(start + compute.BATCH, len(ids)), "total": len(ids)})
    return {"records": len(ids), "extended": changed}


def retention_sync_locks(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """``{"blob_id"}`` for one blob (``"describe": true``: and what describes its records,
    even if its lock does not move), ``{}`` for every blob whose lock is behind (and then
    the latest snapshots of organisations, schedules and profile: ``locks.sync_snapshots``)."""
    report = locks.SyncReport()
    horizon = ctx.settings.lock_min_horizon_days
    if "blob_id" in payload:
        with ctx.session() as session:
            together = locks.held_together(session, int(payload["blob_id"]))
        describe = bool(payload.get("describe"))
        for blob_id in together:
            with ctx.session() as session:
                locks.sync_blob(session, ctx.store, blob_id, report, horizon_days=horizon,
                                describe=describe)
        return report.to_dict()
    seen: set[int] = set()
    while True:
        with ctx.session() as session:
            todo = [b for b, _, _ in locks.blobs_to_sync(session, limit=500,
                                                         horizon_days=horizon)
                    if b not in seen]
        if not todo:
            break
        for blob_id in todo:
            seen.add(blob_id)
            with ctx.session() as session:
                locks.sync_blob(session, ctx.store, blob_id, report, horizon_days=horizon)
        ctx.progress(report.to_dict())
    # Once a run, not per blob: the snapshots every record needs (one query when done).
    with ctx.session() as session:
        locks.sync_snapshots(session, ctx.store, report)
    return report.to_dict()


def retention_survey(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """The yearly survey (ข้อ 66): drafts lists, destroys nothing."""
    import datetime as dt

    as_of = dt.date.fromisoformat(payload["as_of"]) if payload.get("as_of") else None
    with ctx.session() as session:
        result = survey.survey(session, system_principal("job:retention_survey"),
                                    as_of=as_of)
    return {"as_of": result.as_of.isoformat(), "eligible": result.eligible,
            "listed": result.listed, "lists": result.lists}


def disposition_execute(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """``{"list_id"}``: execute an approved list (queued by the execution request)."""
    return execution.execute(ctx.session, ctx.store, uuid.UUID(payload["list_id"]),
                             certificate_years=CERTIFICATE_YEARS)


def disposition_purge(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """Retry deletes the store refused (``{"blob_id"}``, or every such blob — and every
    blob whose purge died between its mark and the store's answers), then write the
    supplementary certificates of lists whose deletes are now all done; the daily sweep
    (``{}``) then finishes the lists whose execution job gave up
    (``execution.finish_abandoned``)."""
    if "blob_id" in payload:
        blob_ids = [int(payload["blob_id"])]
    else:
        with ctx.session() as session:
            users = blob_users()   # originals and renditions alike

            def used(destroyed: bool) -> Any:
                return (sa.select(Evidence.id).join(users, users.c.evidence_id == Evidence.id)
                        .where(users.c.blob_id == Blob.id,
                               Evidence.status == "destroyed" if destroyed
                               else Evidence.status != "destroyed").exists())

            live, gone = used(False), used(True)
            blob_ids = list(session.scalars(sa.select(Blob.id).where(
                Blob.deleted_at.is_(None), ~live, gone)))
            blob_ids += execution.purges_to_resume(session)
    results = [execution.purge_blob(ctx.session, ctx.store, b) for b in blob_ids]
    certificates = execution.finish_purges(ctx.session, ctx.store,
                                           certificate_years=CERTIFICATE_YEARS)
    if "blob_id" in payload:
        return {"blobs": results, "certificates": certificates}
    executed = execution.finish_abandoned(ctx.session, ctx.store,
                                          certificate_years=CERTIFICATE_YEARS)
    return {"blobs": results, "certificates": certificates, "executed": executed}


HANDLERS = {
    "retention_compute": retention_compute,
    "retention_recompute": retention_recompute,
    "retention_sync_locks": retention_sync_locks,
    "retention_survey": retention_survey,
    "disposition_execute": disposition_execute,
    "disposition_purge": disposition_purge,
}
