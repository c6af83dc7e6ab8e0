"""Many files in one request (migrating years of backlog): each item atomic, the batch not.

A single upload pays, per file, an HTTP request, an authentication, a transaction with
its audit-chain append and one round trip to the store at a time. A batch pays them once:

1. **plan** every item in one read-only unit of work (role, scope, metadata, fiscal year,
   media type, bytes already archived or destroyed: :func:`service.plan_ingest`);
2. **put** the new bytes into the store concurrently, with no database connection held,
   once per distinct SHA-256 (the write-order rule: every object is in the store before
   any row points at it; a crash after a put leaves an orphan that ``archive verify``
   reports, never a row that points at nothing);
3. **record** the rows of every item in one unit of work: all at once in one savepoint
   when every item is new bytes (:func:`service.record_new_many`, a few statements for the
   whole batch: a backlog's usual case), otherwise — duplicates in the batch, bytes
   another upload archived since the plan, or the fast path failed — each in a savepoint
   of its own (:func:`service.record_ingest`): an item that fails leaves nothing behind
   and the others stand. Recording re-reads, under the lock every upload of the same
   bytes takes, what the plan saw: bytes destroyed meanwhile are refused (409
   ``blob_destroyed``, as they would be a moment later), bytes archived meanwhile by
   another upload are a repeat (409 ``duplicate_upload`` unless ``allow_duplicate``).
   The audit chain is appended once, at the commit, for all the items, and their
   follow-up jobs are enqueued in one statement.

An item's result is the HTTP status it would have had alone (201, 409, 413, 415, 422,
403, 404, 503) and the record or the error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit
from archive.accounts.principal import Principal, require
from archive.audit import service as audit_service
from archive.errors import ArchiveError
from archive.evidence import service
from archive.evidence.intake import Spool
from archive.evidence.models import Blob
from archive.evidence.schemas import EvidenceMetadata, parse_metadata
from archive.failpoints import failpoint
from archive.queue.service import enqueue_many
from archive.storage import ObjectInfo, ObjectStore
from archive.unit_of_work import UnitsOfWork


@dataclass
class BatchItem:
    """One file as received: its form fields, and the spool of its bytes (None when it
    was refused while it arrived: ``error``)."""

    fields: dict[str, str]
    filename: str
    client_media_type: str | None
    spool: Spool | None
    error: ArchiveError | None = None


@dataclass
class ItemResult:
    index: int
    filename: str
    result: service.IngestResult | None = None
    error: ArchiveError | None = None


def ingest_batch(units: UnitsOfWork, store: ObjectStore, principal: Principal,
                 items: Sequence[BatchItem], policy: service.IngestPolicy, *,
                 put_threads: int = 8) -> list[ItemResult]:
    require(principal, "evidence.create")
    results = [ItemResult(i, item.filename, error=item.error) for i, item in enumerate(items)]
    plans: dict[int, service.IngestPlan] = {}
    refusals: list[dict[str, object]] = []
    with units() as session:
        lookups = service.Lookups()
        lookups.prefetch_blobs(session, [item.spool.sha256 or item.spool.finish()
                                         for item in items if item.spool is not None])
        for i, item in enumerate(items):
            if item.error is not None or item.spool is None:
                continue
            try:
                meta = parse_metadata(EvidenceMetadata, item.fields)
                plans[i] = service.plan_ingest(session, principal, spool=item.spool,
                                               meta=meta, filename=item.filename,
                                               policy=policy, lookups=lookups)
            except ArchiveError as exc:
                results[i].error = exc
                if exc.refused_attempt is not None:
                    refusals.append(exc.refused_attempt)

    stored = _put_new_bytes(store, plans, put_threads)
    failpoint("batch.before_record")

    with units() as session:
        for attempt in refusals:
            audit.record(session, **attempt)  # type: ignore[arg-type]
        ready = {i: plan for i, plan in plans.items()
                 if plan.blob is not None or not isinstance(stored.get(plan.sha), ArchiveError)}
        if _record_all_at_once(session, principal, ready, stored, items, results):
            plans = {i: plan for i, plan in plans.items() if i not in ready}
        recorded: dict[str, Blob] = {}
        jobs: list[tuple[str, dict[str, Any], str | None]] = []
        for i, plan in plans.items():
            if plan.blob is None and plan.sha in recorded:
                plan = dataclasses.replace(plan, blob=recorded[plan.sha], retain_until=None)
            info = stored.get(plan.sha) if plan.blob is None else None
            if isinstance(info, ArchiveError):
                results[i].error = info
                continue
            pending = audit_service.queued(session)
            item_jobs: list[tuple[str, dict[str, Any], str | None]] = []
            savepoint = session.begin_nested()
            try:
                results[i].result = service.record_ingest(
                    session, principal, plan, info, client_media_type=items[i].client_media_type,
                    jobs=item_jobs)
                savepoint.commit()
            except ArchiveError as exc:
                savepoint.rollback()
                # a rolled-back savepoint drops the queued audit events: the earlier items'
                # events come back, this item's stay out
                audit_service.requeue(session, pending)
                results[i].error = exc
                continue
            recorded[plan.sha] = results[i].result.blob  # type: ignore[union-attr]
            jobs += item_jobs
        if jobs:
            enqueue_many(session, jobs)
    return results


def _record_all_at_once(session: Session, principal: Principal,
                        plans: dict[int, service.IngestPlan],
                        stored: dict[str, ObjectInfo | ArchiveError], items: Sequence[BatchItem],
                        results: list[ItemResult]) -> bool:
    """The fast path: every item new bytes, each SHA-256 once, all rows in a few
    statements in one savepoint. False (and nothing written) when the batch holds
    duplicates or a statement fails: then each item is recorded on its own."""
    shas = [plan.sha for plan in plans.values()]
    if not plans or any(plan.blob is not None for plan in plans.values()) or \
            len(set(shas)) != len(shas):
        return False
    pending = audit_service.queued(session)
    savepoint = session.begin_nested()
    try:
        done = service.record_new_many(session, principal, [
            (plan, stored[plan.sha], items[i].client_media_type)  # type: ignore[misc]
            for i, plan in plans.items()])
    except (ArchiveError, sa.exc.DBAPIError):
        done = None
    if done is None:   # a statement failed, or some bytes were archived meanwhile
        savepoint.rollback()
        audit_service.requeue(session, pending)
        return False
    savepoint.commit()
    for i, result in zip(plans, done, strict=True):
        results[i].result = result
    return True


def _put_new_bytes(store: ObjectStore, plans: dict[int, service.IngestPlan],
                   threads: int) -> dict[str, ObjectInfo | ArchiveError]:
    """Each distinct new SHA-256 put once, ``threads`` at a time."""
    new: dict[str, service.IngestPlan] = {}
    for plan in plans.values():
        if plan.blob is None:
            new.setdefault(plan.sha, plan)
    if not new:
        return {}

    def put(plan: service.IngestPlan) -> ObjectInfo | ArchiveError:
        try:
            return service.put_bytes(store, plan)
        except ArchiveError as exc:
            return exc

    with ThreadPoolExecutor(max(1, min(threads, len(new)))) as pool:
        return dict(zip(new, pool.map(put, new.values()), strict=True))
