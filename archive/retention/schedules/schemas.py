"""What goes in and out of the schedule service."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from archive.retention.schedules.models import ACTIONS, TRIGGERS
from archive.validators import required_text

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,49}$")


class ScheduleFields(BaseModel):
    """The editable fields of a schedule; ``check_complete`` validates the whole rule."""

    model_config = ConfigDict(extra="forbid")

    title_th: str | None = None
    title_en: str | None = None
    trigger: str | None = None
    keep_years: int | None = Field(default=None, ge=1, le=100)
    audited_keep_years: int | None = Field(default=None, ge=1, le=100)
    action: str | None = None
    legal_basis_th: str | None = None
    legal_basis_en: str | None = None

    @field_validator("title_th", "title_en")
    @classmethod
    def _title(cls, value: Any) -> Any:
        return required_text(value, 300)

    @field_validator("legal_basis_th", "legal_basis_en")
    @classmethod
    def _basis(cls, value: Any) -> Any:
        return required_text(value, 4000)

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, value: str | None) -> str | None:
        if value is not None and value not in TRIGGERS:
            raise ValueError(f"trigger must be one of {', '.join(TRIGGERS)}")
        return value

    @field_validator("action")
    @classmethod
    def _action(cls, value: str | None) -> str | None:
        if value is not None and value not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        return value


def check_complete(values: dict[str, Any]) -> list[dict[str, str]]:
    """Problems with a schedule's values as a whole (empty when it is a usable rule)."""
    problems = []
    for name in ("title_th", "title_en", "trigger", "action", "legal_basis_th",
                 "legal_basis_en"):
        if not values.get(name):
            problems.append({"field": name, "message": "required"})
    trigger = values.get("trigger")
    if trigger in ("fiscal_year_end", "audit_closure") and not values.get("keep_years"):
        problems.append({"field": "keep_years", "message": f"required for trigger {trigger}"})
    if trigger == "audit_closure" and not values.get("audited_keep_years"):
        problems.append({"field": "audited_keep_years",
                         "message": "required for trigger audit_closure"})
    return problems


class ScheduleCreate(ScheduleFields):
    code: str
    reason: str | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError("code: 2–50 lower-case letters, digits or '-'")
        return value


class ScheduleUpdate(ScheduleFields):
    """A change to a schedule; ``reason`` is required and kept with the new version."""

    reason: str

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: Any) -> Any:
        return required_text(value, 2000)


class ScheduleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    version: int
    title_th: str
    title_en: str
    trigger: str
    keep_years: int | None
    audited_keep_years: int | None
    action: str
    legal_basis_th: str
    legal_basis_en: str
    updated_by: str
    updated_at: dt.datetime
    doc_types: list[str] = []


class ScheduleVersionOut(BaseModel):
    version: int
    values: dict[str, Any]
    changed_by: str
    changed_at: dt.datetime
    reason: str | None


class ScheduleDetail(ScheduleOut):
    versions: list[ScheduleVersionOut]


class DocTypeOut(BaseModel):
    doc_type: str
    schedule_code: str
    updated_by: str
    updated_at: dt.datetime


class DocTypeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule_code: str
    reason: str

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: Any) -> Any:
        return required_text(value, 2000)

    @model_validator(mode="after")
    def _strip(self) -> DocTypeUpdate:
        self.schedule_code = self.schedule_code.strip()
        return self
