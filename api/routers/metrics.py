"""Prometheus metrics, read from the database at scrape time so that they describe the
whole deployment (every API replica and worker), not just this process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
)

from archive.audit.models import AuditEvent
from archive.evidence.models import Blob, Evidence
from archive.integrity import alerts, latest
from archive.queue.models import Job

router = APIRouter(tags=["health"])


class ArchiveCollector:
    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Any]:
        with self.sessions() as s:
            depth = GaugeMetricFamily("archive_jobs", "Jobs by kind and status",
                                      labels=["kind", "status"])
            for kind, status, n in s.execute(sa.select(Job.kind, Job.status, sa.func.count())
                                             .group_by(Job.kind, Job.status)):
                depth.add_metric([kind, status], n)
            yield depth
            durations = GaugeMetricFamily(
                "archive_job_duration_seconds_avg",
                "Average run time of finished jobs by kind (last 1,000 per kind)",
                labels=["kind"])
            maxima = GaugeMetricFamily("archive_job_duration_seconds_max",
                                       "Longest run time of finished jobs by kind",
                                       labels=["kind"])
            for kind, started, finished in _recent_runs(s):
                secs = [(f - st).total_seconds() for st, f in zip(started, finished, strict=True)]
                durations.add_metric([kind], sum(secs) / len(secs))
                maxima.add_metric([kind], max(secs))
            yield durations
            yield maxima
            failures = GaugeMetricFamily("archive_jobs_failed", "Jobs failed for good",
                                         labels=["kind"])
            for kind, n in s.execute(sa.select(Job.kind, sa.func.count())
                                     .where(Job.status == "failed").group_by(Job.kind)):
                failures.add_metric([kind], n)
            yield failures
            uploads = CounterMetricFamily("archive_uploads", "Evidence records created")
            uploads.add_metric([], s.scalar(sa.select(sa.func.count()).select_from(Evidence))
                               or 0)
            yield uploads
            stored = GaugeMetricFamily("archive_bytes_stored",
                                       "Bytes of distinct blobs in the store")
            stored.add_metric([], float(s.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Blob.size), 0))
                .where(Blob.deleted_at.is_(None))) or 0))
            yield stored
            fixity = GaugeMetricFamily("archive_fixity_blobs", "Blobs by last fixity verdict",
                                       labels=["result"])
            for ok, n in s.execute(sa.select(Blob.fixity_ok, sa.func.count())
                                   .where(Blob.deleted_at.is_(None)).group_by(Blob.fixity_ok)):
                fixity.add_metric(["unchecked" if ok is None else "ok" if ok else "mismatch"], n)
            yield fixity
            probe = latest(s, "worm_probe")
            worm = GaugeMetricFamily("archive_worm_probe_ok",
                                     "1 if the last WORM probe saw every destructive attempt "
                                     "refused, 0 if not, -1 if never run")
            worm.add_metric([], -1 if probe is None else int(probe.ok))
            yield worm
            standing = GaugeMetricFamily(
                "archive_integrity_alerts",
                "Standing integrity alerts by kind (bytes that failed a fixity audit or a "
                "download check; a failed WORM probe)", labels=["kind"])
            counts: dict[str, int] = {"fixity_mismatch": 0, "worm_probe_failed": 0}
            for alert in alerts(s):
                counts[str(alert["kind"])] = counts.get(str(alert["kind"]), 0) + 1
            for kind, n in sorted(counts.items()):
                standing.add_metric([kind], n)
            yield standing
            refused = CounterMetricFamily(
                "archive_download_integrity_failures",
                "Downloads refused or aborted because the stored bytes did not match")
            refused.add_metric([], s.scalar(
                sa.select(sa.func.count()).select_from(AuditEvent)
                .where(AuditEvent.action == "evidence.integrity_failure")) or 0)
            yield refused


def _recent_runs(s: Any) -> Iterator[tuple[str, list[Any], list[Any]]]:
    kinds = list(s.scalars(sa.select(Job.kind).distinct()))
    for kind in kinds:
        rows = s.execute(sa.select(Job.started_at, Job.finished_at)
                         .where(Job.kind == kind, Job.status == "done",
                                Job.started_at.is_not(None), Job.finished_at.is_not(None))
                         .order_by(Job.id.desc()).limit(1000)).all()
        if rows:
            yield kind, [r[0] for r in rows], [r[1] for r in rows]


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ArchiveCollector(request.app.state.sessions))  # type: ignore[arg-type]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
