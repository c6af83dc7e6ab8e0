"""``archive audit verify`` checks its own checkpoint table (issue 15, item 6).

GIVEN an audit trail anchored by three checkpoints, WHEN checkpoints recorded in the
database disappear from the store (removed through a side door: the local file unlinked,
SeaweedFS's filer port on S3), or the archive is pointed at a store without any, THEN the
trail is reported broken — not "intact, N checkpoints".
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from archive.audit.checkpoints import verify_chain, write_checkpoint
from archive.audit.models import AuditCheckpoint
from archive.db import table_of
from archive.storage.local import LocalStore
from tests import clirun
from tests.conftest import Env, make_s3_store
from tests.factories import make_pdf, upload, world
from tests.tamper import delete_object

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)


def _three_checkpoints(env: Env) -> list[AuditCheckpoint]:
    tokens = world(env)
    officer = env.client(tokens["off1"])
    rows = []
    for n in range(3):
        upload(officer, make_pdf(f"anchored-{n}"))
        with env.session() as s:
            row = write_checkpoint(s, env.store, retain_until=LATER)
            assert row is not None
            s.flush()
            s.expunge(row)
        rows.append(row)
    return rows


def _audit_verify(env: Env, *, process: bool = False) -> tuple[int, dict[str, object]]:
    done = clirun.command(["audit", "verify", "--json"], env.env_vars(), process=process)
    return done.returncode, json.loads(done.stdout)


def test_checkpoints_missing_from_the_store_are_reported(env: Env):
    cps = _three_checkpoints(env)
    code, clean = _audit_verify(env, process=True)
    assert code == 0 and clean["ok"] is True and clean["checkpoints"] == 3, clean

    for cp in cps[:2]:
        delete_object(env, cp.store_key, cp.version_id)
    code, report = _audit_verify(env)
    assert code == 1, report
    assert report["problem"] == "checkpoint_missing"
    assert report["first_bad_seq"] == cps[0].seq
    problems = report["problems"]
    assert isinstance(problems, list)
    missing = [p for p in problems if p.startswith("checkpoint_missing")]
    assert len(missing) == 2 and f"checkpoint {cps[1].seq} " in missing[1]


def test_a_gap_in_the_checkpoint_sequence_is_reported(env: Env):
    """GIVEN the middle checkpoint removed from the store and its row from the database
    (the table alone would no longer know it existed), THEN the next checkpoint, which
    names it as its predecessor, gives the gap away."""
    cps = _three_checkpoints(env)
    middle = cps[1]
    delete_object(env, middle.store_key, middle.version_id)
    with env.engine.begin() as conn:
        conn.execute(sa.delete(table_of(AuditCheckpoint))
                     .where(table_of(AuditCheckpoint).c.seq == middle.seq))
    code, report = _audit_verify(env)
    assert code == 1, report
    assert report["problem"] == "checkpoint_gap" and report["first_bad_seq"] == middle.seq
    assert f"checkpoint {cps[2].seq} names checkpoint {middle.seq}" in str(report["detail"])


def test_an_empty_store_under_a_non_empty_trail_is_broken(env: Env, tmp_path):
    _three_checkpoints(env)
    empty = (LocalStore(tmp_path / "elsewhere") if env.weed is None
             else make_s3_store(env.weed))
    empty.prepare()
    with env.session() as s:
        report = verify_chain(s, empty)
    assert not report.ok
    assert report.checkpoints == 0 and report.problem == "checkpoint_missing"


def test_a_trail_never_anchored_is_broken_once_older_than_the_cadence(env: Env):
    world(env)
    with env.session() as s:
        fresh = verify_chain(s, env.store)
        stale = verify_chain(s, env.store, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=4))
    assert fresh.ok and fresh.checkpoints == 0 and fresh.unanchored_events == fresh.events
    assert not stale.ok and stale.problem == "unanchored"
    assert "no checkpoint" in str(stale.detail)


def test_checkpoints_written_late_are_warnings(env: Env):
    cps = _three_checkpoints(env)
    with env.session() as s:
        report = verify_chain(s, env.store, max_gap=dt.timedelta(microseconds=1))
    assert report.ok, report.problems
    assert any(f"checkpoint {cps[0].seq} was written" in w for w in report.warnings)
