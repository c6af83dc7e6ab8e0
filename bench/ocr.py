"""Thai OCR quality and speed on generated receipts and acknowledgements.

Generates Thai receipts (ใบเสร็จรับเงิน) and payees' acknowledgements (ใบสำคัญรับเงิน) with
Pillow: TLWG fonts (``fonts-thai-tlwg``), two layouts, 150/200/300 dpi, a small rotation,
blur, noise, JPEG compression and, for some, a phone-photo perspective warp. Each is run
through the archive's own OCR (:func:`archive.inspection.ocr.run_ocr`: OCRmyPDF with
Tesseract ``tha+eng``, ``--rotate-pages --deskew``, PDF/A-2b output) and the field reader
(:func:`archive.inspection.textfields.read_fields`). Reported:

* character error rate (CER): edit distance between the OCR text and the printed text,
  both with every white space removed (Thai writes words without spaces; where the OCR
  puts spaces is not an error of reading), over the printed text's length; median, p90;
* share of documents whose issuer tax ID and grand total are read exactly, by dpi;
* pages per minute per core (pages over the CPU seconds of OCRmyPDF and its children);
* the rendition's size against the scan's.

Targets (issue 14): median CER ≤ 5 %; tax ID exact ≥ 95 % and grand total exact ≥ 90 % at
≥ 200 dpi.

    python bench/ocr.py [--docs 48] [--seed 14] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.inspection.ocr import OcrOptions, run_ocr, tools_status  # noqa: E402
from archive.inspection.textfields import read_fields  # noqa: E402
from archive.thai import tax_id_check_digit  # noqa: E402

FONT_DIR = Path("/usr/share/fonts/truetype/tlwg")
FONTS = ["Garuda.ttf", "Loma.ttf", "Norasi.ttf", "Kinnari.ttf", "Sawasdee.ttf", "Waree.ttf",
         "Umpush.ttf", "Laksaman.ttf"]
DPIS = (150, 200, 300)
MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
          "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
SHOPS = ("ร้านสมชายพาณิชย์", "ห้างหุ้นส่วนจำกัด เชียงใหม่วัสดุ", "บริษัท ล้านนาก่อสร้าง จำกัด",
         "ร้านแม่ศรีเรือนการค้า", "สหกรณ์การเกษตรสันทราย จำกัด", "ร้านรุ่งเรืองเครื่องเขียน")
ITEMS = ("กระดาษถ่ายเอกสาร A4", "หมึกพิมพ์เลเซอร์", "ปากกาลูกลื่น", "น้ำดื่ม 600 มล.",
         "ปูนซีเมนต์ 50 กก.", "ทรายหยาบ", "ค่าจ้างเหมาตัดหญ้า", "ค่าซ่อมรถยนต์ส่วนกลาง",
         "แฟ้มเอกสาร", "อาหารกลางวันผู้เข้าอบรม")
PAYERS = ("องค์การบริหารส่วนตำบลแม่เหียะ", "เทศบาลตำบลสุเทพ", "องค์การบริหารส่วนตำบลริมกก")
PEOPLE = ("นายสมชาย ใจดี", "นางสาวมาลี ศรีสุข", "นายประเสริฐ ทองคำ", "นางบุญมี แสงจันทร์")


# -- amounts in Thai words (the generator's side; the reader has its own) -----------------

_DIGITS = ("ศูนย์", "หนึ่ง", "สอง", "สาม", "สี่", "ห้า", "หก", "เจ็ด", "แปด", "เก้า")
_UNITS = ("", "สิบ", "ร้อย", "พัน", "หมื่น", "แสน")


def _words_below_million(n: int) -> str:
    out = []
    digits = str(n)
    for pos, ch in enumerate(digits):
        d = int(ch)
        unit = len(digits) - pos - 1
        if d == 0:
            continue
        if unit == 1 and d == 1:
            out.append("สิบ")
        elif unit == 1 and d == 2:
            out.append("ยี่สิบ")
        elif unit == 0 and d == 1 and len(digits) > 1:
            out.append("เอ็ด")
        else:
            out.append(_DIGITS[d] + _UNITS[unit])
    return "".join(out)


def number_words(n: int) -> str:
    if n == 0:
        return "ศูนย์"
    millions, rest = divmod(n, 1_000_000)
    head = number_words(millions) + "ล้าน" if millions else ""
    return head + (_words_below_million(rest) if rest else "")


def baht_words(amount: Decimal) -> str:
    baht = int(amount)
    satang = int((amount - baht) * 100)
    text = number_words(baht) + "บาท"
    return text + (number_words(satang) + "สตางค์" if satang else "ถ้วน")


# -- documents ---------------------------------------------------------------------------

@dataclass
class Doc:
    lines: list[str]
    tax_id: str
    total: Decimal
    dpi: int
    font: str
    phone: bool


def tax_id(rng: random.Random) -> str:
    first = str(rng.choice((0, 1, 3))) + "".join(str(rng.randrange(10)) for _ in range(11))
    return first + str(tax_id_check_digit(first))


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def make_doc(rng: random.Random, index: int) -> Doc:
    tid = tax_id(rng)
    items = [(rng.choice(ITEMS), Decimal(rng.randrange(50, 250_000)) / 10)
             for _ in range(rng.randint(2, 4))]
    subtotal = sum((a for _, a in items), Decimal("0")).quantize(Decimal("0.01"))
    day, month, year = rng.randint(1, 28), rng.randrange(12), rng.choice((2566, 2567, 2568))
    number = f"{rng.choice(('RC', 'IV', 'เล่ม'))}{rng.randint(1, 99):02d}/{rng.randint(1, 9999):04d}"
    if index % 2 == 0:
        vat = (subtotal * Decimal("0.07")).quantize(Decimal("0.01"))
        total = subtotal + vat
        lines = [rng.choice(SHOPS), "ใบเสร็จรับเงิน / ใบกำกับภาษี",
                 f"เลขประจำตัวผู้เสียภาษี {tid} สาขา 00000",
                 f"เลขที่ {number}  วันที่ {day} {MONTHS[month]} {year}",
                 f"ได้รับเงินจาก {rng.choice(PAYERS)}"]
        lines += [f"{i + 1}. {name}  {money(amount)}" for i, (name, amount) in enumerate(items)]
        lines += [f"รวมเงิน {money(subtotal)}", f"ภาษีมูลค่าเพิ่ม 7% {money(vat)}",
                  f"จำนวนเงินรวมทั้งสิ้น {money(total)}", f"({baht_words(total)})"]
    else:
        total = subtotal
        person = rng.choice(PEOPLE)
        lines = ["ใบสำคัญรับเงิน", f"วันที่ {day}/{month + 1:02d}/{year}",
                 f"ข้าพเจ้า {person}", f"เลขประจำตัวผู้เสียภาษี {tid}",
                 f"ได้รับเงินจาก {rng.choice(PAYERS)} ดังรายการต่อไปนี้"]
        lines += [f"{name}  {money(amount)}" for name, amount in items]
        lines += [f"รวมเงิน {money(total)}", f"({baht_words(total)})",
                  f"ลงชื่อ {person} ผู้รับเงิน"]
    return Doc(lines, tid, total, DPIS[index % len(DPIS)], FONTS[index % len(FONTS)],
               phone=index % 6 == 5)


def render(doc: Doc, rng: random.Random) -> tuple[bytes, str]:
    """The scan's bytes and media type."""
    scale = doc.dpi / 300
    width, line_height = int(2000 * scale), int(70 * scale)
    img = Image.new("L", (width, int((len(doc.lines) + 3) * line_height)), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT_DIR / doc.font), int(40 * scale))
    for i, line in enumerate(doc.lines):
        draw.text((int(100 * scale), int((i + 1.5) * line_height)), line, font=font, fill=0)
    img = img.rotate(rng.uniform(-2.5, 2.5), resample=Image.Resampling.BICUBIC,
                     fillcolor=255, expand=True)
    if doc.phone:
        w, h = img.size
        # Phone photo: the far edge narrower (a perspective), a grey paper and light.
        d = int(w * 0.04)
        img = img.transform(img.size, Image.Transform.QUAD,
                            (-d, 0, d, h, w - d, h, w + d, 0), Image.Resampling.BICUBIC,
                            fillcolor=235)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9) * scale + 0.2))
    noise = Image.effect_noise(img.size, rng.uniform(6, 14))
    img = Image.blend(img, noise, 0.12)
    out = io.BytesIO()
    if doc.phone or rng.random() < 0.5:
        img.convert("RGB").save(out, "JPEG", quality=rng.randint(55, 85), dpi=(doc.dpi,) * 2)
        return out.getvalue(), "image/jpeg"
    img.save(out, "PNG", dpi=(doc.dpi,) * 2)
    return out.getvalue(), "image/png"


# -- measuring ---------------------------------------------------------------------------

def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(truth: str, read: str) -> float:
    from archive.inspection.textfields import normalise

    t = "".join(normalise(truth).split())
    r = "".join(normalise(read).split())
    return edit_distance(t, r) / max(1, len(t))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=48)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    tools = tools_status()
    if tools["status"] != "ok":
        sys.exit(f"OCR tools missing: {tools['detail']}")
    rng = random.Random(args.seed)
    options = OcrOptions(wall_seconds=300)
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        for index in range(args.docs):
            doc = make_doc(rng, index)
            data, media_type = render(doc, rng)
            source = Path(tmp) / f"scan{index}"
            source.write_bytes(data)
            work = tempfile.mkdtemp(dir=tmp)
            cpu0 = children_cpu()
            outcome = run_ocr(str(source), media_type, work, options)
            cpu = children_cpu() - cpu0
            fields = read_fields(outcome.text)
            issuer = fields.issuer_tax_id
            total = fields.grand_total
            row = {"index": index, "dpi": doc.dpi, "font": doc.font, "phone": doc.phone,
                   "media_type": media_type, "status": outcome.status,
                   "cer": round(cer("\n".join(doc.lines), outcome.text), 4),
                   "tax_id_ok": issuer is not None and issuer.value == doc.tax_id,
                   "total_ok": total is not None and total.value == doc.total,
                   "total_read": str(total.value) if total else None,
                   "total_printed": str(doc.total),
                   "seconds": round(outcome.seconds, 2), "cpu_seconds": round(cpu, 2),
                   "scan_bytes": len(data),
                   "rendition_bytes": os.path.getsize(outcome.output) if outcome.output else None}
            if not (row["tax_id_ok"] and row["total_ok"]):
                row["text"] = outcome.text
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    summary = summarise(rows, time.monotonic() - started)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1,
                                        ensure_ascii=False))


def summarise(rows: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    def share(subset: list[dict[str, Any]], key: str) -> float | None:
        return round(sum(r[key] for r in subset) / len(subset), 3) if subset else None

    done = [r for r in rows if r["status"] == "done"]
    hi = [r for r in rows if r["dpi"] >= 200]
    by_dpi = {dpi: {"docs": len(sub), "median_cer": round(statistics.median(
        [r["cer"] for r in sub]), 4) if sub else None, "tax_id_exact": share(sub, "tax_id_ok"),
        "total_exact": share(sub, "total_ok")}
        for dpi in DPIS for sub in [[r for r in rows if r["dpi"] == dpi]]}
    cpu = sum(r["cpu_seconds"] for r in rows)
    ratios = [r["rendition_bytes"] / r["scan_bytes"] for r in done if r["rendition_bytes"]]
    return {
        "docs": len(rows), "ocr_done": len(done),
        "median_cer": round(statistics.median(r["cer"] for r in rows), 4),
        "p90_cer": round(percentile([r["cer"] for r in rows], 0.9), 4),
        "median_cer_at_200dpi_plus": (round(statistics.median(r["cer"] for r in hi), 4)
                                      if hi else None),
        "tax_id_exact_at_200dpi_plus": share(hi, "tax_id_ok"),
        "total_exact_at_200dpi_plus": share(hi, "total_ok"),
        "phone_photos": {"docs": sum(r["phone"] for r in rows),
                         "tax_id_exact": share([r for r in rows if r["phone"]], "tax_id_ok"),
                         "total_exact": share([r for r in rows if r["phone"]], "total_ok")},
        "by_dpi": by_dpi,
        "pages_per_minute_per_core": round(len(rows) / (cpu / 60), 2) if cpu else None,
        "wall_seconds_per_page_median": statistics.median(r["seconds"] for r in rows),
        "rendition_to_scan_size_median": round(statistics.median(ratios), 2) if ratios else None,
        "rendition_to_scan_size_p90": round(percentile(ratios, 0.9), 2) if ratios else None,
        "wall_seconds": round(wall, 1),
    }


if __name__ == "__main__":
    main()
