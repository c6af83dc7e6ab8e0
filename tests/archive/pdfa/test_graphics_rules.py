"""Graphics rules that follow veraPDF's object model closely: resources inherited from the
page tree (6.2.2-2), names of unused resources (6.1.8-1 / 6.1.7-1), the colour space of 3D
artwork and non-isolated transparency groups (6.2.4.3), and ICC profile identity
(ISO 19005-4 6.2.4.2-3). Small generated files, no corpus needed."""

from __future__ import annotations

import hashlib
import re

import pikepdf

from archive.pdfa import check_pdfa
from archive.pdfa.report import PdfaReport
from archive.pdfa.rules.colour import icc_profile_id
from tests.archive.pdfa.fixtures import create_pdfa, icc_profile, same_length


def failed(report: PdfaReport) -> set[str]:
    return {f"{f.clause}-{f.test}" for f in report.failures}


def _plain_form(pdf: pikepdf.Pdf, content: bytes = b"0 0 1 rg 10 10 50 50 re f",
                **extra: object) -> pikepdf.Stream:
    form = pdf.make_stream(content, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                           BBox=[0, 0, 100, 100], **extra)
    form.Resources = pikepdf.Dictionary()
    return form


# -- 6.2.2-2: resources inherited from the page tree --------------------------------------


def _resources_on_page_tree(pdf: pikepdf.Pdf) -> None:
    page = pdf.pages[0].obj
    del page.Resources
    pdf.Root.Pages.Resources = pikepdf.Dictionary(
        XObject=pikepdf.Dictionary(X0=_plain_form(pdf)))


def _resources_on_page(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].obj.Resources.XObject = pikepdf.Dictionary(X0=_plain_form(pdf))


def test_page_using_resources_inherited_from_the_page_tree() -> None:
    for part in (2, 4):
        report = check_pdfa(create_pdfa(part, content=b"/X0 Do",
                                        mutate=_resources_on_page_tree))
        assert "6.2.2-2" in failed(report), part
        assert check_pdfa(create_pdfa(part, content=b"/X0 Do",
                                      mutate=_resources_on_page)).compliant


def test_page_tree_loop_is_still_unreadable() -> None:
    # files are opened without qpdf copying inherited attributes into the pages; reading the
    # page list must still reject a /Kids loop, as opening did before
    def loop(data: bytes) -> bytes:
        m = re.search(rb"(\d+) 0 obj\n<< /Count 1 /Kids \[ (\d+) 0 R \]", data)
        assert m is not None and len(m.group(1)) == len(m.group(2))
        return data[:m.start(2)] + m.group(1) + data[m.end(2):]

    report = check_pdfa(create_pdfa(2, patch=loop))
    assert report.error is not None and not report.compliant


def test_page_tree_resources_are_fine_when_the_page_names_none() -> None:
    # the default content paints with rg only: nothing is taken from the inherited dict
    assert check_pdfa(create_pdfa(2, mutate=_resources_on_page_tree)).compliant


def test_form_falls_back_on_page_resources_its_own_lack() -> None:
    # the form has /Resources, but not the graphics state it names: the page's is used
    def form_missing_a_name(pdf: pikepdf.Pdf) -> None:
        form = _plain_form(pdf, b"/GS0 gs 0 0 1 rg 1 1 5 5 re f")
        form.Resources.ExtGState = pikepdf.Dictionary(GS1=pikepdf.Dictionary(LW=1))
        res = pdf.pages[0].obj.Resources
        res.XObject = pikepdf.Dictionary(X0=form)
        res.ExtGState = pikepdf.Dictionary(GS0=pikepdf.Dictionary(LW=1))

    report = check_pdfa(create_pdfa(2, content=b"/X0 Do", mutate=form_missing_a_name))
    assert "6.2.2-2" in failed(report)


def test_marked_content_tag_is_not_a_resource_name() -> None:
    def form_without_resources(pdf: pikepdf.Pdf) -> None:
        form = _plain_form(pdf, b"/Span <</ActualText (x)>> BDC 0 0 1 rg 1 1 5 5 re f EMC")
        del form.Resources
        pdf.pages[0].obj.Resources.XObject = pikepdf.Dictionary(X0=form)

    report = check_pdfa(create_pdfa(2, content=b"/X0 Do", mutate=form_without_resources))
    assert "6.2.2-2" not in failed(report)


def test_type3_glyphs_use_their_font_resources() -> None:
    def type3(pdf: pikepdf.Pdf) -> None:
        glyph = pdf.make_stream(b"500 0 d0 /GS0 gs 0 0 100 100 re f")
        font = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type3,
            FontBBox=[0, 0, 100, 100], FontMatrix=[0.001, 0, 0, 0.001, 0, 0],
            CharProcs=pikepdf.Dictionary(a=glyph),
            Encoding=pikepdf.Dictionary(Differences=[97, pikepdf.Name.a]),
            FirstChar=97, LastChar=97, Widths=[500],
            Resources=pikepdf.Dictionary(ExtGState=pikepdf.Dictionary(
                GS0=pikepdf.Dictionary(LW=1)))))
        pdf.pages[0].obj.Resources.Font = pikepdf.Dictionary(F1=font)

    report = check_pdfa(create_pdfa(2, content=b"BT /F1 12 Tf (a) Tj ET", mutate=type3))
    assert "6.2.2-2" not in failed(report)


# -- 6.1.8-1 (parts 2, 3) / 6.1.7-1 (part 4): names of resources not used ----------------


def _unused_font(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].obj.Resources.Font = pikepdf.Dictionary(F1=pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                           BaseFont=pikepdf.Name("/FreeMonoXXX"))))


def test_unused_font_name_must_be_utf8() -> None:
    bad = same_length(b"/FreeMonoXXX", b"/FreeMono#c4")
    assert "6.1.7-1" in failed(check_pdfa(create_pdfa(4, mutate=_unused_font, patch=bad)))
    assert "6.1.8-1" in failed(check_pdfa(create_pdfa(2, mutate=_unused_font, patch=bad)))
    # a valid name in an unused font is no finding (nothing else of it is checked)
    assert check_pdfa(create_pdfa(4, mutate=_unused_font)).compliant


def test_unused_colourant_name_must_be_utf8() -> None:
    def separation(pdf: pikepdf.Pdf) -> None:
        tint = pdf.make_indirect(pikepdf.Dictionary(FunctionType=2, Domain=[0, 1], N=1,
                                                    C0=[0, 0, 0], C1=[1, 0, 0]))
        pdf.pages[0].obj.Resources.ColorSpace = pikepdf.Dictionary(CS0=pikepdf.Array([
            pikepdf.Name.Separation, pikepdf.Name("/SpotXXX"), pikepdf.Name.DeviceRGB, tint]))

    bad = same_length(b"/SpotXXX", b"/Spot#ff")
    assert "6.1.8-1" in failed(check_pdfa(create_pdfa(2, mutate=separation, patch=bad)))
    assert "6.1.8-1" not in failed(check_pdfa(create_pdfa(2, mutate=separation)))


# -- 6.2.4.3: the colour space of 3D artwork -----------------------------------------------


def _three_d(colour_space: object) -> object:
    def mutate(pdf: pikepdf.Pdf) -> None:
        artwork = pdf.make_stream(b"U3D\x00", Type=pikepdf.Name("/3D"),
                                  Subtype=pikepdf.Name.U3D)
        artwork.ColorSpace = colour_space
        annot = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name("/3D"), Rect=[0, 0, 100, 100],
            F=4, AP=pikepdf.Dictionary(N=_plain_form(pdf, b""))))
        annot["/3DD"] = artwork
        pdf.pages[0].obj.Annots = pikepdf.Array([annot])

    return mutate


def test_device_rgb_of_3d_artwork_needs_an_rgb_output_intent() -> None:
    no_intent = create_pdfa(4, "E", content=b"", output_intent=None,
                            mutate=_three_d(pikepdf.Name.DeviceRGB))
    assert "6.2.4.3-2" in failed(check_pdfa(no_intent))
    # the same as a one-element array
    in_array = create_pdfa(4, "E", content=b"", output_intent=None,
                           mutate=_three_d(pikepdf.Array([pikepdf.Name.DeviceRGB])))
    assert "6.2.4.3-2" in failed(check_pdfa(in_array))
    rgb_intent = create_pdfa(4, "E", content=b"", mutate=_three_d(pikepdf.Name.DeviceRGB))
    assert "6.2.4.3-2" not in failed(check_pdfa(rgb_intent))


# -- 6.2.4.3: a non-isolated group blends in its parent's colour space ---------------------


def _rgb_in_calrgb_group(isolated: bool) -> object:
    def mutate(pdf: pikepdf.Pdf) -> None:
        group = pikepdf.Dictionary(S=pikepdf.Name.Transparency, CS=pikepdf.Array([
            pikepdf.Name.CalRGB, pikepdf.Dictionary(WhitePoint=[0.9505, 1.0, 1.089])]))
        if isolated:
            group.I = True
        page = pdf.pages[0].obj
        page.Group = pikepdf.Dictionary(S=pikepdf.Name.Transparency,
                                        CS=pikepdf.Name.DeviceCMYK)
        page.Resources.XObject = pikepdf.Dictionary(X0=_plain_form(pdf, Group=group))

    return mutate


def test_non_isolated_group_colour_space_is_ignored() -> None:
    report = check_pdfa(create_pdfa(4, content=b"/X0 Do", output_intent=b"CMYK",
                                    mutate=_rgb_in_calrgb_group(isolated=False)))
    assert "6.2.4.3-2" in failed(report)
    report = check_pdfa(create_pdfa(4, content=b"/X0 Do", output_intent=b"CMYK",
                                    mutate=_rgb_in_calrgb_group(isolated=True)))
    assert "6.2.4.3-2" not in failed(report)


# -- ISO 19005-4 6.2.4.2-3: ICC profile identity -------------------------------------------


def _cmyk_profile(profile_id: bytes | None = None) -> bytes:
    data = bytearray(icc_profile(b"CMYK", device_class=b"prtr"))
    if profile_id is not None:
        data[84:100] = profile_id
    return bytes(data)


def test_icc_profile_id_is_the_stored_id_or_the_computed_md5() -> None:
    plain = _cmyk_profile()
    computed = hashlib.md5(plain).digest()  # flags and intent are zero in the fixture
    assert icc_profile_id(pikepdf.new().make_stream(plain)) == computed
    assert icc_profile_id(pikepdf.new().make_stream(_cmyk_profile(b"\x01" * 16))) == (
        b"\x01" * 16)


def _icc_cmyk_like_page_intent(used_id: bytes) -> object:
    def mutate(pdf: pikepdf.Pdf) -> None:
        page = pdf.pages[0].obj
        page.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
            OutputConditionIdentifier=pikepdf.String("Custom"),
            DestOutputProfile=pdf.make_stream(_cmyk_profile(), N=4))])
        used = pdf.make_stream(_cmyk_profile(used_id), N=4)
        page.Resources.ColorSpace = pikepdf.Dictionary(
            CS0=pikepdf.Array([pikepdf.Name.ICCBased, used]))

    return mutate


def test_icc_cmyk_identical_to_the_page_output_profile() -> None:
    content = b"/CS0 cs 0 0 0 1 scn 10 10 50 50 re f"
    same_id = hashlib.md5(_cmyk_profile()).digest()
    report = check_pdfa(create_pdfa(4, content=content, output_intent=None,
                                    mutate=_icc_cmyk_like_page_intent(same_id)))
    assert "6.2.4.2-3" in failed(report)
    # the same profile data, but a different Profile ID: another profile
    report = check_pdfa(create_pdfa(4, content=content, output_intent=None,
                                    mutate=_icc_cmyk_like_page_intent(b"\x02" * 16)))
    assert "6.2.4.2-3" not in failed(report)
