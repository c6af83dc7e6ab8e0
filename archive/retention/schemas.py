"""What goes in and out of the retention services (and the API)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from archive.search.schemas import SearchFilters
from archive.validators import TypedDate, TypedDay, check_fiscal_year, required_text


def _reason(value: Any) -> Any:
    return required_text(value, 2000)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- holds and closures ----------------------------------------------------------------

class HoldIn(_In):
    reason: str
    record_ids: list[uuid.UUID] | None = Field(default=None, max_length=10_000)
    filter: SearchFilters | None = Field(default=None, description="The search filters.")

    _r = field_validator("reason")(_reason)

    @model_validator(mode="after")
    def _one_of(self) -> HoldIn:
        if (self.record_ids is None) == (self.filter is None):
            raise ValueError("give either record_ids or filter")
        if self.record_ids is not None and not self.record_ids:
            raise ValueError("record_ids is empty")
        return self


class ReasonIn(_In):
    reason: str

    _r = field_validator("reason")(_reason)


class HoldOut(BaseModel):
    id: uuid.UUID
    kind: str
    reason: str
    criteria: dict[str, Any]
    status: str
    records: int
    organisations: list[str]
    created_by: str
    created_at: dt.datetime
    released_by: str | None
    released_at: dt.datetime | None
    release_reason: str | None


class HoldDetail(HoldOut):
    record_ids: list[uuid.UUID]


class ClosureIn(_In):
    org_code: str = Field(max_length=32)
    fiscal_year: int
    result: Literal["no_objection", "objection"]
    closed_on: TypedDay
    reference: str | None = Field(default=None, max_length=200)

    _fy = field_validator("fiscal_year", mode="before")(check_fiscal_year)


class ClosureOut(BaseModel):
    id: int
    org_code: str
    fiscal_year: int
    result: str
    closed_on: dt.date
    reference: str | None
    recorded_by: str
    recorded_at: dt.datetime
    hold_id: uuid.UUID | None


# -- records ---------------------------------------------------------------------------

class RecordRetentionOut(BaseModel):
    evidence_id: uuid.UUID
    org_code: str
    fiscal_year: int
    doc_type: str
    status: str
    schedule_code: str | None
    retain_until: dt.datetime | None
    retention_basis: str | None
    on_hold: bool
    holds: list[str]
    decision: dict[str, Any]
    store_lock: dict[str, Any]
    disposition: list[dict[str, Any]]


# -- disposition -----------------------------------------------------------------------

class SurveyIn(_In):
    as_of: TypedDate = None
    dry_run: bool = False
    org_code: str | None = Field(default=None, max_length=32)


class CommitteeIn(_In):
    chair: str = Field(max_length=100)
    members: list[str] = Field(min_length=2, max_length=20)
    order_ref: str | None = Field(default=None, max_length=200)


class VoteIn(_In):
    item: int = Field(ge=1, description="The item number (ลำดับที่) on the list.")
    vote: Literal["approve", "object"]
    comment: str | None = Field(default=None, max_length=2000)
    action: Literal["remove", "keep", "transfer"] | None = None
    keep_until: TypedDate = None

    @model_validator(mode="after")
    def _objection(self) -> VoteIn:
        if self.vote == "object":
            if self.action is None:
                raise ValueError("an objection says what to do instead: remove, keep or "
                                 "transfer")
            if self.action == "keep" and self.keep_until is None:
                raise ValueError("keep needs keep_until: until when to keep the record")
            if not self.comment:
                raise ValueError("an objection needs a comment")
        elif self.action is not None or self.keep_until is not None:
            raise ValueError("action and keep_until belong to objections")
        return self


class VotesIn(_In):
    votes: list[VoteIn] = Field(min_length=1, max_length=10_000)


class DecisionIn(_In):
    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=2000)


class CommentIn(_In):
    comment: str | None = Field(default=None, max_length=2000)


class ArchivesSentIn(_In):
    sent_on: dt.date
    reference: str | None = Field(default=None, max_length=200)
    review_days: int = Field(default=60, ge=1, le=365)


class ArchivesResponseIn(_In):
    result: Literal["consent", "objection"]
    responded_on: dt.date
    transfer_items: list[int] = Field(default_factory=list, max_length=10_000)
    comment: str | None = Field(default=None, max_length=2000)


class ItemOut(BaseModel):
    seq: int
    evidence_id: uuid.UUID
    file_code: str
    doc_reference: str | None
    doc_date: dt.date | None
    subject: str
    retention_period: str
    reason: str
    retain_until: dt.datetime | None
    action: str
    keep_until: dt.date | None
    status: str
    note: str | None
    on_hold: bool
    votes: list[dict[str, Any]]
    result: dict[str, Any] | None


class ListOut(BaseModel):
    id: uuid.UUID
    number: str
    org_code: str
    org_name: str
    year_be: int
    as_of: dt.date
    status: str
    executable: bool
    executable_on: dt.date | None
    items: int
    to_destroy: int
    created_by: str
    created_at: dt.datetime


class ListDetail(ListOut):
    committee: dict[str, Any]
    head_of_agency: dict[str, Any]
    national_archives: dict[str, Any]
    execution: dict[str, Any]
    certificates: list[dict[str, Any]]
    entries: list[ItemOut]


class SurveyOut(BaseModel):
    as_of: dt.date
    dry_run: bool
    note: str | None
    lists: list[dict[str, Any]]
    eligible: int
    listed: int
