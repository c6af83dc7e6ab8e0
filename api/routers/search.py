"""Search routes: the evidence list with filters and full text, and the same as CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import CurrentUser, SessionDep
from archive.search import service
from archive.search.csvout import csv_chunks
from archive.search.schemas import ListingParams, SearchPage, SearchParams

router = APIRouter(tags=["search"])


@router.get("/evidence", response_model=SearchPage,
            summary="Search the evidence in your scope (filters, Thai full text, pages)")
def list_evidence(request: Request, principal: CurrentUser, session: SessionDep,
                  params: Annotated[SearchParams, Query()]) -> SearchPage:
    """``q`` finds a substring of the file's text, the issuer's name, the description or
    the numbers (Thai included; ASCII letters ignore case). Pass ``next_cursor`` back as
    ``cursor`` for the next page. ``total`` is exact up to 10,000 matches; above that it
    is an estimate and ``total_is_estimate`` is true."""
    # read on the replica when one is configured and fresh enough; recorded on the primary
    with request.app.state.reads.search(session) as reads:
        return service.search(session, principal, params, reads=reads)


@router.get("/evidence.csv", response_class=StreamingResponse,
            summary="The same search as a CSV file (UTF-8 with BOM), every match")
def evidence_csv(request: Request, principal: CurrentUser, session: SessionDep,
                 params: Annotated[ListingParams, Query()]) -> StreamingResponse:
    filters = params.filters()
    reads = request.app.state.reads
    with reads.search(session) as replica:
        service.start_listing(session, principal, filters, sort=params.sort, output="csv",
                              reads=replica)
    return StreamingResponse(
        csv_chunks(reads.search, principal, filters, sort=params.sort),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="evidence.csv"',
                 "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
