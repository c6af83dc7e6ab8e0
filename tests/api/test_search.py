"""Search over HTTP on both stacks: the list, the CSV, scope, pages, bad input, and text
extracted by the ``extract_text`` job from uploaded files."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from archive.search.models import BlobText
from tests.archive.search.helpers import add_record, make_text_pdf
from tests.conftest import Env
from tests.factories import make_xml, upload, world
from workers.handlers.search import extract_text
from workers.registry import JobContext


@pytest.fixture
def tokens(env: Env) -> dict[str, str]:
    return world(env)


def job_context(env: Env, kind: str = "extract_text") -> JobContext:
    progress: list[dict[str, object]] = []
    return JobContext(job_id=1, kind=kind, attempt=1, settings=env.settings,
                      sessions=env.sessions, store=env.store,
                      report_progress=progress.append, stopping=lambda: False)


def blob_id_of(env: Env, sha256: str) -> int:
    from archive.evidence.models import Blob

    with env.session() as s:
        return int(s.scalar(sa.select(Blob.id).where(Blob.sha256 == sha256)))


def test_uploaded_pdf_and_xml_become_searchable_after_extract_text(env: Env, tokens):
    client = env.client(tokens["off1"])
    pdf = upload(client, make_text_pdf(["ใบเสร็จรับเงิน", "ค่าวัสดุสำนักงาน 1,250.00 บาท"]),
                 doc_number="PDF-1").json()
    xml = upload(client, make_xml("INV-77"), filename="inv.xml", doc_number="XML-1").json()
    auditor = env.client(tokens["aud1"])
    assert auditor.get("/api/v1/evidence", params={"q": "เสร็จ"}).json()["total"] == 0
    for rec in (pdf, xml):
        result = extract_text(job_context(env), {"blob_id": blob_id_of(env, rec["sha256"])})
        assert result["error"] is None and result["chars"] > 0
    again = extract_text(job_context(env), {"blob_id": blob_id_of(env, pdf["sha256"])})
    assert again == {"skipped": "already extracted", "chars": again["chars"]}
    found = auditor.get("/api/v1/evidence", params={"q": "เสร็จ"}).json()
    assert [i["doc_number"] for i in found["items"]] == ["PDF-1"]
    both = auditor.get("/api/v1/evidence", params={"q": "วัสดุ", "sort": "uploaded"}).json()
    assert [i["doc_number"] for i in both["items"]] == ["PDF-1", "XML-1"]
    assert auditor.get("/api/v1/evidence", params={"q": "inv-77"}).json()["total"] == 1


def test_hostile_xml_gives_a_stored_error_not_a_crash(env: Env, tokens):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>')
    rec = upload(env.client(tokens["off1"]), bomb, filename="bomb.xml")
    if rec.status_code != 201:
        pytest.skip(f"the ingest refuses it already ({rec.status_code})")
    blob_id = blob_id_of(env, rec.json()["sha256"])
    result = extract_text(job_context(env), {"blob_id": blob_id})
    assert result["error"] and result["error"].startswith("entities")
    with env.session() as s:
        row = s.get(BlobText, blob_id)
        assert row is not None and row.text is None and row.error


def test_list_shape_scope_and_pages(env: Env, tokens):
    with env.session() as s:
        for i in range(5):
            add_record(s, "sao-1", doc_number=f"A{i}", description="ค่าวัสดุสำนักงาน")
        add_record(s, "sao-2", doc_number="B0", description="ค่าวัสดุสำนักงาน")
    off2 = env.client(tokens["off2"]).get("/api/v1/evidence", params={"q": "วัสดุ"}).json()
    assert set(off2) == {"items", "next_cursor", "total", "total_is_estimate"}
    assert [i["doc_number"] for i in off2["items"]] == ["B0"] and off2["total"] == 1
    auditor = env.client(tokens["aud1"])
    seen: list[str] = []
    params: dict[str, object] = {"q": "วัสดุ", "limit": 2}
    while True:
        page = auditor.get("/api/v1/evidence", params=params).json()
        assert page["total"] == 6 and page["total_is_estimate"] is False
        seen += [i["doc_number"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert sorted(seen) == ["A0", "A1", "A2", "A3", "A4", "B0"]
    other = env.client(tokens["aud3"]).get("/api/v1/evidence").json()
    assert other["items"] == [] and other["total"] == 0
    assert env.client(tokens["aud3"]).get(
        "/api/v1/evidence", params={"org_code": "sao-1"}).status_code == 404
    assert env.client(tokens["admin"]).get("/api/v1/evidence").status_code == 403
    assert env.client().get("/api/v1/evidence").status_code == 401


def test_the_single_record_route_still_answers_beside_the_list(env: Env, tokens):
    from tests.factories import make_pdf

    rec = upload(env.client(tokens["off1"]), make_pdf("single")).json()
    client = env.client(tokens["aud1"])
    assert client.get(f"/api/v1/evidence/{rec['id']}").json()["id"] == rec["id"]
    assert client.get(f"/api/v1/evidence/by-hash/{rec['sha256']}").status_code == 200
    assert client.get("/api/v1/evidence").json()["items"][0]["id"] == rec["id"]
    assert client.get("/api/v1/evidence.csv").status_code == 200


def test_csv_has_bom_thai_plain_amounts_scope_and_no_formulas(env: Env, tokens):
    with env.session() as s:
        add_record(s, "sao-1", doc_number="C1", issuer_name="ห้างหุ้นส่วนจำกัด ทรัพย์ทวี",
                   amount="1234567.50", description="=HYPERLINK(\"http://x\")")
        add_record(s, "sao-2", doc_number="C2", issuer_name="บริษัท สุเทพ จำกัด", amount="99.00")
        add_record(s, "sao-3", doc_number="C3", issuer_name="ร้านริมกก", amount="1.00")
    r = env.client(tokens["aud1"]).get("/api/v1/evidence.csv", params={"sort": "amount"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["doc_number"] for row in rows] == ["C2", "C1"]          # never sao-3
    assert rows[1]["issuer_name"] == "ห้างหุ้นส่วนจำกัด ทรัพย์ทวี"
    assert rows[1]["amount"] == "1234567.50" and rows[0]["amount"] == "99.00"
    assert rows[1]["description"].startswith("'=")
    assert rows[1]["org_code"] == "sao-1"
    only = env.client(tokens["off2"]).get("/api/v1/evidence.csv").content.decode("utf-8-sig")
    assert "C2" in only and "C1" not in only and "C3" not in only


@pytest.mark.parametrize("params", [
    {"issue_date_from": "2025-13-01"}, {"uploaded_to": "yesterday"},
    {"amount_min": "500", "amount_max": "100"}, {"amount_min": "abc"},
    {"sort": "sideways"}, {"cursor": "garbage"}, {"limit": "0"}, {"fiscal_year": "2025"},
    {"doc_type": "novel"}, {"pdfa": "perhaps"}, {"nonsense": "1"},
])
def test_bad_input_is_a_422_with_error_and_detail(env: Env, tokens, params):
    for path in ("/api/v1/evidence", "/api/v1/evidence.csv"):
        if path.endswith(".csv") and set(params) & {"cursor", "limit"}:
            continue
        r = env.client(tokens["aud1"]).get(path, params=params)
        assert r.status_code == 422, (path, params, r.text)
        body = r.json()
        assert set(body) == {"error", "detail"} and body["detail"]


def test_every_api_search_is_in_the_audit_trail(env: Env, tokens):
    from archive.audit.models import AuditEvent

    client = env.client(tokens["aud1"])
    client.get("/api/v1/evidence", params={"q": "ค่าวัสดุ", "fiscal_year": "2568"})
    client.get("/api/v1/evidence.csv", params={"doc_type": "receipt"})
    with env.session() as s:
        events = s.scalars(sa.select(AuditEvent).where(AuditEvent.action == "evidence.search")
                           .order_by(AuditEvent.seq)).all()
    assert [e.details["output"] for e in events] == ["json", "csv"]
    assert events[0].details["filters"] == {"q": "ค่าวัสดุ", "fiscal_year": 2568}
    assert events[1].details["filters"] == {"doc_type": "receipt"}
    assert all(e.actor == "aud1" for e in events)
