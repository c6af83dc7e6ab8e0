"""Uploads against what happens to the same bytes meanwhile, on both stacks (issue 18):
bytes a batch planned to reuse destroyed before it writes its rows, bytes uploaded while
the disposition's purge deletes them, and the same bytes uploaded alone and in a batch at
once, either way round. The other request is played exactly between the two
steps with the project's failpoints (``failpoints.run_at``), not with sleeps."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
import sqlalchemy as sa

from archive.evidence.models import Blob, Evidence
from archive.failpoints import run_at
from archive.storage import blob_key
from tests.api.test_batch_upload import post_batch
from tests.archive.retention.helpers import (
    approve_all,
    at,
    ingest,
    people,
    request_execution,
    run_jobs,
    survey,
    wait_for_locks,
)
from tests.conftest import Env
from tests.factories import make_pdf, upload, world

LOCK_SECONDS = 3.0


@pytest.fixture
def short_lock(monkeypatch: pytest.MonkeyPatch) -> float:
    """New bytes locked for seconds, so an approved disposition can delete them (the
    store follows real time only)."""
    from archive.evidence import service

    monkeypatch.setattr(service, "new_bytes_lock", lambda *_, **__:
                        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LOCK_SECONDS))
    return LOCK_SECONDS


def records_of(env: Env, content: bytes) -> list[tuple[str, str, bool]]:
    """(id, status, blob deleted) of every record holding ``content``."""
    with env.session() as s:
        return [(str(i), st, gone is not None) for i, st, gone in s.execute(
            sa.select(Evidence.id, Evidence.status, Blob.deleted_at)
            .join(Blob, Blob.id == Evidence.blob_id)
            .where(Blob.sha256 == hashlib.sha256(content).hexdigest())
            .order_by(Evidence.id))]


def approved_for_destruction(env: Env, short_lock: float, text: str
                             ) -> tuple[dict[str, str], bytes, dict[str, Any], str]:
    """The people, a PDF of ``text`` archived as a record whose lock has ended, and the
    disposition list that approves destroying it (tokens, bytes, record, list id)."""
    tokens = people(env, world(env))
    content = make_pdf(text)
    rec = ingest(env, tokens, "a", content=content)
    run_jobs(env)
    wait_for_locks(short_lock)
    with at("2027-01-15"):
        list_id = survey(env, tokens["rm1"])["lists"][0]["id"]
        approve_all(env, tokens, list_id, sent_on="2027-01-15")
    return tokens, content, rec, list_id


def test_bytes_destroyed_between_the_plan_and_the_rows_are_refused(env: Env, short_lock):
    """GIVEN a record whose disposition is approved and whose execution is requested,
    WHEN a batch plans to archive its bytes again (still in the store then) with a new
    file, and the disposition's job destroys the record and deletes the bytes before the
    batch writes its rows,
    THEN that item is refused as an upload a moment later would be (409
    ``blob_destroyed``: destroyed bytes do not come back), the new file is archived, and
    no live record points at deleted bytes."""
    tokens, old, rec, list_id = approved_for_destruction(env, short_lock,
                                                         "destroyed-meanwhile")
    jobs: dict[str, Any] = {}
    fresh = make_pdf("fresh-in-the-batch")
    with at("2027-03-20"):
        assert request_execution(env, tokens, list_id).status_code == 202
        with run_at("batch.before_record", lambda: jobs.update(run_jobs(env))):
            r = post_batch(env.client(tokens["off1"]), [
                ({"voucher_no": "ฎ again"}, "again.pdf", old),
                ({"voucher_no": "ฎ fresh"}, "fresh.pdf", fresh)])
    assert jobs["disposition_execute"]["destroyed"] == 1, jobs
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["status"], i["error"]) for i in items] == [(409, "blob_destroyed"), (201, None)]
    assert records_of(env, old) == [(rec["id"], "destroyed", True)]
    assert env.store.stat(blob_key(rec["sha256"])) is None
    assert [(st, gone) for _, st, gone in records_of(env, fresh)] == [("received", False)]
    # the answer the same bytes get from now on, alone or in a batch
    later = upload(env.client(tokens["off1"]), old)
    assert later.status_code == 409 and later.json()["error"] == "blob_destroyed"


def test_an_upload_while_the_purge_deletes_the_bytes_is_refused(env: Env, short_lock):
    """GIVEN a record whose disposition is executing: tombstoned, and the purge has found
    no live record holding its bytes
    WHEN the same bytes are uploaded (alone, or in a batch) before the purge has deleted
    them from the store
    THEN the upload is refused (409 ``blob_destroyed``) — not a new live record whose
    bytes the purge deletes a moment later — and the bytes are deleted as approved."""
    tokens, old, rec, list_id = approved_for_destruction(env, short_lock, "purged-meanwhile")
    during: list[Any] = []

    def upload_both_ways() -> None:
        during.append(upload(env.client(tokens["off1"]), old))
        during.append(post_batch(env.client(tokens["off1"]), [({}, "again.pdf", old)]))

    with at("2027-03-20"):
        assert request_execution(env, tokens, list_id).status_code == 202
        with run_at("disposition.purge.before_delete", upload_both_ways):
            jobs = dict(run_jobs(env))
    assert jobs["disposition_execute"]["destroyed"] == 1, jobs
    alone, batch = during
    assert alone.status_code == 409 and alone.json()["error"] == "blob_destroyed", alone.text
    assert [(i["status"], i["error"]) for i in batch.json()["items"]] == \
        [(409, "blob_destroyed")]
    assert records_of(env, old) == [(rec["id"], "destroyed", True)]
    assert env.store.stat(blob_key(rec["sha256"])) is None


def test_a_single_upload_between_a_batch_plan_and_its_rows_makes_the_batch_item_a_repeat(
        env: Env):
    """GIVEN a batch of new files (the fast path: all rows in a few statements)
    WHEN the same bytes as one of them are uploaded alone after the batch planned them as
    new and before it writes its rows
    THEN the single upload is archived and the batch's item is refused as a repeat (409
    ``duplicate_upload`` naming that record), the other file archived: one record of
    those bytes, as two single uploads would give."""
    tokens = world(env)
    same, other = make_pdf("raced-bytes"), make_pdf("not-raced")
    alone: list[Any] = []
    with run_at("batch.before_record",
                lambda: alone.append(upload(env.client(tokens["off1"]), same))):
        r = post_batch(env.client(tokens["off1"]), [({}, "same.pdf", same),
                                                    ({}, "other.pdf", other)])
    assert alone[0].status_code == 201, alone[0].text
    single = alone[0].json()["id"]
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["status"], i["error"]) for i in items] == [(409, "duplicate_upload"),
                                                          (201, None)]
    assert items[0]["detail"]["existing"] == [single]
    assert [i for i, _, _ in records_of(env, same)] == [single]
    assert len(records_of(env, other)) == 1


def test_a_batch_between_a_single_upload_plan_and_its_row_makes_the_single_a_repeat(
        env: Env):
    """The other way round: a single upload has put its new bytes; a batch archives the
    same bytes before the single upload writes its row; the single upload is the repeat
    (409 ``duplicate_upload``), or, said deliberate, a duplicate that names the batch's."""
    tokens = world(env)
    # (the archive in use: the first upload seeds the retention schedules, a write that
    # SQLite would otherwise hold across the single upload's put)
    assert upload(env.client(tokens["off1"]), make_pdf("earlier")).status_code == 201
    same = make_pdf("raced-the-other-way")
    batch: list[Any] = []
    with run_at("ingest.before_record", lambda: batch.append(
            post_batch(env.client(tokens["off1"]), [({}, "same.pdf", same)]))):
        r = upload(env.client(tokens["off1"]), same)
    assert batch[0].status_code == 200 and batch[0].json()["created"] == 1, batch[0].text
    first = batch[0].json()["items"][0]["evidence"]["id"]
    assert r.status_code == 409 and r.json()["error"] == "duplicate_upload", r.text
    assert r.json()["detail"]["existing"] == [first]
    assert [i for i, _, _ in records_of(env, same)] == [first]
