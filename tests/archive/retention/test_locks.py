"""The lock sync keeps what the store says about a record (its voucher, the voucher's
reviews, its hold, its audit closure, its organisation, the schedules and the profile) at
least as long as the record's own bytes — on both stacks, with the store's own answer
(``store.stat(...).retain_until``) — and never shortens a lock."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from archive.catalogue import objects
from archive.orgs.models import Organisation
from archive.queue.service import enqueue
from archive.storage import ObjectInfo, blob_key
from cli.main import app as cli_app
from tests import clirun
from tests.archive.retention.helpers import ingest, run_jobs
from tests.conftest import Env
from tests.factories import world

VOUCHER = {"org_code": "sao-1", "voucher_no": "7/2568", "voucher_date": "2025-01-20",
           "kind": "procurement", "payee_name": "ร้านวัสดุ", "gross_amount": "1200.00",
           "withholding_tax": "0.00", "net_amount": "1200.00", "payment_method": "e_payment",
           "payment_date": "2025-01-25"}


def _ok(r: Any) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def _daily_sync(env: Env) -> dict[str, Any]:
    """The scheduled run (``{}``: every blob whose lock is behind, then the snapshots)."""
    run_jobs(env)
    with env.session() as s:
        enqueue(s, "retention_sync_locks", {})
    [result] = [r for kind, r in run_jobs(env) if kind == "retention_sync_locks"]
    return result


def _locks(env: Env, prefix: str, *, latest_only: bool = False) -> dict[str, dt.datetime]:
    found: list[ObjectInfo] = list(env.store.list_objects(prefix))
    assert found, prefix
    if latest_only:
        latest = max(i.key for i in found)
        found = [i for i in found if i.key == latest]
    out = {}
    for info in found:
        stat = env.store.stat(info.key, info.version_id)
        assert stat is not None and stat.retain_until is not None, info.key
        out[f"{info.key} {info.version_id}"] = stat.retain_until
    return out


def test_the_sync_extends_what_restores_a_records_meaning_and_never_shortens(env: Env):
    """GIVEN a record linked to a voucher (corrected once, reviewed), held then released, whose
    organisation's audit of the year closed with no objection; every object describing
    them written with the ten-year snapshot lock; then the record's schedule extended to
    30 years (its bytes must be kept to 2055, beyond those objects' locks)
    WHEN the lock sync runs
    THEN every version of the voucher, its review, the hold, the closure, and the latest
    snapshots of the organisations, the schedules and the profile are locked at least as
    long as the record's bytes (the store's own answer); one object locked longer before
    keeps its longer lock; a second run moves nothing."""
    tokens = world(env)
    national = env.client(env.user("rm-dla", "records_manager", ["dla"]))
    rec = ingest(env, tokens, "letter", fiscal_year=2568, doc_type="other")
    run_jobs(env)
    officer, rm = env.client(tokens["off1"]), env.client(tokens["rm1"])
    voucher = _ok(officer.post("/api/v1/disbursements", json=VOUCHER))
    vid = voucher["id"]
    _ok(officer.post(f"/api/v1/disbursements/{vid}/evidence",
                     json={"evidence_id": rec["id"], "role": "receipt"}))
    _ok(officer.patch(f"/api/v1/disbursements/{vid}", headers={"If-Match": '"1"'},
                      json={"payee_name": "ร้านวัสดุ ก่อสร้าง", "reason": "ชื่อผิด"}))
    _ok(env.client(tokens["aud1"]).post(f"/api/v1/disbursements/{vid}/reviews",
                                        json={"outcome": "observation", "note": "ตรวจแล้ว"}))
    hold = _ok(rm.post("/api/v1/holds", json={"reason": "คดี 1/2570",
                                              "record_ids": [rec["id"]]}))["id"]
    _ok(rm.post(f"/api/v1/holds/{hold}/release", json={"reason": "ยุติ"}))
    _ok(rm.post("/api/v1/audit-closures", json={
        "org_code": "sao-1", "fiscal_year": 2568, "result": "no_objection",
        "closed_on": "2026-01-10", "reference": "ตผ 0012/1"}))
    profile = _ok(national.get("/api/v1/disbursements/profile"))["data"]
    profile["requirements"]["procurement"] = [
        r for r in profile["requirements"]["procurement"]
        if "e_payment_report" not in r["any_of"]]
    _ok(national.put("/api/v1/disbursements/profile",
                     json={"data": profile, "reason": "ทบทวน"}))
    _keep_correspondence_30_years(national)
    run_jobs(env)
    with env.session() as s:
        orgs = list(s.scalars(sa.select(Organisation.id).order_by(Organisation.id)))
    prefixes = {"voucher": (f"{objects.VOUCHERS}{vid}/", False),
                "review": (f"{objects.REVIEWS}{vid}/", False),
                "hold": (f"{objects.HOLDS}{hold}/", False),
                "closure": (objects.CLOSURES, False),
                "schedules": (objects.SCHEDULES, True),
                "profile": (objects.PROFILES, True),
                **{f"org {o}": (f"{objects.ORGS}{o:09d}/", True) for o in orgs}}
    assert len(_locks(env, prefixes["voucher"][0])) >= 2           # both versions
    assert len(_locks(env, prefixes["hold"][0])) == 2              # placed, released
    # A voucher object already locked longer than the record needs (set by hand).
    longer = dt.datetime(2070, 1, 1, tzinfo=dt.UTC)
    first = min(env.store.list_objects(prefixes["voucher"][0]), key=lambda i: i.key)
    env.store.set_retention(first.key, first.version_id, longer)

    report = _daily_sync(env)
    needed = env.store.stat(blob_key(rec["sha256"])).retain_until
    assert needed is not None and needed >= dt.datetime(2055, 9, 30, tzinfo=dt.UTC), needed
    after = {}
    for name, (prefix, latest_only) in prefixes.items():
        after[name] = _locks(env, prefix, latest_only=latest_only)
        short = {k: v for k, v in after[name].items() if v < needed}
        assert not short, (name, needed, short)
    assert after["voucher"][f"{first.key} {first.version_id}"] == longer
    assert report["described"] > 0, report

    assert _daily_sync(env)["described"] == 0                        # nothing left to do
    for name, (prefix, latest_only) in prefixes.items():
        assert _locks(env, prefix, latest_only=latest_only) == after[name], name


def _keep_correspondence_30_years(national: Any) -> None:
    """The national records manager sets the correspondence schedule to 30 years: a record
    of 2568 under it is locked to 2055 at ingest, longer than any snapshot lock."""
    _ok(national.patch("/api/v1/retention/schedules/correspondence",
                       json={"keep_years": 30, "reason": "หนังสือกรม ที่ มท 0808/1"}))


def _a_held_voucher_and_a_30_year_record(env: Env) -> tuple[Any, ...]:
    """A voucher registered and held (its hold's object written with the ten-year snapshot
    lock: no files yet), and a record of 2568 under a 30-year schedule, its jobs run.
    Returns (tokens, officer's client, records manager's client, voucher id, hold id,
    record)."""
    tokens = world(env)
    _keep_correspondence_30_years(
        env.client(env.user("rm-dla", "records_manager", ["dla"])))
    officer, rm = env.client(tokens["off1"]), env.client(tokens["rm1"])
    vid = _ok(officer.post("/api/v1/disbursements", json=VOUCHER))["id"]
    hold = _ok(rm.post("/api/v1/holds", json={"reason": "ร้องเรียน",
                                              "disbursement_id": vid}))["id"]
    rec = ingest(env, tokens, "contract", fiscal_year=2568, doc_type="other")
    run_jobs(env)
    return tokens, officer, rm, vid, hold, rec


def test_a_file_locked_long_extends_the_voucher_and_hold_it_joins(env: Env):
    """GIVEN a voucher registered and held (its objects written with the ten-year snapshot
    lock: no files yet), and a record whose bytes are locked to 2055 at ingest (a 30-year
    schedule) — a lock the sync never has to move
    WHEN the record is linked to the voucher (it joins the voucher's hold) and a review is
    recorded after
    THEN the voucher's objects, its hold's and the review are locked at least as long as
    the record's bytes."""
    tokens, officer, rm, vid, hold, rec = _a_held_voucher_and_a_30_year_record(env)
    needed = env.store.stat(blob_key(rec["sha256"])).retain_until
    assert needed is not None and needed >= dt.datetime(2055, 9, 30, tzinfo=dt.UTC), needed
    assert all(v < needed for v in _locks(env, f"{objects.VOUCHERS}{vid}/").values())

    _ok(officer.post(f"/api/v1/disbursements/{vid}/evidence",
                     json={"evidence_id": rec["id"], "role": "receipt"}))
    with env.session() as s:       # its next recompute: it joins the voucher's hold
        enqueue(s, "retention_compute", {"evidence_id": rec["id"]})
    run_jobs(env)
    assert _ok(rm.get(f"/api/v1/retention/records/{rec['id']}"))["on_hold"] is True
    _ok(env.client(tokens["aud1"]).post(f"/api/v1/disbursements/{vid}/reviews",
                                        json={"outcome": "observation", "note": "ครบ"}))
    for prefix in (f"{objects.VOUCHERS}{vid}/", f"{objects.HOLDS}{hold}/",
                   f"{objects.REVIEWS}{vid}/"):
        short = {k: v for k, v in _locks(env, prefix).items() if v < needed}
        assert not short, (prefix, needed, short)


def test_a_held_file_joining_a_second_hold_extends_that_holds_objects(env: Env):
    """GIVEN a voucher registered and held (its hold's object written with the ten-year
    snapshot lock: no files yet), and a record locked to 2055 at ingest (a 30-year
    schedule) already held by a hold on the record itself (the store's legal hold on)
    WHEN the record is linked to the voucher and, at its next recompute, joins the
    voucher's hold (it was held already: its hold state does not change)
    THEN the voucher's hold's objects are locked at least as long as the record's bytes,
    without waiting for the next extension of the bytes or a backfill."""
    tokens, officer, rm, vid, second, rec = _a_held_voucher_and_a_30_year_record(env)
    _ok(rm.post("/api/v1/holds", json={"reason": "คดี 1/2570", "record_ids": [rec["id"]]}))
    run_jobs(env)
    assert env.store.stat(blob_key(rec["sha256"])).legal_hold is True
    needed = env.store.stat(blob_key(rec["sha256"])).retain_until
    assert needed is not None and needed >= dt.datetime(2055, 9, 30, tzinfo=dt.UTC), needed
    assert all(v < needed for v in _locks(env, f"{objects.HOLDS}{second}/").values())

    _ok(officer.post(f"/api/v1/disbursements/{vid}/evidence",
                     json={"evidence_id": rec["id"], "role": "receipt"}))
    run_jobs(env)                  # what the link queued
    with env.session() as s:       # its next recompute: it joins the voucher's hold
        enqueue(s, "retention_compute", {"evidence_id": rec["id"]})
    run_jobs(env)
    holds = _ok(rm.get(f"/api/v1/retention/records/{rec['id']}"))["holds"]
    assert len(holds) == 2, holds
    short = {k: v for k, v in _locks(env, f"{objects.HOLDS}{second}/").items() if v < needed}
    assert not short, (needed, short)


def test_a_held_file_corrected_into_a_year_under_objection_extends_that_hold(env: Env):
    """GIVEN an objection to sao-1's fiscal year 2566 recorded while it had no records (its
    hold's object written with the ten-year snapshot lock), and a record of 2568 locked to
    2055 at ingest, held by a hold on the record itself
    WHEN its fiscal year is corrected to 2566: at its recompute it joins the objection's
    hold (held already: its hold state does not change)
    THEN the objection hold's objects are locked at least as long as the record's bytes."""
    tokens = world(env)
    national = env.client(env.user("rm-dla", "records_manager", ["dla"]))
    _keep_correspondence_30_years(national)
    rm = env.client(tokens["rm1"])
    closure = _ok(rm.post("/api/v1/audit-closures", json={
        "org_code": "sao-1", "fiscal_year": 2566, "result": "objection",
        "closed_on": "2024-06-01", "reference": "ตผ 0099/1"}))
    objection = closure["hold_id"]
    assert objection, closure
    rec = ingest(env, tokens, "contract", fiscal_year=2568, doc_type="other")
    run_jobs(env)
    _ok(rm.post("/api/v1/holds", json={"reason": "คดี 2/2570", "record_ids": [rec["id"]]}))
    run_jobs(env)
    needed = env.store.stat(blob_key(rec["sha256"])).retain_until
    assert needed is not None and needed >= dt.datetime(2055, 9, 30, tzinfo=dt.UTC), needed
    assert all(v < needed for v in _locks(env, f"{objects.HOLDS}{objection}/").values())

    _ok(env.client(tokens["off1"]).patch(f"/api/v1/evidence/{rec['id']}",
                                         json={"fiscal_year": 2566, "reason": "ปีผิด"},
                                         headers={"If-Match": "*"}))
    run_jobs(env)
    holds = _ok(rm.get(f"/api/v1/retention/records/{rec['id']}"))["holds"]
    assert len(holds) == 2, holds
    short = {k: v for k, v in _locks(env, f"{objects.HOLDS}{objection}/").items()
             if v < needed}
    assert not short, (needed, short)


def _described_by_an_old_version(env: Env, monkeypatch: pytest.MonkeyPatch
                                 ) -> tuple[dict[str, Any], str, str, dt.datetime]:
    """GIVEN a record locked to 2055 at ingest (a 30-year schedule), linked to a reviewed
    voucher, held, its year's audit closed, all described by a version that locked those
    objects ten years from their writing and never extended them. Returns the record, the
    voucher's and the hold's ids and its bytes' lock."""
    from archive.disbursements import described as vouchers_described
    from archive.retention import described as retention_described
    from archive.retention import locks

    def old(session: Any, catalogue: Any, *_: Any) -> dt.datetime:
        return catalogue.snapshot_lock()

    for module, name in ((vouchers_described, "voucher_lock"),
                         (retention_described, "hold_lock"),
                         (retention_described, "closure_lock")):
        monkeypatch.setattr(module, name, old)
    monkeypatch.setattr(locks, "described_by", lambda *_: [])
    tokens = world(env)
    national = env.client(env.user("rm-dla", "records_manager", ["dla"]))
    _keep_correspondence_30_years(national)
    rec = ingest(env, tokens, "contract", fiscal_year=2568, doc_type="other")
    officer, rm = env.client(tokens["off1"]), env.client(tokens["rm1"])
    vid = _ok(officer.post("/api/v1/disbursements", json=VOUCHER))["id"]
    _ok(officer.post(f"/api/v1/disbursements/{vid}/evidence",
                     json={"evidence_id": rec["id"], "role": "receipt"}))
    _ok(env.client(tokens["aud1"]).post(f"/api/v1/disbursements/{vid}/reviews",
                                        json={"outcome": "observation", "note": "ครบ"}))
    hold = _ok(rm.post("/api/v1/holds", json={"reason": "คดี", "record_ids": [rec["id"]]}))["id"]
    _ok(rm.post("/api/v1/audit-closures", json={
        "org_code": "sao-1", "fiscal_year": 2568, "result": "no_objection",
        "closed_on": "2026-01-10"}))
    run_jobs(env)
    monkeypatch.undo()
    needed = env.store.stat(blob_key(rec["sha256"])).retain_until
    assert needed is not None and needed >= dt.datetime(2055, 9, 30, tzinfo=dt.UTC), needed
    return rec, vid, hold, needed


def test_backfill_extends_objects_written_before_the_sync_kept_them(
        env: Env, monkeypatch: pytest.MonkeyPatch):
    """GIVEN a record locked to 2055 at ingest, linked to a voucher (reviewed), held, its
    year's audit closed — all described by a version that locked those objects ten years
    from their writing and never extended them
    WHEN `archive catalogue backfill` runs (twice)
    THEN the first run extends the voucher's, the review's, the hold's and the closure's
    objects to at least the record's bytes' lock; the second extends nothing."""
    rec, vid, hold, needed = _described_by_an_old_version(env, monkeypatch)
    prefixes = (f"{objects.VOUCHERS}{vid}/", f"{objects.REVIEWS}{vid}/",
                f"{objects.HOLDS}{hold}/", objects.CLOSURES)
    assert all(v < needed for p in prefixes for v in _locks(env, p).values())

    variables = {k: v for k, v in env.env_vars().items() if k.startswith("ARCHIVE_")}
    run = CliRunner().invoke(cli_app, ["catalogue", "backfill", "--json"], env=variables)
    assert run.exit_code == 0, run.output
    for prefix in prefixes:
        short = {k: v for k, v in _locks(env, prefix).items() if v < needed}
        assert not short, (prefix, needed, short)
    assert json.loads(run.stdout)["locks_extended"] >= 4, run.stdout
    again = CliRunner().invoke(cli_app, ["catalogue", "backfill", "--json"], env=variables)
    assert json.loads(again.stdout)["locks_extended"] == 0, again.stdout


def test_verify_reports_catalogue_objects_locked_shorter_than_their_records(
        env: Env, monkeypatch: pytest.MonkeyPatch):
    """GIVEN a record locked to 2055 at ingest, linked to a voucher (reviewed), held, its
    year's audit closed — all described by a version that locked those objects ten years
    from their writing and never extended them
    WHEN `archive verify` runs
    THEN it exits 1 and names each of those objects (the voucher's, the review's, the
    hold's, the closure's, and the latest snapshots, which only the daily sync extends),
    with its lock and the bytes' lock it must outlast; `--catalogue-locks none` skips the
    check, a bad value is refused; after `archive catalogue backfill` it finds none."""
    rec, vid, hold, needed = _described_by_an_old_version(env, monkeypatch)

    variables = env.env_vars()
    run = clirun.command(["verify", "--json"], variables)
    assert run.returncode == 1, run.stderr
    found = json.loads(run.stdout)
    short = {p["key"]: p for p in found["problems"] if p["kind"] == "catalogue_lock_short"}
    for prefix in (f"{objects.VOUCHERS}{vid}/", f"{objects.REVIEWS}{vid}/",
                   f"{objects.HOLDS}{hold}/", objects.CLOSURES, objects.SCHEDULES):
        named = [p for k, p in short.items() if k.startswith(prefix)]
        assert named, (prefix, sorted(short))
        for p in named:
            locked = env.store.stat(p["key"], p["version_id"]).retain_until
            assert locked < needed, (p["key"], locked, needed)
            assert f"{locked:%Y-%m-%d %H:%M} UTC" in p["detail"], p["detail"]
            assert f"{needed:%Y-%m-%d %H:%M} UTC" in p["detail"], p["detail"]
    # The record's own manifest was written with its bytes' lock: not short.
    assert not [k for k in short if k.startswith(objects.RECORDS)], sorted(short)
    assert found["catalogue_locks"]["records"] == 1, found["catalogue_locks"]
    assert found["catalogue_locks"]["short"] == len(short), found["catalogue_locks"]
    text = clirun.command(["verify"], {**variables, "COLUMNS": "200"})
    assert text.returncode == 1 and "catalogue_lock_short" in text.stdout, text.stdout

    skipped = clirun.command(["verify", "--json", "--catalogue-locks", "none"], variables)
    assert skipped.returncode == 0, skipped.stdout
    assert json.loads(skipped.stdout)["catalogue_locks"] is None
    bad = clirun.command(["verify", "--catalogue-locks", "some"], variables)
    assert bad.returncode == 2 and "--catalogue-locks" in bad.stderr, bad.stderr

    backfill = clirun.command(["catalogue", "backfill", "--json"], variables)
    assert backfill.returncode == 0, backfill.stderr
    for scope in ("all", "1"):
        again = clirun.command(["verify", "--json", "--catalogue-locks", scope], variables)
        assert again.returncode == 0, again.stdout
        assert json.loads(again.stdout)["catalogue_locks"]["short"] == 0


def test_a_batch_uploaded_records_lock_extends_its_batch_object(
        env: Env, monkeypatch: pytest.MonkeyPatch):
    """GIVEN two records archived by one batch (their first manifests one object, written
    with the later of their bytes' locks), then their schedule extended to 30 years
    WHEN the lock sync runs
    THEN the batch object is locked at least as long as the latest of their bytes (the
    store's own answer) and `archive verify --catalogue-locks` finds nothing short; and
    GIVEN the schedule extended again by a sync that left batch objects out, `archive
    verify` names the batch object as catalogue_lock_short, sampled and with `all`."""
    from archive.evidence.models import Evidence
    from tests.api.test_batch_upload import post_batch
    from tests.factories import make_pdf

    tokens = world(env)
    national = env.client(env.user("rm-dla", "records_manager", ["dla"]))
    r = post_batch(env.client(tokens["off1"]), [
        ({"doc_type": "other", "fiscal_year": 2568 - i}, f"l{i}.pdf", make_pdf(f"lock-{i}"))
        for i in range(2)])
    assert r.status_code == 200 and r.json()["created"] == 2, r.text
    shas = [i["evidence"]["sha256"] for i in r.json()["items"]]
    with env.session() as s:
        [batch] = set(s.scalars(sa.select(Evidence.manifest_batch)))
    assert batch is not None
    key = objects.batch_key(batch)
    assert list(env.store.list_objects(objects.RECORDS)) == []
    run_jobs(env)

    def bytes_lock() -> dt.datetime:
        found = [env.store.stat(blob_key(sha)).retain_until for sha in shas]
        assert all(found), found
        return max(f for f in found if f is not None)

    assert _locks(env, key)[f"{key} {_only(env, key).version_id}"] >= bytes_lock()
    _keep_correspondence_30_years(national)
    _daily_sync(env)
    needed = bytes_lock()
    assert needed >= dt.datetime(2055, 9, 30, tzinfo=dt.UTC), needed
    assert all(v >= needed for v in _locks(env, key).values()), (_locks(env, key), needed)
    variables = env.env_vars()
    for scope in ("all", "10"):
        run = clirun.command(["verify", "--json", "--catalogue-locks", scope], variables)
        found = json.loads(run.stdout)
        assert not [p for p in found["problems"] if p.get("key") == key], found["problems"]

    # a sync that knows nothing of batch objects (a version before them): bytes only
    monkeypatch.setattr(objects, "batch_key", lambda batch: f"{objects.BATCHES}none-")
    _ok(national.patch("/api/v1/retention/schedules/correspondence",
                       json={"keep_years": 40, "reason": "หนังสือกรม ที่ มท 0808/2"}))
    _daily_sync(env)
    monkeypatch.undo()
    assert bytes_lock() > max(_locks(env, key).values())
    for scope in ("all", "10"):
        run = clirun.command(["verify", "--json", "--catalogue-locks", scope], variables)
        assert run.returncode == 1, run.stdout
        found = json.loads(run.stdout)
        [short] = [p for p in found["problems"] if p.get("key") == key]
        assert short["kind"] == "catalogue_lock_short", short


def _only(env: Env, key: str) -> ObjectInfo:
    [info] = list(env.store.list_objects(key))
    return info
