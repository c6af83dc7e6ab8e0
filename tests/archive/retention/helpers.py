"""GIVEN steps for retention tests: run the retention jobs, people in their functions,
records with a short store lock, and a list walked through the workflow."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import sqlalchemy as sa

from archive import clock
from archive.queue.models import Job
from tests.conftest import Env
from tests.factories import make_pdf, upload

RETENTION_KINDS = ("retention_compute", "retention_recompute", "retention_sync_locks",
                   "retention_survey", "disposition_execute", "disposition_purge")


def run_jobs(env: Env, kinds: tuple[str, ...] = RETENTION_KINDS,
             rounds: int = 50) -> list[tuple[str, dict[str, Any]]]:
    """Run queued jobs of ``kinds`` that are due (real time) until none is left, the way a
    worker would (handler, then done); returns (kind, result) of each."""
    import workers.handlers  # noqa: F401 - registers the handlers
    from workers.registry import HANDLERS, JobContext

    done: list[tuple[str, dict[str, Any]]] = []
    for _ in range(rounds):
        with env.session() as s:
            jobs = [(j.id, j.kind, j.payload) for j in s.scalars(
                sa.select(Job).where(Job.status == "queued", Job.kind.in_(kinds),
                                     Job.run_after <= dt.datetime.now(dt.UTC))
                .order_by(Job.id))]
        if not jobs:
            return done
        for job_id, kind, payload in jobs:
            ctx = JobContext(job_id=job_id, kind=kind, attempt=1, settings=env.settings,
                             sessions=env.sessions, store=env.store,
                             report_progress=lambda _s: None, stopping=lambda: False)
            result = HANDLERS[kind](ctx, payload) or {}
            with env.session() as s:
                s.execute(sa.update(Job).where(Job.id == job_id).values(
                    status="done", result=result, finished_at=dt.datetime.now(dt.UTC)))
            done.append((kind, result))
    raise AssertionError("jobs keep coming")


def wait_for_locks(seconds: float) -> None:
    time.sleep(seconds + 0.5)


def people(env: Env, tokens: dict[str, str]) -> dict[str, str]:
    """GIVEN a destruction committee (chair + two members) and a head of agency for sao-1."""
    extra = {name: env.user(name, "records_manager", ["sao-1"], display_name=label)
             for name, label in (("chair1", "นางประธาน กรรมการ"), ("mem1", "นายหนึ่ง กรรมการ"),
                                 ("mem2", "นางสองกรรมการ"), ("head1", "นายก อบต.แม่เหียะ"))}
    tokens.update(extra)
    r = env.client(tokens["admin"]).put("/api/v1/retention/heads/sao-1", json={"user": "head1"})
    assert r.status_code == 200, r.text
    return tokens


def ingest(env: Env, tokens: dict[str, str], text: str, *, fiscal_year: int = 2555,
           org_code: str = "sao-1", doc_type: str = "receipt", content: bytes | None = None,
           token: str = "off1", **fields: Any) -> dict[str, Any]:
    r = upload(env.client(tokens[token]), content or make_pdf(text), org_code=org_code,
               fiscal_year=fiscal_year, doc_type=doc_type, voucher_no=f"ฎ {text}",
               issuer_name="ร้านวัสดุ", amount="1200.00", **fields)
    assert r.status_code == 201, r.text
    return r.json()


def at(day: str) -> Any:
    return clock.frozen(day)


def survey(env: Env, token: str, **body: Any) -> dict[str, Any]:
    r = env.client(token).post("/api/v1/retention/survey", json=body)
    assert r.status_code == 200, r.text
    return r.json()


COMMITTEE = {"chair": "chair1", "members": ["mem1", "mem2"],
             "order_ref": "คำสั่ง อบต. ที่ 12/2570"}


def appoint(env: Env, tokens: dict[str, str], list_id: str, **changes: Any) -> Any:
    """The head of agency appoints the committee by an order (ข้อ 68)."""
    token = tokens[changes.pop("token", "head1")]
    body = {**COMMITTEE, "order_date": clock.today().isoformat(), **changes}
    return env.client(token).put(f"/api/v1/retention/lists/{list_id}/committee", json=body)


def request_execution(env: Env, tokens: dict[str, str], list_id: str) -> Any:
    """The members confirm the destruction (the committee's joint record); the chair
    requests the execution, confirming with it."""
    base = f"/api/v1/retention/lists/{list_id}"
    for who in ("mem1", "mem2"):
        r = env.client(tokens[who]).post(f"{base}/destruction-record", json={})
        assert r.status_code == 200, r.text
    return env.client(tokens["chair1"]).post(f"{base}/execute")


def approve_all(env: Env, tokens: dict[str, str], list_id: str,
                sent_on: str = "2027-01-20") -> None:
    """Committee (all approve), head's approval, sent to the National Archives."""
    base = f"/api/v1/retention/lists/{list_id}"
    r = appoint(env, tokens, list_id)
    assert r.status_code == 200, r.text
    seqs = [i["seq"] for i in r.json()["entries"] if i["status"] == "listed"]
    for who in ("chair1", "mem1", "mem2"):
        r = env.client(tokens[who]).post(f"{base}/votes", json={"votes": [
            {"item": s, "vote": "approve", "comment": "ครบกำหนด"} for s in seqs]})
        assert r.status_code == 200, r.text
    r = env.client(tokens["chair1"]).post(f"{base}/committee-approval", json={})
    assert r.status_code == 200, r.text
    r = env.client(tokens["head1"]).post(f"{base}/head-decision", json={"decision": "approve"})
    assert r.status_code == 200, r.text
    r = env.client(tokens["rm1"]).post(f"{base}/archives-sent", json={
        "sent_on": sent_on, "reference": "ศธ 0703/123"})
    assert r.status_code == 200, r.text
