"""Scans: dimensions and resolution from JPEG, PNG and TIFF headers."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from archive.inspection.image import inspect_image


def make(tmp_path: Path, fmt: str, **save: object) -> Path:
    path = tmp_path / f"scan.{fmt.lower()}"
    Image.new("RGB", (1240, 1754), "white").save(path, fmt, **save)
    return path


@pytest.mark.parametrize(("fmt", "save"), [
    ("JPEG", {"dpi": (300, 300)}),
    ("PNG", {"dpi": (300, 300)}),
    ("TIFF", {"dpi": (300, 300)}),
])
def test_300_dpi_scan_is_ok(tmp_path: Path, fmt: str, save: dict[str, object]) -> None:
    report = inspect_image(make(tmp_path, fmt, **save))
    assert (report.format, report.width, report.height) == (fmt, 1240, 1754)
    assert report.dpi is not None and [round(v) for v in report.dpi] == [300, 300]
    assert report.dpi_status == "ok" and report.findings == []


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_low_resolution_is_warned(tmp_path: Path, fmt: str) -> None:
    report = inspect_image(make(tmp_path, fmt, dpi=(72, 72)))
    assert report.dpi_status == "low"
    assert [f.code for f in report.findings] == ["dpi_low"]
    assert "150" in report.findings[0].message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_missing_resolution_is_unknown(tmp_path: Path, fmt: str) -> None:
    report = inspect_image(make(tmp_path, fmt))
    assert report.dpi is None and report.dpi_status == "unknown"
    assert [f.code for f in report.findings] == ["dpi_unknown"]


def test_one_axis_under_the_limit_is_low(tmp_path: Path) -> None:
    assert inspect_image(make(tmp_path, "PNG", dpi=(300, 100))).dpi_status == "low"


def test_tiff_in_centimetres_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "cm.tiff"
    # 118.11 px/cm = 300 dpi; ResolutionUnit 3 = centimetre
    Image.new("L", (100, 100)).save(path, "TIFF", resolution=118.11, resolution_unit=3)
    report = inspect_image(path)
    assert report.dpi is not None and [round(v) for v in report.dpi] == [300, 300]


def test_multi_page_tiff_counts_frames(tmp_path: Path) -> None:
    path = tmp_path / "pages.tiff"
    pages = [Image.new("L", (50, 50)) for _ in range(3)]
    pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:], dpi=(200, 200))
    report = inspect_image(path)
    assert report.frames == 3 and report.dpi_status == "ok"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_bomb_header_is_reported_not_decoded(tmp_path: Path) -> None:
    """A PNG that claims 60000 x 60000 pixels (3.6 gigapixels) but carries no real data."""
    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + _chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0))
                     + _chunk(b"pHYs", struct.pack(">IIB", 11811, 11811, 1))  # 300 dpi
                     + _chunk(b"IDAT", zlib.compress(b"\x00" * 16))
                     + _chunk(b"IEND", b""))
    report = inspect_image(path)
    assert (report.width, report.height) == (60000, 60000)
    assert report.dpi_status == "ok"
    assert "very_large_image" in {f.code for f in report.findings}
