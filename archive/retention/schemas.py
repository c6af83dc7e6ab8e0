"""What goes in and out of the retention services (and the API)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from archive.messages import message
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
    disbursement_id: uuid.UUID | None = Field(
        default=None, description="A voucher: holds every file linked to it, now and later.")

    _r = field_validator("reason")(_reason)

    @model_validator(mode="after")
    def _one_of(self) -> HoldIn:
        given = [x for x in (self.record_ids, self.filter, self.disbursement_id) if x is not None]
        if len(given) != 1:
            raise ValueError("give one of record_ids, filter or disbursement_id")
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
    """The head of agency's order appointing the destruction committee (ข้อ 68)."""

    chair: str = Field(max_length=100)
    members: list[str] = Field(min_length=2, max_length=20)
    order_ref: str = Field(max_length=200, description="The appointing order (คำสั่ง ที่ …).")
    order_date: TypedDay = Field(description="The date of the appointing order.")

    _o = field_validator("order_ref")(lambda v: required_text(v, 200))


class ConfirmIn(_In):
    note: str | None = Field(default=None, max_length=2000)


class RuleUpdate(_In):
    value: int = Field(ge=1, le=3650)
    basis_th: str
    basis_en: str
    reason: str

    _b = field_validator("basis_th", "basis_en", "reason")(_reason)


class RuleOut(BaseModel):
    code: str
    value: int
    basis_th: str
    basis_en: str
    version: int
    history: list[dict[str, Any]]
    updated_by: str
    updated_at: dt.datetime


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
                raise ValueError(message("input.keep_until", "keep needs keep_until: until "
                                         "when to keep the record"))
            if not self.comment:
                raise ValueError(message("input.objection_comment", "an objection needs a "
                                         "comment"))
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
    sent_on: TypedDay
    reference: str | None = Field(default=None, max_length=200)
    review_days: int | None = Field(
        default=None, ge=1, le=3650,
        description="Omit: the review period of the rules (60 days by default). A longer "
                    "period may be given, never a shorter one.")


class ArchivesObjectionIn(_In):
    item: int = Field(ge=1)
    action: Literal["keep", "transfer"]
    keep_until: TypedDate = None
    comment: str

    _c = field_validator("comment")(_reason)

    @model_validator(mode="after")
    def _keep(self) -> ArchivesObjectionIn:
        if self.action == "keep" and self.keep_until is None:
            raise ValueError(message("input.keep_until_kept", "keep needs keep_until: until "
                                     "when the record is kept"))
        if self.action == "transfer" and self.keep_until is not None:
            raise ValueError("keep_until belongs to keep")
        return self


class ArchivesResponseIn(_In):
    """The National Archives' answer: ``approve`` (items they want for transfer in
    ``transfer_items``), or ``object`` to the items in ``items`` (keep until a date, or
    transfer). ``consent`` is the former name of ``approve``."""

    result: Literal["approve", "object", "consent"]
    responded_on: TypedDay
    transfer_items: list[int] = Field(default_factory=list, max_length=10_000)
    items: list[ArchivesObjectionIn] = Field(default_factory=list, max_length=10_000)
    comment: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _objection(self) -> ArchivesResponseIn:
        if self.result == "object" and not self.items:
            raise ValueError("an objection names the items it concerns (items: item, action "
                             "keep or transfer, keep_until, comment)")
        if self.result != "object" and self.items:
            raise ValueError("items belong to an objection; use transfer_items with approve")
        return self


class ItemOut(BaseModel):
    seq: int
    evidence_id: uuid.UUID
    file_code: str
    doc_reference: str | None
    doc_date: dt.date | None
    subject: str
    retention_period: str
    reason: str
    retention_period_message: dict[str, Any] | None = None   # code and parameters
    reason_message: dict[str, Any] | None = None
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
    outcome: dict[str, int] = Field(
        default_factory=dict, description="What the items came to, non-zero counts only: "
        "to_destroy, to_transfer, to_keep (open items; on_hold of them held now), then "
        "destroyed, transferred, kept, held (not destroyed: under legal hold), blocked "
        "(not destroyed, another reason), removed.")
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
