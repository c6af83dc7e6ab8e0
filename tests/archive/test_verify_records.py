"""Database tampering that ``archive verify`` must see (issue 15, item 5).

GIVEN records uploaded and corrected through the API (each version hashed, the hash in its
audit event), WHEN someone with database access changes ``blobs.sha256``, re-points
``evidence.blob_id`` at other bytes, changes ``evidence.amount`` or deletes an evidence
row, THEN ``archive verify`` reports it with the record's id — and a correction refuses
to build a new version on a tampered row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa

from archive import audit
from archive.accounts.principal import system_principal
from archive.db import table_of
from archive.evidence.models import Blob, Evidence, EvidenceHistory
from archive.integrity.verify import verify
from tests import clirun
from tests.conftest import Env
from tests.factories import make_pdf, upload, world


def _seed(env: Env) -> tuple[dict[str, str], dict[str, object], dict[str, object]]:
    tokens = world(env)
    off1 = env.client(tokens["off1"])
    a = upload(off1, make_pdf("record-a"), amount="1500.50", issuer_name="ร้าน ก").json()
    b = upload(off1, make_pdf("record-b"), amount="20.00").json()
    r = off1.patch(f"/api/v1/evidence/{a['id']}", json={"description": "แก้ไข",
                                                       "reason": "typo"},
                   headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    return tokens, a, b


def _report(env: Env) -> dict[str, object]:
    with env.session() as s:
        return verify(s, env.store).to_dict()


def _blob_id(env: Env, sha: object) -> int:
    with env.session() as s:
        found = s.scalar(sa.select(Blob.id).where(Blob.sha256 == sha))
        assert found is not None
        return found


def _change_blob_sha(env: Env, a: dict[str, object], b: dict[str, object]) -> None:
    with env.engine.begin() as conn:
        conn.execute(sa.update(table_of(Blob)).where(table_of(Blob).c.sha256 == a["sha256"])
                     .values(sha256="ab" * 32))


def _repoint_blob(env: Env, a: dict[str, object], b: dict[str, object]) -> None:
    other = _blob_id(env, b["sha256"])
    with env.engine.begin() as conn:
        conn.execute(sa.update(table_of(Evidence))
                     .where(table_of(Evidence).c.id == uuid.UUID(str(a["id"])))
                     .values(blob_id=other))


def _change_amount(env: Env, a: dict[str, object], b: dict[str, object]) -> None:
    with env.engine.begin() as conn:
        conn.execute(sa.update(table_of(Evidence))
                     .where(table_of(Evidence).c.id == uuid.UUID(str(a["id"])))
                     .values(amount=Decimal("15005.00")))


def _delete_row(env: Env, a: dict[str, object], b: dict[str, object]) -> None:
    rid = uuid.UUID(str(a["id"]))
    with env.engine.begin() as conn:
        conn.execute(sa.delete(table_of(EvidenceHistory))
                     .where(table_of(EvidenceHistory).c.evidence_id == rid))
        conn.execute(sa.delete(table_of(Evidence)).where(table_of(Evidence).c.id == rid))


@pytest.mark.parametrize(("tamper", "kinds"), [
    (_change_blob_sha, {"key_mismatch", "record_mismatch"}),
    (_repoint_blob, {"record_mismatch"}),
    (_change_amount, {"record_mismatch"}),
    (_delete_row, {"record_missing"}),
], ids=["blobs.sha256", "evidence.blob_id", "evidence.amount", "delete-row"])
def test_database_tampering_is_reported_with_the_record_id(
        env: Env, tamper: Callable[[Env, dict[str, object], dict[str, object]], None],
        kinds: set[str]):
    tokens, a, b = _seed(env)
    clean = _report(env)
    assert clean["ok"] is True, clean["problems"]
    assert clean["records_checked"] == 2 and clean["legacy_unhashed"] == 0

    tamper(env, a, b)
    report = _report(env)
    assert report["ok"] is False
    problems = report["problems"]
    assert isinstance(problems, list)
    assert {p["kind"] for p in problems} == kinds
    assert all(str(a["id"]) in p["records"] for p in problems), problems
    assert not any(str(b["id"]) in p["records"] for p in problems)

    if tamper is not _delete_row:
        # a correction does not launder the change into a properly hashed version
        r = env.client(tokens["off1"]).patch(f"/api/v1/evidence/{a['id']}",
                                             json={"voucher_no": "ฎ 1/2568"},
                                             headers={"If-Match": "*"})
        assert r.status_code == 502 and r.json()["error"] == "integrity_failure", r.text


def test_the_cli_reports_a_changed_amount_and_exits_1(env: Env):
    _, a, _ = _seed(env)
    ok = clirun.command(["verify", "--json"], env.env_vars())
    assert ok.returncode == 0, ok.stdout + ok.stderr
    _change_amount(env, a, {})
    bad = clirun.command(["verify", "--json"], env.env_vars(), process=True)
    assert bad.returncode == 1
    problems = json.loads(bad.stdout)["problems"]
    assert [(p["kind"], p["key"]) for p in problems] == [("record_mismatch", a["id"])]


def test_legacy_records_are_listed_until_sealed_then_checked(env: Env):
    """GIVEN a record as ingest wrote it before version hashes (no hash on the row or in its
    audit event), THEN verify lists it as unhashed (legacy) without failing; sealing gives
    it a hash recorded by an audit event, after which tampering with it is reported."""
    _, _, b = _seed(env)
    legacy_id = uuid.uuid4()
    with env.session() as s:
        row = s.get(Evidence, uuid.UUID(str(b["id"])))
        assert row is not None
        values = {c.name: getattr(row, c.key) for c in table_of(Evidence).columns}
        s.execute(sa.insert(table_of(Evidence)).values(
            {**values, "id": legacy_id, "meta_hash": None, "amount": Decimal("7.00")}))
        audit.record(s, actor=system_principal("before-0061"), action="evidence.create",
                     target_type="evidence", target_id=legacy_id, org_id=row.org_id,
                     details={"sha256": b["sha256"]})
    report = _report(env)
    assert report["ok"] is True
    assert report["legacy_unhashed"] == 1 and report["legacy_examples"] == [str(legacy_id)]

    sealed = clirun.command(["verify", "--seal-legacy", "--json"], env.env_vars())
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    assert json.loads(sealed.stdout)["legacy_unhashed"] == 0
    from archive.integrity.verify import seal_legacy

    with env.session() as s:
        assert seal_legacy(s, system_principal("test")) == 0      # nothing left to seal

    _change_amount(env, {"id": str(legacy_id)}, {})
    problems = _report(env)["problems"]
    assert isinstance(problems, list)
    assert [(p["kind"], p["key"]) for p in problems] == [("record_mismatch", str(legacy_id))]


def test_a_row_inserted_without_an_audited_creation_is_reported(env: Env):
    _, _, b = _seed(env)
    ghost = uuid.uuid4()
    with env.session() as s:
        row = s.get(Evidence, uuid.UUID(str(b["id"])))
        assert row is not None
        values = {c.name: getattr(row, c.key) for c in table_of(Evidence).columns}
        s.execute(sa.insert(table_of(Evidence)).values({**values, "id": ghost}))
    problems = _report(env)["problems"]
    assert isinstance(problems, list)
    assert [(p["kind"], p["key"]) for p in problems] == [("record_unaudited", str(ghost))]
