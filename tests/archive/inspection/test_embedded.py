"""Embedded files: the PDF/A-3 "by e-mail" shape of a Thai e-Tax Invoice, and others."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pikepdf
import pytest

from archive.inspection.embedded import extract_embedded, list_embedded
from tests.archive.inspection.helpers import build_pdfa3, etda_invoice_xml, flip_byte
from tests.corpus import corpus_path


def test_etda_xml_in_pdfa3_is_listed_with_its_properties(tmp_path: Path) -> None:
    xml = etda_invoice_xml()
    pdf = build_pdfa3(tmp_path / "a3.pdf", xml)
    [item] = list_embedded(pdf)
    info = item.info
    assert info.name == "ETDA-invoice.xml"
    assert info.af_relationship == "Alternative"
    assert info.mime_subtype == "text/xml"
    assert info.size == len(xml) == info.declared_size
    assert info.sha256 == hashlib.sha256(xml).hexdigest()
    assert info.description == "e-Tax Invoice XML"
    assert info.found_in == ["EmbeddedFiles", "AF"]
    assert info.checksum_ok is True
    assert item.data == xml
    assert extract_embedded(pdf, "ETDA-invoice.xml") == xml


def test_tampered_embedded_xml_breaks_its_checksum(tmp_path: Path) -> None:
    pdf = build_pdfa3(tmp_path / "a3.pdf", etda_invoice_xml())
    tampered = flip_byte(pdf, tmp_path / "tampered.pdf", b"10700.00</ram:Grand",
                         b"17000.00</ram:Grand")
    [item] = list_embedded(tampered)
    assert item.info.checksum_ok is False
    assert item.data is not None and b"17000.00" in item.data


def test_files_found_only_through_af_or_annotations(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    payload = b"<r/>"
    stream = pdf.make_stream(payload)
    stream.Type = pikepdf.Name.EmbeddedFile
    spec = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Filespec, F=pikepdf.String("af-only.xml"),
        AFRelationship=pikepdf.Name.Data, EF=pikepdf.Dictionary(F=stream)))
    pdf.Root.AF = pikepdf.Array([spec])
    note = pdf.make_stream(b"scan notes")
    note_spec = pikepdf.Dictionary(Type=pikepdf.Name.Filespec, UF=pikepdf.String("notes.txt"),
                                   EF=pikepdf.Dictionary(F=note))
    pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment,
        Rect=[0, 0, 10, 10], FS=note_spec))]))
    path = tmp_path / "af.pdf"
    pdf.save(path)
    items = {i.info.name: i for i in list_embedded(path)}
    assert items["af-only.xml"].info.found_in == ["AF"]
    assert items["af-only.xml"].info.af_relationship == "Data"
    assert items["af-only.xml"].data == payload  # XML-looking: kept for inspection
    assert items["notes.txt"].info.found_in == ["page 1 annotation"]
    assert items["notes.txt"].data is None  # not XML: listed, bytes not kept


def test_spec_without_stream_is_listed_with_an_error(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root.AF = pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Filespec, F=pikepdf.String("ghost.xml")))])
    path = tmp_path / "ghost.pdf"
    pdf.save(path)
    [item] = list_embedded(path)
    assert item.info.error and "no embedded file stream" in item.info.error


def test_large_xml_is_listed_without_bytes(tmp_path: Path) -> None:
    pdf = build_pdfa3(tmp_path / "a3.pdf", etda_invoice_xml())
    [item] = list_embedded(pdf, keep_data_up_to=100)
    assert item.data is None and item.info.error and "too large" in item.info.error
    assert item.info.sha256  # still hashed and listed


@pytest.mark.corpus
def test_zugferd_corpus_names_and_relationships() -> None:
    seen: dict[str, set[str]] = {}
    for pdf in corpus_path("zugferd").rglob("*.pdf"):
        for item in list_embedded(pdf):
            seen.setdefault(item.info.name.lower(), set()).add(item.info.af_relationship or "")
    assert seen["factur-x.xml"] >= {"Data", "Alternative"}
    assert "Alternative" in seen["zugferd-invoice.xml"]
    assert "Unspecified" in seen["aufmass.png"]
