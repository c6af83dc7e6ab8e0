"""Every page renders for the roles that use it, in Thai and in English, and calls the same
services as the API (TestClient, both stacks). The browser tests (test_browser.py) drive
the same pages in Chromium."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from tests.conftest import Env
from tests.factories import make_pdf
from tests.web.helpers import people, signed_in

UUID = re.compile(r"/records/([0-9a-f-]{36})")


def drain(env: Env) -> None:
    from workers.runner import Worker

    worker = Worker(env.settings, engine=env.engine, store=env.store)
    while worker.run_once():
        pass


def upload_page_file(client: Any, csrf: str, content: bytes, name: str = "r.pdf",
                     **fields: str) -> Any:
    data = {"org_code": "sao-1", "doc_type": "receipt", **fields}
    return client.post("/upload/file", data=data, files={"file": (name, content, "")},
                       headers={"X-CSRF-Token": csrf, "Accept": "application/json"})


def test_officer_upload_page_answers_in_thai_and_shows_the_inspection(env: Env):
    people(env)
    off, csrf = signed_in(env, "off1")
    page = off.get("/upload")
    assert page.status_code == 200 and '<html lang="th">' in page.text
    assert "อบต.แม่เหียะ" in page.text and 'for="issuer_tax_id"' in page.text
    bad = upload_page_file(off, csrf, make_pdf("bad"), issuer_tax_id="1234567890123",
                           fiscal_year="2024")
    assert bad.status_code == 422
    fields = {f["field"]: f["message"] for f in bad.json()["fields"]}
    assert "หลักที่ 13" in fields["issuer_tax_id"]
    assert "ปีพุทธศักราช" in fields["fiscal_year"] and "2567" in fields["fiscal_year"]
    english = off.post("/upload/file?lang=en", data={"org_code": "sao-1",
                                                     "doc_type": "receipt",
                                                     "issuer_tax_id": "1"},
                       files={"file": ("r.pdf", make_pdf("x"), "")},
                       headers={"X-CSRF-Token": csrf})
    assert english.json()["fields"][0]["message"] == "a Thai tax ID has 13 digits"
    wrong_type = upload_page_file(off, csrf, b"MZ\x90\x00" * 100, name="virus.pdf")
    assert wrong_type.status_code == 415 and wrong_type.json()["message"]
    other_org = upload_page_file(off, csrf, make_pdf("x2"), org_code="sao-2")
    assert other_org.status_code == 404
    good = make_pdf("good")
    ok = upload_page_file(off, csrf, good, amount="10700.00")
    assert ok.status_code == 201, ok.text
    answer = ok.json()
    assert answer["ok"] and len(answer["sha256"]) == 64 and not answer["duplicate"]
    # The same bytes again for the same organisation: refused, naming the record that
    # holds them (in Thai), unless the uploader ticks "on purpose".
    again = upload_page_file(off, csrf, good)
    assert again.status_code == 409 and again.json()["error"] == "duplicate_upload"
    assert again.json()["existing_url"] == answer["record_url"]
    assert answer["id"] in again.json()["message"] and "ตั้งใจนำเข้าซ้ำ" in again.json()["message"]
    on_purpose = upload_page_file(off, csrf, good, allow_duplicate="true")
    assert on_purpose.status_code == 201, on_purpose.text
    assert on_purpose.json()["duplicate"] and on_purpose.json()["duplicate_of"] == [answer["id"]]
    second = off.get(on_purpose.json()["record_url"])
    assert 'id="duplicate-allowed"' in second.text and "ตั้งใจนำเข้าซ้ำ" in second.text
    assert f'href="{answer["record_url"]}"' in second.text    # the other record, linked
    pending = off.get(answer["result_url"])
    assert pending.status_code == 200 and 'hx-trigger="every 2s"' in pending.text
    drain(env)
    done = off.get(answer["result_url"])
    assert 'data-verdict="not_compliant"' in done.text and "hx-trigger" not in done.text
    recent = off.get("/upload/recent")
    assert answer["id"] in recent.text and "10,700.00" in recent.text
    record = off.get(answer["record_url"])
    assert record.status_code == 200 and answer["sha256"] in record.text
    assert "แก้ไขข้อมูลเอกสาร" in record.text       # officers may correct metadata
    # An officer of another organisation gets the not-found page, in Thai.
    other, _ = signed_in(env, "off2")
    hidden = other.get(answer["record_url"])
    assert hidden.status_code == 404 and '<html lang="th">' in hidden.text
    assert "ไม่พบ" in hidden.text and answer["sha256"] not in hidden.text
    assert other.get(answer["result_url"]).status_code == 404
    assert other.get("/records/not-a-uuid").status_code == 404


def test_officer_corrects_metadata_from_the_record_page(env: Env):
    people(env)
    off, csrf = signed_in(env, "off1")
    rid = upload_page_file(off, csrf, make_pdf("fix"), voucher_no="ฎ 1/2568").json()["id"]
    form = off.get(f"/records/{rid}").text
    assert 'name="version" value="1"' in form
    base = {"csrf_token": csrf, "version": "1", "doc_type": "receipt",
            "voucher_no": "ฎ 1/2568", "reason": "พิมพ์ผิด"}
    bad = off.post(f"/records/{rid}", data={**base, "issuer_tax_id": "1234567890123"})
    assert bad.status_code == 422 and "หลักที่ 13" in bad.text
    r = off.post(f"/records/{rid}", data={**base, "voucher_no": "ฎ 2/2568"},
                 follow_redirects=False)
    assert r.status_code == 303
    page = off.get(r.headers["location"])
    assert "ฎ 2/2568" in page.text and "บันทึกการแก้ไขแล้ว" in page.text
    assert "พิมพ์ผิด" in page.text                    # the history keeps the reason
    cleared = off.post(f"/records/{rid}", data={**base, "version": "2", "fiscal_year": ""})
    assert cleared.status_code == 422 and "ลบค่าช่องนี้ไม่ได้" in cleared.text
    aud, aud_csrf = signed_in(env, "aud1")
    assert aud.post(f"/records/{rid}", data={**base, "csrf_token": aud_csrf}).status_code == 403


def test_auditor_searches_opens_exports_and_verifies(env: Env):
    people(env)
    off, csrf = signed_in(env, "off1")
    rid = upload_page_file(off, csrf, make_pdf("audit"), issuer_name="ร้านวัสดุก่อสร้าง",
                           amount="1234567.50").json()["id"]
    drain(env)
    aud, aud_csrf = signed_in(env, "aud1")
    first = aud.get("/search")
    assert first.status_code == 200 and "results-table" not in first.text
    found = aud.get("/search", params={"q": "วัสดุ"})
    assert found.status_code == 200 and rid in found.text and "1,234,567.50" in found.text
    assert "/api/v1/evidence.csv?q=" in found.text
    wrong = aud.get("/search", params={"fiscal_year": "2024"})
    assert wrong.status_code == 422 and "2567" in wrong.text
    csv = aud.get("/api/v1/evidence.csv", params={"q": "วัสดุ"})
    assert csv.status_code == 200 and "ร้านวัสดุก่อสร้าง" in csv.text
    page = aud.get(f"/records/{rid}")
    assert page.status_code == 200 and "verify-button" in page.text
    assert "แก้ไขข้อมูลเอกสาร" not in page.text
    verify = aud.get("/audit/verify", headers={"HX-Request": "true"})
    assert verify.status_code == 200 and "ok-box" in verify.text
    r = aud.post("/exports", data={"csrf_token": aud_csrf, "q": "วัสดุ"},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/exports/")
    drain(env)
    status = aud.get(r.headers["location"])
    assert status.status_code == 200 and "/download" in status.text
    # Other provinces' auditors do not see it; officers may not export.
    aud3, _ = signed_in(env, "aud3")
    assert rid not in aud3.get("/search", params={"q": "วัสดุ"}).text
    assert aud3.get(f"/records/{rid}").status_code == 404
    assert off.post("/exports", data={"csrf_token": csrf, "q": "x"}).status_code == 403


def test_records_manager_pages(env: Env):
    people(env)
    off, csrf = signed_in(env, "off1")
    rid = upload_page_file(off, csrf, make_pdf("rm"), fiscal_year="2555").json()["id"]
    drain(env)
    rm, rm_csrf = signed_in(env, "rm1")
    sched = rm.get("/retention")
    assert sched.status_code == 200 and "voucher-evidence" in sched.text
    assert "ระเบียบสำนักนายกรัฐมนตรี" in sched.text
    forecast = rm.get("/retention/forecast", params={"until": "2040-01-01"})
    assert forecast.status_code == 200 and "sao-1" in forecast.text
    # Date fields show and take Buddhist-Era dates (issue 16): 1/1/2583 is 2040-01-01.
    assert 'value="1/1/2583"' in forecast.text
    again = rm.get("/retention/forecast", params={"until": "1/1/2583"})
    assert again.status_code == 200 and 'value="1/1/2583"' in again.text
    assert 'value="2583-01-01"' in rm.get("/retention/forecast",
                                          params={"until": "2583-01-01", "lang": "en"}).text
    rm.get("/retention/forecast", params={"lang": "th"})          # back to Thai
    r = rm.post("/retention/holds", data={"csrf_token": rm_csrf, "reason": "สตง. ทักท้วง",
                                          "record_ids": rid}, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    hold = rm.get(r.headers["location"])
    assert rid in hold.text and "ยกเลิกการระงับ" in hold.text
    empty = rm.post("/retention/holds", data={"csrf_token": rm_csrf, "reason": "x"})
    assert empty.status_code == 422 and "ตัวกรองอย่างน้อยหนึ่งช่อง" in empty.text
    released = rm.post(r.headers["location"] + "/release",
                       data={"csrf_token": rm_csrf, "reason": "ตรวจแล้ว"},
                       follow_redirects=False)
    assert released.status_code == 303
    closure = rm.post("/retention/closures", data={
        "csrf_token": rm_csrf, "org_code": "sao-1", "fiscal_year": "2560",
        "result": "no_objection", "closed_on": "10/1/2561"}, follow_redirects=False)
    assert closure.status_code == 303
    closures = rm.get("/retention/closures").text
    assert "2560" in closures and "10 ม.ค. 2561" in closures        # 2018-01-10
    survey = rm.post("/retention/survey", data={"csrf_token": rm_csrf})
    assert survey.status_code == 200 and "survey-result" in survey.text
    list_id = re.search(r"/retention/lists/([0-9a-f-]{36})", survey.text).group(1)
    detail = rm.get(f"/retention/lists/{list_id}")
    assert detail.status_code == 200 and "แบบที่ 25" in detail.text
    # the period and the reason, stored as codes, read in Thai; the API keeps the English
    assert "ปีนับจาก" in detail.text and "years after" not in detail.text
    assert "years after" in rm.get(f"/api/v1/retention/lists/{list_id}").json()[
        "entries"][0]["retention_period"]
    incomplete = rm.post(f"/retention/lists/{list_id}/committee", data={
        "csrf_token": rm_csrf, "chair": "rm1", "member": ["nobody-1", "nobody-2"]})
    assert incomplete.status_code == 422 and "step-error" in incomplete.text   # no order
    refused = rm.post(f"/retention/lists/{list_id}/committee", data={
        "csrf_token": rm_csrf, "chair": "rm1", "member": ["nobody-1", "nobody-2"],
        "order_ref": "คำสั่ง 1/2570", "order_date": "2020-01-01"})
    assert refused.status_code == 403       # only the head of agency appoints (ข้อ 68)
    aud, _ = signed_in(env, "aud1")
    assert aud.get(f"/retention/lists/{list_id}").status_code == 200
    assert "Appoint" not in aud.get(f"/retention/lists/{list_id}?lang=en").text
    off_list = off.get(f"/retention/lists/{list_id}")
    assert off_list.status_code == 403


def test_admin_pages_and_health(env: Env):
    people(env)
    admin, csrf = signed_in(env, "admin")
    for path in ("/admin/orgs", "/admin/users", "/admin/users/off1", "/admin/health"):
        page = admin.get(path)
        assert page.status_code == 200, (path, page.text[:500])
    from archive.queue.models import Job

    with env.session() as s:
        job = Job(kind="noop", payload={}, status="failed", attempts=8, last_error="boom")
        s.add(job)
        s.add(Job(kind="fixity", payload={}, status="queued"))
        s.flush()
        job_id = job.id
    health = admin.get("/admin/health")
    assert "boom" in health.text and f"/admin/jobs/{job_id}/retry" in health.text
    # job kinds by name in Thai, the code beside (an unknown kind: its code only)
    assert "ตรวจความถูกต้องของไฟล์ (fixity) <code>fixity</code>" in health.text
    assert "<td><code>noop</code></td>" in health.text
    assert "ยังไม่เคยทำงาน" in health.text
    r = admin.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": csrf},
                   follow_redirects=False)
    assert r.status_code == 303
    with env.session() as s:
        assert s.scalar(sa.select(Job.status).where(Job.id == job_id)) == "queued"
    head = admin.post("/admin/orgs/sao-1/head", data={"csrf_token": csrf, "user": "rm1"},
                      follow_redirects=False)
    assert head.status_code == 303
    off, _ = signed_in(env, "off1")
    assert off.get("/admin/health").status_code == 403


def test_every_page_in_english_too(env: Env):
    people(env)
    clients = {name: signed_in(env, name)[0] for name in ("off1", "aud1", "rm1", "admin")}
    pages = {"off1": ["/upload", "/search?run=1", "/account"],
             "aud1": ["/search?run=1", "/retention", "/retention/holds", "/retention/lists",
                      "/retention/closures", "/retention/forecast"],
             "rm1": ["/retention/lists", "/retention/holds"],
             "admin": ["/admin/orgs", "/admin/users", "/admin/health"]}
    for name, paths in pages.items():
        for path in paths:
            sep = "&" if "?" in path else "?"
            th = clients[name].get(path)
            en = clients[name].get(f"{path}{sep}lang=en")
            assert th.status_code == en.status_code == 200, (name, path)
            assert '<html lang="th">' in th.text and '<html lang="en">' in en.text, path
            clients[name].get(f"{path}{sep}lang=th")


def test_upload_result_shows_etax_fields_warnings_and_filled_fields(env: Env):
    """GIVEN an e-Tax Invoice XML whose grand total is 10,700.00
    WHEN an officer uploads it typing 9,999.00 as the amount and no document number
    THEN the result shows the fields read from the XML, a warning about the amount and
    the document number filled in from the file."""
    from tests.archive.inspection.helpers import etda_invoice_xml

    people(env)
    off, csrf = signed_in(env, "off1")
    r = upload_page_file(off, csrf, etda_invoice_xml(number="INV-2568-0042"),
                         name="invoice.xml", doc_type="tax_invoice", amount="9999.00",
                         issue_date="2025-01-15")
    assert r.status_code == 201, r.text
    drain(env)
    result = off.get(r.json()["result_url"]).text
    assert "ข้อมูลใบกำกับภาษี/ใบรับอิเล็กทรอนิกส์ที่อ่านได้จากไฟล์" in result
    assert "INV-2568-0042" in result and "10,700.00" in result
    assert "บริษัท ทดสอบ จำกัด" in result and "15 ม.ค. 2568" in result
    assert 'data-verdict="not_checked"' in result          # XML: PDF/A does not apply
    warnings = result.split("ข้อมูลที่กรอกไม่ตรงกับข้อมูลในไฟล์")[1]
    assert "จำนวนเงิน" in warnings and "9999.00" in warnings and "10700.00" in warnings
    assert "ระบบเติมข้อมูลจากไฟล์" in result and "เลขที่เอกสาร" in result.split(
        "ระบบเติมข้อมูลจากไฟล์")[1]
    english = off.get(r.json()["result_url"] + "?lang=en").text
    assert "e-Tax Invoice / e-Receipt read from the file" in english
