"""The auditor's lists: vouchers in scope with their findings and completeness (keyset
pages, newest voucher date first), the summary per organisation, and both as CSV.

Every listing is confined to the caller's scope and recorded in the audit trail with its
filters. The finding filter reads ``disbursement_findings`` by its (code, organisation,
fiscal year) index; completeness is the ``complete`` column the recompute maintains.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from archive import audit
from archive.accounts import service as accounts
from archive.accounts.principal import Principal, require
from archive.db import dialect_name, planned_rows
from archive.disbursements.models import FINDING_CODES, Disbursement, DisbursementFinding
from archive.disbursements.schemas import (
    ListFilters,
    ListItem,
    ListPage,
    ListParams,
    Summary,
    SummaryParams,
    SummaryRow,
    VoucherOut,
)
from archive.errors import InvalidInput, NotFound
from archive.orgs import service as orgs
from archive.orgs.models import Organisation
from archive.unit_of_work import UnitsOfWork

_LAO_EXCLUDED_TYPES = ("dla-office", "province")


# -- scope -------------------------------------------------------------------------------

def _org_ids(session: Session, principal: Principal, org_code: str | None) -> set[int] | None:
    """The organisations to list: the caller's scope, narrowed to ``org_code`` and below
    (``None`` = every organisation). Out of scope looks exactly like unknown."""
    scope = accounts.scope_ids(session, principal)
    if org_code is None:
        return None if scope is None else set(scope)
    try:
        org = orgs.get_by_code(session, org_code)
    except NotFound:
        raise NotFound(f"no organisation with code {org_code!r}", code="org_not_found") from None
    if scope is not None and org.id not in scope:
        raise NotFound(f"no organisation with code {org_code!r}", code="org_not_found")
    return orgs.descendants(session, [org.id])


def _in_ints(column: Any, values: set[int], pg: bool) -> ColumnElement[bool]:
    if not values:
        return sa.false()
    if len(values) == 1:
        return column == next(iter(values))  # type: ignore[no-any-return,unused-ignore]
    if pg:  # one array parameter instead of thousands
        array = sa.bindparam(None, sorted(values), type_=postgresql.ARRAY(sa.Integer))
        return column == sa.any_(array)  # type: ignore[no-any-return,unused-ignore]
    return column.in_(sorted(values))  # type: ignore[no-any-return,unused-ignore]


class _Query:
    """A listing's conditions: on the vouchers, and — with a finding filter — on the
    findings table, which then drives the query (it carries the organisation, fiscal year
    and sort key of its voucher, so the filter, the order and the page come from one of
    its indexes; the vouchers are read for the page only)."""

    def __init__(self, voucher: list[ColumnElement[bool]],
                 finding: list[ColumnElement[bool]] | None) -> None:
        self.voucher = voucher
        self.finding = finding

    @property
    def date(self) -> Any:
        return DisbursementFinding.voucher_date if self.finding is not None \
            else Disbursement.voucher_date

    @property
    def id(self) -> Any:
        return DisbursementFinding.disbursement_id if self.finding is not None \
            else Disbursement.id

    def select(self, *columns: Any) -> Any:
        if self.finding is None:
            return sa.select(*columns).select_from(Disbursement).where(*self.voucher)
        stmt = sa.select(*columns).select_from(DisbursementFinding).where(*self.finding)
        if self.voucher:
            stmt = stmt.join(Disbursement, Disbursement.id == DisbursementFinding.disbursement_id)
        return stmt.where(*self.voucher)


def _conditions(session: Session, principal: Principal, f: ListFilters) -> _Query:
    pg = dialect_name(session) == "postgresql"
    voucher: list[ColumnElement[bool]] = []
    finding: list[ColumnElement[bool]] | None = None
    org_ids = _org_ids(session, principal, f.org_code)
    if f.finding is not None:
        finding = [DisbursementFinding.code == f.finding]
        if org_ids is not None:
            finding.append(_in_ints(DisbursementFinding.org_id, org_ids, pg))
        if f.fiscal_year is not None:
            finding.append(DisbursementFinding.fiscal_year == f.fiscal_year)
    else:
        if org_ids is not None:
            voucher.append(_in_ints(Disbursement.org_id, org_ids, pg))
        if f.fiscal_year is not None:
            voucher.append(Disbursement.fiscal_year == f.fiscal_year)
    for column, value in ((Disbursement.kind, f.kind),
                          (Disbursement.payee_tax_id, f.payee_tax_id),
                          (Disbursement.complete, f.complete)):
        if value is not None:
            voucher.append(column == value)
    if f.q is not None:
        pattern = "%" + f.q.lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        voucher.append(sa.or_(
            sa.func.lower(Disbursement.voucher_no).like(pattern, escape="\\"),
            sa.func.lower(Disbursement.payee_name).like(pattern, escape="\\"),
            sa.func.lower(Disbursement.description).like(pattern, escape="\\"),
            Disbursement.payee_tax_id == f.q))
    return _Query(voucher, finding)


# -- the list ----------------------------------------------------------------------------

EXACT_TOTAL_LIMIT = 10_000


def list_page(session: Session, principal: Principal, params: ListParams, *,
              record: bool = True) -> ListPage:
    """One page of vouchers in the caller's scope (newest voucher date first) and the total
    (exact up to :data:`EXACT_TOTAL_LIMIT`, above it PostgreSQL's estimate, flagged)."""
    require(principal, "disbursements.read")
    _plan_settings(session)
    filters = params.filters()
    query = _conditions(session, principal, filters)
    after = decode_cursor(params.cursor, filters) if params.cursor else None
    rows = _page(session, query, after, params.limit + 1)
    more = len(rows) > params.limit
    rows = rows[:params.limit]
    if after is None and not more:
        total, estimate = len(rows), False
    else:
        total, estimate = _total(session, query)
    next_cursor = encode_cursor(filters, rows[-1][0]) if more else None
    if record:
        audit.record(session, actor=principal, action="disbursements.list",
                     target_type="disbursement",
                     details={"filters": filters.given(), "page": "next" if params.cursor
                              else "first", "total": total, "returned": len(rows),
                              "output": "json"})
    return ListPage(items=_items(session, rows), next_cursor=next_cursor, total=total,
                    total_is_estimate=estimate)


def _plan_settings(session: Session) -> None:
    """As for the evidence search (``archive.search.service._plan_settings``): no JIT, a
    plan for each call's own values, the random page cost of memory/SSD."""
    if dialect_name(session) == "postgresql":
        session.execute(sa.text("SELECT set_config('jit', 'off', true), "
                                "set_config('plan_cache_mode', 'force_custom_plan', true), "
                                "set_config('random_page_cost', '1.1', true)"))


def _total(session: Session, query: _Query) -> tuple[int, bool]:
    capped = query.select(sa.literal(1)).limit(EXACT_TOTAL_LIMIT + 1).subquery()
    count = int(session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0)
    if count <= EXACT_TOTAL_LIMIT:
        return count, False
    if dialect_name(session) == "postgresql":
        return max(planned_rows(session, query.select(sa.literal(1))),
                   EXACT_TOTAL_LIMIT + 1), True
    return EXACT_TOTAL_LIMIT + 1, True


def _page(session: Session, query: _Query, after: tuple[dt.date, uuid.UUID] | None,
          limit: int) -> list[tuple[Disbursement, Organisation]]:
    date, ident = query.date, query.id
    keys = query.select(ident.label("id"))
    if after is not None:
        day, last = after
        keys = keys.where(sa.or_(date < day, sa.and_(date == day, ident < last)))
    keys = keys.order_by(date.desc(), ident.desc()).limit(limit).subquery("page")
    stmt = (sa.select(Disbursement, Organisation)
            .join(keys, keys.c.id == Disbursement.id)
            .join(Organisation, Organisation.id == Disbursement.org_id)
            .order_by(Disbursement.voucher_date.desc(), Disbursement.id.desc()))
    return [(d, o) for d, o in session.execute(stmt)]


def _items(session: Session, rows: list[tuple[Disbursement, Organisation]]) -> list[ListItem]:
    codes: dict[uuid.UUID, list[str]] = {}
    ids = [d.id for d, _ in rows]
    if ids:
        for d_id, code in session.execute(
                sa.select(DisbursementFinding.disbursement_id, DisbursementFinding.code)
                .where(DisbursementFinding.disbursement_id.in_(ids))
                .order_by(DisbursementFinding.code)):
            codes.setdefault(d_id, []).append(code)
    # validated once, as a ListItem (not as a VoucherOut first, then dumped and again)
    return [ListItem(**_voucher_fields(d, o), findings=codes.get(d.id, []),
                     complete=d.complete, missing=d.missing or []) for d, o in rows]


_VOUCHER_FIELDS = tuple(f for f in VoucherOut.model_fields if f not in ("org_code", "org_name"))


def _voucher_fields(v: Disbursement, org: Organisation) -> dict[str, Any]:
    """The values of :class:`VoucherOut` (for it or a model extending it)."""
    return {"org_code": org.code, "org_name": org.name,
            **{f: getattr(v, f) for f in _VOUCHER_FIELDS}}


def start_listing(session: Session, principal: Principal, filters: ListFilters, *,
                  output: str) -> int:
    """Check and record a full listing (CSV) before :func:`iter_items` streams it."""
    require(principal, "disbursements.read")
    query = _conditions(session, principal, filters)
    total, estimate = _total(session, query)
    audit.record(session, actor=principal, action="disbursements.list",
                 target_type="disbursement",
                 details={"filters": filters.given(), "total": total, "estimate": estimate,
                          "output": output})
    return total


def iter_items(session: Session, principal: Principal, filters: ListFilters, *,
               batch: int = 500) -> Iterator[ListItem]:
    """Every voucher of the listing, page by page."""
    require(principal, "disbursements.read")
    query = _conditions(session, principal, filters)
    after: tuple[dt.date, uuid.UUID] | None = None
    while True:
        rows = _page(session, query, after, batch)
        yield from _items(session, rows)
        if len(rows) < batch:
            return
        after = (rows[-1][0].voucher_date, rows[-1][0].id)
        session.expunge_all()


# -- cursors -----------------------------------------------------------------------------

def _fingerprint(filters: ListFilters) -> str:
    body = json.dumps(filters.given(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def encode_cursor(filters: ListFilters, last: Disbursement) -> str:
    body = json.dumps([1, _fingerprint(filters), last.voucher_date.isoformat(), str(last.id)],
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, filters: ListFilters) -> tuple[dt.date, uuid.UUID]:
    bad = InvalidInput("the cursor is not valid for this query; start again without it",
                       code="invalid_cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, fingerprint, day, last_id = json.loads(raw)
        if version != 1 or fingerprint != _fingerprint(filters):
            raise bad
        return dt.date.fromisoformat(day), uuid.UUID(last_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise bad from None


# -- the summary -------------------------------------------------------------------------

def summary(session: Session, principal: Principal, params: SummaryParams, *,
            record: bool = True) -> Summary:
    """Per local organisation in scope: vouchers, complete ones, amounts, and the number of
    vouchers with each finding code (organisations without vouchers show zeros)."""
    require(principal, "disbursements.read")
    pg = dialect_name(session) == "postgresql"
    org_ids = _org_ids(session, principal, params.org_code)
    org_q = sa.select(Organisation).where(Organisation.type.not_in(_LAO_EXCLUDED_TYPES))
    if org_ids is not None:
        org_q = org_q.where(_in_ints(Organisation.id, org_ids, pg))
    organisations = {o.id: o for o in session.scalars(org_q.order_by(Organisation.code))}
    where: list[ColumnElement[bool]] = []
    fwhere: list[ColumnElement[bool]] = []
    if org_ids is not None:
        where.append(_in_ints(Disbursement.org_id, org_ids, pg))
        fwhere.append(_in_ints(DisbursementFinding.org_id, org_ids, pg))
    if params.fiscal_year is not None:
        where.append(Disbursement.fiscal_year == params.fiscal_year)
        fwhere.append(DisbursementFinding.fiscal_year == params.fiscal_year)
    counts = {r[0]: r for r in session.execute(
        sa.select(Disbursement.org_id, sa.func.count(), sa.func.sum(
            sa.case((Disbursement.complete.is_(True), 1), else_=0)),
            sa.func.sum(Disbursement.gross_amount), sa.func.sum(Disbursement.net_amount))
        .where(*where).group_by(Disbursement.org_id))}
    by_code: dict[int, dict[str, int]] = {}
    for org_id, code, n in session.execute(
            sa.select(DisbursementFinding.org_id, DisbursementFinding.code,
                      sa.func.count(sa.distinct(DisbursementFinding.disbursement_id)))
            .where(*fwhere).group_by(DisbursementFinding.org_id, DisbursementFinding.code)):
        by_code.setdefault(org_id, {})[code] = int(n)
    missing_orgs = set(counts) - set(organisations)
    if missing_orgs:  # vouchers registered on a province or DLA office: shown too
        for o in session.scalars(sa.select(Organisation).where(
                Organisation.id.in_(sorted(missing_orgs)))):
            organisations[o.id] = o
    rows = []
    for org in sorted(organisations.values(), key=lambda o: o.code):
        c = counts.get(org.id)
        rows.append(SummaryRow(
            org_code=org.code, org_name=org.name, fiscal_year=params.fiscal_year,
            vouchers=int(c[1]) if c else 0, complete=int(c[2] or 0) if c else 0,
            gross_amount=_money(c[3] if c else None),
            net_amount=_money(c[4] if c else None),
            findings={code: by_code.get(org.id, {}).get(code, 0) for code in FINDING_CODES}))
    totals = SummaryRow(
        org_code="*", org_name="", fiscal_year=params.fiscal_year,
        vouchers=sum(r.vouchers for r in rows), complete=sum(r.complete for r in rows),
        gross_amount=sum((r.gross_amount for r in rows), Decimal("0.00")),
        net_amount=sum((r.net_amount for r in rows), Decimal("0.00")),
        findings={code: sum(r.findings[code] for r in rows) for code in FINDING_CODES})
    if record:
        audit.record(session, actor=principal, action="disbursements.summary",
                     target_type="disbursement",
                     details={"org_code": params.org_code, "fiscal_year": params.fiscal_year,
                              "organisations": len(rows)})
    return Summary(rows=rows, totals=totals)


def _money(value: Any) -> Decimal:
    """A SUM of a Money column (already a Decimal: the column's type converts it)."""
    return Decimal("0.00") if value is None else Decimal(value).quantize(Decimal("0.01"))


# -- CSV ---------------------------------------------------------------------------------

LIST_COLUMNS = ("id", "org_code", "org_name", "fiscal_year", "voucher_no", "voucher_date",
                "kind", "payee_name", "payee_tax_id", "gross_amount", "withholding_tax",
                "net_amount", "payment_method", "payment_date", "budget_code",
                "expenditure_category", "procurement_method", "egp_project_no", "contract_no",
                "description", "complete", "missing", "findings")
_TEXT = frozenset({"org_name", "voucher_no", "payee_name", "budget_code",
                   "expenditure_category", "procurement_method", "egp_project_no",
                   "contract_no", "description"})


def _cell(column: str, value: object) -> str:
    """Spreadsheet-safe: formula-looking text from uploaders gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if column == "missing" and isinstance(value, list):
        return "; ".join(" | ".join(g) for g in value)
    if column == "findings" and isinstance(value, list):
        return " ".join(value)
    text = str(value)
    if column in _TEXT and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def list_csv_chunks(units: UnitsOfWork, principal: Principal, filters: ListFilters, *,
                    rows_per_chunk: int = 200) -> Iterator[bytes]:
    """The voucher list as CSV (UTF-8 with BOM), read in a unit of work of its own (the
    request's has committed by the time a streamed body is sent; call
    :func:`start_listing` first: it checks the filters and records the listing)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(LIST_COLUMNS)
    with units() as session:
        for n, item in enumerate(iter_items(session, principal, filters), start=1):
            row = item.model_dump()
            writer.writerow([_cell(c, row.get(c)) for c in LIST_COLUMNS])
            if n % rows_per_chunk == 0:
                yield buf.getvalue().encode("utf-8")
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue().encode("utf-8")


def summary_csv(result: Summary) -> bytes:
    """The summary as CSV (UTF-8 with BOM): one row per organisation, then the totals."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(["org_code", "org_name", "fiscal_year", "vouchers", "complete",
                     "gross_amount", "net_amount", *FINDING_CODES])
    for r in [*result.rows, result.totals]:
        writer.writerow([r.org_code, _cell("org_name", r.org_name), r.fiscal_year or "",
                         r.vouchers, r.complete, r.gross_amount, r.net_amount,
                         *[r.findings[c] for c in FINDING_CODES]])
    return buf.getvalue().encode("utf-8")
