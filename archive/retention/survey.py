"""Step 1 of the disposition workflow, the survey (ระเบียบงานสารบรรณ ข้อ 66): records past
``retain_until``, not on hold, on no open list, drafted into a list per organisation with
the fields of form 25 (แบบที่ 25). The scheduled job only proposes: a draft does nothing by
itself. The later steps are in :mod:`archive.retention.disposition`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock, messages
from archive.accounts.principal import Principal, require
from archive.db import upsert_ignore
from archive.evidence.models import Evidence
from archive.messages import message
from archive.orgs import scope
from archive.orgs.models import Organisation
from archive.retention import compute, disposition, locks
from archive.retention.disposition import DOC_TYPE_TH
from archive.retention.models import (
    DispositionItem,
    DispositionList,
)
from archive.retention.rules import Decision, show
from archive.retention.schedules.models import RetentionSchedule
from archive.retention.schedules.service import ensure_defaults


@dataclass
class SurveyResult:
    as_of: dt.date
    dry_run: bool
    note: str | None = None
    lists: list[dict[str, Any]] = field(default_factory=list)
    eligible: int = 0
    listed: int = 0


def survey(session: Session, principal: Principal, *, as_of: dt.date | None = None,
           dry_run: bool = False, org_code: str | None = None) -> SurveyResult:
    """Draft disposition lists of the records eligible on ``as_of`` (default: today).

    Only proposes. A future ``as_of`` is a preview: nothing is listed, because every later
    step checks eligibility against the real calendar anyway.
    """
    require(principal, "disposition.manage")
    ensure_defaults(session)
    today = clock.today()
    as_of = as_of or today
    result = SurveyResult(as_of, dry_run)
    if as_of > today and not dry_run:
        result.dry_run = dry_run = True
        result.note = f"as_of {as_of} is after today ({today}): preview only, nothing listed"
    open_items = sa.select(DispositionItem.open_evidence_id).where(
        DispositionItem.open_evidence_id.is_not(None))
    transferred = sa.select(DispositionItem.evidence_id).where(
        DispositionItem.status == "transferred")
    q = sa.select(Evidence.id).where(
        Evidence.status != "destroyed", Evidence.on_hold.is_(False),
        sa.or_(Evidence.retain_until.is_(None),
               Evidence.retain_until <= clock.start_of_day(as_of)),
        Evidence.id.not_in(open_items), Evidence.id.not_in(transferred))
    q = scope.limit_to_scope(session, principal, q, Evidence.org_id)
    if org_code:
        org = scope.org_in_scope(session, principal, org_code)
        q = q.where(Evidence.org_id == org.id)
    candidates = list(session.scalars(q.order_by(Evidence.org_id, Evidence.id)))
    rule_map = compute.rules(session)
    schedules = {s.id: s for s in session.scalars(sa.select(RetentionSchedule))}
    by_org: dict[int, list[tuple[Evidence, Decision]]] = defaultdict(list)
    for start in range(0, len(candidates), compute.BATCH):
        ids = candidates[start:start + compute.BATCH]
        if not dry_run:
            compute.recompute(session, ids, today=as_of)
        rows = list(session.scalars(sa.select(Evidence).where(Evidence.id.in_(ids))
                                    .order_by(Evidence.org_id, Evidence.issue_date, Evidence.id)
                                    .execution_options(populate_existing=True)))
        decisions = compute.decide_many(session, rows, today=as_of, rule_map=rule_map)
        for e in rows:
            if decisions[e.id].eligible(as_of):
                by_org[e.org_id].append((e, decisions[e.id]))
    result.eligible = sum(len(v) for v in by_org.values())
    org_rows = {o.id: o for o in session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(list(by_org))))}
    for org_id, entries in sorted(by_org.items(), key=lambda kv: org_rows[kv[0]].code):
        org = org_rows[org_id]
        release_day = locks.store_releases_on(session, sorted({e.blob_id for e, _ in entries}))
        releases = release_day.isoformat() if release_day else None
        if dry_run:
            result.lists.append({"org_code": org.code, "records": len(entries),
                                 "evidence_ids": [str(e.id) for e, _ in entries[:100]],
                                 "store_releases_on": releases})
            continue
        dl, created = _draft_list(session, principal, org, as_of)
        disposition.lock(session, dl)
        seq = session.scalar(sa.select(sa.func.coalesce(sa.func.max(DispositionItem.seq), 0))
                             .where(DispositionItem.list_id == dl.id)) or 0
        rows_in = []
        for e, decision in entries:
            seq += 1
            rows_in.append(_item_row(dl, seq, e, decision, schedules.get(e.schedule_id or -1)))
        added = upsert_ignore(session, DispositionItem, rows_in, ["open_evidence_id"],
                              returning=DispositionItem)
        result.listed += len(added)
        disposition.log_step(session, principal, "disposition.survey", dl, org, as_of=as_of,
                             created=created, added=len(added),
                             evidence_ids=[str(i.evidence_id) for i in added][:500])
        result.lists.append({"id": str(dl.id), "number": dl.number, "org_code": org.code,
                             "added": len(added), "created": created,
                             "store_releases_on": releases})
    if not result.lists and not dry_run:
        audit.record(session, actor=principal, action="disposition.survey",
                     details={"as_of": as_of, "eligible": 0})
    return result


def _draft_list(session: Session, principal: Principal, org: Organisation,
                as_of: dt.date) -> tuple[DispositionList, bool]:
    year_be = as_of.year + 543
    dl = session.scalar(sa.select(DispositionList).where(
        DispositionList.org_id == org.id, DispositionList.status == "draft",
        DispositionList.year_be == year_be).order_by(DispositionList.created_at.desc()))
    if dl is not None:
        return dl, False
    n = (session.scalar(sa.select(sa.func.count()).select_from(DispositionList).where(
        DispositionList.org_id == org.id, DispositionList.year_be == year_be)) or 0) + 1
    dl = DispositionList(org_id=org.id, number=f"{org.code}/{year_be}/{n}", year_be=year_be,
                         as_of=as_of, status="draft", version=1, created_by=principal.name,
                         created_at=clock.now())
    session.add(dl)
    session.flush()
    return dl, True


def _item_row(dl: DispositionList, seq: int, e: Evidence, decision: Decision,
              schedule: RetentionSchedule | None) -> dict[str, Any]:
    refs = [f"ฎีกา {e.voucher_no}" if e.voucher_no else None, e.doc_number]
    subject = " — ".join(p for p in [
        DOC_TYPE_TH.get(e.doc_type, e.doc_type), e.issuer_name,
        f"{e.amount} {e.currency}" if e.amount is not None else None,
        e.description] if p) or e.original_filename
    until = decision.retain_until
    reason = (message("retention.reason.ended", "retention ended on {until}: {basis}",
                      until=show(until.astimezone(clock.BANGKOK).date()), basis=decision.basis)
              if until else decision.basis)
    return {"list_id": dl.id, "seq": seq, "evidence_id": e.id, "open_evidence_id": e.id,
            "file_code": schedule.code if schedule else "-",
            "doc_reference": " / ".join(r for r in refs if r)[:200] or None,
            "doc_date": e.issue_date, "subject": subject[:2000],
            "retention_period": messages.dumps(decision.period or "-"),
            "reason": messages.dumps(reason, limit=4000),
            "retain_until": until, "status": "listed", "updated_at": clock.now(),
            "action": "transfer" if schedule is not None and schedule.action == "transfer"
            else "destroy"}
