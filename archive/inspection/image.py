"""Scanned paper: dimensions and resolution of JPEG, PNG and TIFF files.

The ICT Ministry notification of 2553 on converting paper to electronic form asks for the
resolution to be recorded and for at least 150 dpi (DESIGN.md). Only the header is read;
pixels are never decoded, so a decompression bomb costs nothing here.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from archive.inspection.report import Finding, ImageReport

MIN_DPI = 150
_CM_PER_INCH = 2.54


@contextlib.contextmanager
def open_header(path: str | Path) -> Iterator[Image.Image]:
    """The image opened for its header, without Pillow's decompression-bomb limit (its
    check and its warning): a huge pixel count is then the caller's to report or refuse
    (this inspection, OCR's own limit), and nothing is decoded here. The limit is put
    back when the block ends."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            with Image.open(path) as img:
                yield img
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def inspect_image(path: str | Path) -> ImageReport:
    findings: list[Finding] = []
    limit = Image.MAX_IMAGE_PIXELS
    with open_header(path) as img:
        width, height = img.size
        frames = int(getattr(img, "n_frames", 1) or 1)
        dpi = _dpi(img)
        fmt, mode = img.format, img.mode
    if limit and width * height > limit:
        findings.append(Finding("very_large_image", "warning",
                                f"{width}x{height} pixels is more than {limit:,}; viewers may "
                                "refuse to open it"))
    if dpi is None:
        status = "unknown"
        findings.append(Finding("dpi_unknown", "warning",
                                "the file does not record its resolution; record the scan "
                                "resolution by hand (ICT notification 2553)"))
    elif min(dpi) < MIN_DPI:
        status = "low"
        findings.append(Finding("dpi_low", "warning",
                                f"resolution {dpi[0]:g}x{dpi[1]:g} dpi is under the {MIN_DPI} "
                                "dpi required for scanned evidence (ICT notification 2553)"))
    else:
        status = "ok"
    return ImageReport(format=fmt, width=width, height=height, dpi=dpi, dpi_status=status,
                       frames=frames, mode=mode, findings=findings)


def _dpi(img: Image.Image) -> list[float] | None:
    """[x, y] dots per inch, or None when the file does not state a physical resolution."""
    info = img.info
    if img.format == "TIFF":
        tags = getattr(img, "tag_v2", {})
        x, y, unit = tags.get(282), tags.get(283), tags.get(296, 2)
        if x and y and unit in (2, 3):
            factor = _CM_PER_INCH if unit == 3 else 1.0
            return [round(float(x) * factor, 2), round(float(y) * factor, 2)]
        return None
    if img.format == "JPEG" and "jfif_unit" in info and info.get("jfif_unit") == 0 \
            and "exif" not in info:
        return None  # JFIF with aspect ratio only
    value = info.get("dpi")
    if not value:
        return None
    x, y = (float(value[0]), float(value[1]))
    if x <= 1 and y <= 1:
        return None  # "1x1" is how some writers say "unknown"
    return [round(x, 2), round(y, 2)]
