"""More issue-19 rules on generated files, each with a valid twin, read against veraPDF's
rule text (the profiles in ../shared/corpus/verapdf-profiles): button appearances
(PDF/A-1 6.5.3-5/-6, -2/-4 6.3.3-3/-4), the catalog's metadata stream (PDF/A-1 6.7.2-1/-2,
-2 6.6.2.1-1) and the rest of the Info/XMP agreement of PDF/A-1 6.7.3 (the cases
test_unseen_rules.py does not already make). No corpus file is used."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

import pikepdf
import pytest

from archive.pdfa import check_pdfa
from archive.pdfa.report import PdfaReport
from tests.archive.pdfa.fixtures import create_pdfa

Mutate = Callable[[pikepdf.Pdf], None]


def failed(report: PdfaReport) -> set[str]:
    return {f"{f.clause}-{f.test}" for f in report.failures}


def _appearance(pdf: pikepdf.Pdf, body: bytes = b"0 0 0 rg 2 2 10 10 re f") -> pikepdf.Stream:
    return pdf.make_stream(body, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                           BBox=[0, 0, 14, 14], Resources=pikepdf.Dictionary())


# -- button widgets: "the value of the N key shall be an appearance subdictionary" ----------
# veraPDF: AP != "N" || Subtype != "Widget" || FT != "Btn"
#          || (N_type == "Dict" && containsAppearances == true)
# and for every other annotation: AP != "N" || (Widget && Btn) || N_type == "Stream".

def _widget(field_type: str, normal: str, *, kids: bool = True) -> Mutate:
    def mutate(pdf: pikepdf.Pdf) -> None:
        page = pdf.pages[0].obj
        n: object
        if normal == "states":
            n = pikepdf.Dictionary(Yes=_appearance(pdf), Off=_appearance(pdf, b""))
        elif normal == "one state":
            n = pikepdf.Dictionary(Yes=_appearance(pdf))
        elif normal == "stream":
            n = _appearance(pdf)
        elif normal == "empty":
            n = pikepdf.Dictionary()
        else:  # "names": states that name things instead of drawing them
            n = pikepdf.Dictionary(Yes=pikepdf.Name.Yes, Off=pikepdf.Name.Off)
        widget = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget,
                                    Rect=[20, 20, 34, 34], F=4, P=page,
                                    AP=pikepdf.Dictionary(N=n))
        if normal in ("states", "one state", "names", "empty"):
            widget["/AS"] = pikepdf.Name.Off
        field = pikepdf.Dictionary(FT=pikepdf.Name("/" + field_type), T=pikepdf.String("f1"))
        if kids:  # the field type is inherited from the parent field
            parent = pdf.make_indirect(field)
            widget.Parent = parent
            w = pdf.make_indirect(widget)
            parent.Kids = pikepdf.Array([w])
            fields = [parent]
        else:  # a field merged with its only widget
            for k, v in field.items():
                widget[k] = v
            w = pdf.make_indirect(widget)
            fields = [w]
        page.Annots = pdf.make_indirect([w])
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=fields)

    return mutate


@pytest.mark.parametrize(("part", "flavour", "button", "other"),
                         [(1, "1b", "6.5.3-5", "6.5.3-6"),
                          (2, "2b", "6.3.3-3", "6.3.3-4"),
                          (4, "4", "6.3.3-3", "6.3.3-4")])
@pytest.mark.parametrize("kids", [True, False])
def test_button_normal_appearance_is_a_subdictionary(part: int, flavour: str, button: str,
                                                     other: str, kids: bool) -> None:
    for normal in ("states", "one state"):
        ok = check_pdfa(create_pdfa(part, mutate=_widget("Btn", normal, kids=kids)), flavour)
        assert ok.compliant, (normal, ok.failures)
    for normal in ("stream", "empty", "names"):
        bad = check_pdfa(create_pdfa(part, mutate=_widget("Btn", normal, kids=kids)), flavour)
        assert button in failed(bad), (normal, bad.failures)
        assert other not in failed(bad), normal


@pytest.mark.parametrize(("part", "flavour", "button", "other"),
                         [(1, "1b", "6.5.3-5", "6.5.3-6"), (2, "2b", "6.3.3-3", "6.3.3-4")])
def test_other_fields_need_an_appearance_stream(part: int, flavour: str, button: str,
                                                other: str) -> None:
    # A text field is no button: its N must be a stream, and a subdictionary fails.
    ok = check_pdfa(create_pdfa(part, mutate=_widget("Tx", "stream")), flavour)
    assert ok.compliant, ok.failures
    bad = check_pdfa(create_pdfa(part, mutate=_widget("Tx", "states")), flavour)
    assert other in failed(bad) and button not in failed(bad), bad.failures


# -- the catalog's metadata stream -------------------------------------------------------------
# PDF/A-1 6.7.2-1 / -2 6.6.2.1-1: the catalog holds Metadata, a stream with /Type /Metadata
# and /Subtype /XML; PDF/A-1 6.7.2-2: that stream has no Filter (PDF/A-2 allows one).

def _metadata(**changes: object) -> Mutate:
    def mutate(pdf: pikepdf.Pdf) -> None:
        md = pdf.Root.Metadata
        for key, value in changes.items():
            if value is None:
                del md[f"/{key}"]
            else:
                md[f"/{key}"] = value

    return mutate


def _metadata_as_dictionary(pdf: pikepdf.Pdf) -> None:
    pdf.Root.Metadata = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML))


def _no_metadata(pdf: pikepdf.Pdf) -> None:
    del pdf.Root["/Metadata"]


@pytest.mark.parametrize(("part", "flavour", "label"), [(1, "1b", "6.7.2-1"),
                                                        (2, "2b", "6.6.2.1-1")])
def test_catalog_metadata_stream_with_type_and_subtype(part: int, flavour: str,
                                                       label: str) -> None:
    ok = check_pdfa(create_pdfa(part), flavour)
    assert ok.compliant, ok.failures
    for name, mutate in [("no Type", _metadata(Type=None)),
                         ("no Subtype", _metadata(Subtype=None)),
                         ("Type /XObject", _metadata(Type=pikepdf.Name.XObject)),
                         ("Subtype /Text", _metadata(Subtype=pikepdf.Name.Text)),
                         ("a dictionary", _metadata_as_dictionary),
                         ("absent", _no_metadata)]:
        report = check_pdfa(create_pdfa(part, mutate=mutate), flavour)
        assert label in failed(report), name


def _compressed_metadata(part: int) -> bytes:
    """A valid file whose catalog XMP is Flate-compressed. qpdf always writes the catalog's
    metadata uncompressed, so the file is written here object by object."""
    version = {1: b"1.4", 2: b"1.7"}[part]
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    with pikepdf.open(io.BytesIO(create_pdfa(part))) as pdf:
        md = pdf.Root.Metadata.objgen[0]
        for obj in pdf.objects:
            num = obj.objgen[0]
            if not num:
                continue
            offsets[num] = len(out)
            out += b"%d 0 obj\n" % num
            if isinstance(obj, pikepdf.Stream):
                data = obj.read_raw_bytes()
                head = pikepdf.Dictionary(obj.stream_dict)
                if num == md:
                    data = zlib.compress(obj.read_bytes())
                    head.Filter = pikepdf.Name.FlateDecode
                head["/Length"] = len(data)
                out += head.unparse() + b"\nstream\n" + data + b"\nendstream"
            else:
                out += obj.unparse(resolved=True)
            out += b"\nendobj\n"
        trailer = pikepdf.Dictionary(pdf.trailer)
        size = max(offsets) + 1
        trailer["/Size"] = size
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f\r\n" % size
    for num in range(1, size):
        out += (b"%010d 00000 n\r\n" % offsets[num]) if num in offsets else (
            b"0000000000 00000 f\r\n")
    out += b"trailer\n" + trailer.unparse() + b"\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def test_catalog_metadata_uncompressed_in_pdfa1_only() -> None:
    report = check_pdfa(_compressed_metadata(1), "1b")
    assert "6.7.2-2" in failed(report)
    assert "6.7.2-1" not in failed(report)  # still read: the claim is found
    twin = check_pdfa(_compressed_metadata(2), "2b")
    assert twin.compliant, twin.failures


# -- PDF/A-1 6.7.3: the rest of the Info/XMP agreement -------------------------------------------

def _info(**entries: str | bytes) -> Mutate:
    def mutate(pdf: pikepdf.Pdf) -> None:
        pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary(
            {f"/{k}": pikepdf.String(v) for k, v in entries.items()}))

    return mutate


def _check_info(xmp_extra: str = "", **entries: str | bytes) -> PdfaReport:
    return check_pdfa(create_pdfa(1, xmp_extra=xmp_extra, mutate=_info(**entries)), "1b")


DESCRIPTION = ('<dc:description><rdf:Alt><rdf:li xml:lang="th">ใบเสร็จ</rdf:li>'
               '<rdf:li xml:lang="x-default">Receipt</rdf:li></rdf:Alt></dc:description>')
CREATOR_TOOL = "<xmp:CreatorTool>Writer 7.1</xmp:CreatorTool>"


def test_subject_is_the_x_default_description() -> None:
    ok = _check_info(DESCRIPTION, Subject="Receipt")
    assert ok.compliant, ok.failures
    assert "6.7.3-4" in failed(_check_info(DESCRIPTION, Subject="ใบเสร็จ"))  # not x-default
    assert "6.7.3-4" in failed(_check_info("", Subject="Receipt"))  # no XMP analogue


def test_creator_is_the_creator_tool() -> None:
    ok = _check_info(CREATOR_TOOL, Creator="Writer 7.1")
    assert ok.compliant, ok.failures
    assert "6.7.3-6" in failed(_check_info(CREATOR_TOOL, Creator="Writer 7"))
    assert "6.7.3-6" in failed(_check_info("", Creator="Writer 7.1"))


def test_info_text_in_utf16_compares_as_text() -> None:
    # The same title written as UTF-16BE with a byte order mark is the same text.
    title = "\ufeffReceipt 2568/001".encode("utf-16-be")
    ok = _check_info(Title=title)
    assert ok.compliant, ok.failures
    other = "\ufeffReceipt 2568/002".encode("utf-16-be")
    assert "6.7.3-2" in failed(_check_info(Title=other))


def test_info_entries_without_xmp_analogue_fail_each_its_own_test() -> None:
    # The template's XMP has dc:title and xmp:CreateDate only.
    report = _check_info(Author="Somchai", Keywords="tax", Producer="Scanner",
                         ModDate="D:20250102100000+07'00'")
    assert {"6.7.3-3", "6.7.3-5", "6.7.3-7", "6.7.3-8"} <= failed(report)
    # Entries left out of the Info dictionary need nothing in the XMP.
    assert _check_info().compliant


def test_modification_dates_agree_across_time_zones() -> None:
    modify = "<xmp:ModifyDate>2025-01-02T10:00:00+07:00</xmp:ModifyDate>"
    ok = _check_info(modify, ModDate="D:20250102030000Z")
    assert ok.compliant, ok.failures
    assert "6.7.3-8" in failed(_check_info(modify, ModDate="D:20250102030000+07'00'"))
