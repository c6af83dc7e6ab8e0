"""The search as a CSV file an auditor can open in a spreadsheet.

UTF-8 with a byte-order mark (so spreadsheet programs read Thai correctly), amounts as
plain decimals ("1234.50"), dates in ISO 8601 (the upload time in Thailand time, +07:00).
Text cells that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``,
``@``) get a leading apostrophe: the names and descriptions come from uploaders and must
not execute on an auditor's machine.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from archive.accounts.principal import Principal
from archive.clock import BANGKOK
from archive.search import service as search
from archive.search.schemas import SearchFilters
from archive.unit_of_work import UnitsOfWork

COLUMNS = ("id", "org_code", "org_name", "doc_type", "fiscal_year", "voucher_no", "doc_number",
           "issue_date", "issuer_name", "issuer_tax_id", "issuer_branch", "amount",
           "vat_amount", "currency", "description", "original_filename", "media_type",
           "sha256", "size", "status", "pdfa_compliant", "on_hold", "uploaded_by",
           "uploaded_at")
_TEXT = frozenset({"org_name", "voucher_no", "doc_number", "issuer_name", "description",
                   "original_filename", "uploaded_by"})


def _cell(column: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if column in _TEXT and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_chunks(units: UnitsOfWork, principal: Principal, filters: SearchFilters,
               *, sort: str = "-uploaded", rows_per_chunk: int = 200) -> Iterator[bytes]:
    """The CSV in chunks, read in its own unit of work (the request's has committed by the
    time a streamed body is sent). Call :func:`search.start_listing` first: it checks the
    filters and records the listing in the audit trail."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(COLUMNS)
    with units() as session:
        hits = search.iter_hits(session, principal, filters, sort=sort)
        for n, hit in enumerate(hits, start=1):
            item = search.to_item(hit)
            row = item.model_dump()
            # a Thailand time (with its +07:00 offset), like every date a user reads
            row["uploaded_at"] = item.created_at.astimezone(BANGKOK).isoformat()
            writer.writerow([_cell(c, row.get(c)) for c in COLUMNS])
            if n % rows_per_chunk == 0:
                yield buf.getvalue().encode("utf-8")
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue().encode("utf-8")
