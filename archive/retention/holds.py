"""Legal holds and State Audit Office closures.

A record is on hold (``evidence.on_hold``) while any active hold covers it. A held record
cannot be listed for disposition, no step of a list holding it can proceed, its retention
cannot end (the rule answers "indefinite") and the store's legal hold is set on its bytes.
Releasing a hold recomputes the retention of what it covered. Everything is audited.

Holds by filter take the records matching at creation (organisation and below, fiscal
year, document type — the same names as the search filters). A hold placed by an audit
objection also covers records of that organisation and year archived later.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock
from archive.accounts.principal import Principal, require
from archive.db import rowcount
from archive.disbursements.models import Disbursement
from archive.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from archive.evidence.models import Evidence
from archive.jsonable import jsonable
from archive.messages import message
from archive.orgs import scope as org_scope
from archive.orgs.models import Organisation
from archive.queue.service import enqueue
from archive.retention import compute, described, vouchers
from archive.retention.models import AuditClosure, LegalHold, LegalHoldItem
from archive.retention.rules import fiscal_year_end, show
from archive.retention.schemas import ClosureIn, HoldIn
from archive.search import service as search
from archive.search.schemas import SearchFilters

# Up to this many records are recomputed in the request; more go to a job.
INLINE_RECOMPUTE = 5000
MAX_HOLD_RECORDS = 200_000


# -- holds -----------------------------------------------------------------------------

def create_hold(session: Session, principal: Principal, data: HoldIn) -> LegalHold:
    require(principal, "holds.manage")
    if data.record_ids is not None:
        ids = list(dict.fromkeys(data.record_ids))
        rows = session.execute(sa.select(Evidence.id, Evidence.org_id, Evidence.status)
                               .where(Evidence.id.in_(ids))).all()
        found = {r[0]: r for r in rows}
        for rid in ids:
            row = found.get(rid)
            if row is None or not org_scope.in_scope(session, principal, row[1]):
                raise NotFound(f"no evidence record {rid}")
            if row[2] == "destroyed":
                raise Conflict(f"record {rid} was destroyed; it cannot be held",
                               code="record_destroyed")
        criteria: dict[str, Any] = {"record_ids": [str(i) for i in ids]}
        kind = "records"
    elif data.disbursement_id is not None:
        return _hold_voucher(session, principal, data.disbursement_id, data.reason)
    else:
        assert data.filter is not None
        ids = matching(session, principal, data.filter)
        criteria = data.filter.given()
        kind = "filter"
    if not ids:
        raise InvalidInput("no records in your scope match the filter", code="no_records")
    if len(ids) > MAX_HOLD_RECORDS:
        raise InvalidInput(f"{len(ids)} records match; a hold covers at most "
                           f"{MAX_HOLD_RECORDS}: narrow the filter", code="too_many_records")
    _refuse_identical(session, kind, criteria, data.reason)
    return _place(session, principal, kind=kind, reason=data.reason, criteria=criteria,
                  evidence_ids=ids)


def _same_criteria(kind: str, stored: dict[str, Any] | None, given: dict[str, Any]) -> bool:
    stored = stored or {}
    if kind == "records":
        return set(stored.get("record_ids") or []) == set(given["record_ids"])
    return bool(stored == given)


def _refuse_identical(session: Session, kind: str, criteria: dict[str, Any],
                      reason: str) -> None:
    """An active hold of the same kind, on the same records or filter, for the same reason
    already does what this one would: a second is refused rather than stacked silently
    (it would also need releasing twice)."""
    given = jsonable(criteria)
    same = [h.id for h in session.scalars(sa.select(LegalHold).where(
        LegalHold.kind == kind, LegalHold.status == "active", LegalHold.reason == reason))
        if _same_criteria(kind, h.criteria, given)]
    if same:
        raise Conflict({"message": message(
            "holds.identical", "an identical hold is already active (hold {hold}): same "
            "records or filter, same reason", hold=str(same[0])), "hold_id": str(same[0])},
                       code="hold_exists")


def _hold_voucher(session: Session, principal: Principal, voucher_id: uuid.UUID,
                  reason: str) -> LegalHold:
    """A hold on a voucher: every file linked to it now, and (``retention.vouchers``)
    every file linked while the hold is active."""
    row = session.execute(sa.select(Disbursement, Organisation.code)
                          .join(Organisation, Organisation.id == Disbursement.org_id)
                          .where(Disbursement.id == voucher_id)).first()
    if row is None or not org_scope.in_scope(session, principal, row[0].org_id):
        raise NotFound(f"no disbursement voucher {voucher_id}", code="disbursement_not_found")
    voucher, org_code = row
    ids = list(session.scalars(sa.select(Evidence.id).where(
        Evidence.id.in_(vouchers.linked_evidence(session, voucher.id)),
        Evidence.status != "destroyed").order_by(Evidence.id)))
    criteria = {"disbursement_id": str(voucher.id), "org_code": org_code,
                "fiscal_year": voucher.fiscal_year, "voucher_no": voucher.voucher_no}
    same = [h for h in session.scalars(sa.select(LegalHold).where(
        LegalHold.kind == vouchers.HOLD_KIND, LegalHold.status == "active"))
        if (h.criteria or {}).get("disbursement_id") == str(voucher.id) and h.reason == reason]
    if same:
        raise Conflict("this voucher is already held for this reason", code="hold_exists")
    return _place(session, principal, kind=vouchers.HOLD_KIND, reason=reason,
                  criteria=criteria, evidence_ids=ids, org_id=voucher.org_id)


def _place(session: Session, principal: Principal, *, kind: str, reason: str,
           criteria: dict[str, Any], evidence_ids: list[uuid.UUID], org_id: int | None = None,
           fiscal_year: int | None = None) -> LegalHold:
    org_ids = sorted(set(session.scalars(sa.select(Evidence.org_id).where(
        Evidence.id.in_(evidence_ids)).distinct()))) if evidence_ids else []
    if org_id is not None and org_id not in org_ids:
        org_ids.append(org_id)
    now = clock.now()
    hold = LegalHold(kind=kind, reason=reason, criteria=criteria, org_id=org_id,
                     fiscal_year=fiscal_year, org_ids=org_ids, status="active",
                     created_by=principal.name, created_at=now)
    session.add(hold)
    session.flush()
    for start in range(0, len(evidence_ids), 1000):
        session.execute(sa.insert(LegalHoldItem), [
            {"hold_id": hold.id, "evidence_id": e, "added_at": now}
            for e in evidence_ids[start:start + 1000]])
    _after_change(session, evidence_ids, f"hold:{hold.id}:on")
    described.stage_hold(session, hold.id)
    codes = _codes(session, org_ids)
    for oid in org_ids:
        audit.record(session, actor=principal, action="hold.create", target_type="legal_hold",
                     target_id=hold.id, org_id=oid,
                     details={"reason": reason, "kind": kind, "criteria": criteria,
                              "records": len(evidence_ids), "organisations": codes})
    return hold


def matching(session: Session, principal: Principal, flt: SearchFilters) -> list[uuid.UUID]:
    """Ids of live records in the principal's scope matching the search filters (the
    search service's own query, so a hold covers exactly what the search shows)."""
    if not flt.given():
        raise InvalidInput(message("input.hold_filter", "give at least one filter (a hold on "
                                   "everything is not a hold)"),
                           code="no_filter")
    ids = []
    for hit in search.iter_hits(session, principal, flt):
        if hit.evidence.status != "destroyed":
            ids.append(hit.evidence.id)
        if len(ids) > MAX_HOLD_RECORDS:
            break
    return sorted(ids)


def _after_change(session: Session, evidence_ids: list[uuid.UUID], tag: str) -> None:
    """Refresh ``on_hold`` and retention of the records; the store follows by job."""
    if len(evidence_ids) <= INLINE_RECOMPUTE:
        compute.recompute(session, evidence_ids)
    else:
        compute.refresh_on_hold(session, evidence_ids)
        enqueue(session, "retention_recompute", {"hold": tag.split(":")[1]},
                dedup_key=f"retention_recompute:{tag}")
        enqueue(session, "retention_sync_locks", {}, dedup_key=f"retention_sync_locks:{tag}")


def _visible(session: Session, principal: Principal, hold: LegalHold) -> bool:
    scope = org_scope.scope_ids(session, principal)
    return scope is None or bool(set(hold.org_ids) & scope)


def list_holds(session: Session, principal: Principal, *,
               status: str | None = None) -> list[tuple[LegalHold, int]]:
    require(principal, "retention.read")
    q = sa.select(LegalHold).order_by(LegalHold.created_at.desc())
    if status:
        q = q.where(LegalHold.status == status)
    holds = [h for h in session.scalars(q) if _visible(session, principal, h)]
    counts = dict(session.execute(
        sa.select(LegalHoldItem.hold_id, sa.func.count()).where(
            LegalHoldItem.hold_id.in_([h.id for h in holds])).group_by(LegalHoldItem.hold_id)
    ).all()) if holds else {}
    return [(h, counts.get(h.id, 0)) for h in holds]


def get_hold(session: Session, principal: Principal,
             hold_id: uuid.UUID) -> tuple[LegalHold, list[uuid.UUID]]:
    require(principal, "retention.read")
    hold = session.get(LegalHold, hold_id)
    if hold is None or not _visible(session, principal, hold):
        raise NotFound("no such legal hold", code="hold_not_found")
    q = sa.select(LegalHoldItem.evidence_id).where(LegalHoldItem.hold_id == hold.id)
    scope = org_scope.scope_ids(session, principal)
    if scope is not None:
        q = q.join(Evidence, Evidence.id == LegalHoldItem.evidence_id).where(
            Evidence.org_id.in_(scope))
    return hold, list(session.scalars(q.order_by(LegalHoldItem.evidence_id).limit(1000)))


def release_hold(session: Session, principal: Principal, hold_id: uuid.UUID, *,
                 reason: str) -> LegalHold:
    require(principal, "holds.manage")
    hold = session.get(LegalHold, hold_id)
    if hold is None or not _visible(session, principal, hold):
        raise NotFound("no such legal hold", code="hold_not_found")
    scope = org_scope.scope_ids(session, principal)
    if scope is not None and not set(hold.org_ids) <= scope:
        raise PermissionDenied("the hold covers records of organisations outside your scope; "
                               "a records manager whose scope covers them all must release it")
    now = clock.now()
    # The write comes first (SQLite takes its write lock here; PostgreSQL the row lock).
    done = rowcount(session.execute(
        sa.update(LegalHold).where(LegalHold.id == hold.id, LegalHold.status == "active")
        .values(status="released", released_by=principal.name, released_at=now,
                release_reason=reason).execution_options(synchronize_session=False)))
    if not done:
        raise Conflict("the hold is already released", code="hold_released")
    session.refresh(hold)
    ids = list(session.scalars(sa.select(LegalHoldItem.evidence_id).where(
        LegalHoldItem.hold_id == hold.id)))
    _after_change(session, ids, f"hold:{hold.id}:off")
    described.stage_hold(session, hold.id)
    for oid in hold.org_ids:
        audit.record(session, actor=principal, action="hold.release", target_type="legal_hold",
                     target_id=hold.id, org_id=oid,
                     details={"reason": reason, "records": len(ids),
                              "hold_reason": hold.reason})
    return hold


def _codes(session: Session, org_ids: list[int]) -> list[str]:
    if not org_ids:
        return []
    return list(session.scalars(sa.select(Organisation.code).where(
        Organisation.id.in_(org_ids)).order_by(Organisation.code)))


# -- audit closures --------------------------------------------------------------------

def record_closure(session: Session, principal: Principal, data: ClosureIn) -> AuditClosure:
    """Record a State Audit Office closure; an objection places a hold on that
    organisation's records of that fiscal year."""
    require(principal, "retention.manage")
    org = org_scope.org_in_scope(session, principal, data.org_code)
    fy_end = fiscal_year_end(data.fiscal_year)
    if data.closed_on <= fy_end:
        raise InvalidInput([{"field": "closed_on", "message": f"an audit of fiscal year "
                             f"{data.fiscal_year} closes after the year ends ({show(fy_end)})"}],
                           code="invalid_closure")
    if data.closed_on > clock.today():
        raise InvalidInput([{"field": "closed_on", "message": "is in the future"}],
                           code="invalid_closure")
    same = session.scalar(sa.select(AuditClosure.id).where(
        AuditClosure.org_id == org.id, AuditClosure.fiscal_year == data.fiscal_year,
        AuditClosure.closed_on == data.closed_on, AuditClosure.result == data.result))
    if same:
        raise Conflict("this closure is already recorded", code="closure_exists")
    closure = AuditClosure(org_id=org.id, fiscal_year=data.fiscal_year, result=data.result,
                           closed_on=data.closed_on, reference=data.reference,
                           recorded_by=principal.name, recorded_at=clock.now())
    session.add(closure)
    session.flush()
    described.stage_closure(session, closure.id)
    ids = compute.ids_where(session, Evidence.org_id == org.id,
                            Evidence.fiscal_year == data.fiscal_year)
    if data.result == "objection":
        hold = _place(session, principal, kind="audit_objection",
                      reason=f"State Audit Office objection: {org.code} fiscal year "
                             f"{data.fiscal_year}" + (f" ({data.reference})"
                                                      if data.reference else ""),
                      criteria={"org_code": org.code, "fiscal_year": data.fiscal_year},
                      evidence_ids=ids, org_id=org.id, fiscal_year=data.fiscal_year)
        closure.hold_id = hold.id
    elif len(ids) <= INLINE_RECOMPUTE:
        compute.recompute(session, ids)
    else:
        enqueue(session, "retention_recompute", {"org_id": org.id,
                                                 "fiscal_year": data.fiscal_year},
                dedup_key=f"retention_recompute:closure:{closure.id}")
    audit.record(session, actor=principal, action="retention.audit_closure",
                 target_type="organisation", target_id=org.code, org_id=org.id,
                 details={"fiscal_year": data.fiscal_year, "result": data.result,
                          "closed_on": data.closed_on, "reference": data.reference,
                          "records": len(ids), "hold": closure.hold_id})
    return closure


def list_closures(session: Session, principal: Principal, *, org_code: str | None = None,
                  fiscal_year: int | None = None) -> list[tuple[AuditClosure, str]]:
    require(principal, "retention.read")
    q = sa.select(AuditClosure, Organisation.code).join(
        Organisation, Organisation.id == AuditClosure.org_id)
    q = org_scope.limit_to_scope(session, principal, q, AuditClosure.org_id)
    if org_code:
        q = q.where(Organisation.code == org_code)
    if fiscal_year is not None:
        q = q.where(AuditClosure.fiscal_year == fiscal_year)
    return [(c, code) for c, code in session.execute(
        q.order_by(AuditClosure.fiscal_year.desc(), AuditClosure.closed_on))]
