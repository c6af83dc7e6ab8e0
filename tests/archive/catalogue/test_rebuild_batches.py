"""Records archived by batch uploads, whose first manifests are one store object per batch
(``catalogue/batches/``), back from the store alone (``archive rebuild --from-store``) on
both stacks; the catalogue backfill counts those manifests as present."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from archive.audit.checkpoints import verify_chain, write_checkpoint
from archive.catalogue import objects
from archive.evidence import versions
from archive.evidence.models import Evidence
from archive.ids import uuid7
from archive.integrity.verify import verify
from cli.main import app as cli_app
from tests.api.test_batch_upload import post_batch
from tests.archive.catalogue.crashes import crash_at_each
from tests.archive.catalogue.test_rebuild import KINDS, _correct, _fresh, _seen
from tests.archive.retention.helpers import run_jobs
from tests.conftest import Env, StackBase
from tests.factories import make_pdf, upload, world


def _batches(env: Env) -> dict[str, uuid.UUID | None]:
    with env.session() as s:
        return {str(rid): batch for rid, batch in s.execute(
            sa.select(Evidence.id, Evidence.manifest_batch))}


def _never_committed_batch(env: Env, like: str, checkpoint_at: dt.datetime) -> str:
    """A batch object whose transaction never committed (written, then the commit
    failed), two hours before the checkpoint, holding the first manifest of a record the
    database never had: the trail proves it never happened. Returns that record's id."""
    [info] = [i for i in env.store.list_objects(objects.BATCHES)
              if objects.read(env.store, i.key)["batch"] == like]
    document = objects.read(env.store, info.key)
    rid = str(uuid7())
    manifest = {**document["manifests"][0], "record": rid,
                "change": {**document["manifests"][0]["change"],
                           "at": checkpoint_at - dt.timedelta(hours=2)}}
    manifest["meta_hash"] = versions.version_hash(
        evidence_id=rid, version=1, fields=manifest["fields"], blob_sha256=manifest["sha256"],
        previous=None)
    batch = uuid7()
    objects.put(env.store, objects.batch_key(batch),
                {**document, "batch": str(batch), "manifests": [manifest]},
                dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    return rid


# Where the rebuild is made to crash, one after the other (records commit in units of
# three: the batch object's records, then the other records' folders).
CRASH_POINTS = ("rebuild.before records", "rebuild.records.batch",
                "rebuild.before legal holds and audit closures", "rebuild.before audit")


def _rebuild(variables: dict[str, str], monkeypatch: pytest.MonkeyPatch,
             crashes: bool) -> dict[str, Any]:
    """`archive rebuild --from-store --json`, in one run or (``crashes``) dying at each of
    :data:`CRASH_POINTS` in turn and run again each time, until a run finishes."""
    command = ["rebuild", "--from-store", "--json"]
    if crashes:
        crash_at_each(CRASH_POINTS, command, variables, monkeypatch)
    run = CliRunner().invoke(cli_app, command, env=variables)
    assert run.exit_code == 0, run.output
    report: dict[str, Any] = json.loads(run.stdout)
    assert report["resumed"] is crashes, report
    return report


@pytest.mark.parametrize("crashes", [False, True], ids=["one-run", "crashes-and-resumes"])
def test_rebuild_restores_batch_uploaded_records_as_they_were(
        env: Env, stack: StackBase, tmp_path, monkeypatch: pytest.MonkeyPatch,
        crashes: bool) -> None:
    """GIVEN four new files archived by one batch (their first manifests one object), one
    of them then corrected twice (its later versions objects of their own, as any
    record's), a second batch holding a deliberate duplicate (recorded one by one: an
    object per record), a single upload, their inspections; and a batch object whose
    transaction never committed (older than the last checkpoint, not in the trail)
    WHEN `archive catalogue backfill` runs, then the database is lost and `archive rebuild
    --from-store` fills an empty one
    THEN the backfill writes no manifest (those in the batch object count as present);
    every record reads as before (metadata, history, inspection, duplicates, searches),
    each batch-uploaded record names its batch again, the never-committed one is not
    restored (counted as such); `archive verify` and the audit chain pass on what was
    rebuilt; a backfill of the rebuilt archive writes no manifest either — also when the
    rebuild crashes at each point in turn and is run again (resumed) until it finishes."""
    tokens = world(env)
    officer = env.client(tokens["off1"])
    r = post_batch(officer, [
        ({"voucher_no": f"ฎ b{i}/2568", "fiscal_year": 2568, "amount": f"{100 + i}.00",
          "issuer_name": "ร้านวัสดุ"}, f"b{i}.pdf", make_pdf(f"batch-{i}")) for i in range(4)])
    assert r.status_code == 200 and r.json()["created"] == 4, r.text
    first = [i["evidence"]["id"] for i in r.json()["items"]]
    batches = _batches(env)
    [batch] = {batch for rid, batch in batches.items() if rid in first}
    assert batch is not None
    _correct(env, tokens["off1"], first[0], "ผิดเลขที่", doc_number="IV-1")
    _correct(env, tokens["off1"], first[0], "ยอดผิด", amount="1250.50", description="batch-c")
    again = make_pdf("twice")
    r = post_batch(officer, [({"voucher_no": "ฎ d1"}, "d1.pdf", again),
                             ({"voucher_no": "ฎ d2", "allow_duplicate": True}, "d2.pdf", again)])
    assert r.status_code == 200 and r.json()["created"] == 2, r.text
    second = [i["evidence"]["id"] for i in r.json()["items"]]
    r = upload(officer, make_pdf("alone"), fiscal_year=2568, doc_type="tax_invoice")
    assert r.status_code == 201, r.text
    ids = [*first, *second, r.json()["id"]]
    batches = _batches(env)
    assert [batches[rid] for rid in ids] == [batch] * 4 + [None] * 3
    assert len(list(env.store.list_objects(objects.BATCHES))) == 1
    assert len(list(env.store.list_objects(f"{objects.RECORDS}{first[0]}/"))) == 2
    run_jobs(env, KINDS)

    variables = {k: v for k, v in env.env_vars().items() if k.startswith("ARCHIVE_")}
    runner = CliRunner()
    keys = {i.key for i in env.store.list_objects(objects.PREFIX)}
    backfill = runner.invoke(cli_app, ["catalogue", "backfill", "--json"], env=variables)
    assert backfill.exit_code == 0, backfill.output
    assert json.loads(backfill.stdout)["manifests"] == 0, backfill.stdout
    assert {i.key for i in env.store.list_objects(objects.RECORDS)} <= keys

    with env.session() as s:
        checkpoint = write_checkpoint(s, env.store, retain_until=dt.datetime.now(dt.UTC) +
                                      dt.timedelta(days=2))
        assert checkpoint is not None
    lost = _never_committed_batch(env, str(batch), checkpoint.at)
    before = _seen(env, tokens["aud1"], ids, checkpoint.seq)
    assert len(before[first[0]]["record"]["history"]) == 2
    assert before[second[1]]["record"]["duplicate_allowed"] is True

    rebuilt, dropped = _fresh(env, stack, tmp_path)
    try:
        variables = {k: v for k, v in rebuilt.env_vars().items() if k.startswith("ARCHIVE_")}
        report = _rebuild(variables, monkeypatch, crashes)
        assert report["ok"], report["problems"]
        assert (report["records"], report["versions"]) == (7, 9), report
        assert report["uncommitted_versions"] == 1, report
        run_jobs(rebuilt, KINDS)
        restored = _batches(rebuilt)
        assert lost not in restored
        assert {rid: restored[rid] for rid in ids} == {rid: batches[rid] for rid in ids}
        with rebuilt.session() as s:
            checked = verify(s, rebuilt.store)
            assert checked.ok, checked.problems
            chain = verify_chain(s, rebuilt.store)
            assert chain.ok, chain.problems
        rebuilt.user("aud1", "auditor", ["p-cm"])
        after = _seen(rebuilt, rebuilt.tokens["aud1"], ids, checkpoint.seq)
        for key in before:
            if isinstance(before[key], dict) and isinstance(before[key].get("record"), dict):
                was, now = before[key]["record"], after[key]["record"]
                assert was == now, (key, {f: (was[f], now.get(f)) for f in was
                                          if was[f] != now.get(f)})
            assert after[key] == before[key], key
        backfill = runner.invoke(cli_app, ["catalogue", "backfill", "--json"], env=variables)
        assert backfill.exit_code == 0, backfill.output
        assert json.loads(backfill.stdout)["manifests"] == 0, backfill.stdout
    finally:
        rebuilt.close()
        rebuilt.engine.dispose()
        dropped()
