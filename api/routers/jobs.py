"""The job queue for administrators."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.deps import CurrentUser, SessionDep
from archive.accounts.principal import require
from archive.queue import service as queue

router = APIRouter(tags=["jobs"])


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    attempts: int
    max_attempts: int
    payload: dict[str, Any]
    run_after: dt.datetime
    lease_owner: str | None
    progress: dict[str, Any] | None
    result: dict[str, Any] | None
    last_error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(principal: CurrentUser, session: SessionDep, status: str | None = None,
              kind: str | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Any]:
    require(principal, "jobs.read")
    return queue.list_jobs(session, status=status, kind=kind, limit=limit)


@router.post("/jobs/{job_id}/retry", response_model=JobOut)
def retry_job(job_id: int, principal: CurrentUser, session: SessionDep) -> Any:
    require(principal, "jobs.manage")
    return queue.retry(session, job_id)
