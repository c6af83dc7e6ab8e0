"""What goes in and out of the disbursement service: validated vouchers, links, reviews,
list filters and the views of a voucher."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from archive import clock
from archive.disbursements.models import (
    FINDING_CODES,
    KINDS,
    PAYMENT_METHODS,
    ROLES,
)
from archive.evidence.schemas import Amount, HistoryOut, Line100, Line300, parse_metadata
from archive.messages import message
from archive.textnorm import clean_text
from archive.thai import fiscal_year
from archive.validators import blank_to_none, check_fiscal_year

__all__ = ["parse_metadata"]

MAX_LIMIT = 200
MAX_QUERY_CHARS = 200

# The voucher fields a register carries (the API's field names; also the register CSV's
# English headers).
VOUCHER_FIELDS = ("fiscal_year", "voucher_no", "voucher_date", "kind", "payee_name",
                  "payee_tax_id", "gross_amount", "withholding_tax", "net_amount",
                  "payment_method", "payment_date", "budget_code", "expenditure_category",
                  "procurement_method", "egp_project_no", "contract_no", "description")


def _line200(value: Any) -> Any:
    value = blank_to_none(value)
    if isinstance(value, str):
        value = clean_text(value)
        if len(value) > 200:
            raise ValueError("at most 200 characters")
    return value


Line200 = Annotated[str | None, BeforeValidator(_line200)]


def _check_date(value: dt.date | None) -> dt.date | None:
    if value is None:
        return None
    if value.year > 2400:
        raise ValueError(message("input.year_be", "year {year} looks like a Buddhist-Era year; "
                                 "send the date in the Christian Era (ISO 8601), e.g. {example}",
                                 year=value.year,
                                 example=f"{value.year - 543}-{value:%m-%d}"))
    if value.year < 1990:
        raise ValueError("date is before 1990")
    if value > clock.today() + dt.timedelta(days=366):
        raise ValueError("date is more than a year in the future")
    return value


def _check_payee_tax_id(value: str | None) -> str | None:
    """13 digits. A wrong check digit is *not* refused: registers carry such IDs, and the
    finding ``invalid_payee_tax_id`` is how an auditor wants to see them."""
    if value is None:
        return None
    digits = re.sub(r"[\s-]", "", value)
    if not (len(digits) == 13 and digits.isascii() and digits.isdigit()):
        raise ValueError("a Thai tax ID has 13 digits")
    return digits


def _one_of(values: tuple[str, ...], what: str) -> Any:
    def check(value: str | None) -> str | None:
        if value is not None and value not in values:
            raise ValueError(f"unknown {what}; use one of {', '.join(values)}")
        return value
    return check


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = clean_text(value, multiline=True)
    if len(value) > 4000:
        raise ValueError("at most 4000 characters")
    return value or None


class _VoucherFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fiscal_year: int | None = None
    voucher_no: Line100 = None
    voucher_date: dt.date | None = None
    kind: str | None = None
    payee_name: Line300 = None
    payee_tax_id: str | None = None
    gross_amount: Amount = None
    withholding_tax: Amount = None
    net_amount: Amount = None
    payment_method: str | None = None
    payment_date: dt.date | None = None
    budget_code: Line100 = None
    expenditure_category: Line200 = None
    procurement_method: Line100 = None
    egp_project_no: Line100 = None
    contract_no: Line100 = None
    description: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blanks(cls, value: Any) -> Any:
        return blank_to_none(value)

    _fy = field_validator("fiscal_year")(check_fiscal_year)
    _dates = field_validator("voucher_date", "payment_date")(_check_date)
    _tax = field_validator("payee_tax_id")(_check_payee_tax_id)
    _kind = field_validator("kind")(_one_of(KINDS, "kind"))
    _method = field_validator("payment_method")(_one_of(PAYMENT_METHODS, "payment method"))
    _desc = field_validator("description")(_text)

    @field_validator("egp_project_no")
    @classmethod
    def _egp(cls, value: str | None) -> str | None:
        if value is not None and len(value) > 50:
            raise ValueError("at most 50 characters")
        return value

    def _check_amounts(self, gross: Decimal | None, withholding: Decimal | None,
                       net: Decimal | None) -> None:
        if gross is not None and net is not None and net > gross:
            raise ValueError("net_amount is larger than gross_amount")
        if gross is not None and withholding is not None and withholding > gross:
            raise ValueError("withholding_tax is larger than gross_amount")


class DisbursementCreate(_VoucherFields):
    """A new voucher. ``fiscal_year`` defaults from ``voucher_date``."""

    org_code: str = Field(max_length=32)
    voucher_no: Line100
    voucher_date: dt.date
    kind: str
    payee_name: Line300
    gross_amount: Amount
    net_amount: Amount
    payment_method: str

    @model_validator(mode="after")
    def _complete(self) -> DisbursementCreate:
        for name in ("voucher_no", "payee_name", "gross_amount", "net_amount"):
            if getattr(self, name) is None:
                raise ValueError(f"{name} is required")
        if self.fiscal_year is None:
            self.fiscal_year = fiscal_year(self.voucher_date)
        self._check_amounts(self.gross_amount, self.withholding_tax, self.net_amount)
        return self


class DisbursementUpdate(_VoucherFields):
    """A correction: only the fields given change; ``reason`` is kept in history."""

    reason: str | None = Field(default=None, max_length=2000)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evidence_id: uuid.UUID
    role: str

    _role = field_validator("role")(_one_of(ROLES, "role"))


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["no_observation", "observation"]
    note: str | None = None

    @field_validator("note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        return _text(blank_to_none(value))

    @model_validator(mode="after")
    def _observation_has_note(self) -> ReviewIn:
        if self.outcome == "observation" and not self.note:
            raise ValueError("an observation needs a note saying what was observed")
        return self


class ProfileIn(BaseModel):
    """A new version of the profile: the whole data, and why."""

    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]
    reason: str = Field(min_length=1, max_length=2000)


class ListFilters(BaseModel):
    """Filters of the voucher list; every one optional, combined with AND."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    org_code: str | None = Field(default=None, max_length=32,
                                 description="An organisation and everything below it.")
    fiscal_year: int | None = None
    kind: str | None = None
    payee_tax_id: str | None = None
    finding: str | None = Field(default=None, description="Vouchers with this finding code.")
    complete: bool | None = None
    q: str | None = Field(default=None, description="Voucher number, payee or description "
                          "(substring).")

    @field_validator("*", mode="before")
    @classmethod
    def _blanks(cls, value: Any) -> Any:
        return blank_to_none(value)

    _fy = field_validator("fiscal_year")(check_fiscal_year)
    _kind = field_validator("kind")(_one_of(KINDS, "kind"))
    _finding = field_validator("finding")(_one_of(FINDING_CODES, "finding code"))

    @field_validator("payee_tax_id")
    @classmethod
    def _tax(cls, value: str | None) -> str | None:
        return _check_payee_tax_id(value)

    @field_validator("q")
    @classmethod
    def _q(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = clean_text(value)
        if len(value) > MAX_QUERY_CHARS:
            raise ValueError(f"at most {MAX_QUERY_CHARS} characters")
        return value or None

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ListParams(ListFilters):
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)

    def filters(self) -> ListFilters:
        return ListFilters(**self.model_dump(exclude={"cursor", "limit"}))


class SummaryParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    org_code: str | None = Field(default=None, max_length=32)
    fiscal_year: int | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blanks(cls, value: Any) -> Any:
        return blank_to_none(value)

    _fy = field_validator("fiscal_year")(check_fiscal_year)


# -- views -------------------------------------------------------------------------------

class VoucherOut(BaseModel):
    id: uuid.UUID
    org_code: str
    org_name: str
    fiscal_year: int
    voucher_no: str
    voucher_date: dt.date
    kind: str
    payee_name: str
    payee_tax_id: str | None
    gross_amount: Decimal
    withholding_tax: Decimal | None
    net_amount: Decimal
    payment_method: str
    payment_date: dt.date | None
    budget_code: str | None
    expenditure_category: str | None
    procurement_method: str | None
    egp_project_no: str | None
    contract_no: str | None
    description: str | None
    version: int
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class CompletenessOut(BaseModel):
    required: list[list[str]]
    present: list[str]
    missing: list[list[str]]
    complete: bool


class FindingOut(BaseModel):
    code: str
    severity: str
    message: str
    evidence_ids: list[uuid.UUID]
    disbursement_ids: list[uuid.UUID]
    outside_scope: int = Field(description="Other vouchers involved that you may not see "
                                           "(counted, never identified).")
    details: dict[str, Any]


class LinkedEvidenceOut(BaseModel):
    evidence_id: uuid.UUID
    role: str
    linked_by: str
    linked_at: dt.datetime
    doc_type: str
    doc_number: str | None
    issue_date: dt.date | None
    issuer_name: str | None
    issuer_tax_id: str | None
    amount: Decimal | None
    original_filename: str
    media_type: str
    sha256: str
    size: int
    status: str
    inspection: dict[str, Any] | None = Field(
        description="What the file says (grand total, seller tax ID, number, date) and the "
                    "inspection's status; null before it ran.")


class ReviewOut(BaseModel):
    id: uuid.UUID
    outcome: str
    note: str | None
    reviewer: str
    reviewer_role: str
    created_at: dt.datetime
    current: bool


class DisbursementDetail(BaseModel):
    voucher: VoucherOut
    evidence: list[LinkedEvidenceOut]
    completeness: CompletenessOut
    findings: list[FindingOut]
    reviews: list[ReviewOut]
    history: list[HistoryOut]


class ListItem(VoucherOut):
    findings: list[str]
    complete: bool
    missing: list[list[str]]


class ListPage(BaseModel):
    items: list[ListItem]
    next_cursor: str | None
    total: int
    total_is_estimate: bool = False


class SummaryRow(BaseModel):
    org_code: str
    org_name: str
    fiscal_year: int | None
    vouchers: int
    complete: int
    gross_amount: Decimal
    net_amount: Decimal
    findings: dict[str, int] = Field(description="Vouchers with each finding code.")


class Summary(BaseModel):
    rows: list[SummaryRow]
    totals: SummaryRow


class ProfileOut(BaseModel):
    code: str
    version: int
    data: dict[str, Any]
    updated_by: str
    updated_at: dt.datetime


class ProfileVersionOut(BaseModel):
    version: int
    data: dict[str, Any]
    changed_by: str
    changed_at: dt.datetime
    reason: str | None


class CreatedOut(BaseModel):
    id: uuid.UUID
    version: int
    findings: list[str]
    complete: bool

