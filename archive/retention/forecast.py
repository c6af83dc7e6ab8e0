"""What becomes eligible for disposition when: ``GET /api/v1/retention/forecast``.

Each live record in scope whose ``retain_until`` falls on or before ``until`` (or is not
known) is decided as of ``until`` with the events known today — closures still to come
are not guessed, so an unaudited voucher shows at its 10-year date. Eligible records are
grouped by organisation, schedule and the year in which they become eligible; held
records are counted apart; records whose retention cannot be computed are listed with
the reason. Each group also says when the store will actually release the bytes (the
latest lock of its blobs, ``store_releases_on``): a lock set before the lock horizon
(issue 16) may outlast the retention, and the bytes of a destroyed record stay in the
store until then.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.accounts.principal import Principal, require
from archive.evidence.models import Blob, Evidence
from archive.orgs import scope
from archive.orgs.models import Organisation
from archive.retention import compute
from archive.retention.models import DispositionItem
from archive.retention.schedules.models import RetentionSchedule
from archive.retention.schedules.service import ensure_defaults

MAX_LISTED = 1000


def forecast(session: Session, principal: Principal, *, until: dt.date) -> dict[str, Any]:
    require(principal, "retention.read")
    ensure_defaults(session)
    q = sa.select(Evidence).where(
        Evidence.status != "destroyed",
        sa.or_(Evidence.retain_until.is_(None),
               Evidence.retain_until <= clock.start_of_day(until)))
    q = scope.limit_to_scope(session, principal, q, Evidence.org_id)
    orgs = {o.id: o for o in session.scalars(sa.select(Organisation))}
    codes = {s.id: s.code for s in session.scalars(sa.select(RetentionSchedule))}
    listed = set(session.scalars(sa.select(DispositionItem.open_evidence_id).where(
        DispositionItem.open_evidence_id.is_not(None))))
    rule_map = compute.rules(session)
    groups: dict[tuple[str, str, int], dict[str, Any]] = {}
    held: dict[tuple[str, str], int] = defaultdict(int)
    cannot: list[dict[str, Any]] = []
    cannot_total = 0
    rows: list[Evidence] = []
    locks: dict[int, dt.datetime] = {}

    def flush() -> None:
        nonlocal cannot_total
        decisions = compute.decide_many(session, rows, today=until, rule_map=rule_map)
        locks.update((b, u) for b, u in session.execute(sa.select(
            Blob.id, Blob.retain_until).where(Blob.id.in_({e.blob_id for e in rows}))))
        for e in rows:
            d = decisions[e.id]
            org = orgs[e.org_id]
            schedule = codes.get(e.schedule_id or -1, "-")
            if d.held:
                held[(org.code, schedule)] += 1
            elif d.cannot_compute_reason is not None:
                cannot_total += 1
                if len(cannot) < MAX_LISTED:
                    cannot.append({"evidence_id": str(e.id), "org_code": org.code,
                                   "doc_type": e.doc_type, "fiscal_year": e.fiscal_year,
                                   "schedule_code": schedule,
                                   "reason": d.cannot_compute_reason})
            elif d.eligible(until):
                day = d.eligible_on or until
                g = groups.setdefault((org.code, schedule, day.year), {
                    "org_code": org.code, "org_name": org.name, "schedule_code": schedule,
                    "year": day.year, "year_be": day.year + 543, "records": 0,
                    "first_eligible": day, "last_eligible": day, "already_listed": 0,
                    "fiscal_years": set(), "store_releases_on": None})
                g["records"] += 1
                g["first_eligible"] = min(g["first_eligible"], day)
                g["last_eligible"] = max(g["last_eligible"], day)
                g["already_listed"] += e.id in listed
                g["fiscal_years"].add(e.fiscal_year)
                lock = locks.get(e.blob_id)
                if lock is not None:
                    released = lock.astimezone(clock.BANGKOK).date()
                    g["store_releases_on"] = max(g["store_releases_on"] or released, released)
        rows.clear()

    for e in session.scalars(q.order_by(Evidence.id).execution_options(yield_per=500)):
        rows.append(e)
        if len(rows) >= 500:
            flush()
    flush()
    out_groups = [{**g, "fiscal_years": sorted(g["fiscal_years"])}
                  for _, g in sorted(groups.items())]
    return {
        "as_of": clock.today(), "until": until, "groups": out_groups,
        "eligible": sum(g["records"] for g in out_groups),
        "held": [{"org_code": o, "schedule_code": s, "records": n}
                 for (o, s), n in sorted(held.items())],
        "cannot_compute": cannot, "cannot_compute_total": cannot_total,
    }
