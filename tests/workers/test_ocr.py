"""The ``ocr`` job end to end on both stacks: a scanned receipt gets a searchable PDF/A-2b
rendition beside the untouched original; bombs and missing tools give a clear report.

OCR is slow (a few seconds a page): one small image is the whole end-to-end budget.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont

from archive.audit.models import AuditEvent
from archive.evidence.models import Rendition
from archive.pdfa.checker import check_pdfa
from archive.queue.models import Job
from tests.conftest import Env
from tests.factories import upload, world
from workers.runner import Worker

TAX_ID = "0105550123451"
FONT = "/usr/share/fonts/truetype/tlwg/Loma.ttf"


def receipt_png() -> bytes:
    """A small 300 dpi scan of three lines of a Thai receipt."""
    font = ImageFont.truetype(FONT, 36)
    img = Image.new("L", (1200, 330), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate([f"ร้านสมชายพาณิชย์ เลขประจำตัวผู้เสียภาษี {TAX_ID}",
                              "จำนวนเงินรวมทั้งสิ้น 642.00", "(หกร้อยสี่สิบสองบาทถ้วน)"]):
        draw.text((40, 30 + i * 95), line, font=font, fill=0)
    out = io.BytesIO()
    img.save(out, "PNG", dpi=(300, 300), optimize=True)
    return out.getvalue()


def png_bomb(side: int = 50_000) -> bytes:
    """A valid PNG header of side × side grey pixels with a little zlib data (the
    header alone must stop it: nothing may try to decode 2.5 gigapixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (side + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + \
        chunk(b"IEND", b"")


def drain(env: Env, **settings: Any) -> None:
    worker = Worker(env.settings.model_copy(update=settings), engine=env.engine,
                    store=env.store, kinds=["inspect", "extract_text", "ocr"])
    while worker.run_once():
        pass


def ocr_job_states(env: Env) -> list[str]:
    with env.session() as s:
        return list(s.scalars(sa.select(Job.status).where(Job.kind == "ocr")))


def test_a_scan_gets_a_searchable_pdfa_rendition_beside_the_untouched_original(env: Env):
    """GIVEN a PNG scan of a Thai receipt uploaded with a wrong amount typed WHEN the workers
    run THEN a PDF/A-2b rendition that passes our own checker is linked to the record,
    search finds the record by the tax ID printed on the scan (marked as OCR text), the
    scan's fields are suggested, the contradicted amount is a warning, and the original's
    bytes and hash are unchanged."""
    tokens = world(env)
    officer = env.client(tokens["off1"])
    scan = receipt_png()
    rec = upload(officer, scan, filename="ใบเสร็จ.png", fiscal_year=2567,
                 amount="700.00").json()
    drain(env)
    assert ocr_job_states(env) == ["done"]

    listed = officer.get(f"/api/v1/evidence/{rec['id']}/renditions").json()
    assert len(listed) == 1, listed
    rendition = listed[0]
    assert rendition["pdfa_flavour"] == "2b" and rendition["pdfa_compliant"] is True, rendition
    got = officer.get(rendition["content_url"])
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(got.content).hexdigest() == rendition["sha256"]
    assert check_pdfa(got.content, "2b").compliant      # checked again here, independently

    stranger = env.client(tokens["off2"])        # another LAO's officer: out of scope
    assert stranger.get(f"/api/v1/evidence/{rec['id']}/renditions").status_code == 404
    assert stranger.get(rendition["content_url"]).status_code == 404

    original = officer.get(f"/api/v1/evidence/{rec['id']}/content")
    assert original.content == scan and rec["sha256"] == hashlib.sha256(scan).hexdigest()
    assert officer.get(f"/api/v1/evidence/{rec['id']}").json()["sha256"] == rec["sha256"]

    auditor = env.client(tokens["aud1"])
    found = auditor.get("/api/v1/evidence", params={"q": TAX_ID}).json()
    assert "items" in found, found
    assert [i["id"] for i in found["items"]] == [rec["id"]]
    assert found["items"][0]["text_source"] == "ocr"
    assert auditor.get("/api/v1/evidence", params={"q": "สมชาย"}).json()["total"] == 1

    report = officer.get(f"/api/v1/evidence/{rec['id']}/inspection").json()
    scan_report = report["report"]["scan"]
    assert scan_report["ocr"]["status"] == "done"
    assert scan_report["quality"][0]["dpi_status"] == "ok"
    suggested = {s["field"]: s["value"] for s in scan_report["suggestions"]}
    assert suggested.get("issuer_tax_id") == TAX_ID, scan_report
    assert officer.get(f"/api/v1/evidence/{rec['id']}").json()["issuer_tax_id"] is None
    amount = [w for w in report["warnings"] if w["field"] == "amount"]
    assert amount and amount[0]["source"] == "ocr" and amount[0]["found"] == "642.00"

    page = officer.get(f"/records/{rec['id']}")
    assert rendition["content_url"] in page.text
    with env.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Rendition)) == 1
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "evidence.rendition")) == 1
    # the store describes the rendition too (issue 18: rebuild from the store alone)
    links = [json.loads(env.store.read_all(o.key))
             for o in env.store.list_objects(f"catalogue/links/{rec['id']}/")]
    assert [(link["kind"], link["target"]["sha256"]) for link in links] == \
        [("rendition", rendition["sha256"])]


def test_an_image_bomb_is_refused_from_its_header_with_a_clear_report(env: Env):
    tokens = world(env)
    officer = env.client(tokens["off1"])
    rec = upload(officer, png_bomb(), filename="bomb.png", fiscal_year=2567).json()
    drain(env)
    assert ocr_job_states(env) == ["done"]
    scan = officer.get(f"/api/v1/evidence/{rec['id']}/inspection").json()["report"]["scan"]
    assert scan["ocr"]["status"] == "refused"
    assert "50,000×50,000 pixels" in scan["ocr"]["reason"], scan["ocr"]
    assert officer.get(f"/api/v1/evidence/{rec['id']}/renditions").json() == []


def test_without_tesseract_a_scan_is_reported_not_available(env: Env):
    tokens = world(env)
    officer = env.client(tokens["off1"])
    rec = upload(officer, receipt_png(), filename="scan.png", fiscal_year=2567).json()
    drain(env, ocr_tesseract_command="/nonexistent/tesseract")
    assert ocr_job_states(env) == ["done"]
    scan = officer.get(f"/api/v1/evidence/{rec['id']}/inspection").json()["report"]["scan"]
    assert scan["ocr"]["status"] == "not_available"
    assert "tesseract" in scan["ocr"]["reason"]
    # Once the tools are there, running the job again replaces the report (here a limit
    # stops it at once: OCR itself is the other test's).
    from archive.queue.service import enqueue

    with env.session() as s:
        enqueue(s, "ocr", {"evidence_id": rec["id"]})
    drain(env, ocr_max_megapixels=0.01)
    again = officer.get(f"/api/v1/evidence/{rec['id']}/inspection").json()["report"]["scan"]
    assert again["ocr"]["status"] == "refused", again["ocr"]
    ready = env.client(ocr_tesseract_command="/nonexistent/tesseract").get("/readyz").json()
    assert ready["checks"]["ocr"]["status"] == "not_available"
    assert env.client().get("/readyz").json()["checks"]["ocr"]["status"] == "ok"
