"""What goes in and out of the evidence service: validated metadata and record views."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from archive import clock
from archive.errors import InvalidInput
from archive.messages import message
from archive.textnorm import clean_text
from archive.thai import ascii_digits, fiscal_year, is_valid_tax_id, tax_id_check_digit, to_be
from archive.validators import (
    TypedDate,
    blank_to_none,
    check_doc_type,
    check_fiscal_year,
    problem_message,
    too_long,
    typed_decimal,
)

MAX_AMOUNT = Decimal("9999999999999999.99")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _line(max_len: int) -> Any:
    def clean(value: Any) -> Any:
        value = blank_to_none(value)
        if isinstance(value, str):
            value = clean_text(value)
            if len(value) > max_len:
                raise ValueError(too_long(max_len))
        return value
    return BeforeValidator(clean)


def _amount(value: Any) -> Any:
    amount = typed_decimal(value)
    if amount is None:
        return None
    if not amount.is_finite():
        raise ValueError(message("input.amount_finite", "amount must be a finite number"))
    if amount < 0:
        raise ValueError(message("input.amount_negative", "amount must not be negative"))
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(message("input.satang", "at most two decimal places (satang)"))
    if amount > MAX_AMOUNT:
        raise ValueError(message("input.amount_too_large", "amount is too large"))
    return amount.quantize(Decimal("0.01"))


Line100 = Annotated[str | None, _line(100)]
Line300 = Annotated[str | None, _line(300)]
Amount = Annotated[Decimal | None, BeforeValidator(_amount)]


def _check_issue_date(value: dt.date | None) -> dt.date | None:
    if value is None:
        return None
    if value.year < 1990:
        raise ValueError(message("input.date_before_1990", "issue date is before 1990"))
    if value > clock.today() + dt.timedelta(days=1):
        raise ValueError(message("input.date_future", "issue date is in the future"))
    return value


def _check_tax_id(value: str | None) -> str | None:
    if value is None:
        return None
    digits = ascii_digits(re.sub(r"[\s-]", "", value))
    if not (len(digits) == 13 and digits.isascii() and digits.isdigit()):
        raise ValueError(message("input.tax_id_digits", "a Thai tax ID has 13 digits"))
    if not is_valid_tax_id(digits):
        raise ValueError(message("input.tax_id_check", "check digit is wrong (expected "
                                 "{digit} as the 13th digit)",
                                 digit=tax_id_check_digit(digits[:12])))
    return digits


def _check_branch(value: str | None) -> str | None:
    if value is None:
        return None
    value = ascii_digits(value)
    if not (len(value) == 5 and value.isascii() and value.isdigit()):
        raise ValueError(message("input.branch", "branch is 5 digits; 00000 = head office"))
    return value


def _check_currency(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.upper()
    if not _CURRENCY.match(value):
        raise ValueError(message("input.currency",
                                 "currency is a 3-letter ISO 4217 code, e.g. THB"))
    return value


class _MetadataFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    doc_type: str | None = None
    fiscal_year: int | None = None
    voucher_no: Line100 = None
    doc_number: Line100 = None
    issue_date: TypedDate = None
    issuer_name: Line300 = None
    issuer_tax_id: str | None = None
    issuer_branch: str | None = None
    amount: Amount = None
    vat_amount: Amount = None
    currency: str | None = None
    description: str | None = Field(default=None)

    @field_validator("*", mode="before")
    @classmethod
    def _blanks(cls, value: Any) -> Any:
        return blank_to_none(value)

    _doc_type = field_validator("doc_type")(check_doc_type)
    _issue = field_validator("issue_date")(_check_issue_date)
    _fy = field_validator("fiscal_year", mode="before")(check_fiscal_year)
    _tax = field_validator("issuer_tax_id")(_check_tax_id)
    _branch = field_validator("issuer_branch")(_check_branch)
    _cur = field_validator("currency")(_check_currency)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = clean_text(value, multiline=True)
        if len(value) > 4000:
            raise ValueError(too_long(4000))
        return value or None

    @model_validator(mode="after")
    def _vat_within_amount(self) -> _MetadataFields:
        if self.amount is not None and self.vat_amount is not None and \
                self.vat_amount > self.amount:
            raise ValueError(message("input.vat_over_amount", "vat_amount is larger than amount"))
        return self


class EvidenceMetadata(_MetadataFields):
    """Metadata typed by the uploader. ``fiscal_year`` defaults from ``issue_date`` (or,
    without one, from the upload day: re-derived when the inspection finds the date).
    ``confirm_fiscal_year`` accepts a fiscal year outside the plausible window
    (:func:`archive.validators.fiscal_year_problem`)."""

    org_code: str
    doc_type: str
    currency: str = "THB"
    confirm_fiscal_year: bool = Field(
        default=False, description="true: keep a fiscal year more than one year from the "
        "issue date's fiscal year, or after the next fiscal year (refused otherwise).")
    allow_duplicate: bool = Field(
        default=False, description="true: archive the file although the same bytes are "
        "already archived for the organisation (a deliberate second record, recorded as "
        "such); otherwise such an upload is refused with 409 and the existing record.")
    _fiscal_year_source: str = PrivateAttr(default="typed")

    @model_validator(mode="after")
    def _default_fiscal_year(self) -> EvidenceMetadata:
        if self.fiscal_year is None:
            self.fiscal_year = fiscal_year(self.issue_date or clock.today())
            self._fiscal_year_source = "issue_date" if self.issue_date else "upload_date"
        return self

    @property
    def fiscal_year_source(self) -> str:
        """``typed``, ``issue_date`` or ``upload_date``: where the fiscal year came from."""
        return self._fiscal_year_source

    def row_values(self) -> dict[str, Any]:
        """The values of the evidence row."""
        return {**self.model_dump(exclude={"org_code", "confirm_fiscal_year",
                                           "allow_duplicate"}),
                "fiscal_year_source": self._fiscal_year_source}


class EvidenceUpdate(_MetadataFields):
    """A metadata correction: only the fields given change; ``reason`` is kept in history."""

    reason: str | None = None
    confirm_fiscal_year: bool = False


def parse_metadata(model: type[_MetadataFields], data: dict[str, Any]) -> Any:
    """Validate ``data`` into ``model``; errors become one ``InvalidInput`` listing each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(validation_problems(exc), code="invalid_metadata") from None


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    problems = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "body"
        problems.append({"field": field, "message": problem_message(err)})
    return problems


METADATA_FIELDS = tuple(f for f in _MetadataFields.model_fields)


class EvidenceOut(BaseModel):
    id: uuid.UUID
    org_code: str
    doc_type: str
    fiscal_year: int
    voucher_no: str | None
    doc_number: str | None
    issue_date: dt.date | None
    issuer_name: str | None
    issuer_tax_id: str | None
    issuer_branch: str | None
    amount: Decimal | None
    vat_amount: Decimal | None
    currency: str
    description: str | None
    original_filename: str
    client_media_type: str | None
    media_type: str
    sha256: str
    size: int
    uploaded_by: str
    status: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    duplicate_allowed: bool = Field(
        default=False, description="Archived although the same bytes were already archived "
        "for the organisation, because the upload said allow_duplicate=true.")


class IngestOut(EvidenceOut):
    duplicate: bool = Field(description="The same bytes are held by other records in your "
                            "scope (listed in duplicate_of).")
    duplicate_of: list[uuid.UUID] = []


__all__ = ["EvidenceMetadata", "EvidenceUpdate", "EvidenceOut", "IngestOut", "parse_metadata",
           "to_be"]


class HistoryOut(BaseModel):
    """One earlier version of corrected metadata (evidence records and vouchers alike)."""

    version: int
    values: dict[str, Any]
    changed: list[str]
    changed_by: str
    changed_at: dt.datetime
    reason: str | None
