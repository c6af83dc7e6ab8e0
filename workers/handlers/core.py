"""Handlers of the core jobs: inspect, fixity, worm_probe, audit_checkpoint, reconcile."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from archive import audit
from archive.accounts.principal import system_principal
from archive.audit.checkpoints import http_timestamper, write_checkpoint
from archive.errors import ArchiveError
from archive.evidence.service import default_retain_until
from archive.failpoints import failpoint
from archive.inspection import records as inspection
from archive.integrity import fixity, probe
from archive.integrity.verify import verify
from archive.queue.models import SystemCheck
from workers.registry import JobContext, handler


def _trust_roots(paths: tuple[Path, ...]) -> tuple[bytes, ...]:
    return tuple(Path(p).read_bytes() for p in paths)


@handler("inspect")
def inspect_evidence(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """PDF/A check and the other inspections of one record; stores the report."""
    evidence_id = uuid.UUID(payload["evidence_id"])
    with ctx.session() as s:
        evidence, blob, done = inspection.load(s, evidence_id)
        if done:
            return {"skipped": "already inspected"}
        if evidence.status == "destroyed":
            return {"skipped": "destroyed"}
        typed = inspection.typed_metadata(evidence)
        filename = evidence.original_filename
        s.expunge(blob)
    analysis = inspection.analyse(ctx.store, blob, typed, tmp_dir=ctx.settings.tmp_dir,
                                  trust_roots=_trust_roots(ctx.settings.trust_roots),
                                  filename=filename)
    failpoint("job.inspect.before_commit")
    with ctx.session() as s:
        row = inspection.record(s, system_principal("worker"), evidence_id, analysis)
        if row is None:
            return {"skipped": "inspected meanwhile"}
        return {"status": row.status, "pdfa_compliant": (analysis.pdfa or {}).get("compliant"),
                "warnings": len(row.warnings), "filled": row.filled}


@handler("fixity")
def fixity_audit(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    result = fixity.run(ctx.session, ctx.store, cycle_days=ctx.settings.fixity_cycle_days,
                        max_mbps=ctx.settings.fixity_max_mbps,
                        blob_ids=payload.get("blob_ids"), progress=ctx.progress,
                        stopping=ctx.stopping)
    return {"checked": result.checked, "bytes": result.bytes,
            "mismatches": len(result.mismatches)}


@handler("worm_probe")
def worm_probe(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        probe.sweep_canaries(ctx.store)
        result = probe.probe(ctx.store, retention_seconds=ctx.settings.probe_retention_seconds)
    except ArchiveError as exc:
        # A store that cannot even write a locked canary (a bucket without Object Lock,
        # say) is not a write-once store either.
        result = probe.ProbeResult(False, {"write_locked_canary": "FAILED"},
                                   f"could not write a locked canary: {exc.detail}")
    with ctx.session() as s:
        s.add(SystemCheck(kind="worm_probe", ok=result.ok, summary=result.detail,
                          details=result.to_dict()))
        if not result.ok:
            audit.record(s, actor=system_principal("worm_probe"), action="store.worm_probe",
                         details=result.to_dict(), outcome="critical")
    return result.to_dict()


@handler("audit_checkpoint")
def audit_checkpoint(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    stamper = http_timestamper(ctx.settings.tsa_url) if ctx.settings.tsa_url else None
    with ctx.session() as s:
        row = write_checkpoint(s, ctx.store, timestamper=stamper, retain_until=
                               default_retain_until(ctx.settings.default_retention_years))
        return {"seq": row.seq if row else None, "timestamped": bool(row and row.timestamped)}


@handler("reconcile")
def reconcile(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Daily walk of database and store: missing, orphaned and wrong-size objects."""
    with ctx.session() as s:
        report = verify(s, ctx.store, rehash=False)
        data = report.to_dict()
        s.add(SystemCheck(kind="reconcile", ok=report.ok,
                          summary=f"{report.blobs_checked} blobs, {report.objects_seen} objects,"
                                  f" {len(report.problems)} problems", details=data))
        if not report.ok:
            audit.record(s, actor=system_principal("reconcile"), action="store.reconcile",
                         details={"problems": data["problems"][:50]}, outcome="alert")
    return {"ok": report.ok, "problems": len(report.problems)}
