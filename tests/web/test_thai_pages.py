"""The pages follow the fiscal-year window (issue 20 item 1): an odd fiscal year is
refused in Thai, and the check box confirms it, on the upload and the correction pages."""

from __future__ import annotations

from tests.conftest import Env
from tests.factories import make_pdf
from tests.web.helpers import people, signed_in
from tests.web.test_pages import upload_page_file


def test_odd_fiscal_year_is_refused_in_thai_and_confirmed_by_the_check_box(env: Env):
    people(env)
    off, csrf = signed_in(env, "off1")
    odd = upload_page_file(off, csrf, make_pdf("odd"), fiscal_year="2658",
                           issue_date="2025-03-01")
    assert odd.status_code == 422
    [problem] = odd.json()["fields"]
    assert problem["field"] == "fiscal_year" and problem["message"].startswith("ปีงบประมาณ 2658")
    assert "ยืนยันว่าปีงบประมาณถูกต้อง" in problem["message"]
    upload_form = off.get("/upload").text
    assert 'name="confirm_fiscal_year"' in upload_form

    rid = upload_page_file(off, csrf, make_pdf("odd-fix"), fiscal_year="2568",
                           issue_date="2025-03-01").json()["id"]
    assert 'name="confirm_fiscal_year"' in off.get(f"/records/{rid}").text
    base = {"csrf_token": csrf, "version": "1", "doc_type": "receipt", "reason": "ทดสอบ",
            "fiscal_year": "2658"}
    refused = off.post(f"/records/{rid}", data=base)
    assert refused.status_code == 422 and "ยืนยันว่าปีงบประมาณถูกต้อง" in refused.text
    confirmed = off.post(f"/records/{rid}", data={**base, "confirm_fiscal_year": "true"},
                         follow_redirects=False)
    assert confirmed.status_code == 303
    ok = upload_page_file(off, csrf, make_pdf("odd-ok"), fiscal_year="2658",
                          issue_date="2025-03-01", confirm_fiscal_year="true")
    assert ok.status_code == 201, ok.text
