"""The pages in a real browser: Debian's Chromium driven by Playwright, against the app
served by uvicorn on 127.0.0.1 (in this process, so the test's clock, monkeypatches and
worker share its state). Never downloads a browser: without /usr/bin/chromium the tests
skip (`make test` installs it with scripts/apt-ensure).

Screenshots of every page go to test-artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env
from tests.web.helpers import PASSWORD, people

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
THAI_WORD = "วัสดุสำนักงาน"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's Chromium at /usr/bin/chromium "
                              "(apt-get install chromium; `make test` does it)"),
]


# -- the server and the browser --------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(env: Env) -> Iterator[str]:
    """The archive's app (env's database and store) on a free port of 127.0.0.1."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(env.app(), host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Module scope, not session: Playwright's sync API keeps an asyncio loop running in
    the main thread while it is open, and every later asyncio.run() in the session
    (pyHanko's validation, the RFC 3161 client) would fail with "cannot be called from a
    running event loop"."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


class Browser:
    """One person at one browser: signs in, takes screenshots named after the stack."""

    def __init__(self, chromium: Any, base: str, stack: str) -> None:
        self.context = chromium.new_context(base_url=base, accept_downloads=True,
                                            locale="th-TH", viewport={"width": 1280,
                                                                      "height": 900})
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.stack = stack
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # Script errors, and any page asset the server does not have (answers to the
        # page's own requests may be 4xx on purpose: a refused upload, say).
        self.page.on("console", lambda msg: self.errors.append(msg.text)
                     if msg.type == "error" and "Failed to load resource" not in msg.text
                     else None)
        self.page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}")
                     if r.status >= 400 and r.request.resource_type in
                     ("stylesheet", "script", "image", "font") else None)

    def sign_in(self, name: str, password: str = PASSWORD) -> None:
        page = self.page
        page.goto("/")
        assert "/login" in page.url
        page.get_by_label("ชื่อผู้ใช้").fill(name)
        page.get_by_label("รหัสผ่าน").fill(password)
        page.get_by_role("button", name="เข้าสู่ระบบ").click()
        page.wait_for_url(lambda url: "/login" not in url)

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="ออกจากระบบ").click()
        self.page.wait_for_url("**/login")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.stack}-{name}.png"), full_page=True)

    def close(self) -> None:
        assert not self.errors, f"browser errors: {self.errors}"
        self.context.close()


@pytest.fixture
def open_browser(chromium: Any, server: str, env: Env) -> Iterator[Any]:
    opened: list[Browser] = []

    def make() -> Browser:
        b = Browser(chromium, server, env.stack)
        opened.append(b)
        return b

    yield make
    for b in opened:
        b.context.close()


def drain(env: Env) -> None:
    from workers.runner import Worker

    worker = Worker(env.settings, engine=env.engine, store=env.store)
    while worker.run_once():
        pass


# -- the officer, the auditor, and an officer of another organisation ------------------

def test_officer_uploads_and_auditor_finds_verifies_and_downloads(env: Env, open_browser):
    from tests.archive.pdfa.fixtures import create_pdfa
    from tests.archive.search.helpers import make_text_pdf

    people(env, "off1", "off2", "aud1")
    pdfa = create_pdfa(2, "B")
    plain = make_text_pdf(["ใบเสร็จรับเงิน", f"ค่า{THAI_WORD} 1,070 บาท"])
    pdfa_sha, plain_sha = (hashlib.sha256(b).hexdigest() for b in (pdfa, plain))

    officer = open_browser()
    page = officer.page
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "th"
    officer.shot("login")
    officer.sign_in("off1")
    assert page.url.endswith("/upload")
    assert page.locator("h1").inner_text() == "นำเข้าหลักฐานการจ่ายเงิน"

    # One file by the file chooser, one dropped on the drop zone.
    page.set_input_files("#files", files=[{"name": "pdfa.pdf", "mimeType": "application/pdf",
                                           "buffer": pdfa}])
    dropped = page.evaluate_handle(
        """([name, data]) => {
             const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
             const dt = new DataTransfer();
             dt.items.add(new File([bytes], name, {type: "application/pdf"}));
             return dt;
           }""", ["ordinary.pdf", base64.b64encode(plain).decode()])
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": dropped})
    assert page.locator("#file-list li").count() == 2

    # A wrong tax ID: the message is in Thai, at the field, and nothing is stored.
    page.get_by_label("เลขประจำตัวผู้เสียภาษีของผู้ออก").fill("1234567890123")
    page.get_by_label("เลขที่ฎีกา").fill("ฎ 15/2568")
    page.get_by_label("จำนวนเงิน", exact=True).fill("1,070.00")
    page.get_by_role("button", name="นำเข้าเอกสาร", exact=True).click()
    error = page.locator("#issuer_tax_id-error")
    error.wait_for(state="visible")
    assert "หลักที่ 13" in error.inner_text()
    assert page.get_by_label("เลขประจำตัวผู้เสียภาษีของผู้ออก").get_attribute(
        "aria-invalid") == "true"
    officer.shot("upload-validation")

    page.get_by_label("เลขประจำตัวผู้เสียภาษีของผู้ออก").fill("")
    page.get_by_role("button", name="นำเข้าเอกสาร", exact=True).click()
    hashes = page.locator("#result-list [data-sha256]")
    hashes.nth(1).wait_for()
    assert {hashes.nth(i).inner_text() for i in range(2)} == {pdfa_sha, plain_sha}
    assert page.locator("#file-list progress").first.get_attribute("value") == "100"

    drain(env)    # inspection and text extraction, as the worker would
    page.locator('[data-verdict="compliant"]').wait_for(timeout=20_000)
    page.locator('[data-verdict="not_compliant"]').wait_for(timeout=20_000)
    assert "PDF/A-2B" in page.locator('[data-verdict="compliant"]').inner_text()
    assert "ไม่ได้ระบุว่าเป็น PDF/A" in page.locator("#result-list").inner_text()
    page.locator("#recent").get_by_text("ordinary.pdf").wait_for()
    # The list of recent uploads catches up with the verdicts.
    page.locator("#recent").get_by_text("เป็น PDF/A", exact=True).wait_for()
    officer.shot("upload-results")
    officer.sign_out()
    officer.close()

    # The auditor finds the ordinary PDF by a Thai word of its text.
    auditor = open_browser()
    page = auditor.page
    auditor.sign_in("aud1")
    assert page.url.endswith("/search")
    page.get_by_label(re.compile("^ข้อความ")).fill(THAI_WORD)
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    rows = page.locator("#results-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1 and "ordinary.pdf" in rows.first.inner_text()
    assert "1,070.00" in rows.first.inner_text()
    auditor.shot("search")
    rows.first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/records/[0-9a-f-]{36}$"))
    record_url = page.url
    assert page.locator("#record-sha256").inner_text() == plain_sha
    assert page.locator('[data-verdict="not_compliant"]').count() == 1
    page.get_by_role("button", name="ตรวจสอบความถูกต้องของ audit trail").click()
    page.locator("#verify-result.ok-box").wait_for()
    auditor.shot("record")
    with page.expect_download() as info:
        page.locator("#download-link").click()
    downloaded = Path(info.value.path()).read_bytes()
    assert hashlib.sha256(downloaded).hexdigest() == plain_sha

    page.goto("/search")
    page.get_by_label(re.compile("^ข้อความ")).fill(THAI_WORD)
    page.get_by_role("button", name="ค้นหา", exact=True).click()
    page.get_by_role("button", name="จัดทำชุดหลักฐาน (BagIt zip)").click()
    page.wait_for_url(re.compile(r"/exports/"))
    drain(env)
    page.get_by_role("link", name="ดาวน์โหลดชุดหลักฐาน").wait_for(timeout=20_000)
    auditor.shot("export")
    page.goto("/search?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Search evidence"
    page.goto("/search?lang=th")
    auditor.close()

    # An officer of another organisation cannot reach the record.
    stranger = open_browser()
    stranger.sign_in("off2")
    response = stranger.page.goto(record_url)
    assert response is not None and response.status == 404
    assert "ไม่พบ" in stranger.page.locator("h1").inner_text()
    assert plain_sha not in stranger.page.content()
    stranger.shot("record-other-organisation-404")
    stranger.close()


# -- the destruction committee ---------------------------------------------------------

@pytest.fixture
def short_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """New blobs are locked in the store for two seconds instead of ten years, so an
    approved disposition can delete them (the store follows real time only)."""
    from archive.evidence import service

    monkeypatch.setattr(service, "new_bytes_lock", lambda *_, **__:
                        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2))


def test_a_disposition_runs_through_its_steps_in_the_browser(env: Env, open_browser,
                                                              short_lock):
    """GIVEN two receipts of FY 2555 (not audited: their ten years ended in 2565 BE),
    a destruction committee and a head of agency for sao-1
    WHEN the records manager surveys, the head appoints the committee by an order, each
    member votes, the chair closes the review, the head approves, the list is sent to the
    National Archives, who consent, the members confirm and the chair requests execution
    THEN the job destroys the bytes and the list shows its destruction certificate."""
    from tests.archive.retention.helpers import run_jobs
    from tests.factories import make_pdf, upload

    committee = ("chair1", "mem1", "mem2", "head1")
    tokens = people(env, "rm1", "aud1")
    from archive.accounts import web_sessions
    from archive.accounts.principal import system_principal

    for name, label in zip(committee, ("นางประธาน กรรมการ", "นายหนึ่ง กรรมการ",
                                       "นางสอง กรรมการ", "นายก อบต.แม่เหียะ"), strict=True):
        env.user(name, "records_manager", ["sao-1"], display_name=label)
        with env.session() as s:
            web_sessions.set_password(s, system_principal("test"), user_name=name,
                                      password=PASSWORD)
    admin = env.client(tokens["admin"])
    assert admin.put("/api/v1/retention/heads/sao-1", json={"user": "head1"}).status_code == 200
    for text in ("ก", "ข"):
        r = upload(env.client(tokens["off1"]), make_pdf(f"old {text}"), fiscal_year=2555,
                   voucher_no=f"ฎ {text}/2555", issuer_name="ร้านเครื่องเขียน", amount="500")
        assert r.status_code == 201, r.text
    record_id = r.json()["id"]
    run_jobs(env)
    time.sleep(2.5)                   # the store's short lock has passed

    rm = open_browser()
    page = rm.page
    rm.sign_in("rm1")
    page.goto("/retention/lists")
    page.get_by_role("button", name="สำรวจ", exact=True).click()
    page.locator("#survey-result").wait_for()
    rm.shot("disposition-lists")
    page.locator("table.data a").first.click()
    page.wait_for_url(re.compile(r"/retention/lists/[0-9a-f-]{36}$"))
    list_url = page.url
    assert page.locator("#items tbody tr").count() == 2
    rm.sign_out()

    # The head of agency appoints the committee by an order (ข้อ 68).
    from archive import clock

    appointer = open_browser()
    page = appointer.page
    appointer.sign_in("head1")
    page.goto(list_url)
    page.get_by_label("ประธานกรรมการ").fill("chair1")
    page.get_by_label("กรรมการ 1").fill("mem1")
    page.get_by_label("กรรมการ 2").fill("mem2")
    page.get_by_label("เลขที่คำสั่งแต่งตั้ง").fill("คำสั่ง อบต.แม่เหียะ ที่ 12/2569")
    page.get_by_label("วันที่ของคำสั่ง").fill(clock.today().isoformat())
    page.get_by_role("button", name="แต่งตั้ง").click()
    page.locator('[aria-current="step"]').get_by_text("คณะกรรมการพิจารณา").wait_for()
    appointer.shot("disposition-committee")
    appointer.close()

    for member in ("chair1", "mem1", "mem2"):
        b = open_browser()
        b.sign_in(member)
        b.page.goto(list_url)
        b.page.get_by_role("button", name="ลงมติ").click()
        b.page.wait_for_url(re.compile(r"#progress$"))
        assert b.page.get_by_role("button", name="ลงมติ").count() == 0
        if member == "chair1":
            chair = b
        else:
            b.close()
    chair.page.goto(list_url)
    chair.shot("disposition-votes")
    chair.page.get_by_role("button", name="ปิดการพิจารณา").click()
    chair.page.locator('[aria-current="step"]').get_by_text("คณะกรรมการเห็นชอบ").wait_for()
    chair.close()

    head = open_browser()
    head.sign_in("head1")
    head.page.goto(list_url)
    head.page.get_by_role("button", name="บันทึกการพิจารณา").click()
    head.page.locator('[aria-current="step"]').get_by_text("หัวหน้าส่วนราชการอนุมัติ").wait_for()
    head.close()

    rm = open_browser()
    page = rm.page
    rm.sign_in("rm1")
    page.goto(list_url)
    page.get_by_label("เลขที่อ้างอิง").fill("มท 0808.2/123")
    page.get_by_role("button", name="บันทึกว่าส่งแล้ว").click()
    page.locator('[aria-current="step"]').get_by_text("กรมศิลปากรพิจารณา").wait_for()
    page.get_by_role("button", name="บันทึกผลการพิจารณา").click()
    execute = page.get_by_role("button", name="ขอดำเนินการทำลาย")
    execute.wait_for()
    assert not execute.is_enabled()       # rm1 is not on the committee
    rm.close()

    # The committee's joint record: the members confirm, the chair with the request.
    for member in ("mem1", "mem2"):
        b = open_browser()
        b.sign_in(member)
        b.page.goto(list_url)
        b.page.get_by_role("button", name="ยืนยันการทำลาย").click()
        b.page.wait_for_url(re.compile(r"#progress$"))
        b.close()
    rm = open_browser()
    page = rm.page
    rm.sign_in("chair1")
    page.goto(list_url)
    assert page.locator("#destruction-record").inner_text().count("ยืนยันแล้ว") == 2
    execute = page.get_by_role("button", name="ขอดำเนินการทำลาย")
    assert execute.is_enabled()
    rm.shot("disposition-executable")
    execute.click()
    page.locator('[aria-current="step"]').get_by_text("กำลังทำลาย").wait_for()
    done = dict(run_jobs(env))
    assert done["disposition_execute"]["destroyed"] == 2, done
    page.goto(list_url)
    assert page.locator('[aria-current="step"]').inner_text() == "ทำลายแล้ว"
    certificate = page.locator("#certificates a").first
    assert "certificate" in (certificate.get_attribute("href") or "")
    rm.shot("disposition-certificate")
    response = page.request.get(certificate.get_attribute("href") or "")
    assert response.status == 200 and "บันทึกการทำลาย" in response.text()
    # the period column in Thai (with the English beside it), from the item's code
    assert "10 ปีนับจากสิ้นปีงบประมาณ พ.ศ. 2555" in response.text()
    # the destroyed record explains itself in Thai
    page.goto(f"/records/{record_id}")
    why = page.locator("#tomb-title + p").inner_text()
    assert why.startswith("ทำลายตามบัญชีขอทำลายเลขที่ sao-1/") and "destroyed" not in why, why
    rm.close()


# -- every other page, for the record --------------------------------------------------

def test_screenshots_of_the_other_pages(env: Env, open_browser):
    people(env, "admin", "rm1", "off1")
    admin = open_browser()
    admin.sign_in("admin")
    for path, name in (("/admin/orgs", "admin-organisations"), ("/admin/users", "admin-users"),
                       ("/admin/users/off1", "admin-user"), ("/admin/health", "admin-health"),
                       ("/admin/health?lang=en", "admin-health-en")):
        response = admin.page.goto(path)
        assert response is not None and response.status == 200, path
        admin.shot(name)
    admin.page.goto("/admin/health?lang=th")
    admin.close()
    rm = open_browser()
    rm.sign_in("rm1")
    for path, name in (("/retention", "retention-schedules"),
                       ("/retention/forecast", "retention-forecast"),
                       ("/retention/holds", "retention-holds"),
                       ("/retention/closures", "retention-closures"),
                       ("/account", "account")):
        response = rm.page.goto(path)
        assert response is not None and response.status == 200, path
        rm.shot(name)
    # Keyboard only: the skip link comes first and leads to the content.
    rm.page.goto("/retention")
    rm.page.keyboard.press("Tab")
    assert rm.page.evaluate("document.activeElement.className") == "skip"
    rm.close()


def test_api_documentation_works_offline_with_an_authorize_button(env: Env, open_browser,
                                                                  server: str):
    """GIVEN a browser that can reach nothing but the archive WHEN it opens /docs THEN
    Swagger UI renders from the archive's own assets, the Authorize button offers the
    bearer scheme and the upload operation shows its multipart form fields."""
    b = open_browser()
    outside: list[str] = []

    def only_the_archive(route: Any) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    b.context.route("**/*", only_the_archive)
    page = b.page
    page.goto("/docs")
    page.get_by_text("Evidence Archive").first.wait_for()
    page.get_by_role("button", name=re.compile("Authorize")).click()
    page.get_by_text("bearer", exact=False).first.wait_for()
    page.keyboard.press("Escape")
    page.locator("#operations-evidence-upload_api_v1_evidence_post").click()
    page.get_by_text("org_code").first.wait_for()
    b.shot("api-docs")
    assert outside == []
    b.close()
