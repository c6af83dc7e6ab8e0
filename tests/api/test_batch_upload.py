"""POST /api/v1/evidence/batch on both stacks: many files in one request, each archived or
refused on its own, the batch limits, and who may send one (issue 18, bulk ingest)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from archive import clock
from archive.audit import service as audit_service
from archive.audit.models import AuditEvent
from archive.catalogue import objects
from archive.evidence import manifests, versions
from archive.evidence.models import Blob, Evidence
from archive.orgs.models import Organisation
from archive.queue.models import Job
from archive.storage import blob_key
from archive.thai import fiscal_year as thai_fiscal_year
from tests.conftest import Env
from tests.factories import make_pdf, make_png, upload, world


def post_batch(client: Any, items: list[tuple[dict[str, Any], str, bytes]]) -> Any:
    """One request: for each item a ``meta`` part (JSON) and its ``file`` part."""
    parts: list[tuple[str, Any]] = []
    for meta, filename, content in items:
        parts.append(("meta", (None, json.dumps({"org_code": "sao-1", "doc_type": "receipt",
                                                 **meta}))))
        parts.append(("file", (filename, content, "application/octet-stream")))
    return client.post("/api/v1/evidence/batch", files=parts)


def counts(env: Env) -> tuple[int, int, int]:
    with env.session() as s:
        ev = s.scalar(sa.select(sa.func.count()).select_from(Evidence)) or 0
        bl = s.scalar(sa.select(sa.func.count()).select_from(Blob)) or 0
    return ev, bl, sum(1 for _ in env.store.list_objects("sha256/"))


def created_events(env: Env) -> list[str]:
    with env.session() as s:
        return list(s.scalars(sa.select(AuditEvent.target_id)
                              .where(AuditEvent.action == "evidence.create")))


@pytest.fixture
def tokens(env: Env) -> dict[str, str]:
    return world(env)


def test_a_batch_archives_every_file_with_its_own_metadata(env: Env, tokens):
    """GIVEN bytes already archived, WHEN a batch sends three new files, the first again
    marked as deliberate, and the old bytes again, THEN three new records and one
    deliberate duplicate, each with its own metadata, jobs and audit event, while the old
    bytes are refused as a single upload would refuse them (409 duplicate_upload naming the
    record that holds them); the twice-sent bytes are one blob; the audit chain verifies."""
    old = make_pdf("already-here")
    assert upload(env.client(tokens["off1"]), old).status_code == 201
    pdf, png = make_pdf("batch-1"), make_png(150)
    r = post_batch(env.client(tokens["off1"]), [
        ({"voucher_no": "ฎ 1/2568", "amount": "1,000.00"}, "a.pdf", pdf),
        ({"org_code": "sao-1", "doc_type": "tax_invoice"}, "b.png", png),
        ({"voucher_no": "ฎ 2/2568", "allow_duplicate": True}, "again.pdf", pdf),
        ({}, "old.pdf", old),
    ])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["failed"]) == (3, 1)
    items = body["items"]
    assert [i["status"] for i in items] == [201, 201, 201, 409]
    assert [i["filename"] for i in items] == ["a.pdf", "b.png", "again.pdf", "old.pdf"]
    first, second, third = (i["evidence"] for i in items[:3])
    assert first["sha256"] == hashlib.sha256(pdf).hexdigest() and first["amount"] == "1000.00"
    assert first["voucher_no"] == "ฎ 1/2568" and first["duplicate"] is False
    assert second["media_type"] == "image/png" and second["doc_type"] == "tax_invoice"
    assert third["sha256"] == first["sha256"] and third["duplicate"] is True
    assert third["duplicate_of"] == [first["id"]] and third["duplicate_allowed"] is True
    assert items[3]["error"] == "duplicate_upload"
    assert items[3]["detail"]["existing"] == [_first_id(env, old)]
    assert counts(env) == (4, 3, 3)
    assert env.store.stat(blob_key(second["sha256"])) is not None
    assert sorted(created_events(env)) == sorted(
        [i["evidence"]["id"] for i in items[:3]] + [_first_id(env, old)])
    with env.session() as s:
        jobs = s.scalar(sa.select(sa.func.count()).select_from(Job)
                        .where(Job.kind == "inspect")) or 0
        assert jobs == 4
        assert audit_service.verify_chain(s, env.store).ok


def _first_id(env: Env, content: bytes) -> str:
    with env.session() as s:
        return str(s.scalar(sa.select(Evidence.id).join(Blob, Blob.id == Evidence.blob_id)
                            .where(Blob.sha256 == hashlib.sha256(content).hexdigest())))


def test_a_batch_writes_its_manifests_as_one_object_completed_with_one_read(env: Env, tokens):
    """GIVEN five new files WHEN one batch archives them THEN their five version-1
    manifests are one store object (``catalogue/batches/<batch>.json``, which each record
    names), not five: each manifest with its organisation, schedule and state as
    committed, verifying by its own hash; the object is locked until the latest lock of
    the five records' bytes; completing the five took one query at the commit, not one
    per record (issue 18's bulk path)."""
    reads: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM evidence JOIN organisations" in statement and \
                "LEFT OUTER JOIN retention_schedules" in statement:
            reads.append(statement)

    sa.event.listen(env.engine, "before_cursor_execute", seen)
    try:
        r = post_batch(env.client(tokens["off1"]), [
            ({"voucher_no": f"ฎ {i}/2568", "fiscal_year": thai_fiscal_year(clock.today()) - i},
             f"m{i}.pdf",
             make_pdf(f"one-read-{i}"))
            for i in range(5)])
    finally:
        sa.event.remove(env.engine, "before_cursor_execute", seen)
    assert r.status_code == 200 and r.json()["created"] == 5, r.text
    assert len(reads) == 1, reads
    with env.session() as s:
        rows = s.execute(sa.select(Evidence, Organisation.code, Blob.retain_until)
                         .join(Organisation, Organisation.id == Evidence.org_id)
                         .join(Blob, Blob.id == Evidence.blob_id)).all()
    assert len(rows) == 5
    assert list(env.store.list_objects(objects.RECORDS)) == []
    [batch] = {evidence.manifest_batch for evidence, _, _ in rows}
    assert batch is not None
    [info] = list(env.store.list_objects(objects.BATCHES))
    assert info.key == objects.batch_key(batch)
    document = objects.read(env.store, info.key, info.version_id)
    assert document["format"] == manifests.BATCH_FORMAT and document["batch"] == str(batch)
    docs = {d["record"]: d for d in document["manifests"]}
    assert [d["record"] for d in document["manifests"]] == sorted(docs)
    for evidence, org_code, _ in rows:
        doc = docs[str(evidence.id)]
        assert doc["format"] == manifests.MANIFEST_FORMAT and doc["version"] == 1
        assert org_code == "sao-1" and doc["org"] == {"id": evidence.org_id, "code": org_code}
        assert (doc["schedule"] or {}).get("id") == evidence.schedule_id
        assert doc["meta_hash"] == evidence.meta_hash and doc["fields"]["voucher_no"] == \
            evidence.voucher_no
        assert versions.version_hash(evidence_id=doc["record"], version=1,
                                     fields=doc["fields"], blob_sha256=doc["sha256"],
                                     previous=None) == doc["meta_hash"]
        assert doc["state"]["client_media_type"] == "application/octet-stream"
        assert doc["state"]["fiscal_year_source"] == evidence.fiscal_year_source
    locks = {until for _, _, until in rows}
    assert len(locks) > 1          # five fiscal years: five dates
    stored = env.store.stat(info.key, info.version_id)
    assert stored is not None and stored.retain_until is not None
    assert stored.retain_until >= max(locks)


def test_bad_items_are_refused_alone_and_leave_nothing(env: Env, tokens):
    """GIVEN good files and, among them, text bytes, invalid metadata, an organisation out
    of the officer's scope and a file over the size limit, THEN the good ones are
    archived and each bad one gets the status and error it would have had alone, with no
    row and no object of its own; the refused scope is in the audit trail."""
    good1, good2 = make_pdf("good-1"), make_pdf("good-2")
    client = env.client(tokens["off1"], max_upload_bytes=len(good1) + len(good2))
    r = post_batch(client, [
        ({}, "good-1.pdf", good1),
        ({}, "notes.pdf", b"just some text, not a pdf\n" * 20),
        ({"amount": "lots", "issue_date": "2568-13-45"}, "bad-meta.pdf", make_pdf("meta")),
        ({"org_code": "sao-3"}, "elsewhere.pdf", make_pdf("elsewhere")),
        ({}, "huge.pdf", make_pdf("huge", pad=len(good1) + len(good2))),
        ({}, "good-2.pdf", good2),
    ])
    assert r.status_code == 200, r.text
    body = r.json()
    statuses = {i["filename"]: (i["status"], i["error"]) for i in body["items"]}
    assert statuses["good-1.pdf"] == (201, None) and statuses["good-2.pdf"] == (201, None)
    assert statuses["notes.pdf"][0] == 415
    assert statuses["bad-meta.pdf"] == (422, "invalid_metadata")
    fields = {p["field"] for p in body["items"][2]["detail"]}
    assert {"amount", "issue_date"} <= fields
    assert statuses["elsewhere.pdf"][0] in (403, 404)
    assert statuses["huge.pdf"] == (413, "payload_too_large")
    assert (body["created"], body["failed"]) == (2, 4)
    assert counts(env) == (2, 2, 2)
    assert len(created_events(env)) == 2
    with env.session() as s:
        assert audit_service.verify_chain(s, env.store).ok


def test_only_an_officer_may_send_a_batch_and_nothing_is_read_for_the_others(env: Env, tokens):
    items = [({}, "a.pdf", make_pdf("role-a"))]
    for who in ("aud1", "rm1", "admin"):
        r = post_batch(env.client(tokens[who]), items)
        assert r.status_code == 403, (who, r.text)
        assert r.json()["error"] == "forbidden"
    r = post_batch(env.client(), items)
    assert r.status_code == 401
    # an officer's batch for another officer's organisation: per item, nothing written
    r = post_batch(env.client(tokens["off2"]), items)
    assert r.status_code == 200 and r.json()["items"][0]["status"] in (403, 404)
    assert counts(env) == (0, 0, 0)


def test_batch_limits(env: Env, tokens):
    """Too many files, too many bytes in all, a file without its meta part, a field that
    is not part of a batch: the whole request is refused and nothing is written."""
    three = [({}, f"{n}.pdf", make_pdf(f"limit-{n}")) for n in range(3)]
    r = post_batch(env.client(tokens["off1"], batch_max_items=2), three)
    assert r.status_code == 413 and r.json()["error"] == "too_many_items"
    # (the body may exceed the files' bytes by 256 KiB of framing and meta parts)
    big = [({}, f"{n}.pdf", make_pdf(f"big-{n}", pad=100_000)) for n in range(3)]
    r = post_batch(env.client(tokens["off1"], batch_max_bytes=1000), big)
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    client = env.client(tokens["off1"])
    r = client.post("/api/v1/evidence/batch",
                    files=[("file", ("a.pdf", make_pdf("no-meta"), "application/pdf"))])
    assert r.status_code == 422 and r.json()["error"] == "missing_meta"
    r = client.post("/api/v1/evidence/batch",
                    files=[("org_code", (None, "sao-1")),
                           ("file", ("a.pdf", make_pdf("stray"), "application/pdf"))])
    assert r.status_code == 422 and r.json()["error"] == "unexpected_field"
    r = client.post("/api/v1/evidence/batch",
                    files=[("meta", (None, "[1, 2]")),
                           ("file", ("a.pdf", make_pdf("list"), "application/pdf"))])
    assert r.status_code == 422 and r.json()["error"] == "invalid_meta"
    r = client.post("/api/v1/evidence/batch", files=[("meta", (None, "{}"))])
    assert r.status_code == 422 and r.json()["error"] == "missing_file"
    assert counts(env) == (0, 0, 0)


def test_a_batch_whose_manifests_the_store_refuses_commits_nothing(env: Env, tokens,
                                                                     monkeypatch):
    """GIVEN a store that refuses the batch's manifests object (its bytes accepted)
    WHEN a batch of three new files is sent THEN the request fails (503) and no row is
    committed: no record, no blob row, no audit event, no job (the bytes are orphans the
    store keeps, as after a crash); sent again once the store accepts, all three are
    archived, their manifests in one object."""
    from archive.errors import StoreUnavailable

    files = [({"voucher_no": f"ฎ r{i}"}, f"r{i}.pdf", make_pdf(f"refused-{i}")) for i in range(3)]
    put = env.store.put

    def refusing(key: str, *args: Any, **kw: Any) -> Any:
        if key.startswith(objects.BATCHES):
            raise StoreUnavailable("the store refused the object")
        return put(key, *args, **kw)

    monkeypatch.setattr(env.store, "put", refusing)
    r = post_batch(env.client(tokens["off1"]), files)
    assert r.status_code == 503, r.text
    ev, bl, _ = counts(env)
    assert (ev, bl) == (0, 0)
    assert created_events(env) == []
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    assert list(env.store.list_objects(objects.BATCHES)) == []
    monkeypatch.undo()
    r = post_batch(env.client(tokens["off1"]), files)
    assert r.status_code == 200 and r.json()["created"] == 3, r.text
    assert counts(env)[:2] == (3, 3)
    assert len(list(env.store.list_objects(objects.BATCHES))) == 1


def test_a_batch_records_rows_that_read_back_as_a_single_uploads(env: Env, tokens):
    """GIVEN the same metadata (Thai text, quotes, an amount with satang, a date, a tax ID),
    WHEN one file is uploaded alone and two go in a batch of new bytes (its fast path, one
    statement for all its rows: archive.db.insert_rows), THEN the rows read back from the
    database hold the same values as the single upload's, each record's stored hash is the
    hash of what was stored, and each record has its three follow-up jobs."""
    meta = {"voucher_no": "ฎ 7/2568", "amount": "12,345.67", "vat_amount": "807.66",
            "issue_date": "2025-03-15", "issuer_name": 'บริษัท "ทดสอบ" จำกัด',
            "issuer_tax_id": "0105512345671", "doc_number": "INV-001",
            "description": "ค่าวัสดุสำนักงาน 100% \\ ครบ"}
    client = env.client(tokens["off1"])
    assert upload(client, make_pdf("alone"), **meta).status_code == 201
    r = post_batch(client, [(meta, "b1.pdf", make_pdf("batch-a")),
                            (meta, "b2.pdf", make_pdf("batch-b"))])
    assert r.status_code == 200 and r.json()["created"] == 2, r.text
    own = {"id", "blob_id", "created_at", "updated_at", "meta_hash", "manifest_batch",
           "original_filename"}
    with env.session() as s:
        records = s.scalars(sa.select(Evidence).order_by(Evidence.original_filename)).all()
        assert [r.original_filename for r in records] == ["b1.pdf", "b2.pdf", "receipt.pdf"]
        *batched, alone = records
        columns = [c.key for c in Evidence.__table__.columns if c.key not in own]
        for record in batched:
            assert {c: getattr(record, c) for c in columns} == \
                {c: getattr(alone, c) for c in columns}
            assert record.manifest_batch is not None
        for record in records:
            blob = s.get(Blob, record.blob_id)
            assert record.meta_hash == versions.version_hash(
                evidence_id=record.id, version=1, fields=versions.fields_of(record),
                blob_sha256=blob.sha256, previous=None)
            assert record.amount == Decimal("12345.67") and record.created_at.tzinfo is not None
        jobs = s.execute(sa.select(Job.kind, Job.payload, Job.status, Job.attempts)).all()
    for record in records:
        assert ("inspect", {"evidence_id": str(record.id)}, "queued", 0) in jobs
        assert ("retention_compute", {"evidence_id": str(record.id)}, "queued", 0) in jobs
    assert len(jobs) == 9
