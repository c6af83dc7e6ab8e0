"""Recomputing findings: load the facts the pure rules need, run them, persist the result.

A voucher's findings depend on its own fields, its links, its files' metadata and
inspections, and — for double payments and split purchases — on other vouchers. When one
of those changes, :func:`recompute` re-evaluates the vouchers given *and* the neighbours
whose findings may change with them:

* double payments: the vouchers it shared a document with before (the ``related`` of its
  persisted findings) and those it shares one with now;
* split purchases: every candidate of the same organisation and payee within the window
  of its date (before and after a change — :func:`split_candidates`, which the caller
  takes before changing the voucher).

The work is batched: a few statements per batch of vouchers, whatever its size, so one
LAO's fiscal year is a handful of queries and the national job walks organisation by
organisation (:func:`recompute_all`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.db import table_of
from archive.disbursements import rules
from archive.disbursements.models import (
    Disbursement,
    DisbursementEvidence,
    DisbursementFinding,
)
from archive.disbursements.profile_service import current_profile
from archive.disbursements.profiles import Profile
from archive.evidence.models import Evidence, Inspection
from archive.messages import Message
from archive.unit_of_work import UnitsOfWork

BATCH = 500
_NEIGHBOUR_CODES = ("duplicate_invoice", "split_purchase")

_FINDINGS = table_of(DisbursementFinding)
_LINKS = table_of(DisbursementEvidence)
_VOUCHERS = table_of(Disbursement)

# What the file says about itself (its inspection's e-invoice fields): read by path in
# the database so that the whole report never travels for a recompute.
_F = ("invoice", "fields")
_FILE_TOTAL = Inspection.report[(*_F, "grand_total")].as_string()
_FILE_TAX_ID = Inspection.report[(*_F, "seller", "tax_id")].as_string()
_FILE_NUMBER = Inspection.report[(*_F, "document_number")].as_string()
_FILE_DATE = Inspection.report[(*_F, "issue_date")].as_string()


@dataclass
class Outcome:
    vouchers: int = 0
    findings: int = 0


def recompute(session: Session, ids: Iterable[uuid.UUID], *, expand: bool = True,
              extra: Iterable[uuid.UUID] = (), profile: Profile | None = None) -> Outcome:
    """Re-evaluate ``ids`` (and, with ``expand``, their neighbours; ``extra`` are more
    vouchers to include, e.g. the split candidates before a change)."""
    profile = profile or current_profile(session)
    first = set(ids) | set(extra)
    if not first:
        return Outcome()
    if expand:
        first |= _old_related(session, first)
        first |= split_candidates(session, first, profile)
    outcome, related = _compute(session, first, profile)
    second = related - first if expand else set()
    if second:
        more, _ = _compute(session, second, profile)
        outcome.vouchers += more.vouchers
        outcome.findings += more.findings
    return outcome


def recompute_org_year(session: Session, org_id: int, fiscal_year: int | None = None, *,
                       expand: bool = True) -> Outcome:
    """Every voucher of one organisation (and fiscal year), with their neighbours."""
    q = sa.select(Disbursement.id).where(Disbursement.org_id == org_id)
    if fiscal_year is not None:
        q = q.where(Disbursement.fiscal_year == fiscal_year)
    return recompute(session, list(session.scalars(q)), expand=expand)


def recompute_all(units: UnitsOfWork, *,
                  progress: Callable[[dict[str, Any]], None] | None = None,
                  org_ids: Iterable[int] | None = None) -> Outcome:
    """Every voucher of the archive (or of ``org_ids``): first every link's keys, then the
    findings, in batches of vouchers taken in (organisation, fiscal year, date) order — the
    order of an index, and one that keeps a batch's split candidates in few organisations.
    One unit of work per batch (``units`` from the entry point): a national run holds no
    long transaction, and a crash loses at most one batch (running again redoes it)."""
    orgs = sorted(set(org_ids)) if org_ids is not None else None
    key_columns = (Disbursement.org_id, Disbursement.fiscal_year, Disbursement.voucher_date,
                   Disbursement.id)
    base = sa.select(*key_columns)
    if orgs is not None:
        base = base.where(Disbursement.org_id.in_(orgs or [-1]))
    with units() as session:
        profile = current_profile(session)
        total_vouchers = int(session.scalar(sa.select(sa.func.count()).select_from(
            base.subquery())) or 0)
    total = Outcome()
    for phase in ("keys", "findings"):
        done = 0
        after: tuple[Any, ...] | None = None
        while True:
            with units() as session:
                q = base
                if after is not None:
                    q = q.where(sa.tuple_(*key_columns) > sa.tuple_(*after))
                rows = session.execute(q.order_by(*key_columns).limit(BATCH)).all()
                if not rows:
                    break
                after = tuple(rows[-1])
                chunk = [r[3] for r in rows]
                if phase == "keys":
                    _refresh_links(session, chunk)
                else:
                    out, _ = _compute(session, set(chunk), profile, refresh=False)
                    total.vouchers += out.vouchers
                    total.findings += out.findings
            done += len(chunk)
            if progress is not None:
                progress({"phase": phase, "vouchers": total_vouchers, "done": done})
    return total


# -- neighbours --------------------------------------------------------------------------

def _old_related(session: Session, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    out: set[uuid.UUID] = set()
    for chunk in _chunks(ids):
        for related in session.scalars(
                sa.select(DisbursementFinding.related)
                .where(DisbursementFinding.disbursement_id.in_(chunk),
                       DisbursementFinding.code.in_(_NEIGHBOUR_CODES))):
            out.update(uuid.UUID(r["id"]) for r in related or [])
    return out


def split_candidates(session: Session, ids: Iterable[uuid.UUID],
                     profile: Profile | None = None) -> set[uuid.UUID]:
    """Vouchers that may form a split purchase with any of ``ids``: same organisation and
    payee, dated within the window of one of them (one query per organisation and payee)."""
    profile = profile or current_profile(session)
    window = dt.timedelta(days=profile.split_window_days)
    groups: dict[tuple[int, str | None], list[dt.date]] = {}
    for chunk in _chunks(set(ids)):
        for org_id, payee, day in session.execute(
                sa.select(Disbursement.org_id, Disbursement.payee_tax_id,
                          Disbursement.voucher_date)
                .where(Disbursement.id.in_(chunk), Disbursement.kind.in_(profile.split_kinds),
                       Disbursement.payee_tax_id.is_not(None))):
            groups.setdefault((org_id, payee), []).append(day)
    out: set[uuid.UUID] = set()
    for (org_id, payee), days in groups.items():
        days.sort()
        for candidate, day in session.execute(
                sa.select(Disbursement.id, Disbursement.voucher_date).where(
                    Disbursement.org_id == org_id, Disbursement.payee_tax_id == payee,
                    Disbursement.voucher_date >= days[0] - window,
                    Disbursement.voucher_date <= days[-1] + window)):
            if _near(day, days, window):
                out.add(candidate)
    return out


def _near(day: dt.date, sorted_days: list[dt.date], window: dt.timedelta) -> bool:
    i = bisect.bisect_left(sorted_days, day)
    return any(abs(sorted_days[j] - day) <= window
               for j in (i - 1, i) if 0 <= j < len(sorted_days))


# -- one batch ---------------------------------------------------------------------------

def _chunks(ids: set[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    ordered = sorted(ids, key=str)
    for start in range(0, len(ordered), BATCH):
        yield ordered[start:start + BATCH]


def _compute(session: Session, ids: set[uuid.UUID], profile: Profile, *,
             refresh: bool = True) -> tuple[Outcome, set[uuid.UUID]]:
    outcome = Outcome()
    related: set[uuid.UUID] = set()
    for chunk in _chunks(ids):
        docs = _refresh_links(session, chunk) if refresh else _load_docs(session, chunk)
        vouchers = list(session.scalars(sa.select(Disbursement)
                                        .where(Disbursement.id.in_(chunk))))
        around = rules.Neighbourhood(_linked_elsewhere(session, docs, profile),
                                     _peers(session, vouchers, profile))
        now = clock.now()
        stored = _stored_findings(session, chunk)
        finding_rows: list[dict[str, Any]] = []
        changed: list[uuid.UUID] = []
        voucher_rows: list[dict[str, Any]] = []
        for v in vouchers:
            facts, mine = _voucher_facts(v), docs.get(v.id, [])
            result = rules.evaluate(facts, mine, profile, elsewhere=around.elsewhere_for(mine),
                                    peers=around.peers_for(facts))
            rows = [{"disbursement_id": v.id, "org_id": v.org_id,
                     "fiscal_year": v.fiscal_year, "voucher_date": v.voucher_date,
                     "code": f.code, "severity": f.severity, "message": f.message,
                     "evidence_ids": [str(i) for i in f.evidence_ids],
                     "related": [{"id": str(i), "org_id": o} for i, o in f.related],
                     "details": {**f.details, "msg": f.message.as_dict()}
                     if isinstance(f.message, Message) else f.details,
                     "computed_at": now} for f in result.findings]
            related.update(i for f in result.findings for i, _ in f.related)
            outcome.findings += len(rows)
            # Write only what changed: a recompute that finds what was there (most of a
            # national run) costs reads only.
            if {_canonical(r) for r in rows} != stored.get(v.id, set()):
                changed.append(v.id)
                finding_rows += rows
            missing = [list(g) for g in result.completeness.missing]
            if (v.complete, v.missing) != (result.completeness.complete, missing) \
                    or v.computed_at is None:
                voucher_rows.append({"b_id": v.id, "complete": result.completeness.complete,
                                     "missing": missing, "computed_at": now})
        if changed:
            session.execute(sa.delete(_FINDINGS).where(_FINDINGS.c.disbursement_id.in_(changed)))
        if finding_rows:
            session.execute(sa.insert(_FINDINGS), finding_rows)
        if voucher_rows:
            session.execute(
                sa.update(_VOUCHERS).where(_VOUCHERS.c.id == sa.bindparam("b_id"))
                .values(complete=sa.bindparam("complete"), missing=sa.bindparam("missing"),
                        computed_at=sa.bindparam("computed_at")),
                voucher_rows, execution_options={"synchronize_session": False})
        for v in vouchers:  # the ORM objects must not keep stale values
            session.expire(v, ["complete", "missing", "computed_at"])
        outcome.vouchers += len(vouchers)
    return outcome, related


_FINDING_VALUES = ("org_id", "fiscal_year", "voucher_date", "code", "severity", "message",
                   "evidence_ids", "related", "details")


def _canonical(row: Any) -> str:
    return json.dumps([row[k] for k in _FINDING_VALUES], sort_keys=True, default=str,
                      ensure_ascii=False)


def _stored_findings(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    out: dict[uuid.UUID, set[str]] = {}
    columns = [_FINDINGS.c[k] for k in ("disbursement_id", *_FINDING_VALUES)]
    for row in session.execute(sa.select(*columns).where(
            _FINDINGS.c.disbursement_id.in_(ids))).mappings():
        out.setdefault(row["disbursement_id"], set()).add(_canonical(row))
    return out


def _voucher_facts(v: Disbursement) -> rules.Voucher:
    return rules.Voucher(
        id=v.id, org_id=v.org_id, kind=v.kind, voucher_date=v.voucher_date,
        payee_name=v.payee_name, payee_tax_id=v.payee_tax_id, gross_amount=v.gross_amount,
        payment_method=v.payment_method, payment_date=v.payment_date,
        expenditure_category=v.expenditure_category)


def _load_docs(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[rules.Doc]]:
    return {d: [doc for doc, _ in items] for d, items in _load_links(session, ids).items()}


_StoredKeys = tuple[str | None, str | None, int | None]


def _load_links(session: Session, ids: list[uuid.UUID]
                ) -> dict[uuid.UUID, list[tuple[rules.Doc, _StoredKeys]]]:
    """Each voucher's docs (typed metadata + what the file says) and the keys stored on
    their links."""
    rows = session.execute(
        sa.select(DisbursementEvidence.disbursement_id, DisbursementEvidence.evidence_id,
                  DisbursementEvidence.role, Evidence.blob_id, Evidence.issuer_tax_id,
                  Evidence.doc_number, Evidence.issue_date, Evidence.amount,
                  _FILE_TAX_ID, _FILE_NUMBER, _FILE_DATE, _FILE_TOTAL,
                  DisbursementEvidence.doc_key, DisbursementEvidence.file_doc_key,
                  DisbursementEvidence.blob_id)
        .join(Evidence, Evidence.id == DisbursementEvidence.evidence_id)
        .outerjoin(Inspection, Inspection.evidence_id == Evidence.id)
        .where(DisbursementEvidence.disbursement_id.in_(ids))).all()
    out: dict[uuid.UUID, list[tuple[rules.Doc, _StoredKeys]]] = {}
    for r in rows:
        doc = rules.Doc(evidence_id=r[1], role=r[2], blob_id=r[3], issuer_tax_id=r[4],
                        doc_number=r[5], issue_date=r[6], amount=r[7],
                        file_tax_id=_text(r[8]), file_doc_number=_text(r[9]),
                        file_issue_date=_date(r[10]), file_amount=_amount(r[11]))
        out.setdefault(r[0], []).append((doc, (r[12], r[13], r[14])))
    return out


def _refresh_links(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[rules.Doc]]:
    """The docs of ``ids``, with the keys stored on their links brought up to date (the
    duplicate check of *other* vouchers looks them up there)."""
    loaded = _load_links(session, ids)
    changes = []
    for disbursement_id, items in loaded.items():
        for d, stored in items:
            key = rules.doc_key(d.issuer_tax_id, d.doc_number)
            file_key = rules.doc_key(d.file_tax_id, d.file_doc_number)
            if stored != (key, file_key, d.blob_id):
                changes.append({"b_d": disbursement_id, "b_e": d.evidence_id, "b_r": d.role,
                                "doc_key": key, "file_doc_key": file_key,
                                "blob_id": d.blob_id})
    if changes:
        session.execute(
            sa.update(_LINKS).where(_LINKS.c.disbursement_id == sa.bindparam("b_d"),
                                    _LINKS.c.evidence_id == sa.bindparam("b_e"),
                                    _LINKS.c.role == sa.bindparam("b_r"))
            .values(doc_key=sa.bindparam("doc_key"), file_doc_key=sa.bindparam("file_doc_key"),
                    blob_id=sa.bindparam("blob_id")),
            changes, execution_options={"synchronize_session": False})
    return {d: [doc for doc, _ in items] for d, items in loaded.items()}


def _linked_elsewhere(session: Session, docs: dict[uuid.UUID, list[rules.Doc]],
                      profile: Profile) -> list[rules.LinkedElsewhere]:
    """Links anywhere in the archive (every organisation) sharing a document key or the
    bytes with a payment document of these vouchers."""
    keys: set[str] = set()
    blobs: set[int] = set()
    for items in docs.values():
        for d in items:
            if d.role in profile.duplicate_roles:
                keys |= d.keys
                if d.blob_id is not None:
                    blobs.add(d.blob_id)
    if not keys and not blobs:
        return []
    out: dict[tuple[uuid.UUID, uuid.UUID, str], rules.LinkedElsewhere] = {}
    link = DisbursementEvidence
    select = (sa.select(link.disbursement_id, Disbursement.org_id, link.role, link.blob_id,
                        link.doc_key, link.file_doc_key, link.evidence_id)
              .join(Disbursement, Disbursement.id == link.disbursement_id)
              .where(link.role.in_(profile.duplicate_roles)))
    key_list, blob_list = sorted(keys), sorted(blobs)
    for start in range(0, max(len(key_list), len(blob_list)), BATCH):
        part_keys, part_blobs = key_list[start:start + BATCH], blob_list[start:start + BATCH]
        conditions: list[Any] = []
        if part_keys:
            conditions += [link.doc_key.in_(part_keys), link.file_doc_key.in_(part_keys)]
        if part_blobs:
            conditions.append(link.blob_id.in_(part_blobs))
        for r in session.execute(select.where(sa.or_(*conditions))):
            out[(r[0], r[6], r[2])] = rules.LinkedElsewhere(
                disbursement_id=r[0], org_id=r[1], role=r[2], blob_id=r[3],
                keys=frozenset(k for k in (r[4], r[5]) if k))
    return list(out.values())


def _peers(session: Session, vouchers: list[Disbursement], profile: Profile) -> list[rules.Peer]:
    """Candidate split-purchase partners of the split-kind vouchers among ``vouchers``."""
    wanted = [v for v in vouchers if v.kind in profile.split_kinds and v.payee_tax_id]
    if not wanted:
        return []
    window = dt.timedelta(days=profile.split_window_days)
    by_org: dict[int, list[Disbursement]] = {}
    for v in wanted:
        by_org.setdefault(v.org_id, []).append(v)
    out: dict[uuid.UUID, rules.Peer] = {}
    for org_id, items in by_org.items():
        payees = sorted({v.payee_tax_id for v in items if v.payee_tax_id})
        low = min(v.voucher_date for v in items) - window
        high = max(v.voucher_date for v in items) + window
        for start in range(0, len(payees), BATCH):
            rows = session.execute(
                sa.select(Disbursement.id, Disbursement.org_id, Disbursement.kind,
                          Disbursement.payee_tax_id, Disbursement.expenditure_category,
                          Disbursement.voucher_date, Disbursement.gross_amount)
                .where(Disbursement.org_id == org_id,
                       Disbursement.payee_tax_id.in_(payees[start:start + BATCH]),
                       Disbursement.kind.in_(profile.split_kinds),
                       Disbursement.voucher_date >= low, Disbursement.voucher_date <= high))
            for r in rows:
                out[r[0]] = rules.Peer(id=r[0], org_id=r[1], kind=r[2],
                                       payee_key=rules.payee_key(r[3]),
                                       expenditure_category=r[4], voucher_date=r[5],
                                       gross_amount=r[6])
    return list(out.values())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: Any) -> dt.date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _amount(value: Any) -> Decimal | None:
    text = _text(value)
    if text is None:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() else None
