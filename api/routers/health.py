from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from archive.inspection.ocr import ocr_tools

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The database and the object store answer."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        checks["database"] = {"status": "ok"}
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        checks["database"] = {"status": "unavailable", "detail": type(exc).__name__}
    store = request.app.state.store
    try:
        store.ping()
        checks["store"] = {"status": "ok", "detail": store.describe()}
    except Exception as exc:  # noqa: BLE001
        checks["store"] = {"status": "unavailable", "detail": str(exc)[:200]}
    ready = all(c["status"] == "ok" for c in checks.values())
    if checks["database"]["status"] == "ok":
        workers = _workers(request)
        checks["workers"] = workers
        # Workers ran but none is alive: exports stay queued, inspections never run.
        ready = ready and workers["status"] != "down"
        checks.update(_self_checks(request))
    # Without Tesseract scans are archived without OCR: said here, not a reason to stop.
    checks["ocr"] = ocr_tools(request.app.state.settings)
    return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks},
                        status_code=200 if ready else 503)


def _workers(request: Request) -> dict[str, Any]:
    """The workers' heartbeats: ``ok``, ``degraded`` (some dead or stalled), ``down`` (none
    alive: not ready) or ``none`` (no worker has run yet)."""
    from archive.queue import heartbeats

    with request.app.state.sessions() as s:
        found = heartbeats.states(s)
    out: dict[str, Any] = {"status": heartbeats.summary(found),
                           "live": sum(1 for w in found if w.state == "ok")}
    bad = [{"name": w.name, "state": w.state, "last_beat_seconds_ago": w.age_seconds,
            "threads_alive": f"{w.alive}/{w.threads}", "loop_errors": w.loop_errors}
           for w in found if w.state != "ok"]
    if bad:
        out["problems"] = bad
    return out


def _self_checks(request: Request) -> dict[str, dict[str, str]]:
    """The latest scheduled self-checks, for the record (they do not decide readiness: a
    failed WORM probe is an alarm for people, not a reason to stop serving reads)."""
    from archive.integrity import latest

    out: dict[str, dict[str, str]] = {}
    with request.app.state.sessions() as s:
        for kind in ("worm_probe", "fixity", "reconcile"):
            check = latest(s, kind)
            if check is None:
                out[kind] = {"status": "never_run"}
            else:
                status = "ok" if check.ok else ("critical" if kind == "worm_probe" else "alert")
                out[kind] = {"status": status, "at": check.at.isoformat(),
                             "detail": check.summary}
    return out
