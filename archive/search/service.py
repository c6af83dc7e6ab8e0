"""Search over evidence for auditors: metadata filters, Thai substring text, keyset pages.

Text queries (``q``) look for a substring of the record's metadata (issuer name,
description, voucher and document numbers, tax ID) or of the text extracted from its file.
Both sides are NFC and folded the same way (:func:`archive.search.schemas.fold`: ASCII
letters lower-cased, everything else exact), so the two databases give the same answers:

* PostgreSQL: ``LIKE '%…%'`` on one expression over both folded texts, with a ``pg_trgm``
  GIN index; a scope of a few provinces looks in its areas' own hashed trigrams instead
  (migration 0101), and a wider search with a fiscal year in that year's and document
  type's (0102), then tests each candidate for the text; without a fiscal year it counts
  through every year's, and finds a page in upload order in the years uploaded last
  (0103; :class:`_EveryYear`);
* SQLite: FTS5 ``trigram`` phrase queries (exact substrings of three characters or more);
* queries shorter than three characters have no trigram: both scan (``strpos``/``instr``).

Every search is confined to the caller's organisations (``scope.scope_ids``) and
recorded in the audit trail with its parameters.

Speed (see ``docs/search.md`` and ``bench/search.py``): one query finds, counts and pages
the matches when there are few (:func:`_page_and_total`); when PostgreSQL's planner
expects many, only the page is read, usually by walking the index of the sort order, and
its estimate is the total. Searches run without JIT, with plans made for their own
values, with the random page cost of memory/SSD and at least 16 MB of ``work_mem``
(:func:`_plan_settings`). A closed audit period sorted by upload time is found by its
own indexes and then sorted (:func:`_period_by_upload`).
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
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import ColumnElement

from archive import audit, clock
from archive.accounts.principal import Principal, require
from archive.clock import start_of_day
from archive.db import UTCDateTime, dialect_name, planned_rows
from archive.errors import InvalidInput, NotFound
from archive.evidence.models import Blob, Evidence
from archive.evidence.service import out_fields
from archive.orgs import scope as org_scope
from archive.orgs.models import Organisation
from archive.search.extract import normalise
from archive.search.models import BlobText
from archive.search.schemas import SearchFilters, SearchItem, SearchPage, SearchParams, fold

# Up to this many matches the total is exact; beyond it, an estimate flagged as such. On
# PostgreSQL the planner's estimate decides first whether counting is worth it (see
# :func:`_page_and_total`).
EXACT_TOTAL_LIMIT = 10_000
TRIGRAM = 3
# Memory for one sort or bitmap of a search on PostgreSQL, at least (see _plan_settings).
SEARCH_WORK_MEM = 16 * 2**20

# PostgreSQL-only columns of the search migration (folded text, trigram-indexed); not
# mapped, so that loading a record never reads them.
_PG_META = sa.literal_column("evidence.search_meta", sa.Text)
_PG_TEXT = sa.literal_column("evidence.search_text", sa.Text)
# Both joined by U+001F (migration 0040), the expression of the trigram index.
_PG_ALL = sa.func.evidence_search_all(_PG_META, _PG_TEXT, type_=sa.Text)
# The hashed trigrams of both, keyed by each record's area (``evidence.search_area``: its
# province, migration 0101): a scope within at most AREA_GRAMS_MAX_AREAS areas searches
# text in those areas' posting lists only; a larger scope (and the nation) through the
# trigram index of all the text.
_AREA_GRAMS_SQL = ("evidence_org_grams(evidence.search_area, "
                   "evidence_search_all(evidence.search_meta, evidence.search_text))")
# The same trigrams keyed by each record's fiscal year and document type (migration 0102):
# a search with a fiscal year and no scope of a few areas (the nation) looks up that
# year's lists only, one key per document type asked for (all of them when none is).
_YEAR_GRAMS_SQL = ("evidence_org_grams(evidence_year_key(evidence.fiscal_year, evidence.doc_type), "
                   "evidence_search_all(evidence.search_meta, evidence.search_text))")
_YEAR_KEY = sa.text("SELECT evidence_year_key(:fy, :doc_type)")
# The document types a fiscal year's records have, by one descent per type of the index
# on (fiscal_year, doc_type, amount), and their keys.
_YEAR_KEYS = sa.text("""
    WITH RECURSIVE types(doc_type) AS (
        SELECT min(doc_type) FROM evidence WHERE fiscal_year = :fy
        UNION ALL
        SELECT (SELECT min(e.doc_type) FROM evidence e
                 WHERE e.fiscal_year = :fy AND e.doc_type > types.doc_type)
          FROM types WHERE types.doc_type IS NOT NULL)
    SELECT ARRAY(SELECT DISTINCT evidence_year_key(:fy, doc_type) FROM types
                  WHERE doc_type IS NOT NULL)""")
# The keys of every fiscal year and document type the records have (of every year and
# ``doc_type``, when given), by one descent per pair of the same index.
_EVERY_YEAR_KEYS = sa.text("""
    WITH RECURSIVE pairs(fy, doc_type) AS (
        (SELECT fiscal_year, doc_type FROM evidence ORDER BY fiscal_year, doc_type LIMIT 1)
        UNION ALL
        SELECT n.fiscal_year, n.doc_type FROM pairs, LATERAL (
            SELECT e.fiscal_year, e.doc_type FROM evidence e
             WHERE (e.fiscal_year, e.doc_type) > (pairs.fy, pairs.doc_type)
             ORDER BY e.fiscal_year, e.doc_type LIMIT 1) n)
    SELECT ARRAY(SELECT DISTINCT evidence_year_key(fy, coalesce(:doc_type, doc_type))
                   FROM pairs)""")
_QUERY_GRAMS = sa.text(
    "SELECT ARRAY(SELECT unnest(evidence_org_grams(0, :q)) "
    "EXCEPT SELECT unnest(evidence_org_grams(0, left(:q, 2))) "
    "EXCEPT SELECT unnest(evidence_org_grams(0, right(:q, 2))))")
_SCOPE_AREAS = sa.text("SELECT organisation_areas(CAST(:orgs AS integer[]))")
_GRAM_MASK = 2**32 - 1
AREA_GRAMS_MAX_AREAS = 8
# Keys looked up per area: any of a query's trigrams will do (every candidate is tested
# on its text); each costs one descent of the index per area, and beyond six the
# candidates of the benchmark's words did not get fewer (300,000 records).
AREA_GRAMS_KEYS = 6
# Whether a search with a fiscal year reads the trigrams keyed by it (migration 0102)
# when its scope does not read its areas' (the bench switches it off for a baseline).
YEAR_GRAMS = True
# A national text search with no fiscal year reads the same keyed trigrams, of every year
# (see :class:`_EveryYear`): to count a word the planner expects in at most
# EXACT_TOTAL_LIMIT records; in upload order, of a word it expects in more and at most
# YEAR_SLICES_MAX_GUESS, to find the page in the fiscal years uploaded last
# (:func:`_page_by_years`), in at most YEAR_SLICES_MAX_YEARS of them. A commoner word
# walks the upload order (a page's matches come every few rows).
YEAR_SLICES_MAX_GUESS = 100_000
YEAR_SLICES_MAX_YEARS = 4
# Each fiscal year's first and last upload (migration 0103: one descent each), the years
# found by one descent each of the same index.
_YEAR_EDGES = sa.text("""
    WITH RECURSIVE years(fy) AS (
        SELECT min(fiscal_year) FROM evidence
        UNION ALL
        SELECT (SELECT min(e.fiscal_year) FROM evidence e WHERE e.fiscal_year > years.fy)
          FROM years WHERE years.fy IS NOT NULL)
    SELECT fy,
           (SELECT min(e.created_at) FROM evidence e WHERE e.fiscal_year = years.fy) AS first,
           (SELECT max(e.created_at) FROM evidence e WHERE e.fiscal_year = years.fy) AS last
      FROM years WHERE fy IS NOT NULL""").columns(fy=sa.Integer, first=UTCDateTime(),
                                                  last=UTCDateTime())

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
    ocr: bool = False   # its searchable text came from OCR (read by the search pages only)


# -- extracted text ----------------------------------------------------------------------

def store_text(session: Session, blob_id: int, *, text: str | None = None,
               error: str | None = None, extractor: str) -> None:
    """Insert or replace the extracted text of a blob (safe to repeat)."""
    if (text is None) == (error is None):
        raise ValueError("give text or error")
    if text is not None:
        text = normalise(text)
    values = {"blob_id": blob_id, "text": text, "chars": len(text or ""), "extractor": extractor,
              "error": error, "extracted_at": clock.now()}
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
           record: bool = True, output: str = "json", reads: Session | None = None
           ) -> SearchPage:
    """One page of matches in the caller's scope, with the total (exact up to
    :data:`EXACT_TOTAL_LIMIT`, see :func:`_page_and_total`).

    ``reads``: a read session (``ReadSessions.search``, possibly on the read replica)
    that the matches are read from; the search is recorded in ``session``."""
    require(principal, "evidence.search")
    db = reads if reads is not None else session
    _plan_settings(db)
    filters = params.filters()
    where, every_year = _search_conditions(db, principal, filters)
    after = decode_cursor(params.cursor, params.sort, filters) if params.cursor else None
    hits, total, estimate = _page_and_total(db, where, params.sort, after, params.limit,
                                            fenced=_period_by_upload(params.sort, filters),
                                            every_year=every_year)
    more = len(hits) > params.limit
    hits = hits[:params.limit]
    next_cursor = encode_cursor(params.sort, filters, hits[-1].evidence) if more else None
    if record:
        audit.record(session, actor=principal, action="evidence.search", target_type="evidence",
                     details={"filters": filters.given(), "sort": params.sort,
                              "limit": params.limit, "page": "next" if params.cursor else "first",
                              "output": output, "total": total, "estimate": estimate,
                              "returned": len(hits)})
    items = [to_item(h) for h in hits]
    for item, hit in zip(items, hits, strict=True):
        if hit.ocr:
            item.text_source = "ocr"
    return SearchPage(items=items, next_cursor=next_cursor, total=total,
                      total_is_estimate=estimate)


def _plan_settings(session: Session) -> None:
    """For this transaction on PostgreSQL:

    * no JIT: compiling a query with a high estimated cost to machine code takes
      50–200 ms before the first row, more than a search takes;
    * a plan made for each search's own values: the driver prepares statements that
      repeat, and a prepared statement may switch to one generic plan for every value,
      wrong for searches, where a common and a rare word (or one and 7,000 organisations)
      need different plans;
    * ``random_page_cost`` 1.1 (SSD, or pages already in memory) instead of the default
      4 (a spinning disk): otherwise the planner prefers walking a large, well-correlated
      index range and testing the text of every row (e.g. 100,000 rows of a fiscal year,
      ~100 ms) to combining the trigram and fiscal-year indexes and reading a few
      thousand rows (~25 ms). A server configured this way already is unaffected.
    * ``work_mem`` at least 16 MB: the bitmap of a common word's trigram matches (~280,000
      records at 10 M) no longer fits the default 4 MB and turns lossy, and then every
      row of ~19,000 table pages is tested again (~140 ms of a provincial text search
      at 10 M; ~30 ms with an exact bitmap). A larger server setting is kept.
    """
    if dialect_name(session) == "postgresql":
        session.execute(sa.text(
            "SELECT set_config('jit', 'off', true), "
            "set_config('plan_cache_mode', 'force_custom_plan', true), "
            "set_config('random_page_cost', '1.1', true), "
            "set_config('work_mem', CASE WHEN pg_size_bytes(current_setting('work_mem')) "
            f"< {SEARCH_WORK_MEM} THEN '{SEARCH_WORK_MEM // 2**20}MB' "
            "ELSE current_setting('work_mem') END, true)"))


def start_listing(session: Session, principal: Principal, filters: SearchFilters, *,
                  sort: str = "-uploaded", output: str, limit: int | None = None,
                  reads: Session | None = None) -> int:
    """Check and record a full listing (CSV, evidence pack) before it is streamed with
    :func:`iter_hits`; returns the number of matches (capped like a search total),
    counted in ``reads`` when given (see :func:`search`)."""
    require(principal, "evidence.search")
    db = reads if reads is not None else session
    _plan_settings(db)
    where = _conditions(db, principal, filters)
    total, estimate = _total(db, where)
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
            if org_scope.in_scope(session, principal, ev.org_id):
                found[ev.id] = Hit(ev, blob, org)
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise NotFound(f"no such evidence record: {', '.join(missing[:5])}"
                       + (" …" if len(missing) > 5 else ""))
    return [found[i] for i in wanted]


def to_item(hit: Hit) -> SearchItem:
    # validated once, as a SearchItem (not as an EvidenceOut first, then dumped and again)
    return SearchItem(**out_fields(hit.evidence, hit.blob, hit.org), org_name=hit.org.name,
                      pdfa_compliant=hit.evidence.pdfa_compliant, on_hold=hit.evidence.on_hold)


# -- building the query ------------------------------------------------------------------

def _select_hits() -> sa.Select[Evidence, Blob, Organisation]:
    return (sa.select(Evidence, Blob, Organisation)
            .join(Blob, Blob.id == Evidence.blob_id)
            .join(Organisation, Organisation.id == Evidence.org_id))


# Whether the record's searchable text came from OCR (the ``ocr`` job): a column of the
# page's own query rather than a query of its own after it. A scalar subquery by the
# blob's key (NULL without a text: no OCR), not EXISTS: PostgreSQL may answer an EXISTS
# in the select list with a hashed subplan, built before the LIMIT applies, and for a
# national text search at 10 M records it did: a scan of every blob text (1 s) for a
# page of 51 rows. A scalar subquery is looked up once per row of the page.
_OCR = (sa.select(BlobText.extractor == "ocr").where(BlobText.blob_id == Blob.id)
        .scalar_subquery())


def _conditions(session: Session, principal: Principal,
                f: SearchFilters) -> list[ColumnElement[bool]]:
    return _search_conditions(session, principal, f)[0]


def _search_conditions(session: Session, principal: Principal, f: SearchFilters
                       ) -> tuple[list[ColumnElement[bool]], _EveryYear | None]:
    """The search's conditions, and for a text search with no fiscal year on PostgreSQL
    how to read it by fiscal year instead (:class:`_EveryYear`; nothing is read for that
    here)."""
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
    if f.status is None and not f.include_destroyed:
        where.append(Evidence.status != "destroyed")
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
    every_year = None
    if f.q is not None:
        q = fold(f.q)
        areas = _scope_areas(session, org_ids) if pg and len(q) >= TRIGRAM else []
        if pg and YEAR_GRAMS and f.fiscal_year is None and len(q) >= TRIGRAM and not areas:
            every_year = _EveryYear(list(where), q, f.doc_type)
        where.append(_text_condition(session, q, pg, org_ids, f.fiscal_year, f.doc_type,
                                     areas=areas))
    return where, every_year


def _org_ids(session: Session, principal: Principal, org_code: str | None) -> set[int] | None:
    """The organisations to search: the caller's scope, narrowed to ``org_code`` and its
    descendants. An organisation outside the scope looks exactly like a missing one."""
    scope = org_scope.scope_ids(session, principal)
    if org_code is None:
        # None: everything, no filter (a national auditor's scope). Any other scope
        # leaves out at least one root organisation (see ``scope_ids``), so it is never
        # every organisation and there is nothing to count.
        return None if scope is None else set(scope)
    org = org_scope.org_in_scope(session, principal, org_code)
    return org_scope.descendants(session, [org.id])


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
    """Upload dates are Thailand days: midnight in Bangkok (17:00 UTC the day before)."""
    return start_of_day(day)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_condition(session: Session, q: str, pg: bool, org_ids: set[int] | None,
                    fiscal_year: int | None = None, doc_type: str | None = None, *,
                    areas: list[int] | None = None) -> ColumnElement[bool]:
    """Records whose folded metadata or extracted text contains ``q`` (already folded),
    among ``org_ids`` (None: all). ``fiscal_year`` and ``doc_type``: the search's own
    filters (applied by the caller), which choose the index on PostgreSQL; ``areas``:
    the scope's (:func:`_scope_areas`), when the caller has them already."""
    if pg:
        # Both folded texts are columns of the evidence row (see the search migration),
        # searched as one expression with one trigram index (migration 0040), joined by
        # U+001F: a normalised query has no control character, so no match spans two
        # fields. The planner starts from the scope, the trigram index or the sort order.
        if len(q) < TRIGRAM:  # no trigram to look up: a plain scan
            return _contains(q)
        # Fewer candidates first: a scope's areas (a province is ~1.4 % of the nation),
        # else a fiscal year's (~10 %, and a document type's share of it); else the nation.
        if areas is None:
            areas = _scope_areas(session, org_ids)
        year = fiscal_year if YEAR_GRAMS and not areas else None
        grams = (query_grams(session, q)[:AREA_GRAMS_KEYS] if areas or year is not None
                 else ())
        if grams and areas:
            return sa.and_(_in_keyed_grams(_AREA_GRAMS_SQL, areas, grams), _contains(q))
        if grams and year is not None:
            return _years_text(session, q, grams, [year], doc_type)
        return _PG_ALL.like(_like_pattern(q), escape="\\")
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


def query_grams(session: Session, q: str) -> tuple[int, ...]:
    """The hashed trigrams (lower 32 bits of ``evidence_org_grams``, migrations 0099 and 0101) that
    every text containing ``q`` has. Empty when there are none (no word of three
    characters), and then the trigram index answers.

    ``show_trgm(q)`` pads each of ``q``'s words with blanks; a word inside ``q`` is a
    whole word of the text too, but the first and the last may be parts of longer ones,
    whose padded trigrams the text lacks. Those are all among the trigrams of ``q``'s
    first two and last two characters, which are left out (with any other trigram that
    happens to hash the same: fewer keys, never a missed record). ``pg_trgm`` writes a
    trigram of Thai characters as a checksum, so this cannot be told from its text."""
    keys = session.scalar(_QUERY_GRAMS, {"q": q}) or []
    return tuple(sorted({key & _GRAM_MASK for key in keys}))


def _scope_areas(session: Session, org_ids: set[int] | None) -> list[int]:
    """The areas (migration 0101) of a scope's organisations, or none when the scope is
    the nation or spans more than AREA_GRAMS_MAX_AREAS of them (then the trigram index of
    all the text is read instead)."""
    if not org_ids or AREA_GRAMS_MAX_AREAS == 0:
        return []
    areas = list(session.scalars(_SCOPE_AREAS, {"orgs": sorted(org_ids)}))
    return sorted(areas) if len(areas) <= AREA_GRAMS_MAX_AREAS else []


def _year_keys(session: Session, fiscal_year: int | None, doc_type: str | None) -> list[int]:
    """The keys (migration 0102) of a fiscal year's records of ``doc_type``, or of every
    document type its records have (none: no record of that year); ``fiscal_year`` None:
    of every year's."""
    if fiscal_year is None:
        return sorted(session.scalar(_EVERY_YEAR_KEYS, {"doc_type": doc_type}) or [])
    if doc_type is not None:
        return [int(session.scalar(_YEAR_KEY, {"fy": fiscal_year, "doc_type": doc_type}))]
    return sorted(session.scalar(_YEAR_KEYS, {"fy": fiscal_year}) or [])


def _years_text(session: Session, q: str, grams: tuple[int, ...], years: list[int] | None,
                doc_type: str | None) -> ColumnElement[bool]:
    """Records of ``years`` (None: every year) and ``doc_type`` (None: any) containing
    ``q``: the candidates of those years' keys (migration 0102), each tested for the
    text. The caller filters by the years and type too (a key's 16-bit hash of the type
    may be another type's)."""
    keys = (_year_keys(session, None, doc_type) if years is None else
            sorted({key for year in years for key in _year_keys(session, year, doc_type)}))
    if not keys:  # no record of those fiscal years
        return sa.false()
    return sa.and_(_in_keyed_grams(_YEAR_GRAMS_SQL, keys, grams), _contains(q))


def _contains(q: str) -> ColumnElement[bool]:
    return sa.func.strpos(_PG_ALL, q) > 0


def _in_keyed_grams(expression: str, keys: list[int],
                    grams: tuple[int, ...]) -> ColumnElement[bool]:
    """Candidates for a text containing ``grams`` under one of ``keys``: for each key (an
    area, migration 0101; a fiscal year and document type, 0102), the records whose index
    keys include all of that key's ``grams`` (the GIN index of ``expression`` reads that
    key's posting lists only), OR-ed. The caller's other conditions (scope, year, type)
    narrow them further (an LAO is one of its province's).

    Written as SQL text with the keys as constants (integers made here): keys made by a
    function in the statement were evaluated once per term while planning."""
    terms = " OR ".join(
        f"{expression} @> '{{{','.join(str((key << 32) | gram) for gram in grams)}}}'"
        "::bigint[]" for key in keys)
    return sa.text(f"({terms})")  # type: ignore[return-value]


# -- order and pages ---------------------------------------------------------------------

_SORT_COLUMNS = {"issue_date": Evidence.issue_date, "amount": Evidence.amount,
                 "uploaded": Evidence.created_at}


def _sort_parts(sort: str) -> tuple[Any, bool]:
    return _SORT_COLUMNS[sort.lstrip("-")], sort.startswith("-")


def _sort_value(sort: str, evidence: Evidence) -> Any:
    return getattr(evidence, _sort_parts(sort)[0].key)


def _order(column: Any, id_column: Any, desc: bool, nullable: bool) -> list[Any]:
    """Records without the sort key come last in either direction, then the id breaks ties.
    ``NULLS LAST`` is left out for a column that is never null (the same order), so that
    a backward scan of its plain index can serve ``DESC``."""
    key = column.desc() if desc else column.asc()
    if nullable:
        key = key.nulls_last()
    return [key, id_column.desc() if desc else id_column.asc()]


# An audit period of at most this many days, listed newest upload first, is read through
# its own indexes and sorted (see :func:`_period_by_upload`).
FENCED_PERIOD_DAYS = 366


def _period_by_upload(sort: str, f: SearchFilters) -> bool:
    """True for a closed issue-date period of at most :data:`FENCED_PERIOD_DAYS`, sorted
    by upload time: its records were uploaded in the weeks after it, so walking the
    upload-order index from the newest record (the planner's choice when it expects many
    matches spread evenly) passes over everything uploaded since: 9 M of 10 M records
    for a quarter nine years back (7 s). Finding the period's matches by its indexes and
    sorting them is bounded by the period instead."""
    if sort.lstrip("-") != "uploaded" or f.issue_date_from is None or f.issue_date_to is None:
        return False
    return (f.issue_date_to - f.issue_date_from).days <= FENCED_PERIOD_DAYS


def _page(session: Session, where: list[ColumnElement[bool]], sort: str,
          after: tuple[Any, uuid.UUID] | None, limit: int, *, fenced: bool = False
          ) -> list[Hit]:
    """Up to ``limit`` hits after ``after`` in ``sort`` order. ``fenced``: the matches are
    found first (a materialised CTE, which the planner cannot turn into a walk of the
    sort order's index) and then sorted; the same rows in the same order."""
    column, desc = _sort_parts(sort)
    nullable = _nullable(column)
    order = _order(column, Evidence.id, desc, nullable)
    if after is not None:
        where = [*where, _after(column, Evidence.id, desc, nullable, *after)]
    stmt = _select_hits().add_columns(_OCR.label("ocr"))
    if fenced:
        matches = (sa.select(Evidence.id.label("id"), column.label("key")).where(*where)
                   .cte("matches").prefix_with("MATERIALIZED", dialect="postgresql"))
        top_sq = (sa.select(matches.c.id)
                  .order_by(*_order(matches.c.key, matches.c.id, desc, nullable))
                  .limit(limit).subquery("top"))
        stmt = stmt.join(top_sq, top_sq.c.id == Evidence.id)
    else:
        stmt = stmt.where(*where).limit(limit)
    rows = session.execute(stmt.order_by(*order))
    return [Hit(ev, blob, org, bool(ocr)) for ev, blob, org, ocr in rows]


def _nullable(column: Any) -> bool:
    return column is not Evidence.created_at


def _after(column: Any, id_column: Any, desc: bool, nullable: bool, key: Any,
           last_id: uuid.UUID) -> ColumnElement[bool]:
    """Rows after (``key``, ``last_id``) in the order of :func:`_page` (keyset condition)."""
    if key is None:  # already among the records without a key: only ids remain
        return sa.and_(column.is_(None), id_column < last_id if desc else id_column > last_id)
    beyond = column < key if desc else column > key
    tie = sa.and_(column == key, id_column < last_id if desc else id_column > last_id)
    if not nullable:
        return sa.or_(beyond, tie)
    return sa.or_(beyond, tie, column.is_(None))


def _page_and_total(session: Session, where: list[ColumnElement[bool]], sort: str,
                    after: tuple[Any, uuid.UUID] | None, limit: int, *, fenced: bool = False,
                    every_year: _EveryYear | None = None) -> tuple[list[Hit], int, bool]:
    """Up to ``limit + 1`` hits after ``after``, and (total, is_estimate) of all matches.

    Usually one query finds the matches (at most :data:`EXACT_TOTAL_LIMIT` + 1), counts
    them and keeps the page (:func:`_page_with_count`), so the text and scope indexes are
    read once, not once for the page and again for the count. If there are more matches
    than the limit after all, the page is read on its own and the total is an estimate:
    the planner's on PostgreSQL, "more than the limit" on SQLite.

    On PostgreSQL the planner's estimate comes first: when it expects more matches than
    the limit, counting them is skipped and only the page is read (typically by walking
    the index of the sort order and stopping after one page; ``fenced``: by finding the
    matches first, see :func:`_period_by_upload`; ``every_year``, in upload order: in
    the fiscal years uploaded last, see :func:`_page_by_years`); the estimate is the
    total, flagged as one, unless a first page with room to spare shows every match.
    ``every_year``: the matches are counted through every year's keyed trigrams.
    """
    pg = dialect_name(session) == "postgresql"
    guess = planner_estimate(session, where) if pg else 0
    if guess <= EXACT_TOTAL_LIMIT:
        keyed = every_year.where_keyed(session) if every_year is not None else None
        counted = _page_with_count(session, keyed or where, sort, after, limit + 1)
        if counted is not None:
            return counted[0], counted[1], False
    hits = None
    if every_year is not None and sort.lstrip("-") == "uploaded" and not fenced \
            and guess <= YEAR_SLICES_MAX_GUESS:
        hits = _page_by_years(session, every_year, sort, after, limit + 1)
    if hits is None:
        hits = _page(session, where, sort, after, limit + 1, fenced=fenced)
    if after is None and len(hits) <= limit:
        return hits, len(hits), False
    return hits, max(guess, EXACT_TOTAL_LIMIT + 1), True


@dataclass
class _EveryYear:
    """A text search with no fiscal year (PostgreSQL) whose scope is not read by its
    areas' trigrams (the nation, or more than AREA_GRAMS_MAX_AREAS areas): its other
    conditions (the scope among them), its folded text and its document type. It
    can be read through every fiscal year's keyed trigrams (migration 0102) instead of
    the nation's trigram index: six trigrams looked up per year and type instead of all
    of the word's (`เจริญก่อสร้าง`, 14 trigrams each in a common vendor name: its 5,673
    matches among 10 M records counted in 64-67 ms instead of 105-108, docs/scale.md)."""

    where: list[ColumnElement[bool]]
    q: str
    doc_type: str | None
    _grams: tuple[int, ...] | None = None

    def grams(self, session: Session) -> tuple[int, ...]:
        """The trigrams to look up; none when the query has no word of three characters."""
        if self._grams is None:
            self._grams = query_grams(session, self.q)[:AREA_GRAMS_KEYS]
        return self._grams

    def where_keyed(self, session: Session) -> list[ColumnElement[bool]] | None:
        """The search's conditions, with its text looked up in every year's keys; None
        when it has none to look up."""
        grams = self.grams(session)
        if not grams:
            return None
        return [*self.where, _years_text(session, self.q, grams, None, self.doc_type)]


def _page_by_years(session: Session, every_year: _EveryYear, sort: str,
                   after: tuple[Any, uuid.UUID] | None, limit: int) -> list[Hit] | None:
    """Up to ``limit`` hits after ``after`` in upload order, found in the fiscal years
    uploaded last (first, ascending) through their keyed trigrams (migration 0102), or
    None when the page would need more than YEAR_SLICES_MAX_YEARS of them, or the query
    has no trigram to look up (only short words).

    Upload time is not fiscal year, but each year's records were uploaded between its
    first and last upload (migration 0103): once the years taken give a full page whose
    last hit was uploaded after (before) every record of the years left, no record of
    those can come before it. Otherwise twice as many years are taken. The same rows in
    the same order as :func:`_page` with the whole text condition."""
    grams = every_year.grams(session)
    if not grams:
        return None
    desc = sort.startswith("-")
    edges = [(row.fy, row.last if desc else row.first) for row in session.execute(_YEAR_EDGES)]
    edges.sort(key=lambda year: year[1], reverse=desc)
    taken = 1
    while taken <= YEAR_SLICES_MAX_YEARS:
        years = sorted(fy for fy, _ in edges[:taken])
        where = [*every_year.where, Evidence.fiscal_year.in_(years),
                 _years_text(session, every_year.q, grams, years, every_year.doc_type)]
        hits = _page(session, where, sort, after, limit)
        if taken >= len(edges):
            return hits
        edge = edges[taken][1]   # the nearest upload of the years left
        if len(hits) == limit:
            last = hits[-1].evidence.created_at
            if (last > edge) if desc else (last < edge):
                return hits
        taken *= 2
    return None


def _page_with_count(session: Session, where: list[ColumnElement[bool]], sort: str,
                     after: tuple[Any, uuid.UUID] | None,
                     limit: int) -> tuple[list[Hit], int] | None:
    """The page and the exact number of matches from one scan of the matches, or None if
    there are more than :data:`EXACT_TOTAL_LIMIT` (then the page may be wrong)."""
    column, desc = _sort_parts(sort)
    matches = (sa.select(Evidence.id.label("id"), column.label("key")).where(*where)
               .limit(EXACT_TOTAL_LIMIT + 1).cte("matches"))
    count = sa.select(sa.func.count()).select_from(matches).scalar_subquery()
    top = sa.select(matches.c.id)
    if after is not None:
        top = top.where(_after(matches.c.key, matches.c.id, desc, _nullable(column), *after))
    nullable = _nullable(column)
    top_sq = (top.order_by(*_order(matches.c.key, matches.c.id, desc, nullable))
              .limit(limit).subquery("top"))
    stmt = (_select_hits().add_columns(_OCR.label("ocr"), count.label("total"))
            .join(top_sq, top_sq.c.id == Evidence.id)
            .order_by(*_order(column, Evidence.id, desc, nullable)))
    rows = session.execute(stmt).all()
    if rows:
        total = int(rows[0][4])
    elif after is None:
        total = 0
    else:  # past the last match: count on its own
        total = int(session.scalar(sa.select(sa.func.count()).select_from(matches)) or 0)
    if total > EXACT_TOTAL_LIMIT:
        return None
    return [Hit(ev, blob, org, bool(ocr)) for ev, blob, org, ocr, _ in rows], total


def planner_estimate(session: Session, where: list[ColumnElement[bool]]) -> int:
    """The PostgreSQL planner's estimate of the number of matches (no rows are read).

    Looked up at call time: tests replace it (with ``EXACT_TOTAL_LIMIT``) to force each
    counting path."""
    return planned_rows(session, sa.select(sa.literal(1)).select_from(Evidence).where(*where))


def _total(session: Session, where: list[ColumnElement[bool]]) -> tuple[int, bool]:
    """(total, is_estimate): exact up to the limit; beyond, the planner's estimate on
    PostgreSQL and the limit itself ("more than") on SQLite."""
    # A constant, not a column: an index that answers the filters answers the count alone.
    matches = sa.select(sa.literal(1)).select_from(Evidence).where(*where)
    capped = sa.select(sa.func.count()).select_from(
        matches.limit(EXACT_TOTAL_LIMIT + 1).subquery())
    count = int(session.scalar(capped) or 0)
    if count <= EXACT_TOTAL_LIMIT:
        return count, False
    if dialect_name(session) == "postgresql":
        return max(planner_estimate(session, where), EXACT_TOTAL_LIMIT + 1), True
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
