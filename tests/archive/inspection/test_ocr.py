"""OCR limits and page quality, without a database: the 2,000-page PDF, the wall clock,
blank and skewed pages, the dpi verdicts."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from PIL import Image, ImageDraw, ImageFont

from archive.inspection import sandboxed
from archive.inspection.ocr import (
    OcrOptions,
    _dpi_verdict,
    join_thai,
    page_quality,
    scan_findings,
)
from archive.sandbox import run_limited

FONT = "/usr/share/fonts/truetype/tlwg/Garuda.ttf"


def text_page(angle: float = 0.0) -> Image.Image:
    font = ImageFont.truetype(FONT, 28)
    img = Image.new("L", (900, 700), 255)
    draw = ImageDraw.Draw(img)
    for i in range(10):
        draw.text((60, 40 + i * 60), "ใบสำคัญรับเงิน จำนวนเงิน 1,250.00 บาท", font=font, fill=0)
    return img.rotate(angle, fillcolor=255, expand=False)


def ocr(tmp_path: Path, source: Path, media_type: str, **options: object):
    result = run_limited(sandboxed.ocr_job, str(source), media_type, str(tmp_path),
                         OcrOptions(**options), limits=OcrOptions(**options).limits)
    return result.value


def long_pdf(pages: int) -> bytes:
    """A PDF whose page tree lists one page ``pages`` times (cheap to write and to read)."""
    kids = " ".join(["3 0 R"] * pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Count {pages} /Kids [{kids}] >>".encode(),
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_a_2000_page_pdf_is_refused_by_the_page_cap_before_any_ocr(tmp_path: Path):
    source = tmp_path / "long.pdf"
    source.write_bytes(long_pdf(2000))
    outcome = ocr(tmp_path, source, "application/pdf", max_pages=50)
    assert outcome.status == "refused" and outcome.pages == 2000
    assert outcome.reason == "the PDF has 2,000 pages; the OCR limit is 50 pages"
    assert outcome.output is None


def test_ocr_past_the_wall_clock_is_stopped_with_its_process_group(tmp_path: Path):
    source = tmp_path / "page.png"
    text_page().save(source, dpi=(300, 300))
    outcome = ocr(tmp_path, source, "image/png", wall_seconds=0.5)
    assert outcome.status == "refused"
    assert outcome.reason == "OCR took longer than 0.5 s and was stopped"


def test_a_pdf_with_a_text_layer_needs_no_ocr_and_gives_its_text(tmp_path: Path):
    pdf = pikepdf.new()
    pdf.add_blank_page()
    page = pdf.pages[0]
    page.obj["/Resources"] = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))
    page.obj["/Contents"] = pdf.make_stream(b"BT /F1 12 Tf 72 720 Td (Total 99.50) Tj ET")
    source = tmp_path / "text.pdf"
    pdf.save(source)
    outcome = ocr(tmp_path, source, "application/pdf")
    assert outcome.status == "not_needed" and outcome.text_source == "text_layer"
    assert "99.50" in outcome.text


def test_page_quality_dpi_verdicts_blank_and_skew():
    verdicts = [_dpi_verdict(1, dpi)["dpi_status"]
                for dpi in ((300.0, 300.0), (300.0, 180.0), (120.0, 120.0), None)]
    assert verdicts == ["ok", "warn", "fail", "unknown"]
    blank = page_quality(Image.new("L", (900, 700), 250), 2, (300.0, 300.0))
    assert blank["blank"] is True and blank["skew_degrees"] is None
    straight = page_quality(text_page(), 1, (300.0, 300.0))
    assert straight["blank"] is False and abs(straight["skew_degrees"]) < 0.5
    skewed = page_quality(text_page(4.0), 3, (120.0, 120.0))
    assert 3.0 < abs(skewed["skew_degrees"]) < 5.0, skewed
    findings = scan_findings([blank, skewed])
    assert [f["code"] for f in findings] == ["blank_page", "dpi_below_minimum", "skewed"]


def test_tesseract_thai_spacing_is_joined():
    assert join_thai("ร ้ า น ส ม ช า ย  พาณิชย์ 0105550123451") == "ร้านสมชาย พาณิชย์ 0105550123451"
