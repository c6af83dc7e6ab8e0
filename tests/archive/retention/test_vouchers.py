"""Holds and disposition of files that support disbursement vouchers: a hold on a voucher
holds every linked file (also those linked later); a file is destroyed only when every
voucher it supports allows it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from archive.accounts import service as accounts
from archive.disbursements import service as disbursements
from archive.disbursements.schemas import DisbursementCreate
from archive.evidence.models import Evidence
from archive.retention.rules import Decision
from archive.retention.vouchers import VoucherFacts, combine
from tests.archive.retention.helpers import (
    approve_all,
    at,
    ingest,
    people,
    request_execution,
    run_jobs,
    survey,
)
from tests.conftest import Env
from tests.factories import world

UTC = dt.UTC


def _voucher(env: Env, tokens: dict[str, str], no: str, day: str) -> str:
    with env.session() as s:
        principal = accounts.authenticate(s, tokens["off1"])
        v = disbursements.create(s, principal, DisbursementCreate(
            org_code="sao-1", voucher_no=no, voucher_date=dt.date.fromisoformat(day),
            kind="other", payee_name="ร้านวัสดุ", gross_amount="1200.00",
            net_amount="1200.00", payment_method="cash"))
        return str(v.id)


def _link(env: Env, tokens: dict[str, str], voucher_id: str, evidence_id: str,
          role: str = "receipt") -> None:
    with env.session() as s:
        principal = accounts.authenticate(s, tokens["off1"])
        disbursements.link(s, principal, uuid.UUID(voucher_id),
                           evidence_id=uuid.UUID(evidence_id), role=role)


def _on_hold(env: Env, evidence_id: str) -> bool:
    with env.session() as s:
        return bool(s.scalar(sa.select(Evidence.on_hold).where(
            Evidence.id == uuid.UUID(evidence_id))))


def _listed(result: dict[str, Any]) -> int:
    return int(result["eligible"])


def test_a_hold_on_a_voucher_holds_its_files_and_files_linked_later(env: Env) -> None:
    tokens = people(env, world(env))
    first = ingest(env, tokens, "first")
    later = ingest(env, tokens, "later")
    loose = ingest(env, tokens, "loose")
    run_jobs(env)
    voucher = _voucher(env, tokens, "12/2555", "2012-03-01")
    _link(env, tokens, voucher, first["id"])
    with at("2027-01-15"):
        r = env.client(tokens["rm1"]).post("/api/v1/holds", json={
            "reason": "สตง. ทักท้วงฎีกา 12/2555", "disbursement_id": voucher})
        assert r.status_code == 201, r.text
        hold = r.json()
        assert hold["kind"] == "disbursement" and hold["records"] == 1
        assert hold["criteria"]["voucher_no"] == "12/2555"
        assert _on_hold(env, first["id"])
        # linked after the hold was placed: the survey's recompute joins it to the hold
        _link(env, tokens, voucher, later["id"], role="other")
        result = survey(env, tokens["rm1"], dry_run=True)
        assert _listed(result) == 1                       # only the loose file
        assert result["lists"][0]["evidence_ids"] == [loose["id"]]
        survey(env, tokens["rm1"])
        assert _on_hold(env, later["id"]) and not _on_hold(env, loose["id"])
        # the same hold twice is refused; another scope cannot hold the voucher
        again = env.client(tokens["rm1"]).post("/api/v1/holds", json={
            "reason": "สตง. ทักท้วงฎีกา 12/2555", "disbursement_id": voucher})
        assert again.status_code == 409
        env.user("rm3", "records_manager", ["sao-3"])
        other = env.client(env.tokens["rm3"]).post("/api/v1/holds", json={
            "reason": "x", "disbursement_id": voucher})
        assert other.status_code == 404
        released = env.client(tokens["rm1"]).post(f"/api/v1/holds/{hold['id']}/release",
                                                  json={"reason": "ยุติเรื่อง"})
        assert released.status_code == 200, released.text
        assert not _on_hold(env, first["id"]) and not _on_hold(env, later["id"])
        # the loose file is on the open list already; the two released files are eligible
        assert survey(env, tokens["rm1"], dry_run=True)["eligible"] == 2


def test_a_file_is_destroyed_only_when_every_voucher_it_supports_allows_it(env: Env) -> None:
    """GIVEN a contract archived in FY 2555 (eligible in 2027), listed for destruction,
    approved and its execution requested WHEN it is then linked to a voucher of FY 2566
    (a contract is kept 10 years after that year) THEN the execution job
    blocks it, saying which voucher keeps it."""
    tokens = people(env, world(env))
    contract = ingest(env, tokens, "contract", doc_type="contract")
    run_jobs(env)
    old = _voucher(env, tokens, "5/2555", "2012-02-01")
    _link(env, tokens, old, contract["id"], role="contract")
    with at("2027-01-15"):
        listed = survey(env, tokens["rm1"])
        assert listed["listed"] == 1
        list_id = listed["lists"][0]["id"]
        approve_all(env, tokens, list_id, sent_on="2027-01-15")
    rm = env.client(tokens["rm1"])
    with at("2027-04-01"):
        r = request_execution(env, tokens, list_id)
        assert r.status_code == 202, r.text
        # linked after the execution was requested, before the job runs
        newer = _voucher(env, tokens, "40/2566", "2023-03-01")
        _link(env, tokens, newer, contract["id"], role="contract")
        info = rm.get(f"/api/v1/retention/records/{contract['id']}").json()
        assert "voucher 40/2566" in info["decision"]["basis"]
        # a contract is kept under the general 10-year schedule (migration 0081): counted
        # from the end of the voucher's FY 2566, whatever the audit
        assert str(info["decision"]["retain_until"]).startswith("2033-")
        done = dict(run_jobs(env))["disposition_execute"]
    assert done["destroyed"] == 0 and done["blocked"] == 1
    item = rm.get(f"/api/v1/retention/lists/{list_id}").json()["entries"][0]
    assert "voucher 40/2566" in item["result"]["blocked"]
    assert env.client(tokens["aud1"]).get(
        f"/api/v1/evidence/{contract['id']}/content").status_code == 200


def _d(day: str | None, *, final: bool = True, held: bool = False) -> Decision:
    until = dt.datetime.fromisoformat(day).replace(tzinfo=UTC) if day else None
    return Decision(until, f"until {day}", final=final, held=held,
                    eligible_on=dt.date.fromisoformat(day) if day else None, period="p")


V1 = VoucherFacts(uuid.uuid4(), 1, 2566, "1/2566")
V2 = VoucherFacts(uuid.uuid4(), 1, 2570, "2/2570")


def test_combine_takes_the_latest_and_any_hold() -> None:
    own = _d("2030-10-01")
    assert combine(own, []) is own
    assert combine(own, [(V1, _d("2029-10-01"))]).retain_until == own.retain_until
    later = combine(own, [(V1, _d("2029-10-01")), (V2, _d("2037-10-01"))])
    assert later.retain_until == _d("2037-10-01").retain_until
    assert "2/2570" in later.basis and later.eligible_on == dt.date(2037, 10, 1)
    assert not combine(own, [(V1, _d("2031-01-01", final=False))]).final
    held = combine(own, [(V1, _d(None, held=True)), (V2, _d("2037-10-01"))])
    assert held.held and held.retain_until is None and "1/2566" in held.basis
    assert not held.eligible(dt.date(2099, 1, 1))
    indefinite = combine(own, [(V1, Decision(None, "permanent", period="permanent"))])
    assert indefinite.retain_until is None


def test_hold_a_voucher_from_the_cli(env: Env) -> None:
    from tests import clirun

    tokens = people(env, world(env))
    rec = ingest(env, tokens, "cli-held")
    voucher = _voucher(env, tokens, "3/2555", "2012-01-10")
    _link(env, tokens, voucher, rec["id"])
    def run(*args: str, process: bool = False) -> Any:
        return clirun.run(env, "retention", "holds", "place", *args, process=process,
                          extra_env={"ARCHIVE_TOKEN": tokens["rm1"]})

    proc = run("--disbursement", voucher, "--reason", "คดีความ 1/2570", process=True)
    assert proc.returncode == 0, proc.stderr
    assert _on_hold(env, rec["id"])
    assert run("--disbursement", voucher, "--org", "sao-1", "--reason", "x").returncode == 2
    missing = run("--disbursement", str(uuid.uuid4()), "--reason", "x")
    assert missing.returncode == 1 and "voucher" in missing.stderr
