"""Read models for the API and the CLI: a record's retention, lists, certificates, holds."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock, messages
from archive.accounts.principal import Principal, require
from archive.errors import NotFound, StoreIntegrityError
from archive.evidence.models import Blob, Evidence
from archive.orgs import scope
from archive.orgs.models import Organisation
from archive.retention import compute, disposition, list_queries
from archive.retention.models import DispositionItem, DispositionList, LegalHold, LegalHoldItem
from archive.retention.schedules.models import RetentionSchedule
from archive.retention.schemas import (
    HoldDetail,
    HoldOut,
    ItemOut,
    ListDetail,
    ListOut,
    RecordRetentionOut,
)
from archive.storage import ObjectStore


def record_retention(session: Session, store: ObjectStore, principal: Principal,
                     evidence_id: uuid.UUID) -> RecordRetentionOut:
    """One record's schedule, retain-until, holds, the rule's decision today, the store's
    lock and its disposition history."""
    require(principal, "retention.read")
    row = session.execute(sa.select(Evidence, Blob, Organisation)
                          .join(Blob, Blob.id == Evidence.blob_id)
                          .join(Organisation, Organisation.id == Evidence.org_id)
                          .where(Evidence.id == evidence_id)).first()
    if row is None or not scope.in_scope(session, principal, row[0].org_id):
        raise NotFound("no such evidence record")
    evidence, blob, org = row
    schedule = session.get(RetentionSchedule, evidence.schedule_id) \
        if evidence.schedule_id else None
    decision = compute.decide(session, evidence)
    lock: dict[str, Any] = {"retain_until": blob.retain_until, "legal_hold": blob.legal_hold,
                            "deleted_at": blob.deleted_at}
    if blob.deleted_at is None:
        info = store.stat(blob.store_key, blob.version_id)
        lock["store"] = ({"retain_until": info.retain_until, "legal_hold": info.legal_hold}
                         if info else None)
    items = session.execute(
        sa.select(DispositionItem, DispositionList.number, DispositionList.status)
        .join(DispositionList, DispositionList.id == DispositionItem.list_id)
        .where(DispositionItem.evidence_id == evidence.id)
        .order_by(DispositionList.created_at)).all()
    return RecordRetentionOut(
        evidence_id=evidence.id, org_code=org.code, fiscal_year=evidence.fiscal_year,
        doc_type=evidence.doc_type, status=evidence.status,
        schedule_code=schedule.code if schedule else None,
        retain_until=evidence.retain_until, retention_basis=evidence.retention_basis,
        on_hold=evidence.on_hold,
        holds=compute.holds_for(session, [evidence.id]).get(evidence.id, []),
        decision={"retain_until": decision.retain_until, "final": decision.final,
                  "eligible_on": decision.eligible_on, "held": decision.held,
                  "eligible_today": decision.eligible(clock.today()),
                  "basis": decision.basis, "period": decision.period,
                  "cannot_compute_reason": decision.cannot_compute_reason},
        store_lock=lock,
        disposition=[{"list_id": str(i.list_id), "number": number, "list_status": status,
                      "item": i.seq, "action": i.action, "status": i.status}
                     for i, number, status in items])


def list_out(dl: DispositionList, org: Organisation, counts: dict[str, int]) -> ListOut:
    return ListOut(id=dl.id, number=dl.number, org_code=org.code, org_name=org.name,
                   year_be=dl.year_be, as_of=dl.as_of, status=dl.status,
                   executable=disposition.is_executable(dl),
                   executable_on=disposition.executable_on(dl), items=counts.get("items", 0),
                   to_destroy=counts.get("to_destroy", 0),
                   outcome={k: v for k, v in counts.items() if k != "items"},
                   created_by=dl.created_by, created_at=dl.created_at)


def lists(session: Session, principal: Principal, *, status: str | None = None,
          org_code: str | None = None) -> list[ListOut]:
    rows = list_queries.list_lists(session, principal, status=status, org_code=org_code)
    counts = list_queries.counts(session, [d.id for d, _ in rows])
    return [list_out(d, o, counts.get(d.id, {})) for d, o in rows]


def list_detail(session: Session, principal: Principal, list_id: uuid.UUID) -> ListDetail:
    dl, org = disposition.load(session, principal, list_id)
    return detail_of(session, dl, org)


def detail_of(session: Session, dl: DispositionList, org: Organisation) -> ListDetail:
    session.refresh(dl)
    rows = disposition.items(session, dl.id)
    votes = list_queries.votes_by_item(session, [i.id for i in rows])
    held = set(session.scalars(sa.select(Evidence.id).where(
        Evidence.id.in_([i.evidence_id for i in rows]), Evidence.on_hold.is_(True))))
    ap = list_queries.approvals(session, dl)
    base = list_out(dl, org, list_queries.counts(session, [dl.id]).get(dl.id, {}))
    return ListDetail(
        **base.model_dump(), committee=ap["committee"], head_of_agency=ap["head_of_agency"],
        national_archives=ap["national_archives"], execution=ap["execution"],
        certificates=[{"seq": c.seq, "kind": c.kind, "sha256": c.sha256, "size": c.size,
                       "html_sha256": c.html_sha256, "created_at": c.created_at}
                      for c in list_queries.certificates(session, dl.id)],
        entries=[ItemOut(seq=i.seq, evidence_id=i.evidence_id, file_code=i.file_code,
                         doc_reference=i.doc_reference, doc_date=i.doc_date,
                         subject=i.subject, **_stored("retention_period", i.retention_period),
                         **_stored("reason", i.reason), retain_until=i.retain_until,
                         action=i.action,
                         keep_until=i.keep_until, status=i.status, note=i.note,
                         on_hold=i.evidence_id in held, votes=votes.get(i.id, []),
                         result=i.result) for i in rows])


def _stored(name: str, text: str) -> dict[str, Any]:
    """A message kept in a text column: its English, and its code and parameters."""
    said = messages.loads(text)
    return {name: str(said),
            f"{name}_message": said.as_dict() if isinstance(said, messages.Message) else None}


def certificate(session: Session, store: ObjectStore, principal: Principal,
                list_id: uuid.UUID, *, seq: int | None = None,
                fmt: str = "json") -> tuple[bytes, str, str]:
    """(bytes, media type, file name) of a certificate, checked against its hash; the
    download is audited."""
    dl, org = disposition.load(session, principal, list_id)
    certs = list_queries.certificates(session, dl.id)
    cert = next((c for c in certs if c.seq == seq), None) if seq else \
        (certs[0] if certs else None)
    if cert is None:
        raise NotFound("no destruction certificate for this list (yet)",
                       code="certificate_not_found")
    key, version, want = ((cert.json_key, cert.json_version, cert.sha256) if fmt == "json"
                          else (cert.html_key, cert.html_version, cert.html_sha256))
    body = store.read_all(key, version)
    if hashlib.sha256(body).hexdigest() != want:
        raise StoreIntegrityError(f"the stored certificate {key} does not match its hash")
    audit.record(session, actor=principal, action="disposition.certificate_download",
                 target_type="disposition_list", target_id=dl.id, org_id=org.id,
                 details={"seq": cert.seq, "format": fmt, "sha256": want})
    name = f"destruction-certificate-{dl.number.replace('/', '-')}-{cert.seq}.{fmt}"
    media = "application/json" if fmt == "json" else "text/html; charset=utf-8"
    return body, media, name


def hold_out(session: Session, hold: LegalHold, records: int) -> HoldOut:
    codes = list(session.scalars(sa.select(Organisation.code).where(
        Organisation.id.in_(hold.org_ids or [-1])).order_by(Organisation.code)))
    return HoldOut(id=hold.id, kind=hold.kind, reason=hold.reason, criteria=hold.criteria,
                   status=hold.status, records=records, organisations=codes,
                   created_by=hold.created_by, created_at=hold.created_at,
                   released_by=hold.released_by, released_at=hold.released_at,
                   release_reason=hold.release_reason)


def hold_detail(session: Session, hold: LegalHold, ids: list[uuid.UUID]) -> HoldDetail:
    total = session.scalar(sa.select(sa.func.count()).select_from(LegalHoldItem).where(
        LegalHoldItem.hold_id == hold.id))
    return HoldDetail(**hold_out(session, hold, int(total or 0)).model_dump(), record_ids=ids)
