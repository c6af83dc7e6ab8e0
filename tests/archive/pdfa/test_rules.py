"""Each rule family against small generated files: a valid file passes, a broken one fails
with the right clause. No corpus needed."""

from __future__ import annotations

import pikepdf
import pytest

from archive.pdfa import check_pdfa
from archive.pdfa.report import PdfaReport
from tests.archive.pdfa.fixtures import create_pdfa, same_length


def failed(report: PdfaReport) -> set[str]:
    return {f"{f.clause}-{f.test}" for f in report.failures}


@pytest.mark.parametrize(("part", "conformance", "flavour"),
                         [(1, "B", "1b"), (2, "B", "2b"), (2, "U", "2u"), (3, "B", "3b"),
                          (4, None, "4")])
def test_valid_files_pass(part: int, conformance: str | None, flavour: str) -> None:
    report = check_pdfa(create_pdfa(part, conformance))
    assert report.error is None
    assert report.claimed == flavour and report.flavour == flavour
    assert report.compliant, report.failures


def test_auto_without_claim_fails_identification() -> None:
    data = create_pdfa(2, mutate=lambda pdf: pdf.Root.__delattr__("Metadata"))
    report = check_pdfa(data)
    assert not report.compliant and report.claimed is None
    assert failed(report) == {"6.6.4-1"}


def test_explicit_flavour_overrides_the_claim() -> None:
    report = check_pdfa(create_pdfa(2), flavour="1b")
    assert report.claimed == "2b" and report.flavour == "1b"
    assert "6.7.11-2" in failed(report)  # pdfaid:part says 2, checked as part 1


# -- file structure ------------------------------------------------------------------------


def test_encryption_is_forbidden() -> None:
    data = create_pdfa(2, encryption=pikepdf.Encryption(owner="secret", user="", R=4))
    report = check_pdfa(data, "2b")
    assert "6.1.3-2" in failed(report)


def test_missing_trailer_id() -> None:
    def drop_id(data: bytes) -> bytes:
        start = data.rindex(b"/ID [")
        end = data.index(b"]", start) + 1
        return data[:start] + b" " * (end - start) + data[end:]

    report = check_pdfa(create_pdfa(2, patch=drop_id))
    assert "6.1.3-1" in failed(report)


def test_data_after_eof() -> None:
    report = check_pdfa(create_pdfa(1, "B") + b"trailing junk\n")
    assert "6.1.3-3" in failed(report)


def test_lzw_filter_is_forbidden() -> None:
    def add_stream(pdf: pikepdf.Pdf) -> None:
        pdf.Root.Extra = pdf.make_stream(b"x" * 100)

    # qpdf re-encodes LZW on save, so the filter name is swapped in the written bytes
    patch = same_length(b"/Filter /FlateDecode", b"/Filter /LZWDecode")
    for part, clause in ((1, "6.1.10-1"), (2, "6.1.7.2-1")):
        data = create_pdfa(part, "B", mutate=add_stream, patch=patch)
        assert clause in failed(check_pdfa(data))


def test_odd_hex_string() -> None:
    def add_string(pdf: pikepdf.Pdf) -> None:
        pdf.Root.Note = pikepdf.String("AAA")

    data = create_pdfa(2, mutate=add_string, patch=same_length(b"(AAA)", b"<414>"))
    assert "6.1.6-1" in failed(check_pdfa(data))


def test_angle_brackets_in_literal_text_are_not_hex_strings() -> None:
    good = b"0 0 1 rg 10 10 50 50 re f /Span << /ActualText (a <b> c) >> BDC EMC"
    assert "6.1.6-2" not in failed(check_pdfa(create_pdfa(2, content=good)))
    bad = b"0 0 1 rg 10 10 50 50 re f /Span << /ActualText <4G41> >> BDC EMC"
    assert "6.1.6-2" in failed(check_pdfa(create_pdfa(2, content=bad)))


def test_role_map_names_must_be_utf8() -> None:
    def role_map(pdf: pikepdf.Pdf) -> None:
        pdf.Root.StructTreeRoot = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructTreeRoot,
            RoleMap=pikepdf.Dictionary(Invoice=pikepdf.Name("/DocumentXXX"))))

    patch = same_length(b"/DocumentXXX", b"/Document#c2")
    assert "6.1.7-1" in failed(check_pdfa(create_pdfa(4, None, mutate=role_map, patch=patch)))
    assert "6.1.8-1" in failed(check_pdfa(create_pdfa(2, mutate=role_map, patch=patch)))
    assert "6.1.8-1" not in failed(check_pdfa(create_pdfa(2, mutate=role_map)))


def test_integer_limit_in_content_stream() -> None:
    data = create_pdfa(1, "B", content=b"0 0 1 rg 10 10 50 50 re f 3000000000 w")
    assert "6.1.12-1" in failed(check_pdfa(data))


def test_stream_length_must_match() -> None:
    def lie(data: bytes) -> bytes:
        # the XMP stream is stored uncompressed; make its /Length one byte short
        at = data.rindex(b"/Length ", 0, data.index(b"<?xpacket"))
        end = data.index(b" ", at + 8)
        length = int(data[at + 8:end])
        shorter = str(length - 1).encode().rjust(len(str(length)))
        return data[:at + 8] + shorter + data[end:]

    assert "6.1.7.1-1" in failed(check_pdfa(create_pdfa(2, patch=lie)))


# -- graphics --------------------------------------------------------------------------------


def test_device_rgb_needs_an_output_intent() -> None:
    assert "6.2.3.3-1" in failed(check_pdfa(create_pdfa(1, "B", output_intent=None)))
    assert "6.2.4.3-2" in failed(check_pdfa(create_pdfa(2, output_intent=None)))
    # a CMYK intent does not cover RGB either
    assert "6.2.4.3-2" in failed(check_pdfa(create_pdfa(2, output_intent=b"CMYK")))


def test_default_rgb_covers_device_rgb() -> None:
    def default_rgb(pdf: pikepdf.Pdf) -> None:
        icc = pdf.make_stream(pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes(), N=3)
        pdf.pages[0].obj.Resources.ColorSpace = pikepdf.Dictionary(
            DefaultRGB=pikepdf.Array([pikepdf.Name.ICCBased, icc]))
        del pdf.Root.OutputIntents

    assert check_pdfa(create_pdfa(2, mutate=default_rgb)).compliant


def _with_gstate(**entries: object) -> object:
    def mutate(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].obj.Resources.ExtGState = pikepdf.Dictionary(
            GS0=pikepdf.Dictionary(**entries))

    return mutate


def test_transparency_forbidden_in_part_1_only() -> None:
    content = b"/GS0 gs 0 0 1 rg 10 10 50 50 re f"
    mutate = _with_gstate(ca=0.5)
    assert "6.4-6" in failed(check_pdfa(create_pdfa(1, "B", content=content, mutate=mutate)))
    assert check_pdfa(create_pdfa(2, content=content, mutate=mutate)).compliant


def test_transfer_function_in_graphics_state() -> None:
    content = b"/GS0 gs 0 0 1 rg 10 10 50 50 re f"
    report = check_pdfa(create_pdfa(2, content=content, mutate=_with_gstate(
        TR=pikepdf.Name.Identity)))
    assert "6.2.5-1" in failed(report)


def test_unused_graphics_state_is_not_checked() -> None:
    # veraPDF judges what the content uses; an unused resource does not fail the file
    assert check_pdfa(create_pdfa(1, "B", mutate=_with_gstate(ca=0.5))).compliant


def test_undefined_operator() -> None:
    report = check_pdfa(create_pdfa(2, content=b"0 0 1 rg 10 10 50 50 re f foo"))
    assert "6.2.2-1" in failed(report)


def test_interpolated_image() -> None:
    def image(pdf: pikepdf.Pdf) -> None:
        img = pdf.make_stream(b"\x00\x00\xff", Type=pikepdf.Name.XObject,
                              Subtype=pikepdf.Name.Image, Width=1, Height=1,
                              ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8,
                              Interpolate=True)
        pdf.pages[0].obj.Resources.XObject = pikepdf.Dictionary(Im0=img)

    report = check_pdfa(create_pdfa(2, content=b"q 50 0 0 50 0 0 cm /Im0 Do Q",
                                    mutate=image))
    assert failed(report) == {"6.2.8-3"}


def test_output_intent_profile_version() -> None:
    def v4(pdf: pikepdf.Pdf) -> None:
        prof = pdf.Root.OutputIntents[0].DestOutputProfile
        data = bytearray(prof.read_bytes())
        data[8] = 4
        prof.write(bytes(data))

    assert "6.2.2-1" in failed(check_pdfa(create_pdfa(1, "B", mutate=v4)))
    assert check_pdfa(create_pdfa(2, mutate=v4)).compliant  # ICC v4 is fine from part 2


# -- annotations, forms, actions ---------------------------------------------------------------


def _annot(**entries: object) -> object:
    def mutate(pdf: pikepdf.Pdf) -> None:
        a = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Rect=[0, 0, 10, 10], **entries)
        pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([a]))

    return mutate


def test_forbidden_annotation_type() -> None:
    report = check_pdfa(create_pdfa(1, "B", mutate=_annot(Subtype=pikepdf.Name.Sound, F=4)))
    assert "6.5.2-1" in failed(report)


def test_annotation_must_print() -> None:
    report = check_pdfa(create_pdfa(2, mutate=_annot(Subtype=pikepdf.Name.Link, F=2)))
    assert "6.3.2-2" in failed(report)


def test_link_annotation_needs_no_appearance() -> None:
    assert check_pdfa(create_pdfa(2, mutate=_annot(Subtype=pikepdf.Name.Link, F=4))).compliant


def test_javascript_action() -> None:
    def js(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                                 JS=pikepdf.String("app.alert(1)"))

    assert "6.6.1-1" in failed(check_pdfa(create_pdfa(1, "B", mutate=js)))
    assert "6.5.1-1" in failed(check_pdfa(create_pdfa(2, mutate=js)))
    assert check_pdfa(create_pdfa(4, None, mutate=js)).compliant  # PDF/A-4 allows JavaScript


def test_need_appearances() -> None:
    def form(pdf: pikepdf.Pdf) -> None:
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[], NeedAppearances=True)

    assert "6.4.1-3" in failed(check_pdfa(create_pdfa(2, mutate=form)))


# -- embedded files ------------------------------------------------------------------------


def _attach(relationship: bool) -> object:
    def mutate(pdf: pikepdf.Pdf) -> None:
        ef = pdf.make_stream(b"<Invoice/>", Type=pikepdf.Name.EmbeddedFile,
                             Subtype=pikepdf.Name("/application#2Fxml"))
        spec = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Filespec, F=pikepdf.String("ETDA-invoice.xml"),
            UF=pikepdf.String("ETDA-invoice.xml"), EF=pikepdf.Dictionary(F=ef)))
        if relationship:
            spec.AFRelationship = pikepdf.Name.Alternative
            pdf.Root.AF = pikepdf.Array([spec])
        pdf.Root.Names = pikepdf.Dictionary(EmbeddedFiles=pikepdf.Dictionary(
            Names=[pikepdf.String("ETDA-invoice.xml"), spec]))

    return mutate


def test_embedded_files() -> None:
    assert {"6.1.11-1", "6.1.11-2"} <= failed(check_pdfa(create_pdfa(1, "B",
                                                                     mutate=_attach(True))))
    # PDF/A-2 accepts only PDF/A files as attachments
    assert "6.8-5" in failed(check_pdfa(create_pdfa(2, mutate=_attach(True))))
    # PDF/A-3 (the Thai e-Tax "by e-mail" shape) accepts XML with AFRelationship
    assert check_pdfa(create_pdfa(3, mutate=_attach(True))).compliant
    assert {"6.8-3", "6.8-4"} <= failed(check_pdfa(create_pdfa(3, mutate=_attach(False))))


# -- metadata ------------------------------------------------------------------------------


def test_xmp_value_type() -> None:
    bad = "<xmp:ModifyDate>yesterday</xmp:ModifyDate>"
    assert "6.7.9-3" in failed(check_pdfa(create_pdfa(1, "B", xmp_extra=bad)))
    assert "6.6.2.3.1-2" in failed(check_pdfa(create_pdfa(2, xmp_extra=bad)))


def test_xmp_undefined_property_needs_extension_schema() -> None:
    prop = '<xmp:Colour xmlns:xmp="http://ns.adobe.com/xap/1.0/">red</xmp:Colour>'
    assert "6.6.2.3.1-1" in failed(check_pdfa(create_pdfa(2, xmp_extra=prop)))


def test_extension_schema_defines_a_property() -> None:
    ext = """<inv:TaxID xmlns:inv="urn:example:inv#">0994000123456</inv:TaxID>
    <pdfaExtension:schemas xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
        xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
        xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"><rdf:Bag><rdf:li
        rdf:parseType="Resource"><pdfaSchema:schema>Invoice</pdfaSchema:schema>
      <pdfaSchema:namespaceURI>urn:example:inv#</pdfaSchema:namespaceURI>
      <pdfaSchema:prefix>inv</pdfaSchema:prefix>
      <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
        <pdfaProperty:name>TaxID</pdfaProperty:name>
        <pdfaProperty:valueType>Text</pdfaProperty:valueType>
        <pdfaProperty:category>external</pdfaProperty:category>
        <pdfaProperty:description>Seller tax ID</pdfaProperty:description>
      </rdf:li></rdf:Seq></pdfaSchema:property></rdf:li></rdf:Bag></pdfaExtension:schemas>"""
    assert check_pdfa(create_pdfa(2, xmp_extra=ext)).compliant
    broken = ext.replace("<pdfaProperty:category>external</pdfaProperty:category>", "")
    assert "6.6.2.3.3-9" in failed(check_pdfa(create_pdfa(2, xmp_extra=broken)))


def test_info_must_match_xmp_in_part_1() -> None:
    def info(pdf: pikepdf.Pdf) -> None:
        pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary(Title=pikepdf.String("Other")))

    assert "6.7.3-2" in failed(check_pdfa(create_pdfa(1, "B", mutate=info)))


def test_part_4_needs_rev_and_no_info() -> None:
    def info(pdf: pikepdf.Pdf) -> None:
        pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary(Title=pikepdf.String("x")))

    assert {"6.1.3-4", "6.1.3-5"} <= failed(check_pdfa(create_pdfa(4, None, mutate=info)))


def test_level_a_needs_structure() -> None:
    assert {"6.7.2.2-1", "6.7.3.3-1"} <= failed(check_pdfa(create_pdfa(2, "A")))


# -- the shared context --------------------------------------------------------------------


def test_context_records_fonts_with_pages_and_render_modes() -> None:
    from archive.pdfa.context import DocContext

    def font(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].obj.Resources.Font = pikepdf.Dictionary(F1=pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica))

    data = create_pdfa(2, content=b"BT /F1 12 Tf 3 Tr (hidden) Tj ET", mutate=font)
    with pikepdf.open(__import__("io").BytesIO(data)) as pdf:
        ctx = DocContext(data, pdf, "2b")
        uses = list(ctx.iter_used_fonts())
        assert len(uses) == 1
        assert uses[0].pages == {0} and uses[0].render_modes == {3}
        assert not uses[0].rendered
        assert (b"hidden", 3, False) in uses[0].shows


def test_self_referencing_form_does_not_loop() -> None:
    def loop(pdf: pikepdf.Pdf) -> None:
        form = pdf.make_stream(b"/X0 Do", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                               BBox=[0, 0, 10, 10])
        form.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(X0=form))
        pdf.pages[0].obj.Resources.XObject = pikepdf.Dictionary(X0=form)

    report = check_pdfa(create_pdfa(2, content=b"/X0 Do", mutate=loop))
    assert report.error is None
