"""The evidence API on both stacks: ingest, dedup, reads, ranges, corrections, bad input."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from archive import clock
from archive.clock import start_of_day
from archive.evidence.models import Blob, Evidence, EvidenceHistory
from archive.evidence.service import default_retain_until
from archive.storage import blob_key
from archive.thai import fiscal_year
from tests.conftest import Env
from tests.factories import make_pdf, make_png, make_xml, upload, world


def counts(env: Env) -> tuple[int, int, int]:
    """(evidence rows, blob rows, objects in the store under sha256/)."""
    with env.session() as s:
        ev = s.scalar(sa.select(sa.func.count()).select_from(Evidence))
        bl = s.scalar(sa.select(sa.func.count()).select_from(Blob))
    objects = sum(1 for _ in env.store.list_objects("sha256/"))
    return ev or 0, bl or 0, objects


@pytest.fixture
def tokens(env: Env) -> dict[str, str]:
    return world(env)


def test_upload_returns_record_with_hash_and_derived_fiscal_year(env: Env, tokens):
    pdf = make_pdf("first")
    r = upload(env.client(tokens["off1"]), pdf, issue_date="2024-10-01", amount="1,234.50",
               issuer_tax_id="0105512345671", voucher_no="ฎ 12/2568")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert body["size"] == len(pdf)
    assert body["media_type"] == "application/pdf"
    assert body["duplicate"] is False
    assert body["fiscal_year"] == 2568      # 1 Oct 2024 opens FY 2568
    assert body["amount"] == "1234.50"
    assert body["voucher_no"] == "ฎ 12/2568"
    assert body["uploaded_by"] == "off1"
    assert body["status"] == "received"
    assert counts(env) == (1, 1, 1)
    info = env.store.stat(blob_key(body["sha256"]))
    assert info is not None and info.retain_until is not None


def test_store_lock_counts_from_the_end_of_the_fiscal_year(env: Env, tokens):
    """Evidence of the current fiscal year is locked from the year's end (when retention
    starts counting) to its earliest lawful destruction (receipts: 5 years, the shortest
    period of their schedule; issue 16, lock horizon), not from the upload — in the store
    itself. The retention jobs extend it while the audit is not closed."""
    today = clock.today()
    fy = fiscal_year(today)
    r = upload(env.client(tokens["off1"]), make_pdf("this-year"), fiscal_year=str(fy))
    assert r.status_code == 201, r.text
    expected = start_of_day(dt.date(fy - 543 + 5, 10, 1))
    info = env.store.stat(blob_key(r.json()["sha256"]))
    assert info is not None and info.retain_until is not None
    assert abs((info.retain_until - expected).total_seconds()) < 2
    with env.session() as s:
        row = s.scalar(sa.select(Blob).where(Blob.sha256 == r.json()["sha256"]))
        assert row is not None and abs((row.retain_until - expected).total_seconds()) < 2


def test_default_lock_is_the_later_of_upload_and_fiscal_year_end():
    now = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)          # FY 2570 runs to 2027-09-30
    assert default_retain_until(10, now) == dt.datetime(2036, 11, 25, 8, 0, tzinfo=dt.UTC)
    assert default_retain_until(10, now, fiscal_year=2570) == \
        start_of_day(dt.date(2037, 10, 1))
    # an old fiscal year: ten years from the upload are already later
    assert default_retain_until(10, now, fiscal_year=2565) == default_retain_until(10, now)


def test_the_same_bytes_again_are_refused_unless_deliberate_and_stored_once(env: Env, tokens):
    pdf = make_pdf("dup")
    first = upload(env.client(tokens["off1"]), pdf).json()
    # The same organisation again: 409 naming the existing record; nothing is written.
    refused = upload(env.client(tokens["off1"]), pdf, filename="copy.pdf")
    assert refused.status_code == 409 and refused.json()["error"] == "duplicate_upload"
    assert refused.json()["detail"]["existing"] == [first["id"]]
    assert first["id"] in refused.json()["detail"]["message"]
    assert counts(env) == (1, 1, 1)
    # Said to be deliberate: a second record, marked as such, sharing the bytes.
    second = upload(env.client(tokens["off1"]), pdf, filename="copy.pdf",
                    allow_duplicate="true").json()
    assert second["duplicate"] is True and second["duplicate_allowed"] is True
    assert second["duplicate_of"] == [first["id"]] and second["id"] != first["id"]
    shown = env.client(tokens["off1"]).get(f"/api/v1/evidence/{second['id']}").json()
    assert shown["duplicate_allowed"] is True
    created = next(e for e in shown["audit"] if e["action"] == "evidence.create")
    assert created["details"]["duplicate_allowed"] is True
    # allow_duplicate on bytes the organisation does not hold records nothing.
    fresh = upload(env.client(tokens["off1"]), make_pdf("fresh"), allow_duplicate="true").json()
    assert fresh["duplicate_allowed"] is False
    # Another organisation's officer uploads the same bytes: not a duplicate of theirs,
    # stored once, and not told about records outside their scope.
    third = upload(env.client(tokens["off2"]), pdf, org_code="sao-2").json()
    assert third["duplicate"] is False and third["duplicate_of"] == []
    assert counts(env) == (4, 2, 2)


def test_read_record_and_content_with_digest_headers_and_ranges(env: Env, tokens):
    pdf = make_pdf("ranges", pad=5000)
    rec = upload(env.client(tokens["off1"]), pdf).json()
    client = env.client(tokens["aud1"])      # auditor of the province above sao-1
    meta = client.get(f"/api/v1/evidence/{rec['id']}")
    assert meta.status_code == 200 and meta.json()["sha256"] == rec["sha256"]

    full = client.get(f"/api/v1/evidence/{rec['id']}/content")
    assert full.status_code == 200
    assert full.content == pdf
    assert full.headers["etag"] == f'"{rec["sha256"]}"'
    digest = base64.b64encode(hashlib.sha256(pdf).digest()).decode()
    assert full.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert full.headers["content-type"] == "application/pdf"

    part = client.get(f"/api/v1/evidence/{rec['id']}/content", headers={"Range": "bytes=10-99"})
    assert part.status_code == 206
    assert part.content == pdf[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(pdf)}"
    tail = client.get(f"/api/v1/evidence/{rec['id']}/content", headers={"Range": "bytes=-7"})
    assert tail.status_code == 206 and tail.content == pdf[-7:]
    bad = client.get(f"/api/v1/evidence/{rec['id']}/content",
                     headers={"Range": f"bytes={len(pdf) + 5}-"})
    assert bad.status_code == 416
    cached = client.get(f"/api/v1/evidence/{rec['id']}/content",
                        headers={"If-None-Match": full.headers["etag"]})
    assert cached.status_code == 304


def test_lookup_by_hash_only_within_scope(env: Env, tokens):
    pdf = make_pdf("byhash")
    rec = upload(env.client(tokens["off1"]), pdf).json()
    found = env.client(tokens["aud1"]).get(f"/api/v1/evidence/by-hash/{rec['sha256']}")
    assert found.status_code == 200 and [r["id"] for r in found.json()] == [rec["id"]]
    upper = env.client(tokens["aud1"]).get(f"/api/v1/evidence/by-hash/{rec['sha256'].upper()}")
    assert upper.status_code == 200
    hidden = env.client(tokens["aud3"]).get(f"/api/v1/evidence/by-hash/{rec['sha256']}")
    assert hidden.status_code == 404
    bad = env.client(tokens["aud1"]).get("/api/v1/evidence/by-hash/not-a-hash")
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_sha256"


def test_metadata_correction_keeps_history(env: Env, tokens):
    client = env.client(tokens["off1"])
    rec = upload(client, make_pdf("patch"), amount="100.00", doc_number="A-1").json()
    read = client.get(f"/api/v1/evidence/{rec['id']}")
    assert read.headers["ETag"] == '"1"'
    r = client.patch(f"/api/v1/evidence/{rec['id']}",
                     json={"amount": "150.25", "reason": "typo in amount"},
                     headers={"If-Match": read.headers["ETag"]})
    assert r.status_code == 200, r.text
    assert r.json()["amount"] == "150.25" and r.json()["version"] == 2
    assert r.headers["ETag"] == '"2"'
    detail = client.get(f"/api/v1/evidence/{rec['id']}").json()
    assert detail["history"][0]["values"]["amount"] == "100.00"
    assert detail["history"][0]["changed"] == ["amount"]
    assert detail["history"][0]["reason"] == "typo in amount"
    assert detail["sha256"] == rec["sha256"]        # the file never changes

    stale = client.patch(f"/api/v1/evidence/{rec['id']}", json={"doc_number": "A-2"},
                         headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["error"] == "precondition_failed"
    blind = client.patch(f"/api/v1/evidence/{rec['id']}", json={"doc_number": "A-2"})
    assert blind.status_code == 428 and blind.json()["error"] == "precondition_required"
    garbled = client.patch(f"/api/v1/evidence/{rec['id']}", json={"doc_number": "A-2"},
                           headers={"If-Match": "version two"})
    assert garbled.status_code == 422
    any_version = {"If-Match": "*"}
    invalid = client.patch(f"/api/v1/evidence/{rec['id']}", json={"amount": "-5"},
                           headers=any_version)
    assert invalid.status_code == 422
    unknown = client.patch(f"/api/v1/evidence/{rec['id']}", json={"sha256": "00"},
                           headers=any_version)
    assert unknown.status_code == 422
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(EvidenceHistory)) == 1
        ev = s.scalar(sa.select(Evidence))
        assert ev is not None and ev.doc_number == "A-1" and ev.version == 2


@pytest.mark.parametrize("fields,field", [
    ({"doc_type": "napkin"}, "doc_type"),
    ({"issuer_tax_id": "1234567890123"}, "issuer_tax_id"),
    ({"issuer_tax_id": "12345"}, "issuer_tax_id"),
    ({"issue_date": "2024-31-12"}, "issue_date"),
    ({"issue_date": "2568-02-30"}, "issue_date"),     # BE, converted, but no such day
    ({"amount": "-1"}, "amount"),
    ({"amount": "ten baht"}, "amount"),
    ({"amount": "1.005"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"vat_amount": "70", "amount": "10"}, "body"),
    ({"fiscal_year": "2025"}, "fiscal_year"),
    ({"issuer_branch": "1"}, "issuer_branch"),
    ({"currency": "baht"}, "currency"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_metadata_is_422_and_writes_nothing(env: Env, tokens, fields, field):
    r = upload(env.client(tokens["off1"]), make_pdf("bad-meta"), **fields)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_metadata"
    assert field in [p["field"] for p in body["detail"]]
    assert counts(env) == (0, 0, 0)


def test_bad_files_are_refused_and_write_nothing(env: Env, tokens):
    client = env.client(tokens["off1"])
    empty = upload(client, b"")
    assert empty.status_code == 422 and empty.json()["error"] == "empty_file"
    exe = upload(client, b"MZ\x90\x00" + b"\x00" * 200, filename="tool.exe")
    assert exe.status_code == 415 and "application/" in exe.json()["detail"]
    liar = upload(client, make_png(), filename="invoice.pdf")
    assert liar.status_code == 415 and liar.json()["error"] == "media_type_mismatch"
    assert "image/png" in liar.json()["detail"]
    small = env.client(tokens["off1"], max_upload_bytes=1000)
    big = upload(small, make_pdf("big", pad=5000))
    assert big.status_code == 413 and big.json()["error"] == "payload_too_large"
    assert counts(env) == (0, 0, 0)


def test_accepted_types_png_and_xml(env: Env, tokens):
    client = env.client(tokens["off1"])
    png = upload(client, make_png(), filename="scan.png", doc_type="scan")
    xml = upload(client, make_xml(), filename="etax.xml", doc_type="tax_invoice")
    assert png.status_code == 201 and png.json()["media_type"] == "image/png"
    assert xml.status_code == 201 and xml.json()["media_type"] == "application/xml"


def test_xml_without_declaration_is_xml(env: Env, tokens):
    """ETDA publishes e-Tax XML (signed samples too) without ``<?xml …?>``: libmagic calls
    that text/plain, the archive must still take it as XML — and text that only looks like
    the start of XML is still refused."""
    client = env.client(tokens["off1"])
    etax = ('<rsm:TaxInvoice_CrossIndustryInvoice xmlns:rsm="urn:etda:uncefact:data:standard:'
            'TaxInvoice_CrossIndustryInvoice:2">\n<Note>ค่าวัสดุสำนักงาน</Note>'
            '</rsm:TaxInvoice_CrossIndustryInvoice>\n').encode()
    ok = upload(client, etax, filename="TIV_IV2568.xml", doc_type="tax_invoice")
    assert ok.status_code == 201 and ok.json()["media_type"] == "application/xml"
    for text in (b"<b>note</b> and then plain text\n", b"just a note, no markup\n"):
        refused = upload(client, text, filename="note.xml", doc_type="other")
        assert refused.status_code == 415, refused.text
        assert "text/plain" in refused.json()["detail"]


def test_malformed_multipart_and_missing_parts(env: Env, tokens):
    client = env.client(tokens["off1"])
    url = "/api/v1/evidence"
    garbage = client.post(url, content=b"--xyz\r\nnonsense", headers={
        "Content-Type": "multipart/form-data; boundary=xyz"})
    assert garbage.status_code == 400 and garbage.json()["error"] == "malformed_multipart"
    no_boundary = client.post(url, content=b"hello", headers={"Content-Type": "text/plain"})
    assert no_boundary.status_code == 400
    no_file = client.post(url, data={"org_code": "sao-1", "doc_type": "receipt"},
                          files={"other": ("x.txt", b"x")})
    assert no_file.status_code == 422 and no_file.json()["error"] == "missing_file"
    assert counts(env) == (0, 0, 0)


def test_unknown_and_foreign_organisation(env: Env, tokens):
    client = env.client(tokens["off1"])
    unknown = upload(client, make_pdf("org"), org_code="nowhere")
    assert unknown.status_code == 404 and unknown.json()["error"] == "org_not_found"
    foreign = upload(client, make_pdf("org"), org_code="sao-2")
    assert foreign.status_code == 404
    assert counts(env) == (0, 0, 0)


def test_authentication_and_roles(env: Env, tokens):
    anon = env.client()
    r = upload(anon, make_pdf("anon"))
    assert r.status_code == 401 and r.json()["error"] == "missing_token"
    assert r.headers["www-authenticate"] == "Bearer"
    bad = upload(env.client("ea_not-a-real-token"), make_pdf("anon"))
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"
    auditor = upload(env.client(tokens["aud1"]), make_pdf("aud"))
    assert auditor.status_code == 403 and auditor.json()["error"] == "forbidden"
    assert counts(env) == (0, 0, 0)


def test_filenames_are_made_harmless(env: Env, tokens):
    client = env.client(tokens["off1"])
    r = upload(client, make_pdf("name"), filename="../../etc/ใบเสร็จ\u202egpj.pdf")
    assert r.status_code == 201, r.text
    name = r.json()["original_filename"]
    assert "/" not in name and "\u202e" not in name and name.startswith("ใบเสร็จ")
    dl = client.get(f"/api/v1/evidence/{r.json()['id']}/content")
    assert "attachment" in dl.headers["content-disposition"]


def test_unknown_record_and_invalid_id(env: Env, tokens):
    client = env.client(tokens["aud1"])
    missing = client.get("/api/v1/evidence/01890000-0000-7000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    invalid = client.get("/api/v1/evidence/12345")
    assert invalid.status_code == 422 and invalid.json()["error"] == "invalid_request"


def test_health_and_readiness(env: Env):
    client = env.client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["store"]["status"] == "ok"
