"""Retention and holds of files that support disbursement vouchers.

A file linked to vouchers is evidence *of* each of them (DISBURSEMENT.md: "a file is
destroyed only when every voucher it supports allows it"). So its retention is the
latest of:

* its own decision (its schedule, counted from its own fiscal year and the State Audit
  Office closures of its organisation and year), and
* for every voucher it supports, the same schedule counted from **the voucher's** fiscal
  year and the closures of **the voucher's** organisation and year — a contract archived
  in FY 2566 and paid in instalments until FY 2569 is kept as long as the FY 2569 voucher
  needs it —, and indefinitely while a hold placed on that voucher is active.

A hold placed on a voucher (``holds.create_hold`` with ``disbursement_id``) covers every
file linked to it when it is placed, and files linked later join it at their next
recompute (``attach_voucher_holds``); until then the voucher's decision already answers
"held", so no disposition step can destroy them in between.

``combine`` is pure; the rest loads the facts.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.db import upsert_ignore
from archive.disbursements.models import Disbursement, DisbursementEvidence
from archive.retention.models import LegalHold, LegalHoldItem
from archive.retention.rules import Decision

HOLD_KIND = "disbursement"


@dataclass(frozen=True)
class VoucherFacts:
    id: uuid.UUID
    org_id: int
    fiscal_year: int
    voucher_no: str
    holds: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"voucher {self.voucher_no} (fiscal year {self.fiscal_year})"


def combine(own: Decision, by_voucher: list[tuple[VoucherFacts, Decision]]) -> Decision:
    """The decision that lets the file go only when it and every voucher it supports may.

    Held anywhere → held. A voucher whose decision cannot be computed blocks. Otherwise the
    latest date wins (indefinite beats any date), final only when all are final.
    """
    if not by_voucher:
        return own
    if own.held:
        return own
    for voucher, d in by_voucher:
        if d.held:
            return replace(d, basis=f"{voucher.label} it supports: {d.basis}",
                           details={**d.details, "voucher": str(voucher.id)})
    if own.cannot_compute_reason is not None:
        return own
    for voucher, d in by_voucher:
        if d.cannot_compute_reason is not None:
            return replace(d, basis=f"{voucher.label} it supports: {d.basis}",
                           retain_until=own.retain_until)
    chosen, label = own, None
    for voucher, d in by_voucher:
        if chosen.retain_until is None:
            break
        if d.retain_until is None or d.retain_until > chosen.retain_until:
            chosen, label = d, voucher.label
    final = own.final and all(d.final for _, d in by_voucher)
    eligible = [d.eligible_on for d in (own, *(d for _, d in by_voucher))]
    eligible_on = None if any(e is None for e in eligible) else max(e for e in eligible
                                                                     if e is not None)
    if label is None:
        return replace(own, final=final, eligible_on=eligible_on)
    return replace(chosen, final=final, eligible_on=eligible_on,
                   basis=f"kept for {label} it supports: {chosen.basis}",
                   period=f"{chosen.period} (as evidence of {label})")


def voucher_holds(session: Session, voucher_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID,
                                                                              list[str]]:
    """Active holds placed on these vouchers, as "reason (hold id)" per voucher."""
    wanted = {str(v) for v in voucher_ids}
    out: dict[uuid.UUID, list[str]] = defaultdict(list)
    if not wanted:
        return out
    for hold in session.scalars(sa.select(LegalHold).where(
            LegalHold.kind == HOLD_KIND, LegalHold.status == "active")
            .order_by(LegalHold.created_at)):
        vid = (hold.criteria or {}).get("disbursement_id")
        if vid in wanted:
            out[uuid.UUID(vid)].append(f"{hold.reason} (hold {str(hold.id)[:8]})")
    return out


def vouchers_for(session: Session, evidence_ids: list[uuid.UUID]
                 ) -> dict[uuid.UUID, list[VoucherFacts]]:
    """The vouchers each file supports (one entry per voucher, whatever its roles)."""
    out: dict[uuid.UUID, list[VoucherFacts]] = defaultdict(list)
    if not evidence_ids:
        return out
    rows = session.execute(
        sa.select(DisbursementEvidence.evidence_id, Disbursement.id, Disbursement.org_id,
                  Disbursement.fiscal_year, Disbursement.voucher_no)
        .join(Disbursement, Disbursement.id == DisbursementEvidence.disbursement_id)
        .where(DisbursementEvidence.evidence_id.in_(evidence_ids))
        .distinct()).all()
    holds = voucher_holds(session, {r[1] for r in rows})
    for evidence_id, vid, org_id, fy, no in sorted(rows, key=lambda r: (r[3], r[4])):
        out[evidence_id].append(VoucherFacts(vid, org_id, fy, no, tuple(holds.get(vid, ()))))
    return out


def linked_evidence(session: Session, voucher_id: uuid.UUID) -> list[uuid.UUID]:
    return sorted(set(session.scalars(sa.select(DisbursementEvidence.evidence_id).where(
        DisbursementEvidence.disbursement_id == voucher_id))))


def attach_voucher_holds(session: Session, evidence_ids: list[uuid.UUID]) -> int:
    """Files linked to a held voucher after the hold was placed join that hold."""
    facts = vouchers_for(session, evidence_ids)
    voucher_ids = {v.id for vs in facts.values() for v in vs if v.holds}
    if not voucher_ids:
        return 0
    hold_of: dict[str, list[uuid.UUID]] = defaultdict(list)
    for hold_id, criteria in session.execute(sa.select(LegalHold.id, LegalHold.criteria).where(
            LegalHold.kind == HOLD_KIND, LegalHold.status == "active")):
        hold_of[(criteria or {}).get("disbursement_id", "")].append(hold_id)
    now = clock.now()
    rows = [{"hold_id": hold_id, "evidence_id": evidence_id, "added_at": now}
            for evidence_id, vouchers in facts.items() for v in vouchers
            for hold_id in hold_of.get(str(v.id), [])]
    if rows:
        upsert_ignore(session, LegalHoldItem, rows, ["hold_id", "evidence_id"])
    return len(rows)
