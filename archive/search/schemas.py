"""What goes into and out of the search: validated filters, result pages, export requests."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from archive.evidence.models import STATUSES
from archive.evidence.schemas import Amount, EvidenceOut
from archive.messages import Items, message
from archive.search.extract import normalise
from archive.thai import ascii_digits
from archive.validators import TypedDate, blank_to_none, check_doc_type, check_fiscal_year

SORTS = ("issue_date", "-issue_date", "amount", "-amount", "uploaded", "-uploaded")
PDFA_VERDICTS = ("compliant", "not", "unchecked")
MAX_LIMIT = 200
MAX_QUERY_CHARS = 200
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """The search's case rule, the same in both databases: ASCII letters lower-cased,
    everything else (Thai included) compared exactly after NFC."""
    return normalise(text).translate(_ASCII_FOLD)


class SearchFilters(BaseModel):
    """The filters of a search; every one is optional and they combine with AND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    org_code: str | None = Field(default=None, max_length=32,
                                 description="An organisation and everything below it.")
    fiscal_year: int | None = Field(default=None, description="Thai fiscal year (BE).")
    doc_type: str | None = None
    issue_date_from: TypedDate = Field(default=None, description="Issue date, inclusive "
                                       "(a year of 2400 or more is Buddhist Era).")
    issue_date_to: TypedDate = None
    uploaded_from: TypedDate = Field(default=None, description="Upload date (a Thailand day, "
                                     "Asia/Bangkok), inclusive.")
    uploaded_to: TypedDate = Field(default=None, description="Upload date (a Thailand day, "
                                   "Asia/Bangkok), inclusive.")
    issuer_tax_id: str | None = None
    voucher_no: str | None = Field(default=None, max_length=100)
    doc_number: str | None = Field(default=None, max_length=100)
    amount_min: Amount = None
    amount_max: Amount = None
    pdfa: Literal["compliant", "not", "unchecked"] | None = None
    status: str | None = None
    on_hold: bool | None = None
    include_destroyed: bool = Field(default=False, description=(
        "Also list destroyed records (tombstones of an approved disposition); without it "
        "they are left out unless status=destroyed is asked for."))
    sha256: str | None = Field(default=None, description="Exactly these bytes.")
    q: str | None = Field(default=None, description="Text anywhere in the file's text, the "
                          "issuer's name, the description or the numbers (substring).")

    @field_validator("*", mode="before")
    @classmethod
    def _blanks(cls, value: Any) -> Any:
        return blank_to_none(value)

    _fiscal_year = field_validator("fiscal_year", mode="before")(check_fiscal_year)
    _doc_type = field_validator("doc_type")(check_doc_type)

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        if value is not None and value not in STATUSES:
            raise ValueError(message("input.status", "unknown status; use one of {choices}",
                                     choices=Items(STATUSES)))
        return value

    @field_validator("issuer_tax_id")
    @classmethod
    def _tax_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = re.sub(r"[\s-]", "", ascii_digits(value))
        if not (len(digits) == 13 and digits.isascii() and digits.isdigit()):
            raise ValueError("a Thai tax ID has 13 digits")
        return digits

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str | None) -> str | None:
        if value is not None and not _SHA256.match(value.lower()):
            raise ValueError(message("input.sha256", "a SHA-256 is 64 hexadecimal characters"))
        return value.lower() if value else None

    @field_validator("voucher_no", "doc_number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        return normalise(value) or None if value is not None else None

    @field_validator("q")
    @classmethod
    def _q(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = normalise(value)
        if len(value) > MAX_QUERY_CHARS:
            raise ValueError(f"at most {MAX_QUERY_CHARS} characters")
        return value or None

    @model_validator(mode="after")
    def _ranges(self) -> SearchFilters:
        for low, high in (("issue_date_from", "issue_date_to"), ("uploaded_from", "uploaded_to"),
                          ("amount_min", "amount_max")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise ValueError(message("input.range", "{low} is after {high}", low=low,
                                         high=high))
        return self

    def given(self) -> dict[str, Any]:
        """The filters that were set, in JSON-friendly form (audit trail, bag-info, cursor)."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump(exclude_none=True, exclude_defaults=True).items():
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            out[key] = value
        return out


class ListingParams(SearchFilters):
    """Filters plus order (the query string of ``GET /api/v1/evidence.csv``)."""

    sort: str = Field(default="-uploaded", description=f"One of {', '.join(SORTS)}.")

    @field_validator("sort")
    @classmethod
    def _sort(cls, value: str) -> str:
        if value not in SORTS:
            raise ValueError(message("input.sort", "unknown sort; use one of {choices}",
                                     choices=Items(SORTS)))
        return value

    def filters(self) -> SearchFilters:
        return SearchFilters(**self.model_dump(include=set(SearchFilters.model_fields)))


class SearchParams(ListingParams):
    """Filters, order and paging (the query string of ``GET /api/v1/evidence``)."""

    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=500,
                               description="``next_cursor`` of the previous page.")


class SearchItem(EvidenceOut):
    org_name: str
    pdfa_compliant: bool | None
    on_hold: bool
    # "ocr" when the record's searchable text was read from a scan by OCR (a text query
    # may have matched it: OCR text can hold misreadings); None otherwise.
    text_source: str | None = None


class SearchPage(BaseModel):
    items: list[SearchItem]
    next_cursor: str | None
    total: int
    total_is_estimate: bool


class ExportRequest(BaseModel):
    """``POST /api/v1/exports``: filters, a list of record ids, or a disbursement voucher
    (every file linked to it, with the voucher, its findings, reviews and audit events)."""

    model_config = ConfigDict(extra="forbid")

    filters: SearchFilters | None = None
    ids: list[uuid.UUID] | None = Field(default=None, max_length=10_000)
    disbursement_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ExportRequest:
        given = [x for x in (self.filters, self.ids, self.disbursement_id) if x is not None]
        if len(given) != 1:
            raise ValueError("give one of filters, ids or disbursement_id")
        if self.ids is not None and not self.ids:
            raise ValueError("ids is empty")
        return self

    def as_query(self) -> dict[str, Any]:
        if self.disbursement_id is not None:
            return {"disbursement_id": str(self.disbursement_id)}
        if self.ids is not None:
            return {"ids": sorted({str(i) for i in self.ids})}
        assert self.filters is not None
        return {"filters": self.filters.given()}


class ExportOut(BaseModel):
    id: uuid.UUID
    status: str
    requested_by: str
    query: dict[str, Any]
    progress: dict[str, Any] | None
    record_count: int | None
    sha256: str | None
    size: int | None
    error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    download: str | None = None
