"""Rules modelled as veraPDF models them, on generated files (issue 19): each case has a
file that must pass and its twin that must fail, so a rule that is too strict and one
that is too lenient both show. No corpus file is used."""

from __future__ import annotations

import re

import pikepdf
import pytest

from archive.pdfa import check_pdfa
from archive.pdfa.report import PdfaReport
from tests.archive.pdfa.fixtures import create_pdfa


def failed(report: PdfaReport) -> set[str]:
    return {f"{f.clause}-{f.test}" for f in report.failures}


def nest(depth: int, body: bytes = b"0 0 1 rg 10 10 50 50 re f") -> bytes:
    return b"q " * depth + body + b" Q" * depth


def _form(pdf: pikepdf.Pdf, content: bytes, **extra: object) -> pikepdf.Stream:
    return pdf.make_stream(content, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                           BBox=[0, 0, 100, 100], Resources=pikepdf.Dictionary(), **extra)


# -- PDF/A-1 6.1.12-8 (-2/-3 6.1.13-8): q/Q nesting, per content stream ---------------------


def _page_calls_form(page_depth: int, form_depth: int):  # type: ignore[no-untyped-def]
    def mutate(pdf: pikepdf.Pdf) -> None:
        page = pdf.pages[0].obj
        page.Resources = pikepdf.Dictionary(
            XObject=pikepdf.Dictionary(F1=_form(pdf, nest(form_depth))))
        page.Contents = pdf.make_stream(nest(page_depth, b"/F1 Do"))

    return mutate


@pytest.mark.parametrize(("part", "flavour", "label"), [(1, "1b", "6.1.12-8"),
                                                        (2, "2b", "6.1.13-8")])
def test_q_depth_counts_each_content_stream_on_its_own(part: int, flavour: str,
                                                       label: str) -> None:
    # 20 levels on the page and 20 inside the form it draws: 40 in all, 20 per stream.
    valid = check_pdfa(create_pdfa(part, mutate=_page_calls_form(20, 20)), flavour)
    assert label not in failed(valid), valid.failures
    assert valid.compliant, valid.failures
    # The twins: 29 levels inside one stream, on the page or in the form.
    page_deep = check_pdfa(create_pdfa(part, mutate=_page_calls_form(29, 1)), flavour)
    assert label in failed(page_deep)
    form_deep = check_pdfa(create_pdfa(part, mutate=_page_calls_form(1, 29)), flavour)
    assert label in failed(form_deep)


def test_q_depth_28_passes_and_29_fails() -> None:
    assert check_pdfa(create_pdfa(1, content=nest(28)), "1b").compliant
    assert "6.1.12-8" in failed(check_pdfa(create_pdfa(1, content=nest(29)), "1b"))


def test_q_depth_ignores_unbalanced_Q_before_the_nesting() -> None:
    # A Q with nothing saved restores nothing; it does not let the next q's go deeper.
    ok = check_pdfa(create_pdfa(1, content=b"Q Q Q " + nest(28)), "1b")
    assert ok.compliant, ok.failures
    bad = check_pdfa(create_pdfa(1, content=b"Q Q Q " + nest(29)), "1b")
    assert "6.1.12-8" in failed(bad)


def _annotation_with_appearance(depth: int):  # type: ignore[no-untyped-def]
    def mutate(pdf: pikepdf.Pdf) -> None:
        page = pdf.pages[0].obj
        page.Contents = pdf.make_stream(nest(20))
        annot = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Square, Rect=[10, 10, 60, 60],
            F=4, AP=pikepdf.Dictionary(N=_form(pdf, nest(depth)))))
        page.Annots = pdf.make_indirect([annot])

    return mutate


def test_q_depth_of_annotation_appearances_is_their_own() -> None:
    ok = check_pdfa(create_pdfa(1, mutate=_annotation_with_appearance(20)), "1b")
    assert ok.compliant, ok.failures
    bad = check_pdfa(create_pdfa(1, mutate=_annotation_with_appearance(29)), "1b")
    assert "6.1.12-8" in failed(bad)


def _tiling_pattern(depth: int):  # type: ignore[no-untyped-def]
    def mutate(pdf: pikepdf.Pdf) -> None:
        page = pdf.pages[0].obj
        pattern = pdf.make_stream(
            nest(depth), Type=pikepdf.Name.Pattern, PatternType=1, PaintType=1,
            TilingType=1, BBox=[0, 0, 10, 10], XStep=10, YStep=10,
            Resources=pikepdf.Dictionary())
        page.Resources = pikepdf.Dictionary(Pattern=pikepdf.Dictionary(P1=pattern))
        page.Contents = pdf.make_stream(
            nest(20, b"/Pattern cs /P1 scn 10 10 50 50 re f"))

    return mutate


def test_q_depth_of_patterns_is_their_own() -> None:
    ok = check_pdfa(create_pdfa(1, mutate=_tiling_pattern(20)), "1b")
    assert "6.1.12-8" not in failed(ok), ok.failures
    bad = check_pdfa(create_pdfa(1, mutate=_tiling_pattern(29)), "1b")
    assert "6.1.12-8" in failed(bad)


# -- PDF/A-1 6.1.4-3: no cross-reference streams, from the bytes ------------------------------


def _startxref_to(data: bytes, target: bytes) -> bytes:
    """Point startxref at the object whose header is ``target`` (an ordinary object)."""
    m = re.search(rb"startxref\s+(\d+)", data)
    assert m is not None
    offset = data.index(target) + 1  # the object number, after the EOL
    new = str(offset).encode().ljust(len(m.group(1)))
    return data[:m.start(1)] + new + data[m.end(1):]


def test_broken_startxref_is_not_an_xref_stream() -> None:
    # A classic file whose startxref points at an ordinary object: qpdf repairs the
    # cross-reference table by scanning; the file still holds no xref stream.
    data = create_pdfa(1, patch=lambda d: _startxref_to(d, b"\n1 0 obj") if b"\n1 0 obj"
                       in d else d)
    report = check_pdfa(data, "1b")
    assert report.error is None
    assert "6.1.4-3" not in failed(report), report.failures


def test_real_xref_stream_fails_pdfa1() -> None:
    def save_with_xref_stream(data: bytes) -> bytes:
        import io

        pdf = pikepdf.open(io.BytesIO(data))
        out = io.BytesIO()
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                 fix_metadata_version=False)
        return out.getvalue()

    report = check_pdfa(create_pdfa(1, patch=save_with_xref_stream), "1b")
    assert "6.1.4-3" in failed(report)
    plain = check_pdfa(create_pdfa(1), "1b")
    assert "6.1.4-3" not in failed(plain)


# -- PDF/A-1 6.5.3-5 (-2/-3/-4 6.3.3-3): a button widget's N is an appearance subdictionary ----


def _button(normal: str, field_ft_on_parent: bool = True, extra_ap: bool = False):  # type: ignore[no-untyped-def]  # noqa: E501
    def mutate(pdf: pikepdf.Pdf) -> None:
        page = pdf.pages[0].obj
        on = _form(pdf, b"0 0 0 rg 2 2 10 10 re f")
        off = _form(pdf, b"")
        n: object
        if normal == "states":
            n = pikepdf.Dictionary(Yes=on, Off=off)
        elif normal == "stream":
            n = on
        else:  # a dictionary whose states are not appearance streams
            n = pikepdf.Dictionary(Yes=pikepdf.Dictionary(), Off=pikepdf.Dictionary())
        ap = pikepdf.Dictionary(N=n)
        if extra_ap:
            ap.D = pikepdf.Dictionary(Yes=on, Off=off)
        widget = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget,
                                    Rect=[20, 20, 34, 34], F=4, P=page, AS=pikepdf.Name.Off,
                                    AP=ap)
        if field_ft_on_parent:
            parent = pdf.make_indirect(pikepdf.Dictionary(
                FT=pikepdf.Name.Btn, T=pikepdf.String("agree"), V=pikepdf.Name.Off))
            widget.Parent = parent
            w = pdf.make_indirect(widget)
            parent.Kids = pikepdf.Array([w])
            fields = [parent]
        else:
            widget.FT = pikepdf.Name.Btn
            widget.T = pikepdf.String("agree")
            w = pdf.make_indirect(widget)
            fields = [w]
        page.Annots = pdf.make_indirect([w])
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=fields)

    return mutate


@pytest.mark.parametrize("on_parent", [True, False])
def test_button_with_appearance_states_passes(on_parent: bool) -> None:
    report = check_pdfa(create_pdfa(1, mutate=_button("states", on_parent)), "1b")
    assert report.compliant, report.failures


def test_button_with_a_single_appearance_stream_fails() -> None:
    report = check_pdfa(create_pdfa(1, mutate=_button("stream")), "1b")
    assert "6.5.3-5" in failed(report)
    assert "6.5.3-6" not in failed(report)


def test_button_states_must_be_appearance_streams() -> None:
    report = check_pdfa(create_pdfa(1, mutate=_button("empty")), "1b")
    assert "6.5.3-5" in failed(report)


def test_button_rules_apply_when_the_appearance_holds_only_n() -> None:
    # /D next to /N already fails 6.5.3-4; the N rules (veraPDF: AP == "N") stay silent.
    report = check_pdfa(create_pdfa(1, mutate=_button("stream", extra_ap=True)), "1b")
    assert "6.5.3-4" in failed(report)
    assert not {"6.5.3-5", "6.5.3-6"} & failed(report)


# -- PDF/A-4 6.1.8-1: object header layout from the raw bytes ---------------------------------


def _header_after_spaces(data: bytes) -> bytes:
    """'\\n5 0 obj\\n<< /' becomes '\\n 5 0 obj\\n<</': same length, the xref offset now
    lands on a space before the object number (qpdf reads on; the layout is wrong)."""
    m = re.search(rb"\n(\d+) 0 obj\n<< /", data)
    assert m is not None
    num = m.group(1)
    old = b"\n" + num + b" 0 obj\n<< /"
    new = b"\n " + num + b" 0 obj\n<</"
    return data.replace(old, new, 1)


def test_object_number_after_spaces_fails_pdfa4() -> None:
    report = check_pdfa(create_pdfa(4, patch=_header_after_spaces), "4")
    assert report.error is None
    assert "6.1.8-1" in failed(report)
    twin = check_pdfa(create_pdfa(4), "4")
    assert twin.compliant, twin.failures


def test_object_number_after_spaces_fails_pdfa1_and_2() -> None:
    assert "6.1.8-1" in failed(check_pdfa(create_pdfa(1, patch=_header_after_spaces), "1b"))
    assert "6.1.9-1" in failed(check_pdfa(create_pdfa(2, patch=_header_after_spaces), "2b"))


# -- XMP extension schemas: PDF/A-1 6.7.9-2, -2/-3 6.6.2.3.1-1/2 -------------------------------

_EXT = """<pdfaExtension:schemas xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
   xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
   xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"
   xmlns:pdfaType="http://www.aiim.org/pdfa/ns/type#"
   xmlns:pdfaField="http://www.aiim.org/pdfa/ns/field#"><rdf:Bag><rdf:li rdf:parseType="Resource">
  <pdfaSchema:schema>Invoice</pdfaSchema:schema>
  <pdfaSchema:namespaceURI>http://example.org/invoice/1.0/</pdfaSchema:namespaceURI>
  <pdfaSchema:prefix>inv</pdfaSchema:prefix>
  <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
    <pdfaProperty:name>{name}</pdfaProperty:name>
    {value_type}
    <pdfaProperty:category>external</pdfaProperty:category>
    <pdfaProperty:description>Document type</pdfaProperty:description>
  </rdf:li></rdf:Seq></pdfaSchema:property>
  {types}
 </rdf:li></rdf:Bag></pdfaExtension:schemas>
 <inv:DocType xmlns:inv="http://example.org/invoice/1.0/">{value}</inv:DocType>"""

_PARTY_TYPE = """<pdfaSchema:valueType><rdf:Seq><rdf:li rdf:parseType="Resource">
    <pdfaType:type>Party</pdfaType:type>
    <pdfaType:namespaceURI>http://example.org/invoice/party/</pdfaType:namespaceURI>
    <pdfaType:prefix>party</pdfaType:prefix>
    <pdfaType:description>A party</pdfaType:description>
    <pdfaType:field><rdf:Seq><rdf:li rdf:parseType="Resource">
      <pdfaField:name>name</pdfaField:name>
      <pdfaField:valueType>Text</pdfaField:valueType>
      <pdfaField:description>Name</pdfaField:description>
    </rdf:li></rdf:Seq></pdfaType:field>
  </rdf:li></rdf:Seq></pdfaSchema:valueType>"""


def _extension(value_type: str | None, name: str = "DocType", value: str = "T01",
               types: str = "") -> str:
    vt = (f"<pdfaProperty:valueType>{value_type}</pdfaProperty:valueType>"
          if value_type is not None else "")
    return _EXT.format(name=name, value_type=vt, types=types, value=value)


@pytest.mark.parametrize(("part", "flavour", "defined", "typed", "ext"),
                         [(1, "1b", "6.7.9-2", "6.7.9-3", "6.7.8-9"),
                          (2, "2b", "6.6.2.3.1-1", "6.6.2.3.1-2", "6.6.2.3.3-8")])
def test_declared_value_types_as_verapdf_reads_them(part: int, flavour: str, defined: str,
                                                   typed: str, ext: str) -> None:
    # "Closed Choice" alone, and "Closed Choice of" inside an array type, are Text.
    for vt in ("Closed Choice", "Open Choice of Text", "Text"):
        report = check_pdfa(create_pdfa(part, xmp_extra=_extension(vt)), flavour)
        assert report.compliant, (vt, report.failures)
    # A value type defined by the schema is found whatever its case.
    party = _extension("party", value="<rdf:Description><party:name xmlns:party="
                       '"http://example.org/invoice/party/">ACME</party:name>'
                       "</rdf:Description>", types=_PARTY_TYPE)
    report = check_pdfa(create_pdfa(part, xmp_extra=party), flavour)
    assert report.compliant, report.failures
    # Twins: an undeclared property, and a value that is not of the declared type.
    undeclared = check_pdfa(create_pdfa(part, xmp_extra=_extension("Text", name="Other")),
                            flavour)
    assert defined in failed(undeclared)
    wrong = check_pdfa(create_pdfa(part, xmp_extra=_extension("Integer", value="T01")),
                       flavour)
    assert typed in failed(wrong)


def test_property_without_value_type_is_not_declared() -> None:
    # veraPDF registers a property only with both a name and a value type.
    report = check_pdfa(create_pdfa(2, xmp_extra=_extension(None)), "2b")
    assert "6.6.2.3.1-1" in failed(report)


# -- PDF/A-1 6.7.3: the information dictionary agrees with the XMP ----------------------------


def _info(**entries: str):  # type: ignore[no-untyped-def]
    def mutate(pdf: pikepdf.Pdf) -> None:
        pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary(
            {f"/{k}": pikepdf.String(v) for k, v in entries.items()}))

    return mutate


def _check_info(xmp_extra: str = "", **entries: str) -> PdfaReport:
    return check_pdfa(create_pdfa(1, xmp_extra=xmp_extra, mutate=_info(**entries)), "1b")


def test_dates_agree_across_time_zones() -> None:
    # The XMP says 2025-01-02T10:00:00+07:00.
    for same in ("D:20250102100000+07'00'", "D:20250102030000Z", "D:20250102030000+00'00'",
                 "D:20250101220000-05'00'"):
        report = _check_info(CreationDate=same)
        assert report.compliant, (same, report.failures)
    for other in ("D:20250102100000Z", "D:20250102100000+07'00'junk", "D:20250102"):
        assert "6.7.3-1" in failed(_check_info(CreationDate=other)), other


def test_dates_compare_fractions_of_a_second() -> None:
    fraction = "<xmp:ModifyDate>2025-01-02T10:00:00.500+07:00</xmp:ModifyDate>"
    assert "6.7.3-8" in failed(_check_info(fraction, ModDate="D:20250102100000+07'00'"))
    whole = "<xmp:ModifyDate>2025-01-02T10:00:00.000+07:00</xmp:ModifyDate>"
    report = _check_info(whole, ModDate="D:20250102100000+07'00'")
    assert report.compliant, report.failures


def test_title_is_the_x_default_entry() -> None:
    assert _check_info(Title="Receipt 2568/001").compliant
    assert "6.7.3-2" in failed(_check_info(Title="Receipt 2568/002"))


def test_author_needs_exactly_one_creator() -> None:
    one = "<dc:creator><rdf:Seq><rdf:li>Somchai</rdf:li></rdf:Seq></dc:creator>"
    assert _check_info(one, Author="Somchai").compliant
    two = ("<dc:creator><rdf:Seq><rdf:li>Somchai</rdf:li><rdf:li>Malee</rdf:li></rdf:Seq>"
           "</dc:creator>")
    assert "6.7.3-3" in failed(_check_info(two, Author="Somchai"))


def test_producer_and_keywords_agree() -> None:
    pdf_ns = ('<pdf:Producer xmlns:pdf="http://ns.adobe.com/pdf/1.3/">Scanner 2.0</pdf:Producer>'
              '<pdf:Keywords xmlns:pdf="http://ns.adobe.com/pdf/1.3/">tax, 2568</pdf:Keywords>')
    assert _check_info(pdf_ns, Producer="Scanner 2.0", Keywords="tax, 2568").compliant
    assert "6.7.3-7" in failed(_check_info(pdf_ns, Producer="Scanner 2.0 "))
    assert "6.7.3-5" in failed(_check_info(pdf_ns, Keywords="tax; 2568"))
    assert "6.7.3-5" in failed(_check_info("", Keywords="tax"))


# -- XMP packets of other objects (PDF/A-2 and later; veraPDF skips them for PDF/A-1) ---------

_PAGE_PACKET = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:inv="http://example.org/invoice/1.0/">
  <inv:{name}>T01</inv:{name}>
 </rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def _page_metadata(name: str, packet: str | None = None):  # type: ignore[no-untyped-def]
    def mutate(pdf: pikepdf.Pdf) -> None:
        body = (packet or _PAGE_PACKET.format(name=name)).encode()
        pdf.pages[0].obj.Metadata = pdf.make_stream(
            body, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)

    return mutate


def test_page_packet_may_use_schemas_declared_in_the_catalog_packet() -> None:
    declared = _extension("Text")  # the catalog declares inv:DocType
    ok = check_pdfa(create_pdfa(2, xmp_extra=declared, mutate=_page_metadata("DocType")),
                    "2b")
    assert ok.compliant, ok.failures
    bad = check_pdfa(create_pdfa(2, xmp_extra=declared, mutate=_page_metadata("Other")),
                     "2b")
    assert "6.6.2.3.1-1" in failed(bad)


def test_page_packets_are_not_checked_for_pdfa1() -> None:
    report = check_pdfa(create_pdfa(1, mutate=_page_metadata("Other")), "1b")
    assert report.compliant, report.failures


def test_unreadable_page_packet_fails_pdfa2() -> None:
    report = check_pdfa(create_pdfa(2, mutate=_page_metadata("", "<x:xmpmeta><oops")), "2b")
    assert "6.6.2.1-4" in failed(report)
