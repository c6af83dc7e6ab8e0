"""Disbursement vouchers: register, read, correct (history kept), link evidence, review.

Scope and roles are those of evidence (``archive/accounts/principal.py``): officers
register and assemble their organisation's vouchers, auditors and records managers read
in their scope, auditors review; anything outside the caller's scope answers "not found".

Every change recomputes the findings of the voucher and of its neighbours in the same
transaction (``archive.disbursements.recompute``), and so does a change of a linked file's
metadata or inspection (this module subscribes to ``archive.evidence.events``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive import audit, clock, messages
from archive.accounts import service as accounts
from archive.accounts.principal import Principal, require
from archive.catalogue import objects
from archive.db import rowcount
from archive.disbursements import described, rules
from archive.disbursements import recompute as rc
from archive.disbursements.models import (
    ROLES,
    Disbursement,
    DisbursementEvidence,
    DisbursementFinding,
    DisbursementHistory,
    DisbursementReview,
)
from archive.disbursements.profile_service import current_profile
from archive.disbursements.schemas import (
    VOUCHER_FIELDS,
    CompletenessOut,
    DisbursementCreate,
    DisbursementDetail,
    DisbursementUpdate,
    FindingOut,
    LinkedEvidenceOut,
    ReviewIn,
    ReviewOut,
    VoucherOut,
)
from archive.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from archive.evidence import events, manifests
from archive.evidence import service as evidence_service
from archive.evidence.models import Blob, Evidence, Inspection
from archive.evidence.schemas import HistoryOut
from archive.ids import uuid7
from archive.orgs import service as orgs
from archive.orgs.models import Organisation
from archive.queue.service import enqueue

# -- registering -------------------------------------------------------------------------


def create(session: Session, principal: Principal, data: DisbursementCreate) -> Disbursement:
    """Register a voucher; ``Conflict`` if its (organisation, fiscal year, number) exists."""
    require(principal, "disbursements.create")
    org = orgs.get_by_code(session, data.org_code)
    accounts.ensure_in_scope(session, principal, org.id, "organisation")
    assert data.fiscal_year is not None
    if find(session, org.id, data.fiscal_year, data.voucher_no or "") is not None:
        raise Conflict(f"voucher {data.voucher_no} of fiscal year {data.fiscal_year} is "
                       f"already registered for {org.code}", code="duplicate_voucher")
    now = clock.now()
    voucher = Disbursement(id=uuid7(), org_id=org.id, created_by=principal.name,
                           created_at=now, updated_at=now, version=1, complete=False, missing=[],
                           **data.model_dump(include=set(VOUCHER_FIELDS)))
    session.add(voucher)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"voucher {data.voucher_no} of fiscal year {data.fiscal_year} is "
                       f"already registered for {org.code}", code="duplicate_voucher") from None
    audit.record(session, actor=principal, action="disbursement.create",
                 target_type="disbursement", target_id=voucher.id, org_id=org.id,
                 details={"voucher_no": voucher.voucher_no, "fiscal_year": voucher.fiscal_year,
                          "kind": voucher.kind, "gross_amount": voucher.gross_amount})
    described.stage_voucher(session, voucher.id)
    rc.recompute(session, [voucher.id])
    return voucher


def find(session: Session, org_id: int, fiscal_year: int,
         voucher_no: str) -> Disbursement | None:
    """The voucher with this number (no scope check: for callers that checked the org)."""
    return session.scalar(sa.select(Disbursement).where(
        Disbursement.org_id == org_id, Disbursement.fiscal_year == fiscal_year,
        Disbursement.voucher_no == voucher_no))


def upsert(session: Session, principal: Principal, data: DisbursementCreate, *,
           reason: str | None = None) -> tuple[Disbursement, str]:
    """Create the voucher, or bring an existing one (same organisation, fiscal year and
    number) to these values: ``(voucher, "created" | "updated" | "unchanged")``. For
    register imports: running the same register twice changes nothing."""
    require(principal, "disbursements.create")
    org = orgs.get_by_code(session, data.org_code)
    accounts.ensure_in_scope(session, principal, org.id, "organisation")
    assert data.fiscal_year is not None
    existing = find(session, org.id, data.fiscal_year, data.voucher_no or "")
    if existing is None:
        return create(session, principal, data), "created"
    given = data.model_dump(include=set(VOUCHER_FIELDS) - {"fiscal_year", "voucher_no"})
    changes = DisbursementUpdate(**given, reason=reason or "register import")
    before = existing.version
    updated = update(session, principal, existing.id, changes)
    return updated, ("unchanged" if updated.version == before else "updated")


# -- reading -----------------------------------------------------------------------------

def _load(session: Session, disbursement_id: uuid.UUID) -> tuple[Disbursement, Organisation]:
    row = session.execute(
        sa.select(Disbursement, Organisation)
        .join(Organisation, Organisation.id == Disbursement.org_id)
        .where(Disbursement.id == disbursement_id)).first()
    if row is None:
        raise NotFound("no such voucher")
    return row[0], row[1]


def get(session: Session, principal: Principal, disbursement_id: uuid.UUID, *,
        audit_read: bool = True) -> tuple[Disbursement, Organisation]:
    """The voucher and its organisation; ``NotFound`` when absent or outside the scope."""
    require(principal, "disbursements.read")
    voucher, org = _load(session, disbursement_id)
    accounts.ensure_in_scope(session, principal, voucher.org_id, "voucher")
    if audit_read:
        audit.record(session, actor=principal, action="disbursement.read",
                     target_type="disbursement", target_id=voucher.id, org_id=voucher.org_id)
    return voucher, org


def detail(session: Session, principal: Principal,
           disbursement_id: uuid.UUID) -> DisbursementDetail:
    """Everything about a voucher: fields, linked files (with what each file says),
    completeness, findings (other vouchers only in the caller's scope), reviews, history."""
    voucher, org = get(session, principal, disbursement_id)
    linked = linked_evidence(session, voucher.id)
    profile = current_profile(session)
    docs = [rules.Doc(evidence_id=e.evidence_id, role=e.role) for e in linked]
    completeness = rules.check_completeness(_facts(voucher), docs, profile)
    return DisbursementDetail(
        voucher=voucher_out(voucher, org), evidence=linked,
        completeness=CompletenessOut(required=[list(g) for g in completeness.required],
                                     present=list(completeness.present),
                                     missing=[list(g) for g in completeness.missing],
                                     complete=completeness.complete),
        findings=findings_for(session, principal, [voucher.id]).get(voucher.id, []),
        reviews=reviews(session, voucher.id),
        history=[HistoryOut(version=h.version, values=h.values, changed=h.changed,
                            changed_by=h.changed_by, changed_at=h.changed_at, reason=h.reason)
                 for h in history(session, voucher.id)])


def _facts(v: Disbursement) -> rules.Voucher:
    return rules.Voucher(id=v.id, org_id=v.org_id, kind=v.kind, voucher_date=v.voucher_date,
                         payee_name=v.payee_name, payee_tax_id=v.payee_tax_id,
                         gross_amount=v.gross_amount, payment_method=v.payment_method,
                         payment_date=v.payment_date,
                         expenditure_category=v.expenditure_category)


def voucher_out(v: Disbursement, org: Organisation) -> VoucherOut:
    return VoucherOut(org_code=org.code, org_name=org.name,
                      **{f: getattr(v, f) for f in VoucherOut.model_fields
                         if f not in ("org_code", "org_name")})


def linked_evidence(session: Session, disbursement_id: uuid.UUID) -> list[LinkedEvidenceOut]:
    rows = session.execute(
        sa.select(DisbursementEvidence, Evidence, Blob, Inspection.status, Inspection.report)
        .join(Evidence, Evidence.id == DisbursementEvidence.evidence_id)
        .join(Blob, Blob.id == Evidence.blob_id)
        .outerjoin(Inspection, Inspection.evidence_id == Evidence.id)
        .where(DisbursementEvidence.disbursement_id == disbursement_id)
        .order_by(DisbursementEvidence.linked_at, DisbursementEvidence.evidence_id,
                  DisbursementEvidence.role)).all()
    out = []
    for link, ev, blob, status, report in rows:
        out.append(LinkedEvidenceOut(
            evidence_id=ev.id, role=link.role, linked_by=link.linked_by,
            linked_at=link.linked_at, doc_type=ev.doc_type, doc_number=ev.doc_number,
            issue_date=ev.issue_date, issuer_name=ev.issuer_name,
            issuer_tax_id=ev.issuer_tax_id, amount=ev.amount,
            original_filename=ev.original_filename, media_type=blob.media_type,
            sha256=blob.sha256, size=blob.size, status=ev.status,
            inspection=None if status is None else _inspection_view(status, report)))
    return out


def _inspection_view(status: str, report: dict[str, Any] | None) -> dict[str, Any]:
    report = report or {}
    invoice = report.get("invoice") or {}
    fields = invoice.get("fields") or {}
    seller = fields.get("seller") or {}
    cross = report.get("cross_check") or {}
    return {"status": status, "invoice_kind": invoice.get("kind"),
            "grand_total": fields.get("grand_total"), "seller_tax_id": seller.get("tax_id"),
            "seller_name": seller.get("name"), "document_number": fields.get("document_number"),
            "issue_date": fields.get("issue_date"),
            "warnings": len(cross.get("warnings") or []),
            "problems": list(report.get("problems") or []),
            "problems_msg": list(report.get("problems_msg") or [])}


def findings_for(session: Session, principal: Principal,
                 ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[FindingOut]]:
    """The persisted findings of these vouchers, as the caller may see them: other vouchers
    outside the caller's scope are counted, never identified."""
    ids = list(ids)
    if not ids:
        return {}
    scope = accounts.scope_ids(session, principal)
    out: dict[uuid.UUID, list[FindingOut]] = {}
    rows = session.scalars(sa.select(DisbursementFinding)
                           .where(DisbursementFinding.disbursement_id.in_(ids))
                           .order_by(DisbursementFinding.code))
    for f in rows:
        related = f.related or []
        visible = [uuid.UUID(r["id"]) for r in related
                   if scope is None or r.get("org_id") in scope]
        hidden = len(related) - len(visible)
        details = dict(f.details or {})
        message: str = messages.from_dict(details.pop("msg", None)) or f.message
        if f.code == "duplicate_invoice":
            message = rules.duplicate_message(details, visible=len(visible), hidden=hidden)
        elif hidden:
            message = messages.message(
                "finding.outside_scope", "{finding} (and {n} voucher{s} outside your scope)",
                finding=message, n=hidden, s="s" if hidden != 1 else "")
        out.setdefault(f.disbursement_id, []).append(FindingOut(
            code=f.code, severity=f.severity, message=message,
            evidence_ids=[uuid.UUID(i) for i in f.evidence_ids or []],
            disbursement_ids=visible, outside_scope=hidden,
            details={**details, "msg": message.as_dict()}
            if isinstance(message, messages.Message) else details))
    return out


def reviews(session: Session, disbursement_id: uuid.UUID) -> list[ReviewOut]:
    rows = list(session.scalars(sa.select(DisbursementReview)
                                .where(DisbursementReview.disbursement_id == disbursement_id)
                                .order_by(DisbursementReview.created_at,
                                          DisbursementReview.id)))
    return [ReviewOut(id=r.id, outcome=r.outcome, note=r.note, reviewer=r.reviewer,
                      reviewer_role=r.reviewer_role, created_at=r.created_at,
                      current=i == len(rows) - 1) for i, r in enumerate(rows)]


def history(session: Session, disbursement_id: uuid.UUID) -> list[DisbursementHistory]:
    return list(session.scalars(sa.select(DisbursementHistory)
                                .where(DisbursementHistory.disbursement_id == disbursement_id)
                                .order_by(DisbursementHistory.version)))


def state(session: Session, disbursement_id: uuid.UUID) -> tuple[int, list[str], bool]:
    """(version, finding codes, complete) of a voucher the caller has just changed."""
    voucher, _ = _load(session, disbursement_id)
    codes = sorted(session.scalars(sa.select(DisbursementFinding.code).where(
        DisbursementFinding.disbursement_id == voucher.id)))
    return voucher.version, codes, bool(voucher.complete)


def evidence_ids_of(session: Session, disbursement_id: uuid.UUID) -> list[uuid.UUID]:
    """Every file linked to a voucher (any role), for packs and holds (no scope check)."""
    return list(session.scalars(
        sa.select(DisbursementEvidence.evidence_id)
        .where(DisbursementEvidence.disbursement_id == disbursement_id)
        .distinct().order_by(DisbursementEvidence.evidence_id)))


def vouchers_of_evidence(session: Session,
                         evidence_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """For each file, the vouchers it supports (no scope check)."""
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    ids = sorted(set(evidence_ids), key=str)
    for start in range(0, len(ids), 500):
        for ev, d in session.execute(
                sa.select(DisbursementEvidence.evidence_id,
                          DisbursementEvidence.disbursement_id)
                .where(DisbursementEvidence.evidence_id.in_(ids[start:start + 500]))
                .distinct()):
            out.setdefault(ev, []).append(d)
    return out


# -- correcting --------------------------------------------------------------------------

def update(session: Session, principal: Principal, disbursement_id: uuid.UUID,
           changes: DisbursementUpdate, *, expected_version: int | None = None) -> Disbursement:
    """Correct a voucher's fields, keeping the previous values in history (optimistic
    locking on ``version``, as for evidence: a correction based on an older version gets
    ``PreconditionFailed``)."""
    require(principal, "disbursements.update")
    voucher, org = _load(session, disbursement_id)
    accounts.ensure_in_scope(session, principal, voucher.org_id, "voucher")
    if expected_version is not None and expected_version != voucher.version:
        raise PreconditionFailed(f"the voucher is at version {voucher.version}, not "
                                 f"{expected_version}: someone corrected it meanwhile; read "
                                 "it again and re-apply your change")
    given = changes.model_dump(exclude_unset=True, exclude={"reason"})
    required = ("fiscal_year", "voucher_no", "voucher_date", "kind", "payee_name",
                "gross_amount", "net_amount", "payment_method")
    problems = [{"field": k, "message": messages.message("input.not_removable",
                                                         "cannot be removed")} for k in required
                if k in given and given[k] is None]
    if problems:
        raise InvalidInput(problems, code="invalid_voucher")
    diff = {k: v for k, v in given.items() if getattr(voucher, k) != v}
    merged = {k: diff.get(k, getattr(voucher, k)) for k in VOUCHER_FIELDS}
    if merged["net_amount"] > merged["gross_amount"]:
        raise InvalidInput([{"field": "net_amount",
                             "message": "net_amount is larger than gross_amount"}],
                           code="invalid_voucher")
    if merged["withholding_tax"] is not None and \
            merged["withholding_tax"] > merged["gross_amount"]:
        raise InvalidInput([{"field": "withholding_tax",
                             "message": "withholding_tax is larger than gross_amount"}],
                           code="invalid_voucher")
    if not diff:
        return voucher
    if ("fiscal_year" in diff or "voucher_no" in diff) and find(
            session, voucher.org_id, merged["fiscal_year"], merged["voucher_no"]) is not None:
        raise Conflict(f"voucher {merged['voucher_no']} of fiscal year {merged['fiscal_year']} "
                       f"is already registered for {org.code}", code="duplicate_voucher")
    before_split = rc.split_candidates(session, [voucher.id])
    previous = {f: _plain(getattr(voucher, f)) for f in VOUCHER_FIELDS}
    now = clock.now()
    updated = rowcount(session.execute(
        sa.update(Disbursement)
        .where(Disbursement.id == voucher.id, Disbursement.version == voucher.version)
        .values(version=Disbursement.version + 1, updated_at=now, **diff)
        .execution_options(synchronize_session=False)))
    if updated != 1:
        raise Conflict("the voucher was changed by someone else meanwhile; reload and retry",
                       code="version_conflict")
    session.add(DisbursementHistory(disbursement_id=voucher.id, version=voucher.version,
                                    values=previous, changed=sorted(diff),
                                    changed_by=principal.name, changed_at=now,
                                    reason=changes.reason))
    audit.record(session, actor=principal, action="disbursement.update",
                 target_type="disbursement", target_id=voucher.id, org_id=voucher.org_id,
                 details={"changes": {k: [previous[k], _plain(v)] for k, v in diff.items()},
                          "reason": changes.reason, "version": voucher.version + 1})
    session.refresh(voucher)
    described.stage_voucher(session, voucher.id)
    rc.recompute(session, [voucher.id], extra=before_split)
    return voucher


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# -- evidence into vouchers --------------------------------------------------------------

def _voucher_for_change(session: Session, principal: Principal,
                        disbursement_id: uuid.UUID) -> Disbursement:
    require(principal, "disbursements.update")
    voucher, _ = _load(session, disbursement_id)
    accounts.ensure_in_scope(session, principal, voucher.org_id, "voucher")
    return voucher


def _check_role(role: str | None) -> str:
    if role not in ROLES:
        raise InvalidInput([{"field": "role", "message": f"unknown role; use one of "
                                                         f"{', '.join(ROLES)}"}],
                           code="invalid_role")
    return role


def link(session: Session, principal: Principal, disbursement_id: uuid.UUID, *,
         evidence_id: uuid.UUID, role: str) -> DisbursementEvidence:
    """Link an archived file to a voucher in a role (audited; findings recomputed)."""
    role = _check_role(role)
    voucher = _voucher_for_change(session, principal, disbursement_id)
    evidence, _, _ = evidence_service.get(session, principal, evidence_id, audit_read=False)
    if evidence.org_id != voucher.org_id:
        raise InvalidInput([{"field": "evidence_id",
                             "message": "the file belongs to another organisation than the "
                                        "voucher"}], code="other_organisation")
    if evidence.status == "destroyed":
        raise Conflict("the file was destroyed by an approved disposition", code="destroyed")
    return _link(session, principal, voucher, evidence, role)


def _link(session: Session, principal: Principal, voucher: Disbursement, evidence: Evidence,
          role: str) -> DisbursementEvidence:
    exists = session.get(DisbursementEvidence, (voucher.id, evidence.id, role))
    if exists is not None:
        raise Conflict(f"the file is already linked to this voucher as {role}",
                       code="already_linked")
    row = DisbursementEvidence(disbursement_id=voucher.id, evidence_id=evidence.id, role=role,
                               blob_id=evidence.blob_id, linked_by=principal.name,
                               linked_at=clock.now())
    session.add(row)
    session.flush()
    manifests.stage_link(session, evidence_id=evidence.id, kind="voucher", action="link",
                         target=voucher_target(session, voucher, [role]), by=principal.name,
                         at=row.linked_at)
    audit.record(session, actor=principal, action="disbursement.link",
                 target_type="disbursement", target_id=voucher.id, org_id=voucher.org_id,
                 details={"evidence_id": evidence.id, "role": role,
                          "voucher_no": voucher.voucher_no})
    rc.recompute(session, [voucher.id])
    _describe_longer(session, voucher, evidence)
    return row


def _describe_longer(session: Session, voucher: Disbursement, evidence: Evidence) -> None:
    """A file whose bytes are locked beyond the voucher's objects (each locked at least
    the snapshot lock from its writing, never before the voucher was registered): the
    lock sync extends them to the file's (``retention.locks``)."""
    catalogue = session.info.get(objects.INFO_KEY)
    years = catalogue.snapshot_years if isinstance(catalogue, objects.Catalogue) else 10
    lock = session.scalar(sa.select(Blob.retain_until).where(Blob.id == evidence.blob_id))
    if lock is not None and lock > clock.years_after(voucher.created_at, years):
        enqueue(session, "retention_sync_locks", {"blob_id": evidence.blob_id, "describe": True},
                dedup_key=f"retention_sync_locks:{evidence.blob_id}:describe:{voucher.id}")


def unlink(session: Session, principal: Principal, disbursement_id: uuid.UUID,
           evidence_id: uuid.UUID, *, role: str | None = None) -> list[str]:
    """Remove a file from a voucher (in ``role``, or in every role); returns the roles
    removed. The file itself stays archived. Audited; findings recomputed."""
    if role is not None:
        _check_role(role)
    voucher = _voucher_for_change(session, principal, disbursement_id)
    q = sa.select(DisbursementEvidence).where(
        DisbursementEvidence.disbursement_id == voucher.id,
        DisbursementEvidence.evidence_id == evidence_id)
    if role is not None:
        q = q.where(DisbursementEvidence.role == role)
    links = list(session.scalars(q))
    if not links:
        raise NotFound("the file is not linked to this voucher" +
                       (f" as {role}" if role else ""), code="not_linked")
    roles = sorted(x.role for x in links)
    for x in links:
        session.delete(x)
    session.flush()
    manifests.stage_link(session, evidence_id=evidence_id, kind="voucher", action="unlink",
                         target=voucher_target(session, voucher, roles), by=principal.name,
                         at=clock.now())
    audit.record(session, actor=principal, action="disbursement.unlink",
                 target_type="disbursement", target_id=voucher.id, org_id=voucher.org_id,
                 details={"evidence_id": evidence_id, "roles": roles,
                          "voucher_no": voucher.voucher_no})
    rc.recompute(session, [voucher.id])
    return roles


def voucher_target(session: Session, voucher: Disbursement, roles: list[str]) -> dict[str, Any]:
    """A voucher as a record's link names it: by id and by its natural key."""
    org = session.get(Organisation, voucher.org_id)
    return {"id": str(voucher.id), "org_code": org.code if org else None,
            "fiscal_year": voucher.fiscal_year, "voucher_no": voucher.voucher_no,
            "roles": roles}


def ingest_into(session: Session, store: Any, principal: Principal, *,
                disbursement_id: uuid.UUID, role: str,
                **ingest: Any) -> evidence_service.IngestResult:
    """Upload a file straight into a voucher: the voucher and role are checked first, then
    the file is ingested (``archive.evidence.service.ingest``) and linked, in one
    transaction — the record and its link commit together or not at all."""
    role = _check_role(role)
    voucher = _voucher_for_change(session, principal, disbursement_id)
    org = session.get(Organisation, voucher.org_id)
    assert org is not None
    meta = ingest["meta"]
    if meta.org_code != org.code:
        raise InvalidInput([{"field": "org_code", "message": "the file must be archived for "
                                                             "the voucher's organisation "
                                                             f"({org.code})"}],
                           code="other_organisation")
    result = evidence_service.ingest(session, store, principal, **ingest)
    _link(session, principal, voucher, result.evidence, role)
    return result


# -- reviews -----------------------------------------------------------------------------

def add_review(session: Session, principal: Principal, disbursement_id: uuid.UUID,
               data: ReviewIn) -> DisbursementReview:
    """Record an auditor's review (never edited; a later one supersedes it)."""
    require(principal, "disbursements.review")
    voucher, _ = _load(session, disbursement_id)
    accounts.ensure_in_scope(session, principal, voucher.org_id, "voucher")
    review = DisbursementReview(id=uuid7(), disbursement_id=voucher.id, outcome=data.outcome,
                                note=data.note, reviewer=principal.name,
                                reviewer_role=principal.role, created_at=clock.now())
    session.add(review)
    session.flush()
    described.stage_review(session, review)
    codes = sorted(session.scalars(sa.select(DisbursementFinding.code).where(
        DisbursementFinding.disbursement_id == voucher.id)))
    audit.record(session, actor=principal, action="disbursement.review",
                 target_type="disbursement", target_id=voucher.id, org_id=voucher.org_id,
                 details={"review_id": review.id, "outcome": data.outcome, "note": data.note,
                          "findings": codes})
    return review


# -- recomputing when a file changes -----------------------------------------------------

def _on_evidence_changed(session: Session, evidence_ids: list[uuid.UUID], what: str) -> None:
    """A linked file's metadata or inspection changed: recompute its vouchers."""
    vouchers = vouchers_of_evidence(session, evidence_ids)
    ids = {d for ds in vouchers.values() for d in ds}
    if ids:
        rc.recompute(session, ids)


events.subscribe(_on_evidence_changed)
