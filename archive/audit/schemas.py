from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    target_type: str | None
    target_id: str | None
    org_id: int | None
    details: dict[str, Any]
    client: str | None
    outcome: str
    prev_hash: str
    hash: str
