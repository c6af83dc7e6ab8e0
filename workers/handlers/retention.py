"""Job handlers of the retention domain (the work itself: ``archive.retention.job_bodies``)."""

from __future__ import annotations

from typing import Any

from archive.retention import job_bodies
from workers.registry import JobContext, handler


@handler("retention_compute")
def retention_compute(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return job_bodies.retention_compute(ctx, payload)


@handler("retention_recompute")
def retention_recompute(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return job_bodies.retention_recompute(ctx, payload)


@handler("retention_sync_locks")
def retention_sync_locks(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return job_bodies.retention_sync_locks(ctx, payload)


@handler("retention_survey")
def retention_survey(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return job_bodies.retention_survey(ctx, payload)


@handler("disposition_execute")
def disposition_execute(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return job_bodies.disposition_execute(ctx, payload)


@handler("disposition_purge")
def disposition_purge(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return job_bodies.disposition_purge(ctx, payload)
