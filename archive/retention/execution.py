"""Executing an approved disposition list, and the destruction certificate.

Order of writes (DESIGN.md "Order of writes"): for each item a **tombstone is committed
first** — the record's metadata, SHA-256, schedule and legal basis, the approvals, who,
when and why — and the record is marked destroyed (its content answers 410 from then on).
Only then are the **bytes** deleted, every stored version of the object, and only when no
live record still uses them; the store's answer to each delete is recorded. Derived data
(extracted text, inspection reports) is purged with them. Last, the **certificate** is
written into the locked store and its SHA-256 into the audit trail.

When the store refuses a delete (its COMPLIANCE lock is later than today, e.g. because
the bytes were locked for the default period at ingest) the refusal is recorded, the
record stays destroyed (tombstoned, unreadable through the archive), and a
``disposition_purge`` job retries when the lock ends; a supplementary certificate then
records the deletion. Every step is idempotent: a job that dies half-way and runs again
skips what is done.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock, messages
from archive.accounts.principal import Principal, system_principal
from archive.db import dialect_name
from archive.errors import RetentionLocked, StoreUnavailable
from archive.evidence import service as evidence_service
from archive.evidence.models import Blob, Evidence, Inspection, blob_users
from archive.failpoints import failpoint
from archive.jsonable import jsonable
from archive.messages import message
from archive.orgs.models import Organisation
from archive.queue.models import Job
from archive.retention import compute, disposition, execution_request, list_queries
from archive.retention.certificate import date_en, date_th, outcome, render_html, statement
from archive.retention.models import DispositionCertificate, DispositionItem, DispositionList
from archive.retention.schedules.models import RetentionSchedule, Tombstone
from archive.retention.schedules.service import schedule_values, stage_tombstone
from archive.search.models import BlobText
from archive.storage import ObjectStore
from archive.unit_of_work import UnitsOfWork

JOB_ACTOR = "job:disposition_execute"


def _actor() -> Principal:
    return system_principal(JOB_ACTOR)


def execute(units: UnitsOfWork, store: ObjectStore, list_id: uuid.UUID, *,
            certificate_years: int) -> dict[str, Any]:
    """Run (or resume) the execution of one list; returns a summary."""
    with units() as session:
        dl = session.get(DispositionList, list_id)
        if dl is None:
            return {"error": "no such list"}
        if dl.status == "executed":
            return {"status": "executed", "note": "already done"}
        if dl.status != "executing":
            return {"error": f"the list is {dl.status}, not executing"}
        problems = execution_request.check_approvals(session, dl)
        if problems:
            # Defence in depth: the request checked this too. Refuse, loudly, on record.
            audit.record(session, actor=_actor(), action="disposition.execute",
                         target_type="disposition_list", target_id=dl.id, org_id=dl.org_id,
                         outcome="refused", details={"problems": problems})
            dl.status = "archives_review"
            return {"error": "steps missing", "problems": problems}
        seqs = [i.seq for i in disposition.items(session, dl.id) if i.status == "listed"]
    destroyed = blocked = transferred = 0
    for seq in seqs:
        outcome = _tombstone_item(units, list_id, seq)
        destroyed += outcome == "destroyed"
        blocked += outcome == "blocked"
        transferred += outcome == "transferred"
    with units() as session:
        users = blob_users()   # the originals and the renditions made from them
        blob_ids = sorted(set(session.scalars(
            sa.select(users.c.blob_id).join(DispositionItem,
                                            DispositionItem.evidence_id == users.c.evidence_id)
            .where(DispositionItem.list_id == list_id, DispositionItem.status == "destroyed"))))
    bytes_results = [purge_blob(units, store, b) for b in blob_ids]
    cert = write_certificate(units, store, list_id, kind="execution",
                             certificate_years=certificate_years)
    return {"destroyed": destroyed, "blocked": blocked, "transferred": transferred,
            "blobs": bytes_results, "certificate": cert}


def _tombstone_item(units: UnitsOfWork, list_id: uuid.UUID, seq: int) -> str:
    """Step 1 for one item, in its own committed transaction."""
    with units() as session:
        dl = session.get(DispositionList, list_id)
        assert dl is not None
        disposition.lock(session, dl)
        item = session.scalar(sa.select(DispositionItem).where(
            DispositionItem.list_id == list_id, DispositionItem.seq == seq))
        if item is None or item.status != "listed":
            return "done"
        evidence = session.get(Evidence, item.evidence_id)
        assert evidence is not None
        org = session.get(Organisation, evidence.org_id)
        assert org is not None
        actor = _actor()
        if item.action == "transfer":
            disposition.close_item(item, "transferred",
                                    "to be transferred to the National Archives")
            item.result = {"transfer": True}
            audit.record(session, actor=actor, action="disposition.transfer",
                         target_type="evidence", target_id=evidence.id, org_id=org.id,
                         details={"list": dl.number, "item": seq})
            return "transferred"
        if item.action != "destroy":
            return "done"
        today = clock.today()
        reason = None
        if evidence.on_hold:
            reason = disposition.BLOCKED_BY_HOLD
        elif evidence.status == "destroyed":
            reason = "the record was already destroyed"
        else:
            decision = compute.decide(session, evidence, today=today)
            if not decision.eligible(today):
                reason = f"the record is not eligible today: {decision.basis}"
        if reason:
            disposition.close_item(item, "blocked", reason)
            item.result = {"blocked": reason}
            audit.record(session, actor=actor, action="disposition.destroy",
                         target_type="evidence", target_id=evidence.id, org_id=org.id,
                         outcome="refused", details={"list": dl.number, "item": seq,
                                                     "reason": reason})
            return "blocked"
        blob = session.get(Blob, evidence.blob_id)
        assert blob is not None
        schedule = session.get(RetentionSchedule, evidence.schedule_id) \
            if evidence.schedule_id else None
        now = clock.now()
        why = message("retention.destroyed", "destroyed under disposition list {number} "
                      "({period}); {reason}", number=dl.number,
                      period=messages.loads(item.retention_period),
                      reason=messages.loads(item.reason))
        tombstone = Tombstone(
            evidence_id=evidence.id, org_id=org.id, blob_id=blob.id, sha256=blob.sha256,
            size=blob.size, media_type=blob.media_type, record=_metadata(evidence, org),
            schedule=schedule_values(schedule) if schedule else {},
            retain_until=evidence.retain_until, retention_basis=evidence.retention_basis,
            disposition_list_id=dl.id, disposition_list_number=dl.number,
            approvals=[jsonable(list_queries.approvals(session, dl))],
            reason=messages.dumps(why, limit=4000),
            destroyed_by=dl.execute_requested_by or JOB_ACTOR,
            destroyed_at=now)
        session.add(tombstone)
        stage_tombstone(session, tombstone)
        evidence.status = "destroyed"
        evidence.updated_at = now
        _purge_record_derived(session, evidence.id)
        disposition.close_item(item, "destroyed")
        item.result = {"tombstone_at": now.isoformat(), "bytes": "pending"}
        audit.record(session, actor=actor, action="disposition.destroy",
                     target_type="evidence", target_id=evidence.id, org_id=org.id,
                     details={"list": dl.number, "item": seq, "sha256": blob.sha256,
                              "requested_by": dl.execute_requested_by})
        return "destroyed"


def _purge_record_derived(session: Session, evidence_id: uuid.UUID) -> None:
    """Derived data about the record itself (the inspection report)."""
    session.execute(sa.delete(Inspection).where(Inspection.evidence_id == evidence_id))


def purge_blob(units: UnitsOfWork, store: ObjectStore,
               blob_id: int) -> dict[str, Any]:
    """Delete every version of a blob's object if no live record uses it; record answers.

    The blob's row is marked (``deleted_at``) under its lock, in the transaction that
    found no live record, before the store is asked: an upload of the same bytes takes
    that lock too and, finding the mark, is refused (409 ``blob_destroyed``) — never a
    new record whose bytes are deleted a moment later. The store is then asked in a
    second transaction that holds the row's lock again until the answers are recorded,
    so two purges of the same bytes (a job and the daily sweep resuming it) never ask
    the store at once: the second finds the first's result. If the store keeps some of
    the bytes (their lock has not ended) the mark is taken back and a retry is queued.
    If the purge dies between the mark and the recorded answers, the mark stays with
    the items' result not "deleted": the next run of the same job, or else the daily
    sweep (:func:`purges_to_resume`), finds it and deletes what is left."""
    with units() as session:
        blob = evidence_service.lock_blob(session, blob_id)
        if blob is None:
            return {"blob_id": blob_id, "bytes": "deleted"}
        result: dict[str, Any]
        if blob.deleted_at is None:
            users = blob_users()
            live = list(session.scalars(
                sa.select(Evidence.id).join(users, users.c.evidence_id == Evidence.id)
                .where(users.c.blob_id == blob_id, Evidence.status != "destroyed")))
            if live:
                result = {
                    "bytes": "kept", "detail": f"the same bytes belong to {len(live)} live "
                    "record(s); they are deleted with the last of them",
                    "live_records": [str(i) for i in live[:20]]}
                _record_bytes(session, blob_id, result)
                return {"blob_id": blob_id, **result}
            blob.deleted_at = clock.now()
    failpoint("disposition.purge.before_delete")
    with units() as session:
        blob = evidence_service.lock_blob(session, blob_id)
        if blob is None:
            return {"blob_id": blob_id, "bytes": "deleted"}
        if blob.deleted_at is None:
            # Another purge of these bytes ran in between and the store refused it: the
            # mark is back off and that purge queued the retry.
            return {"blob_id": blob_id, "bytes": "deferred",
                    "detail": "another purge found the store's lock in force"}
        key, sha = blob.store_key, blob.sha256
        if _bytes_recorded(session, blob_id) and not store.versions(key):
            return {"blob_id": blob_id, "bytes": "deleted"}
        return _delete_versions(session, store, blob, key, sha)


def _delete_versions(session: Session, store: ObjectStore, blob: Blob, key: str,
                     sha: str) -> dict[str, Any]:
    """Ask the store to delete every version of ``key`` and record its answers (the
    caller holds the blob row's lock)."""
    blob_id = blob.id
    answers: list[dict[str, Any]] = []
    locked_until: dt.datetime | None = None
    for info in store.versions(key):
        answer: dict[str, Any] = {"version_id": info.version_id, "size": info.size}
        try:
            if info.legal_hold:
                # The hold mirrors a record hold that is gone now (all users destroyed).
                store.set_legal_hold(key, info.version_id, False)
            store.delete_version(key, info.version_id)
            answer["answer"] = "deleted"
        except RetentionLocked as exc:
            answer.update(answer="refused", detail=str(exc.detail))
            state = store.stat(key, info.version_id)
            if state is not None and state.retain_until is not None:
                locked_until = max(filter(None, [locked_until, state.retain_until]))
        except StoreUnavailable as exc:
            answer.update(answer="unavailable", detail=str(exc.detail))
        answers.append(answer)
    remaining = store.versions(key)
    result: dict[str, Any]
    if not remaining:
        blob.deleted_at = clock.now()
        session.execute(sa.delete(BlobText).where(BlobText.blob_id == blob_id))
        result = {
            "bytes": "deleted", "key": key, "versions": answers,
            "deleted_at": clock.now().isoformat(),
            "derived_purged": ["extracted text", "inspection reports"]}
    else:
        blob.deleted_at = None      # the bytes stay until the store lets them go
        retry = (locked_until + dt.timedelta(minutes=1)) if locked_until else \
            clock.now() + dt.timedelta(hours=1)
        retry = max(retry, clock.system_now() + dt.timedelta(seconds=1))
        result = {"bytes": "deferred", "key": key, "versions": answers,
                  "retry_after": retry.isoformat(),
                  "locked_until": locked_until.isoformat() if locked_until else None,
                  "detail": "the store refused the delete (its lock has not ended); "
                            "a purge job retries then"}
        from archive.queue.service import enqueue

        enqueue(session, "disposition_purge", {"blob_id": blob_id},
                dedup_key=f"disposition_purge:{blob_id}:{retry.isoformat()}",
                run_after=retry)
    lists = _record_bytes(session, blob_id, result)
    for list_id, org_id in lists:
        audit.record(session, actor=_actor(), action="disposition.delete_object",
                     target_type="blob", target_id=sha, org_id=org_id,
                     outcome="ok" if result["bytes"] == "deleted" else "refused",
                     details={"list_id": list_id, "key": key, "answers": answers})
    return {"blob_id": blob_id, **result}


def _fate(session: Session, users: Any) -> Any:
    """SQL: what a destroyed item's result says of the bytes of ``users.c.blob_id`` — its
    ``bytes`` for the record's original, ``renditions[blob_id]`` for a rendition (as
    :func:`_record_bytes` writes them); NULL when nothing is said yet."""
    blob = sa.cast(users.c.blob_id, sa.String)
    if dialect_name(session) == "postgresql":
        original = sa.func.jsonb_extract_path_text(DispositionItem.result, "bytes")
        rendition = sa.func.jsonb_extract_path_text(DispositionItem.result, "renditions", blob)
    else:
        original = sa.func.json_extract(DispositionItem.result, "$.bytes")
        rendition = sa.func.json_extract(DispositionItem.result,
                                         sa.literal('$.renditions."') + blob + '"')
    return sa.case((users.c.original, original), else_=rendition)


def _unfinished(session: Session, blob: Any) -> Any:
    """SQL: a destroyed item of a record using ``blob`` does not say its bytes were deleted."""
    users = blob_users()
    return (sa.select(DispositionItem.id)
            .join(users, users.c.evidence_id == DispositionItem.evidence_id)
            .where(users.c.blob_id == blob, DispositionItem.status == "destroyed",
                   sa.func.coalesce(_fate(session, users), "") != "deleted")
            .exists())


def _bytes_recorded(session: Session, blob_id: int) -> bool:
    """Does every destroyed item of a record using the blob say its bytes were deleted?"""
    return not session.scalar(sa.select(_unfinished(session, blob_id)))


def purges_to_resume(session: Session) -> list[int]:
    """Blobs marked for deletion whose deletion was never recorded: a purge died between
    the mark and the store's answers and its job is not coming back (its attempts used
    up, or the job that died was a sweep, whose next run chooses its blobs afresh).
    Only marked blobs whose items do not say "deleted" are chosen — not every blob ever
    deleted — and none that a live record uses."""
    users = blob_users()
    live = (sa.select(Evidence.id).join(users, users.c.evidence_id == Evidence.id)
            .where(users.c.blob_id == Blob.id, Evidence.status != "destroyed").exists())
    return list(session.scalars(sa.select(Blob.id).where(
        Blob.deleted_at.is_not(None), ~live, _unfinished(session, Blob.id))
        .order_by(Blob.id)))


def _record_bytes(session: Session, blob_id: int,
                  result: dict[str, Any]) -> list[tuple[uuid.UUID, int]]:
    """Write the bytes' fate into every destroyed item of that blob; (list, org) touched."""
    users = blob_users()
    rows = session.execute(
        sa.select(DispositionItem, DispositionList.org_id, users.c.original)
        .join(users, users.c.evidence_id == DispositionItem.evidence_id)
        .join(DispositionList, DispositionList.id == DispositionItem.list_id)
        .where(users.c.blob_id == blob_id, DispositionItem.status == "destroyed")).all()
    touched = []
    for item, org_id, original in rows:
        if not original:   # a rendition's bytes: their fate beside the original's
            renditions = dict((item.result or {}).get("renditions") or {})
            if renditions.get(str(blob_id)) == "deleted":
                continue
            renditions[str(blob_id)] = result["bytes"]
            item.result = {**(item.result or {}), "renditions": renditions}
        elif (item.result or {}).get("bytes") == "deleted":
            continue
        else:
            item.result = {**(item.result or {}), **jsonable(result)}
        touched.append((item.list_id, org_id))
        dl = session.get(DispositionList, item.list_id)
        assert dl is not None
        if result["bytes"] == "deferred":
            dl.purge_pending = True
    return sorted(set(touched))


# -- certificate -----------------------------------------------------------------------

def write_certificate(units: UnitsOfWork, store: ObjectStore,
                      list_id: uuid.UUID, *, kind: str,
                      certificate_years: int) -> dict[str, Any] | None:
    """Build, store (locked) and register the certificate; idempotent per list and kind
    for "execution"; "purge" certificates are added when deferred deletes complete."""
    with units() as session:
        dl = session.get(DispositionList, list_id)
        assert dl is not None
        disposition.lock(session, dl)
        existing = list_queries.certificates(session, list_id)
        if kind == "execution" and any(c.kind == "execution" for c in existing):
            return None
        seq = len(existing) + 1
        doc = certificate_document(session, dl, kind=kind, seq=seq)
        body = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True,
                          default=str).encode("utf-8")
        html = render_html(doc).encode("utf-8")
        sha, html_sha = hashlib.sha256(body).hexdigest(), hashlib.sha256(html).hexdigest()
        until = clock.years_after(clock.now(), certificate_years)
        until = max(until, clock.system_now() + dt.timedelta(days=1))
        json_key = f"disposition/{list_id}/certificate-{seq}-{sha}.json"
        html_key = f"disposition/{list_id}/certificate-{seq}-{html_sha}.html"
        # Objects first, row after: a crash in between leaves an orphan certificate that
        # the next run supersedes, never a row pointing at nothing.
        ji = store.put(json_key, io.BytesIO(body), len(body), retain_until=until,
                       content_type="application/json")
        hi = store.put(html_key, io.BytesIO(html), len(html), retain_until=until,
                       content_type="text/html; charset=utf-8")
        failpoint("disposition.certificate.before_row")
        session.add(DispositionCertificate(
            list_id=list_id, seq=seq, kind=kind, sha256=sha, size=len(body), json_key=json_key,
            json_version=ji.version_id, html_sha256=html_sha, html_size=len(html),
            html_key=html_key, html_version=hi.version_id, created_at=clock.now()))
        pending = any((i.result or {}).get("bytes") == "deferred"
                      for i in disposition.items(session, list_id) if i.status == "destroyed")
        dl.purge_pending = pending
        if kind == "execution":
            dl.status = "executed"
            dl.executed_at = clock.now()
        audit.record(session, actor=_actor(), action="disposition.certificate",
                     target_type="disposition_list", target_id=dl.id, org_id=dl.org_id,
                     details={"number": dl.number, "kind": kind, "seq": seq, "sha256": sha,
                              "key": json_key, "version_id": ji.version_id,
                              "html_sha256": html_sha, "html_key": html_key})
        return {"seq": seq, "sha256": sha, "key": json_key, "html_sha256": html_sha}


def certificate_document(session: Session, dl: DispositionList, *, kind: str,
                         seq: int) -> dict[str, Any]:
    org = session.get(Organisation, dl.org_id)
    assert org is not None
    rows = disposition.items(session, dl.id)
    tombstones = {t.evidence_id: t for t in session.scalars(sa.select(Tombstone).where(
        Tombstone.disposition_list_id == dl.id))}
    schedules: dict[str, dict[str, Any]] = {}
    entries: list[dict[str, Any]] = []
    for item in rows:
        t = tombstones.get(item.evidence_id)
        period = messages.loads(item.retention_period)
        if t is not None and t.schedule:
            schedules.setdefault(f"{t.schedule['code']} v{t.schedule['version']}", {
                k: t.schedule.get(k) for k in ("code", "version", "title_th", "title_en",
                                               "legal_basis_th", "legal_basis_en")})
        entries.append({
            "item": item.seq, "evidence_id": str(item.evidence_id), "status": item.status,
            "action": item.action, "file_code": item.file_code,
            "doc_reference": item.doc_reference, "doc_date": item.doc_date,
            "subject": item.subject, "retention_period": str(period),
            "retention_period_th": messages.render(period, "th"),
            "retain_until": item.retain_until, "reason": str(messages.loads(item.reason)),
            "note": item.note,
            "sha256": t.sha256 if t else None, "size": t.size if t else None,
            "media_type": t.media_type if t else None,
            "destroyed_at": t.destroyed_at if t else None,
            "keep_until": item.keep_until,
            "object": item.result,
        })
        code, th, en = outcome(jsonable(entries[-1]))
        entries[-1].update(outcome=code, outcome_th=th, outcome_en=en)
    destroyed = [e for e in entries if e["status"] == "destroyed"]
    statement_th, statement_en = statement(entries)
    now = clock.now()
    doc: dict[str, Any] = jsonable({
        "type": "destruction_certificate",
        "title_th": "บันทึกการทำลายหนังสือ (เอกสารอิเล็กทรอนิกส์)",
        "title_en": "Certificate of destruction of electronic records",
        "certificate_no": f"{dl.number}/C{seq}",
        "kind": kind,
        "organisation": {"code": org.code, "name": org.name},
        "list": {"id": str(dl.id), "number": dl.number, "year_be": dl.year_be,
                 "survey_as_of": dl.as_of, "created_by": dl.created_by,
                 "created_at": dl.created_at, "status": dl.status},
        "legal_basis": list(schedules.values()),
        "approvals": list_queries.approvals(session, dl),
        "items": entries,
        "summary": {"destroyed": len(destroyed),
                    "bytes_deleted": sum(1 for e in destroyed
                                         if (e["object"] or {}).get("bytes") == "deleted"),
                    "bytes_deferred": sum(1 for e in destroyed
                                          if (e["object"] or {}).get("bytes") == "deferred"),
                    "bytes_kept_shared": sum(1 for e in destroyed
                                             if (e["object"] or {}).get("bytes") == "kept"),
                    "transferred": sum(1 for e in entries if e["status"] == "transferred"),
                    "blocked": sum(1 for e in entries if e["status"] == "blocked"),
                    "kept": sum(1 for e in entries if e["status"] == "kept"),
                    "removed": sum(1 for e in entries if e["status"] == "removed")},
        "statement_th": statement_th,
        "statement_en": statement_en,
        "generated_at": now,
        "generated_at_th": date_th(now),
        "generated_at_en": date_en(now),
        "generated_by": JOB_ACTOR,
    })
    return doc


def finish_purges(units: UnitsOfWork, store: ObjectStore, *,
                  certificate_years: int) -> list[dict[str, Any]]:
    """Supplementary certificates for executed lists whose deferred deletes are all done."""
    out = []
    with units() as session:
        ids = list(session.scalars(sa.select(DispositionList.id).where(
            DispositionList.status == "executed", DispositionList.purge_pending.is_(True))))
        done = []
        for list_id in ids:
            rows = [i for i in disposition.items(session, list_id) if i.status == "destroyed"]
            if not any((i.result or {}).get("bytes") == "deferred"
                       or "deferred" in ((i.result or {}).get("renditions") or {}).values()
                       for i in rows):
                done.append(list_id)
    for list_id in done:
        cert = write_certificate(units, store, list_id, kind="purge",
                                 certificate_years=certificate_years)
        out.append({"list_id": str(list_id), "certificate": cert})
    return out


def finish_abandoned(units: UnitsOfWork, store: ObjectStore, *,
                     certificate_years: int) -> list[dict[str, Any]]:
    """Finish the lists whose execution job gave up (its attempts used up: ``failed``) as
    that job would have: :func:`execute` again — what is left of its steps, then the
    certificate and the final state. The daily purge sweep's last step, so that a list does
    not stay "executing" without a certificate until someone runs ``archive jobs retry``
    (which then finds it done). Every step is idempotent, so a sweep that dies anywhere
    in here is finished by its next run; a job retried meanwhile and this never write two
    execution certificates (``write_certificate`` checks under the list's lock). A job
    still queued or running is left to finish its list."""
    with units() as session:
        executing = {f"disposition_execute:{i}": i for i in session.scalars(
            sa.select(DispositionList.id).where(DispositionList.status == "executing"))}
        if not executing:
            return []
        gave_up = sorted(executing[key] for key in session.scalars(
            sa.select(Job.dedup_key).where(Job.kind == "disposition_execute",
                                           Job.status == "failed",
                                           Job.dedup_key.in_(list(executing)))) if key)
    return [{"list_id": str(list_id),
             **execute(units, store, list_id, certificate_years=certificate_years)}
            for list_id in gave_up]


def _metadata(evidence: Evidence, org: Organisation) -> dict[str, Any]:
    fields = ("doc_type", "fiscal_year", "voucher_no", "doc_number", "issue_date",
              "issuer_name", "issuer_tax_id", "issuer_branch", "amount", "vat_amount",
              "currency", "description", "original_filename", "uploaded_by", "created_at")
    doc: dict[str, Any] = jsonable({"org_code": org.code, "org_name": org.name,
                      **{f: getattr(evidence, f) for f in fields}})
    return doc
