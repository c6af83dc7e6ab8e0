"""Search over evidence for auditors: metadata filters, Thai substring text, keyset pages.

Text queries (``q``) look for a substring of the record's metadata (issuer name,
description, voucher and document numbers, tax ID) or of the text extracted from its file.
Both sides are NFC and folded the same way (:func:`archive.search.schemas.fold`: ASCII
letters lower-cased, everything else exact), so the two databases give the same answers:

* PostgreSQL: ``LIKE '%…%'`` on expressions with ``pg_trgm`` GIN indexes;
* SQLite: FTS5 ``trigram`` phrase queries (exact substrings of three characters or more);
* queries shorter than three characters have no trigram: both scan (``strpos``/``instr``).

Every search is confined to the caller's organisations (``accounts.scope_ids``) and
recorded in the audit trail with its parameters.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import ClauseElement, ColumnElement, Executable

from archive import audit
from archive.accounts import service as accounts
from archive.accounts.principal import Principal, require
from archive.db import dialect_name, utcnow
from archive.errors import InvalidInput, NotFound
from archive.evidence.models import Blob, Evidence
from archive.evidence.service import to_out
from archive.orgs import service as orgs
from archive.orgs.models import Organisation
from archive.search.extract import normalise
from archive.search.models import BlobText
from archive.search.schemas import SearchFilters, SearchItem, SearchPage, SearchParams, fold

# Up to this many matches the total is exact; beyond it, an estimate flagged as such.
EXACT_TOTAL_LIMIT = 10_000
TRIGRAM = 3

# PostgreSQL-only columns of the search migration (folded text, trigram-indexed); not
# mapped, so that loading a record never reads them.
_PG_META = sa.literal_column("evidence.search_meta", sa.Text)
_PG_TEXT = sa.literal_column("evidence.search_text", sa.Text)

# SQLite-only objects of the search migration (not mapped: raw DDL with FTS5).
_search_meta = sa.table("search_meta", sa.column("id"), sa.column("evidence_id"),
                        sa.column("text"))
_meta_fts = sa.table("search_meta_fts", sa.column("rowid"), sa.column("search_meta_fts"))
_blob_fts = sa.table("blob_text_fts", sa.column("rowid"), sa.column("blob_text_fts"))


@dataclass
class Hit:
    evidence: Evidence
    blob: Blob
    org: Organisation


# -- extracted text ----------------------------------------------------------------------

def store_text(session: Session, blob_id: int, *, text: str | None = None,
               error: str | None = None, extractor: str) -> None:
    """Insert or replace the extracted text of a blob (safe to repeat)."""
    if (text is None) == (error is None):
        raise ValueError("give text or error")
    if text is not None:
        text = normalise(text)
    values = {"blob_id": blob_id, "text": text, "chars": len(text or ""), "extractor": extractor,
              "error": error, "extracted_at": utcnow()}
    insert: Any = (postgresql.insert if dialect_name(session) == "postgresql"
                   else _sqlite_insert())(BlobText).values(values)
    update = {k: insert.excluded[k] for k in ("text", "chars", "extractor", "error",
                                              "extracted_at")}
    session.execute(insert.on_conflict_do_update(index_elements=["blob_id"], set_=update))


def _sqlite_insert() -> Any:
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


# -- the search --------------------------------------------------------------------------

def search(session: Session, principal: Principal, params: SearchParams, *,
           record: bool = True, output: str = "json") -> SearchPage:
    """One page of matches in the caller's scope, with the total (exact up to
    :data:`EXACT_TOTAL_LIMIT`)."""
    require(principal, "evidence.search")
    _no_jit(session)
    filters = params.filters()
    where = _conditions(session, principal, filters)
    after = decode_cursor(params.cursor, params.sort, filters) if params.cursor else None
    hits = _page(session, where, params.sort, after, params.limit + 1)
    more = len(hits) > params.limit
    hits = hits[:params.limit]
    next_cursor = encode_cursor(params.sort, filters, hits[-1].evidence) if more else None
    total, estimate = _total(session, where)
    if record:
        audit.record(session, actor=principal, action="evidence.search", target_type="evidence",
                     details={"filters": filters.given(), "sort": params.sort,
                              "limit": params.limit, "page": "next" if params.cursor else "first",
                              "output": output, "total": total, "estimate": estimate,
                              "returned": len(hits)})
    return SearchPage(items=[to_item(h) for h in hits], next_cursor=next_cursor, total=total,
                      total_is_estimate=estimate)


def _no_jit(session: Session) -> None:
    """PostgreSQL compiles queries with a high estimated cost to machine code, which costs
    50–200 ms before the first row: far more than a search takes. Off for this transaction."""
    if dialect_name(session) == "postgresql":
        session.execute(sa.text("SET LOCAL jit = off"))


def start_listing(session: Session, principal: Principal, filters: SearchFilters, *,
                  sort: str = "-uploaded", output: str, limit: int | None = None) -> int:
    """Check and record a full listing (CSV, evidence pack) before it is streamed with
    :func:`iter_hits`; returns the number of matches (capped like a search total)."""
    require(principal, "evidence.search")
    where = _conditions(session, principal, filters)
    total, estimate = _total(session, where)
    audit.record(session, actor=principal, action="evidence.search", target_type="evidence",
                 details={"filters": filters.given(), "sort": sort, "output": output,
                          "total": total, "estimate": estimate})
    return total


def iter_hits(session: Session, principal: Principal, filters: SearchFilters, *,
              sort: str = "-uploaded", batch: int = 500) -> Iterator[Hit]:
    """Every match in the caller's scope, in ``sort`` order, fetched page by page."""
    require(principal, "evidence.search")
    where = _conditions(session, principal, filters)
    after: tuple[Any, uuid.UUID] | None = None
    while True:
        hits = _page(session, where, sort, after, batch)
        yield from hits
        if len(hits) < batch:
            return
        after = (_sort_value(sort, hits[-1].evidence), hits[-1].evidence.id)
        session.expunge_all()  # long listings must not grow the identity map


def count(session: Session, principal: Principal, filters: SearchFilters) -> int:
    """The exact number of matches in the caller's scope (for export progress)."""
    require(principal, "evidence.search")
    where = _conditions(session, principal, filters)
    return int(session.scalar(sa.select(sa.func.count(Evidence.id)).where(*where)) or 0)


def hits_by_id(session: Session, principal: Principal, ids: list[uuid.UUID]) -> list[Hit]:
    """The records with these ids, all of which must exist in the caller's scope."""
    require(principal, "evidence.search")
    wanted = sorted(set(ids))
    found: dict[uuid.UUID, Hit] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = session.execute(_select_hits().where(Evidence.id.in_(chunk)))
        for ev, blob, org in rows:
            if accounts.in_scope(session, principal, ev.org_id):
                found[ev.id] = Hit(ev, blob, org)
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise NotFound(f"no such evidence record: {', '.join(missing[:5])}"
                       + (" …" if len(missing) > 5 else ""))
    return [found[i] for i in wanted]


def to_item(hit: Hit) -> SearchItem:
    base = to_out(hit.evidence, hit.blob, hit.org)
    return SearchItem(**base.model_dump(), org_name=hit.org.name,
                      pdfa_compliant=hit.evidence.pdfa_compliant, on_hold=hit.evidence.on_hold)


# -- building the query ------------------------------------------------------------------

def _select_hits() -> sa.Select[Evidence, Blob, Organisation]:
    return (sa.select(Evidence, Blob, Organisation)
            .join(Blob, Blob.id == Evidence.blob_id)
            .join(Organisation, Organisation.id == Evidence.org_id))


def _conditions(session: Session, principal: Principal,
                f: SearchFilters) -> list[ColumnElement[bool]]:
    pg = dialect_name(session) == "postgresql"
    where: list[ColumnElement[bool]] = []
    org_ids = _org_ids(session, principal, f.org_code)
    if org_ids is not None:
        where.append(_in_ints(Evidence.org_id, org_ids, pg))
    simple = {Evidence.fiscal_year: f.fiscal_year, Evidence.doc_type: f.doc_type,
              Evidence.status: f.status, Evidence.issuer_tax_id: f.issuer_tax_id,
              Evidence.voucher_no: f.voucher_no, Evidence.doc_number: f.doc_number,
              Evidence.on_hold: f.on_hold}
    where += [column == value for column, value in simple.items() if value is not None]
    if f.issue_date_from is not None:
        where.append(Evidence.issue_date >= f.issue_date_from)
    if f.issue_date_to is not None:
        where.append(Evidence.issue_date <= f.issue_date_to)
    if f.uploaded_from is not None:
        where.append(Evidence.created_at >= _day_start(f.uploaded_from))
    if f.uploaded_to is not None:
        where.append(Evidence.created_at < _day_start(f.uploaded_to + dt.timedelta(days=1)))
    if f.amount_min is not None:
        where.append(Evidence.amount >= f.amount_min)
    if f.amount_max is not None:
        where.append(Evidence.amount <= f.amount_max)
    if f.pdfa is not None:
        where.append({"compliant": Evidence.pdfa_compliant.is_(True),
                      "not": Evidence.pdfa_compliant.is_(False),
                      "unchecked": Evidence.pdfa_compliant.is_(None)}[f.pdfa])
    if f.sha256 is not None:
        where.append(Evidence.blob_id == sa.select(Blob.id).where(Blob.sha256 == f.sha256)
                     .scalar_subquery())
    if f.q is not None:
        where.append(_text_condition(fold(f.q), pg))
    return where


def _org_ids(session: Session, principal: Principal, org_code: str | None) -> set[int] | None:
    """The organisations to search: the caller's scope, narrowed to ``org_code`` and its
    descendants. An organisation outside the scope looks exactly like a missing one."""
    scope = accounts.scope_ids(session, principal)
    if org_code is None:
        if scope is None or len(scope) >= _organisation_count(session):
            return None  # everything: no filter (a national auditor's scope)
        return set(scope)
    try:
        org = orgs.get_by_code(session, org_code)
    except NotFound:
        raise NotFound(f"no organisation with code {org_code!r}", code="org_not_found") from None
    if scope is not None and org.id not in scope:
        raise NotFound(f"no organisation with code {org_code!r}", code="org_not_found")
    return orgs.descendants(session, [org.id])


def _organisation_count(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(Organisation)) or 0)


def _in_ints(column: Any, values: set[int], pg: bool) -> ColumnElement[bool]:
    if not values:
        return sa.false()
    if len(values) == 1:
        return column == next(iter(values))  # type: ignore[no-any-return,unused-ignore]
    if pg:  # one array parameter instead of thousands
        array = sa.bindparam(None, sorted(values), type_=postgresql.ARRAY(sa.Integer))
        return column == sa.any_(array)  # type: ignore[no-any-return,unused-ignore]
    return column.in_(sorted(values))  # type: ignore[no-any-return,unused-ignore]


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_condition(q: str, pg: bool) -> ColumnElement[bool]:
    """Records whose folded metadata or extracted text contains ``q`` (already folded)."""
    if pg:
        # Both folded texts are columns of the evidence row (see the search migration): the
        # planner starts from the caller's organisations or from the trigram indexes.
        if len(q) >= TRIGRAM:
            pattern = _like_pattern(q)
            return sa.or_(_PG_META.like(pattern, escape="\\"),
                          _PG_TEXT.like(pattern, escape="\\"))
        # no trigram to look up: a plain scan
        return sa.or_(sa.func.strpos(_PG_META, q) > 0, sa.func.strpos(_PG_TEXT, q) > 0)
    ev = aliased(Evidence)
    if len(q) >= TRIGRAM:
        phrase = '"' + q.replace('"', '""') + '"'
        by_meta = (sa.select(_search_meta.c.evidence_id)
                   .where(_search_meta.c.id.in_(
                       sa.select(_meta_fts.c.rowid)
                       .where(_meta_fts.c.search_meta_fts.op("MATCH")(phrase)))))
        by_text = (sa.select(ev.id).where(ev.blob_id.in_(
            sa.select(_blob_fts.c.rowid).where(_blob_fts.c.blob_text_fts.op("MATCH")(phrase)))))
    else:
        by_meta = (sa.select(_search_meta.c.evidence_id)
                   .where(sa.func.instr(_search_meta.c.text, q) > 0))
        by_text = (sa.select(ev.id).join(BlobText, BlobText.blob_id == ev.blob_id)
                   .where(sa.func.instr(sa.func.lower(BlobText.text), q) > 0))
    return Evidence.id.in_(sa.union(by_meta, by_text))


# -- order and pages ---------------------------------------------------------------------

_SORT_COLUMNS = {"issue_date": Evidence.issue_date, "amount": Evidence.amount,
                 "uploaded": Evidence.created_at}


def _sort_parts(sort: str) -> tuple[Any, bool]:
    return _SORT_COLUMNS[sort.lstrip("-")], sort.startswith("-")


def _sort_value(sort: str, evidence: Evidence) -> Any:
    return getattr(evidence, _sort_parts(sort)[0].key)


def _page(session: Session, where: list[ColumnElement[bool]], sort: str,
          after: tuple[Any, uuid.UUID] | None, limit: int) -> list[Hit]:
    column, desc = _sort_parts(sort)
    stmt = _select_hits().where(*where)
    if after is not None:
        stmt = stmt.where(_after(column, desc, *after))
    # Records without the sort key come last in either direction, then the id breaks ties.
    order = [column.desc().nulls_last(), Evidence.id.desc()] if desc else \
        [column.asc().nulls_last(), Evidence.id.asc()]
    rows = session.execute(stmt.order_by(*order).limit(limit))
    return [Hit(ev, blob, org) for ev, blob, org in rows]


def _after(column: Any, desc: bool, key: Any, last_id: uuid.UUID) -> ColumnElement[bool]:
    """Rows after (``key``, ``last_id``) in the order of :func:`_page` (keyset condition)."""
    if key is None:  # already among the records without a key: only ids remain
        return sa.and_(column.is_(None), Evidence.id < last_id if desc else Evidence.id > last_id)
    beyond = column < key if desc else column > key
    tie = sa.and_(column == key, Evidence.id < last_id if desc else Evidence.id > last_id)
    if column is Evidence.created_at:  # never null
        return sa.or_(beyond, tie)
    return sa.or_(beyond, tie, column.is_(None))


class _Explain(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.stmt, **kw)


def _total(session: Session, where: list[ColumnElement[bool]]) -> tuple[int, bool]:
    """(total, is_estimate): exact up to the limit; beyond, the planner's estimate on
    PostgreSQL and the limit itself ("more than") on SQLite."""
    matches = sa.select(Evidence.id).where(*where)
    capped = sa.select(sa.func.count()).select_from(
        matches.limit(EXACT_TOTAL_LIMIT + 1).subquery())
    count = int(session.scalar(capped) or 0)
    if count <= EXACT_TOTAL_LIMIT:
        return count, False
    if dialect_name(session) == "postgresql":
        plan = session.execute(_Explain(matches)).scalar_one()
        if isinstance(plan, str):
            plan = json.loads(plan)
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        return max(estimate, EXACT_TOTAL_LIMIT + 1), True
    return EXACT_TOTAL_LIMIT + 1, True


# -- cursors -----------------------------------------------------------------------------

def _fingerprint(sort: str, filters: SearchFilters) -> str:
    body = json.dumps([sort, filters.given()], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def encode_cursor(sort: str, filters: SearchFilters, last: Evidence) -> str:
    value = _sort_value(sort, last)
    if isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    body = json.dumps([1, _fingerprint(sort, filters), value, str(last.id)],
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, filters: SearchFilters) -> tuple[Any, uuid.UUID]:
    """The (sort key, id) a cursor points after; ``InvalidInput`` for anything else,
    including a cursor made for another query or order."""
    bad = InvalidInput("the cursor is not valid for this query; start again without it",
                       code="invalid_cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, fingerprint, value, last_id = json.loads(raw)
        if version != 1 or fingerprint != _fingerprint(sort, filters):
            raise bad
        column, _ = _sort_parts(sort)
        if value is not None:
            if column is Evidence.created_at:
                value = dt.datetime.fromisoformat(value)
            elif column is Evidence.issue_date:
                value = dt.date.fromisoformat(value)
            else:
                value = Decimal(value)
        return value, uuid.UUID(last_id)
    except (ValueError, TypeError, InvalidOperation, binascii.Error, UnicodeDecodeError):
        raise bad from None
