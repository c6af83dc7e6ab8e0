"""Evidence-pack exports: requested over the API, built by the ``export`` job, downloaded
from the write-once store.

Who may see an export: the requester, and anyone holding ``evidence.export`` whose scope
covers every organisation the export touches (the requester's organisations while it is
being built, the organisations of the records in the pack once it is done). Anyone else
gets 404, exactly as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock, tempfiles
from archive.accounts import service as accounts
from archive.accounts.models import User
from archive.accounts.principal import Principal, require, system_principal
from archive.errors import ArchiveError, Conflict, NotFound
from archive.orgs import scope
from archive.queue.service import enqueue
from archive.search import packs
from archive.search import service as search
from archive.search.models import Export
from archive.search.schemas import ExportOut, ExportRequest, SearchFilters
from archive.storage import ObjectStore
from archive.unit_of_work import UnitsOfWork

RETENTION_DAYS = 366


def request_export(session: Session, principal: Principal, req: ExportRequest) -> Export:
    """Record the request and enqueue its job (in the caller's transaction)."""
    require(principal, "evidence.export")
    if req.disbursement_id is not None:
        total = len(voucher_hits(session, principal, req.disbursement_id))
    elif req.ids is not None:
        total = len(search.hits_by_id(session, principal, req.ids))  # 404 unless all visible
    else:
        assert req.filters is not None
        total = search.count(session, principal, req.filters)
    scope_roots = None if principal.is_system else sorted(principal.org_ids)
    export = Export(requested_by=principal.name, requester_user_id=principal.user_id,
                    requester_role=principal.role, query=req.as_query(), status="queued",
                    progress={"phase": "queued", "done": 0, "total": total},
                    org_ids=scope_roots)
    session.add(export)
    session.flush()
    enqueue(session, "export", {"export_id": str(export.id)}, dedup_key=f"export:{export.id}")
    audit.record(session, actor=principal, action="export.request", target_type="export",
                 target_id=export.id, details={"query": export.query, "records": total})
    return export


def get_export(session: Session, principal: Principal, export_id: uuid.UUID) -> Export:
    # A role that can never export gets 403 like everywhere else; within the role, an
    # export outside one's scope looks absent (404).
    require(principal, "evidence.export")
    export = session.get(Export, export_id)
    if export is None or not _may_see(session, principal, export):
        raise NotFound("no such export")
    return export


def _may_see(session: Session, principal: Principal, export: Export) -> bool:
    if principal.is_system:
        return True
    if export.requester_user_id is not None and export.requester_user_id == principal.user_id:
        return True
    if not principal.can("evidence.export") or export.org_ids is None:
        return False
    return all(scope.in_scope(session, principal, org_id) for org_id in export.org_ids)


def open_download(session: Session, store: ObjectStore, principal: Principal,
                  export_id: uuid.UUID) -> tuple[Export, Iterator[bytes]]:
    """The finished zip, streamed from the store; the download is audited."""
    export = get_export(session, principal, export_id)
    if export.status != "done" or export.result_key is None:
        raise Conflict(f"the export is {export.status}, not ready for download",
                       code="export_not_ready")
    audit.record(session, actor=principal, action="export.download", target_type="export",
                 target_id=export.id, details={"sha256": export.result_sha256,
                                               "size": export.result_size})
    return export, store.open(export.result_key, export.result_version_id)


def to_out(export: Export) -> ExportOut:
    return ExportOut(id=export.id, status=export.status, requested_by=export.requested_by,
                     query=export.query, progress=export.progress,
                     record_count=export.record_count, sha256=export.result_sha256,
                     size=export.result_size, error=export.error, created_at=export.created_at,
                     finished_at=export.finished_at,
                     download=f"/api/v1/exports/{export.id}/download"
                     if export.status == "done" else None)


# -- the job ---------------------------------------------------------------------------

def run_export(units: UnitsOfWork, store: ObjectStore, export_id: uuid.UUID, *,
               work_dir: Path, report: Callable[[dict[str, Any]], None] | None = None,
               reads: UnitsOfWork | None = None) -> dict[str, Any]:
    """Build, store and register one export. Safe to run twice: a finished export is left
    alone, and each attempt stores its zip under its own content-addressed key.

    ``reads`` opens the session the records are read from (``ReadSessions.as_of_now``:
    the read replica once it has everything committed until now); the export's own rows
    are read and written in ``units``."""
    with units() as session:
        export = session.get(Export, export_id)
        if export is None:
            return {"skipped": "no such export"}
        if export.status in ("done", "failed"):
            return {"skipped": export.status}
        export.status, export.started_at = "running", clock.now()
    try:
        return _build_and_store(units, reads or units, store, export_id, work_dir, report)
    except ArchiveError as exc:
        # The request can no longer be served (the requester lost access, a record is
        # corrupt in the store, …): record why, do not retry.
        if exc.code in ("store_unavailable", "database_unavailable"):
            raise
        with units() as session:
            session.execute(sa.update(Export).where(Export.id == export_id).values(
                status="failed", error=f"{exc.code}: {exc.detail}", finished_at=clock.now()))
        return {"failed": exc.code}


def _requester(session: Session, export: Export) -> Principal:
    if export.requester_user_id is None:
        return system_principal(export.requested_by)
    user = session.get(User, export.requester_user_id)
    if user is None:
        raise NotFound("the requester no longer exists")
    principal = accounts.principal_for(session, user)
    require(principal, "evidence.export")
    return principal


def _build_and_store(units: UnitsOfWork, reads: UnitsOfWork, store: ObjectStore,
                     export_id: uuid.UUID, work_dir: Path,
                     report: Callable[[dict[str, Any]], None] | None) -> dict[str, Any]:
    def progress(state: dict[str, Any]) -> None:
        if report is not None:
            report(state)
        done = state.get("done") or 0
        if state.get("phase") != "collecting" or done % 50 == 0:
            with units() as s:
                s.execute(sa.update(Export).where(Export.id == export_id)
                          .values(progress=state))

    work_dir.mkdir(parents=True, exist_ok=True)
    with units() as session, reads() as records:
        export = session.get(Export, export_id)
        assert export is not None
        principal = _requester(session, export)
        source = pack_source(records, principal, export.query)
        request = packs.PackRequest(exported_by=export.requested_by,
                                    role=export.requester_role, query=export.query,
                                    export_id=str(export.id), created_at=export.created_at)
        with tempfile.TemporaryDirectory(dir=work_dir) as tmp, tempfiles.held(tmp):
            out = Path(tmp) / "pack.zip"
            result = packs.build_pack(records, store, source.hits, request=request, out=out,
                                      work_dir=Path(tmp), total=source.total,
                                      progress=progress, extra=source.extra)
            progress({"phase": "storing", "done": result.records, "total": source.total})
            key = f"exports/{export.id}/{result.sha256}.zip"
            info = store.put(key, out, result.size, content_type="application/zip",
                             retain_until=clock.now() + dt.timedelta(days=RETENTION_DAYS))
    with units() as session:
        export = session.get(Export, export_id)
        assert export is not None
        export.status, export.finished_at = "done", clock.now()
        export.result_key, export.result_version_id = key, info.version_id
        export.result_sha256, export.result_size = result.sha256, result.size
        # (a voucher's pack without files keeps the requester's scope as its visibility)
        export.record_count = result.records
        export.org_ids = result.org_ids or export.org_ids
        export.progress = {"phase": "done", "done": result.records, "total": result.records}
        audit.record(session, actor=principal, action="evidence.export", target_type="export",
                     target_id=export.id,
                     details={"query": export.query, "records": result.records,
                              "sha256": result.sha256, "size": result.size, "key": key,
                              "checkpoint": result.checkpoint})
    return {"records": result.records, "sha256": result.sha256, "size": result.size,
            "key": key}


def voucher_hits(session: Session, principal: Principal,
                  disbursement_id: uuid.UUID) -> list[search.Hit]:
    """Every file linked to the voucher (404 unless the voucher is in the caller's scope;
    a voucher's files are its organisation's)."""
    from archive.disbursements import service as disbursements

    disbursements.get(session, principal, disbursement_id, audit_read=False)
    ids = disbursements.evidence_ids_of(session, disbursement_id)
    return search.hits_by_id(session, principal, ids) if ids else []


@dataclass
class PackSource:
    """What a pack of an export's query holds: its records (an iterator), how many, and
    the voucher's own documents for a voucher's pack."""

    hits: Iterator[search.Hit]
    total: int
    extra: packs.Extra | None = None


def pack_source(records: Session, principal: Principal, query: dict[str, Any]) -> PackSource:
    """The records of an export's query (``ExportRequest.as_query``) as ``principal`` sees
    them, read in ``records``: the export job's session and ``archive export``'s alike
    (``ReadSessions.as_of_now``: the read replica once it has everything committed on
    the primary until now, else the primary)."""
    if "disbursement_id" in query:
        voucher = uuid.UUID(query["disbursement_id"])
        listed = voucher_hits(records, principal, voucher)
        return PackSource(iter(listed), len(listed),
                          packs.voucher_writer(records, principal, voucher, listed))
    if "ids" in query:
        hits = search.hits_by_id(records, principal, [uuid.UUID(i) for i in query["ids"]])
        return PackSource(iter(hits), len(hits))
    filters = SearchFilters(**query["filters"])
    return PackSource(search.iter_hits(records, principal, filters, sort="uploaded"),
                      search.count(records, principal, filters))
