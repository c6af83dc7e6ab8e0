"""OCR of scans: Thai + English text layer and a PDF/A-2b rendition, with OCRmyPDF.

:func:`run_ocr` runs inside a sandboxed child (:func:`archive.inspection.sandboxed.ocr_job`)
and calls the ``ocrmypdf`` command line (Debian's ``ocrmypdf`` package, which drives
Tesseract and Ghostscript). The command line rather than the Python module: Debian's
module lives in the system Python with Debian's pikepdf, not in the archive's
environment, and a separate process group can be killed as a whole when the wall clock
runs out (the sandbox's memory and CPU limits are inherited by it).

Before anything is decoded the input is measured from its headers: more pages than
``max_pages`` or a page of more than ``max_megapixels`` is refused (``too_many_pages``,
``too_large``), so a decompression bomb costs nothing. Phone photos are turned upright by
their EXIF orientation first and straightened by the skew measured here (a projection
profile: OCRmyPDF's own ``--deskew`` is thrown off by a photo's perspective); OCRmyPDF
then turns pages that lie on their side (``--rotate-pages``; it deskews PDF pages itself).

The same pass measures each page's quality for the inspection report: resolution (warn
below 200 dpi, fail below 150 dpi: ICT notification of 2553), blank pages and skew.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from archive.config import Settings
from archive.inspection.image import open_header
from archive.sandbox import Limits

WARN_DPI = 200
FAIL_DPI = 150
ASSUMED_DPI = 300      # for images that do not record their resolution
_ORIENTATION = 0x0112  # EXIF tag
MIN_SKEW = 0.3         # degrees: a page skewed less is read as it is
IMAGE_TYPES = ("image/jpeg", "image/png", "image/tiff")
PDF_TYPE = "application/pdf"


@dataclass(frozen=True)
class OcrOptions:
    ocrmypdf: str = "ocrmypdf"
    tesseract: str = "tesseract"
    languages: str = "tha+eng"
    max_pages: int = 50
    max_megapixels: float = 60.0
    cpu_seconds: int = 180
    wall_seconds: float = 240.0
    memory_bytes: int = 2 << 30

    @classmethod
    def from_settings(cls, settings: Settings) -> OcrOptions:
        return cls(ocrmypdf=settings.ocr_command, tesseract=settings.ocr_tesseract_command,
                   languages=settings.ocr_languages, max_pages=settings.ocr_max_pages,
                   max_megapixels=settings.ocr_max_megapixels,
                   cpu_seconds=settings.ocr_cpu_seconds, wall_seconds=settings.ocr_wall_seconds,
                   memory_bytes=settings.ocr_memory_mb << 20)

    @property
    def limits(self) -> Limits:
        """The sandbox's limits: the child's own wall clock stops OCRmyPDF first."""
        return Limits(cpu_seconds=self.cpu_seconds, wall_seconds=self.wall_seconds + 15,
                      memory_bytes=self.memory_bytes)


@dataclass
class OcrOutcome:
    """``status``: done, not_needed (text layer already, or nothing to read), refused (a
    limit), failed, not_available (the tools are missing)."""

    status: str
    reason: str | None = None
    pages: int = 0
    ocr_pages: list[int] = field(default_factory=list)
    quality: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    output: str | None = None        # path of the PDF/A rendition, when one was made
    text_source: str = "ocr"         # or text_layer: the PDF's own text, nothing OCRed
    seconds: float = 0.0
    engine: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The JSON kept in the inspection report (no text, no path)."""
        return {"status": self.status, "reason": self.reason, "pages": self.pages,
                "ocr_pages": self.ocr_pages, "seconds": round(self.seconds, 2),
                "engine": self.engine, "chars": len(self.text),
                "text_source": self.text_source if self.text else None}


# -- are the tools there? ----------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def tools_status(ocrmypdf: str = "ocrmypdf", tesseract: str = "tesseract",
                 languages: str = "tha+eng") -> dict[str, Any]:
    """``{"status": "ok" | "not_available", "detail": …}`` (cached per process: the
    packages do not come and go while a server runs)."""
    found_ocr = shutil.which(ocrmypdf)
    found_tess = shutil.which(tesseract)
    missing = [name for name, path in (("ocrmypdf", found_ocr), ("tesseract", found_tess))
               if path is None]
    if missing:
        return {"status": "not_available",
                "detail": f"{' and '.join(missing)} not installed (Debian packages ocrmypdf, "
                          "tesseract-ocr, tesseract-ocr-tha, tesseract-ocr-eng); scans are "
                          "archived without OCR"}
    try:
        listed = subprocess.run([str(found_tess), "--list-langs"], capture_output=True,
                                text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"status": "not_available", "detail": f"tesseract does not run: {exc}"}
    have = {line.strip() for line in (listed.stdout + listed.stderr).splitlines()}
    lacking = [lang for lang in languages.split("+") if lang not in have]
    if lacking:
        return {"status": "not_available",
                "detail": f"Tesseract lacks the language data {', '.join(lacking)} "
                          "(Debian packages tesseract-ocr-tha, tesseract-ocr-eng)"}
    version = listed.stderr.strip().splitlines()[:1]
    return {"status": "ok", "detail": f"{found_ocr} with Tesseract, languages {languages}",
            "ocrmypdf": found_ocr, "tesseract": found_tess, "version": version}


def ocr_tools(settings: Settings) -> dict[str, Any]:
    """For /readyz and the health page: ``status`` ok, not_available or disabled."""
    if not settings.ocr_enabled:
        return {"status": "disabled", "detail": "ARCHIVE_OCR_ENABLED is false"}
    found = tools_status(settings.ocr_command, settings.ocr_tesseract_command,
                         settings.ocr_languages)
    return {"status": found["status"], "detail": found["detail"]}


# -- the job (in the sandboxed child) ------------------------------------------------------

def run_ocr(path: str, media_type: str, work_dir: str, options: OcrOptions) -> OcrOutcome:
    started = time.monotonic()
    try:
        outcome = _run(path, media_type, work_dir, options)
    except _Refused as exc:
        outcome = OcrOutcome("refused", exc.reason, pages=exc.pages)
    outcome.seconds = time.monotonic() - started
    return outcome


class _Refused(Exception):
    def __init__(self, reason: str, pages: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pages = pages


def _run(path: str, media_type: str, work_dir: str, options: OcrOptions) -> OcrOutcome:
    if media_type in IMAGE_TYPES:
        pages, quality, source, image_dpi = _prepare_image(path, work_dir, options)
        ocr_pages = list(range(1, pages + 1))
        pdf_input = False
    elif media_type == PDF_TYPE:
        pages, quality, ocr_pages = _survey_pdf(path, options)
        if not ocr_pages:
            return OcrOutcome("not_needed", "every page has a text layer or no image",
                              pages=pages, quality=quality, text=text_layer(path),
                              text_source="text_layer")
        source, image_dpi, pdf_input = path, None, True
    else:
        return OcrOutcome("not_needed", f"{media_type} is not a scan", pages=0)
    out = os.path.join(work_dir, "rendition.pdf")
    sidecar = os.path.join(work_dir, "text.txt")
    command = [options.ocrmypdf, "--language", options.languages, "--output-type", "pdfa-2",
               "--rotate-pages", "--jobs", "1", "--sidecar", sidecar,
               "--optimize", "1", "--quiet",
               # at least 1: OCRmyPDF takes a timeout of 0 as "skip OCR" (a wall clock
               # under a second would give a rendition without text, called done)
               "--tesseract-timeout", str(max(1, math.ceil(options.wall_seconds))),
               "--max-image-mpixels", str(options.max_megapixels)]
    if pdf_input:
        command += ["--skip-text", "--deskew"]     # (images are straightened above)
    if image_dpi is not None:
        command += ["--image-dpi", str(image_dpi)]
    command += [source, out]
    code, errors = _execute(command, work_dir, options)
    engine = {"ocrmypdf": options.ocrmypdf, "languages": options.languages,
              "exit_code": code}
    if code == -1:
        return OcrOutcome("refused", f"OCR took longer than {options.wall_seconds:g} s and "
                          "was stopped", pages=pages, quality=quality, engine=engine)
    if code == 6:   # PriorOcrFoundError
        return OcrOutcome("not_needed", "the PDF has a text layer", pages=pages,
                          quality=quality, engine=engine)
    if code == 3:   # MissingDependencyError
        return OcrOutcome("not_available", errors or "a tool OCRmyPDF needs is missing",
                          pages=pages, quality=quality, engine=engine)
    # 4: the output did not validate as PDF/A per OCRmyPDF; 10: PDF/A conversion failed
    # (a plain PDF was written). The rendition is kept and our own checker reports it.
    if code not in (0, 4, 10) or not os.path.exists(out):
        return OcrOutcome("failed", f"OCRmyPDF exit code {code}: {errors}"[:600], pages=pages,
                          quality=quality, engine=engine)
    text = Path(sidecar).read_text("utf-8", "replace") if os.path.exists(sidecar) else ""
    text = join_thai(_SKIPPED.sub("", text).replace("\f", "\n"))
    if code:
        engine["note"] = errors[:300]
    return OcrOutcome("done", None, pages=pages, ocr_pages=ocr_pages, quality=quality,
                      text=text, output=out, engine=engine)


def _execute(command: list[str], work_dir: str, options: OcrOptions) -> tuple[int, str]:
    """Run in its own process group, killed whole after ``wall_seconds``: -1."""
    tesseract = shutil.which(options.tesseract)
    env = {**os.environ, "TMPDIR": work_dir, "OMP_THREAD_LIMIT": "1"}
    if tesseract:
        env["PATH"] = os.path.dirname(tesseract) + os.pathsep + env.get("PATH", "")
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=work_dir, start_new_session=True)
    except OSError as exc:
        return 3, f"cannot start {command[0]}: {exc}"
    try:
        _, err = proc.communicate(timeout=options.wall_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return -1, ""
    lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
    return proc.returncode, " ".join(lines[-4:]).replace(work_dir, "…")


_THAI = "\u0e00-\u0e7f"
_SKIPPED = re.compile(r"\[OCR skipped on page\(s\)[^\]]*\]")
_SPACED = re.compile(f"(?<=[{_THAI}]) (?=[{_THAI}])")


def join_thai(text: str) -> str:
    """Tesseract's Thai output puts a space between every character (Thai writes words
    without spaces): single spaces between Thai characters are dropped, longer gaps kept
    as one space. NFC afterwards joins the split marks."""
    text = _SPACED.sub("", text)
    return unicodedata.normalize("NFC", re.sub(r"[ \t]{2,}", " ", text))


# -- measuring before decoding ----------------------------------------------------------

def _prepare_image(path: str, work_dir: str,
                   options: OcrOptions) -> tuple[int, list[dict[str, Any]], str, int | None]:
    """Pages, their quality, the file OCRmyPDF should read and the dpi to tell it."""
    limit = int(options.max_megapixels * 1_000_000)
    with open_header(path) as img:
        frames = int(getattr(img, "n_frames", 1) or 1)
        if frames > options.max_pages:
            raise _Refused(f"the image has {frames} pages; the OCR limit is "
                           f"{options.max_pages} pages", frames)
        quality: list[dict[str, Any]] = []
        for index in range(frames):
            img.seek(index)
            width, height = img.size
            if width * height > limit:
                raise _Refused(f"page {index + 1} is {width:,}×{height:,} pixels; the OCR "
                               f"limit is {options.max_megapixels:g} megapixels", frames)
        dpi = _image_dpi(img)
        source, assumed = path, None
        for index in range(frames):
            img.seek(index)
            turned = frames == 1 and img.getexif().get(_ORIENTATION, 1) != 1
            frame = ImageOps.exif_transpose(img) if turned else img
            page = page_quality(frame, index + 1, dpi)
            quality.append(page)
            skew = page.get("skew_degrees") or 0.0
            if frames == 1 and abs(skew) >= MIN_SKEW:
                # Straightened here rather than by OCRmyPDF's --deskew, whose estimate a
                # phone photo's perspective (slanted margins) can throw off by degrees.
                upright = frame if frame.mode in ("L", "RGB") else frame.convert("RGB")
                frame = upright.rotate(-skew, resample=Image.Resampling.BICUBIC, expand=True,
                                       fillcolor="white")
                turned = True
            if frames == 1 and (turned or _needs_conversion(img)):
                source = _rewrite(frame, img.format, work_dir, dpi)
        if dpi is None:
            assumed = ASSUMED_DPI
        return frames, quality, source, assumed


def _needs_conversion(img: Image.Image) -> bool:
    """Alpha channels and 16-bit modes are refused by the image-to-PDF step."""
    return img.mode not in ("1", "L", "RGB", "CMYK", "P") or \
        (img.mode == "P" and "transparency" in img.info)


def _rewrite(frame: Image.Image, fmt: str | None, work_dir: str,
             dpi: tuple[float, float] | None) -> str:
    """The upright image (EXIF orientation applied) as a file OCRmyPDF accepts."""
    if frame.mode not in ("1", "L", "RGB"):
        frame = frame.convert("RGB")
    kwargs: dict[str, Any] = {"dpi": dpi} if dpi else {}
    if fmt == "JPEG":
        target = os.path.join(work_dir, "upright.jpg")
        frame.save(target, "JPEG", quality=92, **kwargs)
    else:
        target = os.path.join(work_dir, "upright.png")
        frame.save(target, "PNG", **kwargs)
    return target


def _image_dpi(img: Image.Image) -> tuple[float, float] | None:
    value = img.info.get("dpi")
    if not value:
        return None
    x, y = float(value[0]), float(value[1])
    return None if x <= 1 or y <= 1 else (round(x, 1), round(y, 1))


def _survey_pdf(path: str, options: OcrOptions) -> tuple[int, list[dict[str, Any]], list[int]]:
    """Pages, their quality, and the pages OCR should read (images but no text layer)."""
    import pikepdf

    limit = int(options.max_megapixels * 1_000_000)
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        raise _Refused("the PDF is encrypted") from None
    except pikepdf.PdfError as exc:
        raise _Refused(f"the PDF cannot be read: {exc}") from None
    with pdf:
        count = len(pdf.pages)
        if count > options.max_pages:
            raise _Refused(f"the PDF has {count:,} pages; the OCR limit is "
                           f"{options.max_pages} pages", count)
        quality: list[dict[str, Any]] = []
        wanted: list[int] = []
        for number, page in enumerate(pdf.pages, start=1):
            resources = page.obj.get("/Resources")
            has_text = resources is not None and "/Font" in resources
            images = []
            for _, raw in page.images.items():
                width, height = int(raw.get("/Width", 0)), int(raw.get("/Height", 0))
                if width * height > limit:
                    raise _Refused(f"page {number} holds a {width:,}×{height:,} pixel "
                                   f"image; the OCR limit is {options.max_megapixels:g} "
                                   "megapixels", count)
                images.append((width * height, raw, width, height))
            if images and not has_text:
                wanted.append(number)
            quality.append(_pdf_page_quality(page, number, images))
        return count, quality, wanted


def _pdf_page_quality(page: Any, number: int, images: list[Any]) -> dict[str, Any]:
    import pikepdf

    if not images:
        return {"page": number, "dpi": None, "dpi_status": "unknown", "blank": None,
                "skew_degrees": None, "note": "no scanned image on this page"}
    _, raw, width, height = max(images, key=lambda i: i[0])
    box = [float(v) for v in page.mediabox]
    inches = (abs(box[2] - box[0]) / 72, abs(box[3] - box[1]) / 72)
    dpi = (round(width / inches[0], 1), round(height / inches[1], 1)) if min(inches) > 0 \
        else None
    try:
        img = pikepdf.PdfImage(raw).as_pil_image()
    except Exception:  # noqa: BLE001 - an undecodable filter: resolution only
        return {**_dpi_verdict(number, dpi), "blank": None, "skew_degrees": None}
    return page_quality(img, number, dpi)


TEXT_LAYER_MAX_CHARS = 200_000


def text_layer(path: str) -> str:
    """The PDF's own text, page by page (for the fields read from it)."""
    import pypdfium2 as pdfium

    parts: list[str] = []
    size = 0
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError:
        return ""
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            text = page.get_textpage().get_text_range()
            parts.append(text)
            size += len(text)
            if size > TEXT_LAYER_MAX_CHARS:
                break
    finally:
        pdf.close()
    return "\n".join(parts)[:TEXT_LAYER_MAX_CHARS].replace("\r\n", "\n")


# -- page quality ------------------------------------------------------------------------

def _dpi_verdict(number: int, dpi: tuple[float, float] | None) -> dict[str, Any]:
    if dpi is None:
        status = "unknown"
    elif min(dpi) < FAIL_DPI:
        status = "fail"
    elif min(dpi) < WARN_DPI:
        status = "warn"
    else:
        status = "ok"
    return {"page": number, "dpi": list(dpi) if dpi else None, "dpi_status": status}


def page_quality(img: Image.Image, number: int,
                 dpi: tuple[float, float] | None) -> dict[str, Any]:
    """Resolution verdict, blankness and skew of one page (decoded, already upright)."""
    gray = img.convert("L")
    gray.thumbnail((1000, 1000))
    ink = ImageOps.invert(ImageOps.autocontrast(gray, cutoff=1))
    histogram = ink.histogram()
    total = sum(histogram) or 1
    dark = sum(histogram[128:]) / total
    spread = max(i for i, n in enumerate(histogram) if n) - min(
        i for i, n in enumerate(histogram) if n)
    blank = dark < 0.002 or spread < 40
    skew = None if blank else estimate_skew(ink.point(lambda v: 255 if v >= 128 else 0))
    return {**_dpi_verdict(number, dpi), "blank": blank, "skew_degrees": skew}


def estimate_skew(ink: Image.Image) -> float:
    """The angle (degrees, counter-clockwise positive) that makes text lines horizontal:
    the rotation whose row profile of ink is sharpest (projection profile method)."""
    small = ink.copy()
    small.thumbnail((600, 600))

    def sharpness(angle: float) -> float:
        turned = small.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=0)
        rows = turned.resize((1, turned.height), Image.Resampling.BOX).tobytes()
        return float(sum((a - b) ** 2 for a, b in zip(rows, rows[1:], strict=False)))

    best = max((a / 2 for a in range(-20, 21)), key=sharpness)          # ±10° by 0.5°
    best = max((best + a / 8 for a in range(-3, 4)), key=sharpness)     # then by 0.125°
    return round(-best, 2) + 0.0   # never "-0.0"


def scan_findings(quality: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings (code, severity, message) for the inspection report."""
    out: list[dict[str, Any]] = []
    for page in quality:
        number, dpi = page["page"], page.get("dpi") or [0.0]
        if page.get("dpi_status") == "fail":
            out.append({"code": "dpi_below_minimum", "severity": "error", "page": number,
                        "message": f"page {number}: {min(dpi):g} dpi is under the {FAIL_DPI} "
                                   "dpi minimum for scanned evidence (ICT notification 2553)"})
        elif page.get("dpi_status") == "warn":
            out.append({"code": "dpi_low", "severity": "warning", "page": number,
                        "message": f"page {number}: {min(dpi):g} dpi is under the "
                                   f"{WARN_DPI} dpi recommended for reliable OCR"})
        if page.get("blank"):
            out.append({"code": "blank_page", "severity": "warning", "page": number,
                        "message": f"page {number} is blank"})
        skew = page.get("skew_degrees")
        if skew is not None and abs(skew) >= 1.0:
            out.append({"code": "skewed", "severity": "info", "page": number,
                        "message": f"page {number} is skewed by {skew:g}°; the rendition is "
                                   "straightened"})
    return out


def work_dir(tmp_dir: Path) -> str:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(dir=tmp_dir, prefix="ocr-")
