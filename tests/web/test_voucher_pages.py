"""The voucher pages: in Chromium (officer registers a voucher and drops a file per missing
role; auditor filters by finding, sees every file beside its inspection, records a review,
reads the summary) and through the test client (form errors, scope)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Env
from tests.factories import make_pdf
from tests.web.helpers import csrf_of, people, signed_in
from tests.web.test_browser import (  # noqa: F401 - fixtures
    CHROMIUM,
    chromium,
    drain,
    open_browser,
    server,
)

BAD_TAX_ID = "0105512345672"      # wrong check digit: the invalid_payee_tax_id finding


def _need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium")


@pytest.mark.browser
def test_officer_fills_a_voucher_and_auditor_reviews_it(env: Env, open_browser: Any,  # noqa: F811
                                                        tmp_path: Any) -> None:
    _need_chromium()
    people(env)
    officer = open_browser()
    officer.sign_in("off1")
    page = officer.page
    page.get_by_role("link", name="ฎีกา", exact=True).click()
    page.get_by_role("link", name="ลงทะเบียนฎีกาใหม่").click()
    page.locator("#voucher_no").fill("15/2568")
    page.locator("#voucher_date").fill("2025-01-15")
    page.locator("#payee_name").fill("ร้านวัสดุภัณฑ์")
    page.locator("#payee_tax_id").fill(BAD_TAX_ID)
    page.locator("#gross_amount").fill("1,070.00")
    page.locator("#kind").select_option("utilities")
    page.locator("#payment_method").select_option("e_payment")
    page.get_by_role("button", name="ลงทะเบียนฎีกา").click()
    page.wait_for_url(re.compile(r"/vouchers/[0-9a-f-]{36}\?created=1"))
    voucher_url = page.url.split("?")[0]
    assert page.locator("#completeness").inner_text() == "ไม่ครบ"
    missing = page.locator("#checklist li.missing")
    assert missing.count() == 2
    officer.shot("voucher-empty")
    # a drop zone per missing role: the receipt group first, then the e-payment report
    receipt, report = tmp_path / "ใบเสร็จ.pdf", tmp_path / "ktb.pdf"
    receipt.write_bytes(make_pdf("voucher receipt"))
    report.write_bytes(make_pdf("voucher ktb"))
    first = page.locator("#checklist li.missing").first
    assert "ใบเสร็จรับเงิน" in first.inner_text()
    first.locator("select").select_option("receipt")      # one of the group's roles
    with page.expect_navigation():
        first.locator("input[type=file]").set_input_files(str(receipt))
    assert page.locator("#checklist li.missing").count() == 1
    with page.expect_navigation():
        page.locator("#checklist li.missing input[type=file]").set_input_files(str(report))
    assert page.locator("#checklist li.missing").count() == 0
    assert page.locator("#completeness").inner_text() == "ครบถ้วน"
    assert page.locator("#files-table tbody tr").count() == 2
    assert "ใบเสร็จรับเงิน" in page.locator("#files-table").inner_text()
    officer.shot("voucher-complete")
    officer.close()
    drain(env)                      # the files' inspections

    auditor = open_browser()
    auditor.sign_in("aud1")
    page = auditor.page
    page.goto("/vouchers")
    page.get_by_label("ข้อตรวจพบ").select_option("invalid_payee_tax_id")
    page.get_by_role("button", name="แสดง").click()
    assert page.locator("#voucher-total").inner_text().startswith("1 ฎีกา")
    row = page.locator("#voucher-table tbody tr").first
    assert "เลขประจำตัวผู้เสียภาษีผู้รับเงินไม่ถูกต้อง" in row.inner_text()
    auditor.shot("voucher-list")
    page.get_by_label("ข้อตรวจพบ").select_option("split_purchase")
    page.get_by_role("button", name="แสดง").click()
    assert "ไม่พบฎีกาตามเงื่อนไข" in page.locator("#voucher-table").inner_text()
    page.goto(voucher_url)
    verdicts = page.locator("#files-table td.verdict")
    assert verdicts.count() == 2
    assert all("ยังไม่ได้ตรวจ" not in verdicts.nth(i).inner_text() for i in range(2))
    assert page.locator('#findings li[data-code="invalid_payee_tax_id"]').count() == 1
    page.get_by_role("radio", name="มีข้อสังเกต", exact=True).check()
    page.locator("#note").fill("เลขผู้เสียภาษีผิด ให้แก้ไขทะเบียนผู้ขาย")
    page.get_by_role("button", name="บันทึกผลการตรวจสอบ").click()
    page.wait_for_url(re.compile(r"reviewed=1"))
    assert "เลขผู้เสียภาษีผิด" in page.locator("#review-list").inner_text()
    auditor.shot("voucher-reviewed")
    page.goto("/vouchers/summary")
    row = page.locator('#summary-table tr[data-org="sao-1"]')
    assert row.locator("td").first.inner_text() == "1"
    auditor.shot("voucher-summary")
    auditor.close()


def test_forms_show_problems_and_scope_holds(env: Env) -> None:
    people(env, "off1", "off2", "aud1")
    off1, csrf = signed_in(env, "off1")
    form = off1.get("/vouchers/new")
    assert form.status_code == 200 and "ลงทะเบียนฎีกาใหม่" in form.text
    bad = off1.post("/vouchers/new", data={
        "csrf_token": csrf, "org_code": "sao-1", "voucher_no": "1/2568",
        "voucher_date": "2025-01-15", "payee_name": "ก", "gross_amount": "1,00",
        "kind": "other", "payment_method": "cash"}, follow_redirects=False)
    assert bad.status_code == 422 and "จำนวนเงินขอเบิก" in bad.text
    assert 'value="15/1/2568"' in bad.text          # the date shown back in the BE
    ok = off1.post("/vouchers/new", data={
        "csrf_token": csrf, "org_code": "sao-1", "voucher_no": "1/2568",
        "voucher_date": "15/1/2568", "payee_name": "ก", "gross_amount": "100.00",
        "withholding_tax": "1.00", "kind": "other", "payment_method": "cash"},
        follow_redirects=False)
    assert ok.status_code == 303, ok.text[:500]
    url = ok.headers["location"].split("?")[0]
    page = off1.get(url)
    assert "99.00" in page.text                       # net = gross − withholding
    assert "15 ม.ค. 2568" in page.text                # 15/1/2568 is 2025-01-15
    again = off1.post("/vouchers/new", data={
        "csrf_token": csrf, "org_code": "sao-1", "voucher_no": "1/2568",
        "voucher_date": "2025-01-15", "payee_name": "ก", "gross_amount": "100.00",
        "kind": "other", "payment_method": "cash"}, follow_redirects=False)
    assert again.status_code == 409
    off2, _ = signed_in(env, "off2")
    assert off2.get(url).status_code == 404
    assert off2.get("/vouchers").status_code == 200 and "1/2568" not in off2.get(
        "/vouchers").text
    aud, aud_csrf = signed_in(env, "aud1")
    assert aud.get("/vouchers/new").status_code == 403
    review = aud.post(f"{url}/reviews", data={"csrf_token": aud_csrf,
                                              "outcome": "observation", "note": ""})
    assert review.status_code == 422                  # an observation needs its note
    assert off1.post(f"{url}/reviews", data={"csrf_token": csrf, "outcome":
                                             "no_observation"}).status_code == 403
    assert "csrf_token" in off1.get(url).text and csrf_of(off1.get(url).text)
