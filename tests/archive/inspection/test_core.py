"""``inspect()`` end to end: sniffing, sandboxed sections, errors, the report contract."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from PIL import Image

from archive.inspection import REPORT_VERSION, InspectionOptions, inspect
from archive.sandbox import Limits
from tests.archive.inspection.helpers import (
    build_pdfa3,
    etda_invoice_xml,
    flip_byte,
    make_pki,
    sign_pdf,
)
from tests.archive.inspection.test_safexml import BILLION_LAUGHS
from tests.corpus import corpus_path

TOP_LEVEL = {"report_version", "media_type", "size", "sha256", "name", "embedded_files",
             "invoice", "other_invoices", "signatures", "image", "cross_check", "errors",
             "problems", "problems_msg"}


def test_etda_xml_file(tmp_path: Path) -> None:
    path = tmp_path / "invoice.xml"
    path.write_bytes(etda_invoice_xml())
    report = inspect(path, typed={"amount": "10700.00", "doc_number": "INV-2568-0001"})
    data = report.to_dict()
    assert set(data) == TOP_LEVEL
    assert data["report_version"] == REPORT_VERSION
    assert data["media_type"] in ("text/xml", "application/xml")
    assert data["invoice"]["kind"] == "etax"
    assert data["invoice"]["validation"]["verdict"] == "valid"
    assert data["invoice"]["fields"]["grand_total"] == "10700.00"  # exact, as a string
    assert data["signatures"] == [] and data["embedded_files"] is None
    assert data["image"] is None
    assert data["cross_check"]["warnings"] == []
    assert {f["field"] for f in data["cross_check"]["fills"]} == \
        {"issuer_tax_id", "issue_date", "currency", "issuer_name", "issuer_branch",
         "vat_amount"}  # the tax total, filled when empty (issue 20 item 9)
    assert data["problems"] == [] and data["errors"] == []
    json.dumps(data, ensure_ascii=False)


def test_pdfa3_with_embedded_invoice_and_signature(tmp_path: Path) -> None:
    pki = make_pki()
    signed = sign_pdf(build_pdfa3(tmp_path / "a3.pdf", etda_invoice_xml()),
                      tmp_path / "signed.pdf", pki)
    data = inspect(signed, trust_roots=[pki.root_pem],
                   typed={"amount": "10700"}).to_dict()
    assert data["media_type"] == "application/pdf"
    assert [f["name"] for f in data["embedded_files"]] == ["ETDA-invoice.xml"]
    assert data["invoice"]["source"] == "embedded:ETDA-invoice.xml"
    assert data["invoice"]["validation"]["verdict"] == "valid"
    [sig] = data["signatures"]
    assert (sig["integrity"], sig["coverage"], sig["trust"]) == ("valid", "entire_file",
                                                                 "trusted")
    assert data["problems"] == []

    tampered = flip_byte(signed, tmp_path / "tampered.pdf", b"10700.00</ram:Grand",
                         b"10900.00</ram:Grand")
    data = inspect(tampered, typed={"amount": "10700"}).to_dict()
    assert data["signatures"][0]["integrity"] == "failed"
    assert data["embedded_files"][0]["checksum_ok"] is False
    [warning] = data["cross_check"]["warnings"]
    assert (warning["field"], warning["typed"], warning["found"]) == ("amount", "10700",
                                                                      "10900.00")
    assert any("integrity failed" in p for p in data["problems"])


def test_stream_input_and_given_media_type(tmp_path: Path) -> None:
    report = inspect(io.BytesIO(etda_invoice_xml()), media_type="application/xml; charset=utf-8")
    assert report.media_type == "application/xml"
    assert report.invoice is not None and report.invoice.kind == "etax"
    assert report.name is None


def test_a_low_resolution_scan_is_a_warning_not_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    Image.new("L", (100, 100)).save(path, dpi=(100, 100))
    data = inspect(path).to_dict()
    assert data["media_type"] == "image/png"
    assert data["image"]["dpi_status"] == "low"
    assert data["invoice"] is None and data["signatures"] is None
    assert data["problems"] == []  # a warning, not a problem


def test_unrelated_file_has_no_sections(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some words\n")
    data = inspect(path).to_dict()
    assert data["media_type"] == "text/plain"
    assert all(data[k] is None for k in ("embedded_files", "invoice", "signatures", "image"))


def test_file_whose_bytes_are_not_its_type(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"garbage " * 100)
    data = inspect(path).to_dict()
    assert data["media_type"] == "application/pdf"
    assert [e["section"] for e in data["errors"]] == ["embedded_files"]
    assert data["problems"]


@pytest.mark.parametrize(("data", "code"), [
    (BILLION_LAUGHS, "entities"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
     "entities"),
    (b"<a>" * 50_000 + b"</a>" * 50_000, "too_deep"),
])
def test_hostile_xml_ends_in_a_clean_error(tmp_path: Path, data: bytes, code: str) -> None:
    path = tmp_path / "hostile.xml"
    path.write_bytes(data)
    started = time.monotonic()
    report = inspect(path, media_type="application/xml")
    assert time.monotonic() - started < 10
    assert [(e.section, e.kind) for e in report.errors] == [("xml", code)]
    assert report.invoice is None and report.problems()


def test_100_mb_xml_is_refused_within_limits(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    with open(path, "wb") as handle:
        handle.write(b"<?xml version='1.0'?><r>")
        chunk = b"<i>" + b"x" * 1020 + b"</i>"
        for _ in range(100 * 1024):
            handle.write(chunk)
        handle.write(b"</r>")
    assert path.stat().st_size > 100 * 1024 * 1024
    started = time.monotonic()
    report = inspect(path)
    assert time.monotonic() - started < 10
    assert [(e.section, e.kind) for e in report.errors] == [("xml", "too_large")]


def test_memory_and_time_limits_become_errors(tmp_path: Path) -> None:
    """With a tiny allowance the child cannot even load the schemas; the report says so."""
    path = tmp_path / "invoice.xml"
    path.write_bytes(etda_invoice_xml())
    starved = InspectionOptions(limits=Limits(cpu_seconds=5, wall_seconds=10,
                                              memory_bytes=64 << 20))
    report = inspect(path, options=starved)
    assert [(e.section, e.kind) for e in report.errors] in ([("xml", "memory")],
                                                            [("xml", "crashed")])
    hurried = InspectionOptions(limits=Limits(cpu_seconds=1, wall_seconds=0.001))
    report = inspect(path, options=hurried)
    assert [(e.section, e.kind) for e in report.errors] == [("xml", "timeout")]


@pytest.mark.corpus
def test_corpus_samples_through_the_sandbox() -> None:
    xml = corpus_path("etax", "etda-xades", "signed-ETDA-invoice.xml")
    data = inspect(xml).to_dict()
    assert data["invoice"]["validation"]["verdict"] == "valid"
    assert [s["integrity"] for s in data["signatures"]] == ["valid"]
    bad = inspect(corpus_path("etax", "etda-xmlvalidation", "invalidXML_fromPRD04.xml"))
    assert bad.invoice is not None and bad.invoice.validation is not None
    assert bad.invoice.validation.verdict == "invalid" and bad.problems()
    broken = next(corpus_path("signed").rglob("coverage-anomalies/base.pdf"))
    assert [e.section for e in inspect(broken).errors] == ["signatures"]
