"""The audit trail records every change and read, and tampering with it is detected."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from archive.audit import service as audit
from archive.audit.checkpoints import PREFIX, verify_chain, write_checkpoint
from archive.audit.models import AuditEvent, AuditHead
from archive.audit.service import event_hash
from archive.db import Base
from archive.failpoints import run_at
from tests import clirun
from tests.conftest import Env
from tests.factories import make_pdf, upload, world
from tests.tsa import local_tsa

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)


def _events(env: Env) -> list[AuditEvent]:
    with env.session() as s:
        return list(s.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)))


def _activity(env: Env) -> dict[str, str]:
    """GIVEN an upload, a correction, an auditor's reads and a failed token."""
    tokens = world(env)
    officer, auditor = env.client(tokens["off1"]), env.client(tokens["aud1"])
    rec = upload(officer, make_pdf("audited")).json()
    officer.patch(f"/api/v1/evidence/{rec['id']}", json={"doc_number": "INV-9"},
                  headers={"If-Match": '"1"'})
    auditor.get(f"/api/v1/evidence/{rec['id']}")
    auditor.get(f"/api/v1/evidence/{rec['id']}/content")
    auditor.get(f"/api/v1/evidence/by-hash/{rec['sha256']}")
    forged = env.client("ea_forged-token")
    forged.get(f"/api/v1/evidence/{rec['id']}")
    forged.app.state.auth_failures.flush(everything=True)   # one event per source+minute
    return {"id": rec["id"], **tokens}


def test_every_change_and_read_is_recorded(env: Env):
    ctx = _activity(env)
    events = _events(env)
    seen = {(e.action, e.actor) for e in events}
    for expected in [("org.create", "test"), ("user.create", "test"),
                     ("evidence.create", "off1"), ("evidence.update", "off1"),
                     ("evidence.read", "aud1"), ("evidence.download", "aud1"),
                     ("evidence.lookup_hash", "aud1"), ("auth.failed", "anonymous")]:
        assert expected in seen, expected
    update = next(e for e in events if e.action == "evidence.update")
    assert update.details["changes"]["doc_number"] == [None, "INV-9"]
    assert update.target_id == ctx["id"] and update.client == "testclient"
    failed = next(e for e in events if e.action == "auth.failed")
    assert failed.outcome == "denied" and failed.details["reasons"] == {"invalid_token": 1}
    assert [e.seq for e in events] == list(range(1, len(events) + 1))   # gap-free
    # the record's own history is part of its detail view
    detail = env.client(ctx["aud1"]).get(f"/api/v1/evidence/{ctx['id']}").json()
    assert [e["action"] for e in detail["audit"]][:2] == ["evidence.create", "evidence.update"]


def test_events_queued_in_one_commit_are_chained_in_order(env: Env):
    """The append writes the events and moves the head in one statement on PostgreSQL
    (the head's lock is held for fewer round trips): the chain stays linear and
    gap-free, and the head is the last event's hash."""
    from archive.accounts.principal import system_principal

    actor = system_principal("test")
    with env.session() as s:
        for i in range(3):
            audit.record(s, actor=actor, action="test.batch", details={"i": i, "ไทย": "ก"})
    with env.session() as s:
        audit.record(s, actor=actor, action="test.single")
    events = _events(env)
    assert [e.action for e in events[-4:]] == ["test.batch"] * 3 + ["test.single"]
    assert [e.details.get("i") for e in events[-4:]] == [0, 1, 2, None]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    for e in events:
        assert audit.hash_of(e) == e.hash
    with env.session() as s:
        head = s.get(AuditHead, 1)
        assert head is not None and (head.seq, head.hash) == (events[-1].seq, events[-1].hash)


def test_events_api_is_scoped(env: Env):
    ctx = _activity(env)
    mine = env.client(ctx["aud1"]).get("/api/v1/audit/events",
                                       params={"target_id": ctx["id"]}).json()
    assert {e["action"] for e in mine} >= {"evidence.create", "evidence.update"}
    assert all(e["hash"] and e["prev_hash"] for e in mine)
    other = env.client(ctx["aud3"]).get("/api/v1/audit/events",
                                        params={"target_id": ctx["id"]}).json()
    assert other == []
    assert env.client(ctx["off1"]).get("/api/v1/audit/events").status_code == 403


def test_checkpoint_goes_to_the_locked_store_once(env: Env):
    _activity(env)
    with env.session() as s:
        first = write_checkpoint(s, env.store, retain_until=LATER)
    with env.session() as s:
        again = write_checkpoint(s, env.store, retain_until=LATER)
    assert first is not None and again is not None and again.seq == first.seq
    objects = list(env.store.list_objects(PREFIX))
    assert len(objects) == 1
    info = env.store.stat(objects[0].key, objects[0].version_id)
    assert info is not None and info.retain_until is not None


def test_checkpoint_carries_a_time_stamp_from_the_tsa(env: Env):
    _activity(env)
    from archive.audit.checkpoints import http_timestamper

    with local_tsa() as url, env.session() as s:
        row = write_checkpoint(s, env.store, retain_until=LATER, timestamper=http_timestamper(url))
    assert row is not None and row.timestamped
    with env.session() as s:
        report = verify_chain(s, env.store)
    assert report.ok, report
    assert report.anchors[-1].timestamp_ok is True


def test_database_refuses_plain_edits_of_events(env: Env):
    _activity(env)
    with pytest.raises(sa.exc.DBAPIError), env.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET actor = 'nobody' WHERE seq = 1"))
    with pytest.raises(sa.exc.DBAPIError), env.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_events WHERE seq = 1"))


# -- tampering by someone with database access ----------------------------------------

def _tamper(env: Env, change: Callable[[sa.Connection], None]) -> None:
    """Switch off the append-only guard as an owner could, change the rows, switch it back."""
    with env.engine.begin() as conn:
        if env.stack == "postgres":
            conn.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
            change(conn)
            conn.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_events_no_update"))
            conn.execute(sa.text("DROP TRIGGER audit_events_no_delete"))
            change(conn)
            conn.execute(sa.text("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON "
                                 "audit_events BEGIN SELECT RAISE(ABORT, 'append-only'); END"))
            conn.execute(sa.text("CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON "
                                 "audit_events BEGIN SELECT RAISE(ABORT, 'append-only'); END"))


def _edit(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 5"))


def _delete(conn: sa.Connection) -> None:
    conn.execute(sa.text("DELETE FROM audit_events WHERE seq = 5"))


def _reorder(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE audit_events SET seq = -1 WHERE seq = 5"))
    conn.execute(sa.text("UPDATE audit_events SET seq = 5 WHERE seq = 6"))
    conn.execute(sa.text("UPDATE audit_events SET seq = 6 WHERE seq = -1"))


def _recompute_from(seq: int) -> Callable[[sa.Connection], None]:
    """Edit event ``seq`` and recompute every later hash and the head: self-consistent."""
    def change(conn: sa.Connection) -> None:
        conn.execute(sa.text("UPDATE audit_events SET actor = 'someone-else' WHERE seq = :s"),
                     {"s": seq})
        table = Base.metadata.tables["audit_events"]
        rows = conn.execute(sa.select(table).where(table.c.seq >= seq)
                            .order_by(table.c.seq)).mappings().all()
        prev = conn.execute(sa.select(table.c.hash).where(table.c.seq == seq - 1)).scalar_one()
        for row in rows:
            fields = {k: row[k] for k in ("seq", "actor", "role", "action", "target_type",
                                          "target_id", "org_id", "details", "client",
                                          "outcome")}
            at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=dt.UTC)
            digest = event_hash(prev_hash=prev, at=at, **fields)
            conn.execute(sa.update(table).where(table.c.seq == row["seq"])
                         .values(prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(sa.update(AuditHead.__table__).values(hash=prev))
    return change


def _truncate_tail(conn: sa.Connection) -> None:
    top = conn.execute(sa.text("SELECT max(seq) FROM audit_events")).scalar_one()
    conn.execute(sa.text("DELETE FROM audit_events WHERE seq > :k"), {"k": top - 3})
    prev = conn.execute(sa.text("SELECT hash FROM audit_events WHERE seq = :k"),
                        {"k": top - 3}).scalar_one()
    conn.execute(sa.text("UPDATE audit_head SET seq = :k, hash = :h"), {"k": top - 3, "h": prev})


@pytest.mark.parametrize("change,problem,first_bad", [
    (_edit, "edited", 5),
    (_delete, "deleted", 5),
    (_reorder, "moved", 5),
    (_recompute_from(5), "rewritten", 1),
    (_truncate_tail, "truncated", None),
])
def test_tampering_is_detected_with_the_first_bad_sequence(env: Env, change, problem,
                                                           first_bad):
    _activity(env)
    with env.session() as s:
        cp = write_checkpoint(s, env.store, retain_until=LATER)
    assert cp is not None
    clean = clirun.command(["audit", "verify", "--json"], env.env_vars())
    assert clean.returncode == 0, clean.stdout + clean.stderr
    _tamper(env, change)
    broken = clirun.command(["audit", "verify", "--json"], env.env_vars())
    assert broken.returncode == 1, broken.stdout
    report = json.loads(broken.stdout)
    assert report["problem"] == problem, report
    # the clean verify added one event after the checkpoint; three were cut off the tail
    expected = first_bad if first_bad is not None else cp.seq - 1
    assert report["first_bad_seq"] == expected, report


def test_events_after_the_last_checkpoint_are_reported_unanchored(env: Env):
    tokens = _activity(env)
    with env.session() as s:
        write_checkpoint(s, env.store, retain_until=LATER)
    env.client(tokens["aud1"]).get(f"/api/v1/evidence/{tokens['id']}")
    report = env.client(tokens["aud1"]).get("/api/v1/audit/verify").json()
    assert report["ok"] is True
    assert report["unanchored_events"] >= 1
    with env.session() as s:
        assert audit.history_of(s, "evidence", tokens["id"])


def test_concurrent_appends_keep_one_gap_free_chain(env: Env):
    """Many transactions appending at once (the API's threads): each claims its numbers
    under the head's lock, so the chain is linear, gap-free and every hash recomputes."""
    import threading

    from archive.accounts.principal import system_principal

    def writer(n: int) -> None:
        actor = system_principal(f"writer-{n}")
        for i in range(8):
            with env.session() as s:
                audit.record(s, actor=actor, action="test.concurrent", details={"i": i})
                if i % 3 == 0:
                    audit.record(s, actor=actor, action="test.concurrent", details={"j": i})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = _events(env)
    assert sum(e.action == "test.concurrent" for e in events) == 6 * (8 + 3)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    prev = audit.GENESIS
    for e in events:
        assert e.prev_hash == prev and audit.hash_of(e) == e.hash
        prev = e.hash
    _assert_times_never_decrease(events)


def _assert_times_never_decrease(events: list[AuditEvent]) -> None:
    earlier = [(e.seq, e.at, before.at) for before, e in zip(events, events[1:], strict=False)
               if e.at < before.at]
    assert earlier == [], f"events earlier than their predecessor: {earlier}"


def _append(env: Env, actor: str, **details: object) -> None:
    """One event, in a transaction (and a session) of its own."""
    from archive.accounts.principal import system_principal

    with env.session() as s:
        audit.record(s, actor=system_principal(actor), action="test.append", details=details)


def test_an_event_that_waited_for_the_head_is_not_older_than_the_one_before(env: Env):
    """GIVEN a transaction whose commit has read the clock and not yet taken the chain's
    lock (PostgreSQL reads it before: the lock is held for one round trip only)
    WHEN another transaction, in another thread, appends and commits right then
    THEN the waiting one is chained after it with a time no earlier than its time."""
    import threading

    def other() -> None:
        thread = threading.Thread(target=_append, args=(env, "second"))
        thread.start()
        thread.join()

    _append(env, "before")
    with run_at("audit.append.before_head", other):
        _append(env, "first")
    events = _events(env)
    assert [e.actor for e in events[-2:]] == ["second", "first"]
    _assert_times_never_decrease(events)
    with env.session() as s:
        report = verify_chain(s, env.store)
    assert report.ok and report.earlier_than_previous == 0, report


def test_an_event_is_not_older_than_the_one_before_when_the_clock_steps_back(env: Env):
    """GIVEN an event appended by a server whose clock runs a minute ahead (or before the
    clock was stepped back)
    WHEN the next event is appended with the clock a minute behind it
    THEN it takes the time of the event before it; both verify."""
    from archive import clock

    ahead = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1)
    with clock.frozen(ahead):
        _append(env, "ahead")
        _append(env, "ahead", n=2)
    with clock.frozen(ahead - dt.timedelta(minutes=1)):
        _append(env, "behind")
    events = _events(env)
    assert [e.actor for e in events[-3:]] == ["ahead", "ahead", "behind"]
    assert [e.at for e in events[-3:]] == [ahead] * 3
    with env.session() as s:
        report = verify_chain(s, env.store)
    assert report.ok, report


def test_a_clock_far_ahead_is_not_copied_onto_the_events_after_it(env: Env):
    """GIVEN an event appended by a server whose clock ran a day ahead
    WHEN the next event is appended with the right clock
    THEN it keeps its own time (a day-wrong clock is shown as it is, not stamped on every
    later event until the clocks meet), and verify passes and reports the reversal."""
    from archive import clock

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with clock.frozen(now + dt.timedelta(days=1)):
        _append(env, "wrong clock")
    with clock.frozen(now):
        _append(env, "right clock")
    events = _events(env)
    assert [(e.actor, e.at) for e in events[-2:]] == [
        ("wrong clock", now + dt.timedelta(days=1)), ("right clock", now)]
    with env.session() as s:
        report = verify_chain(s, env.store)
    assert report.ok and report.earlier_than_previous == 1, report


def _earlier_times(seqs: list[int]) -> Callable[[sa.Connection], None]:
    """Move the time of each event in ``seqs`` a day back and recompute every later hash
    and the head: a valid chain whose times go backwards, as an archive of before
    migration 0098 may hold."""
    def change(conn: sa.Connection) -> None:
        table = Base.metadata.tables["audit_events"]
        rows = conn.execute(sa.select(table).where(table.c.seq >= min(seqs))
                            .order_by(table.c.seq)).mappings().all()
        prev = conn.execute(sa.select(table.c.hash).where(table.c.seq == min(seqs) - 1)
                            ).scalar_one()
        for row in rows:
            at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=dt.UTC)
            if row["seq"] in seqs:
                at -= dt.timedelta(days=1)
            fields = {k: row[k] for k in ("seq", "actor", "role", "action", "target_type",
                                          "target_id", "org_id", "details", "client",
                                          "outcome")}
            digest = event_hash(prev_hash=prev, at=at, **fields)
            conn.execute(sa.update(table).where(table.c.seq == row["seq"])
                         .values(at=at, prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(sa.update(AuditHead.__table__).values(hash=prev))
    return change


def test_verify_reports_events_earlier_than_their_predecessor_without_failing(env: Env):
    """GIVEN a valid chain in which two events carry a time earlier than the event before
    them (an archive of before migration 0098)
    WHEN ``archive audit verify`` runs
    THEN the chain is intact (exit 0) and the report counts and names them, as
    information."""
    _activity(env)
    _tamper(env, _earlier_times([4, 7]))
    ran = clirun.command(["audit", "verify", "--json"], env.env_vars())
    assert ran.returncode == 0, ran.stdout + ran.stderr
    report = json.loads(ran.stdout)
    assert report["ok"] is True, report
    assert report["earlier_than_previous"] == 2
    assert report["earlier_than_previous_seqs"] == [4, 7]
    text = clirun.command(["audit", "verify"], env.env_vars())
    assert text.returncode == 0, text.stdout
    assert "earlier than the event before them: 2 (seq 4, 7)" in text.stdout


def test_the_four_parts_of_an_event_hash_to_its_hash():
    """``audit_append`` (PostgreSQL) hashes the canonical JSON the application sends in
    four parts around the time, the previous hash and the sequence number: joined, they
    are exactly what :func:`event_hash` hashes (Thai text, quotes, nesting, nulls)."""
    import hashlib

    at = dt.datetime(2026, 12, 3, 9, 30, 1, 5, tzinfo=dt.UTC)
    for ev in [dict(actor="aud1", role="auditor", action="evidence.search",
                    target_type="evidence", target_id=None, org_id=None,
                    details={"filters": {"q": 'ค่าวัสดุ "x" \\ ๑', "fiscal_year": 2568},
                             "list": [1, None, True, "ก"]},
                    client="127.0.0.1", outcome="ok"),
               dict(actor="ระบบ", role="none", action="auth.failed", target_type=None,
                    target_id="0190-ab", org_id=7, details={}, client=None,
                    outcome="denied")]:
        before_at, before_prev, before_seq, after_seq = audit.hash_parts(**ev)
        prev = hashlib.sha256(b"previous").hexdigest()
        joined = (before_at + audit.at_text(at) + before_prev + prev + before_seq + "4711"
                  + after_seq)
        assert hashlib.sha256(joined.encode("utf-8")).hexdigest() == event_hash(
            prev_hash=prev, seq=4711, at=at, **ev)


def test_the_database_writes_an_events_time_as_its_hash_covers_it(env: Env):
    """PostgreSQL's ``audit_at_text`` (which ``audit_append`` hashes) is the text
    :func:`at_text` makes, for any time: whole seconds, microseconds, another zone."""
    if env.stack != "postgres":
        pytest.skip("PostgreSQL's audit_append only")
    bangkok = dt.timezone(dt.timedelta(hours=7))
    times = [dt.datetime(2026, 12, 3, 9, 30, 1, 5, tzinfo=dt.UTC),
             dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC),
             dt.datetime(2027, 1, 1, 0, 0, 0, 999999, tzinfo=bangkok),
             dt.datetime(1999, 12, 31, 23, 59, 59, 120000, tzinfo=dt.UTC)]
    with env.engine.connect() as conn:
        for at in times:
            stored = conn.execute(sa.text("SELECT audit_at_text(:at)").bindparams(
                sa.bindparam("at", type_=sa.DateTime(timezone=True))), {"at": at}).scalar()
            assert stored == audit.at_text(at)
