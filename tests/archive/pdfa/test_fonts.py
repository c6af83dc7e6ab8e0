"""Font rules against small generated files: fonts built with fontTools (TrueType, CFF) or by
hand (Type 1), put into PDF/A fixtures with pikepdf. A good font passes; each defect fails
with its clause."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pikepdf
import pytest

from archive.pdfa import check_pdfa
from archive.pdfa.cmaps import parse_cmap
from archive.pdfa.fontprog import FontProgramError, read_font_program
from archive.pdfa.report import PdfaReport
from tests.archive.pdfa.fixtures import create_pdfa
from tests.archive.pdfa.fontfixtures import (
    bare_cff,
    cid_font,
    opentype_cff,
    simple_font,
    to_unicode_cmap,
    truetype,
    type1,
)

TEXT = b"BT /F1 12 Tf 20 100 Td (A B) Tj ET"
CID_TEXT = b"BT /F1 12 Tf 20 100 Td <000200010003> Tj ET"
UNICODE = to_unicode_cmap({0x20: " ", 0x41: "A", 0x42: "B"})


def failed(report: PdfaReport) -> set[str]:
    return {f"{f.clause}-{f.test}" for f in report.failures}


def font_failures(report: PdfaReport) -> set[str]:
    """Failed font clauses only (6.3.x of part 1, 6.2.11.x of parts 2/3, 6.2.10.x of 4)."""
    return {c for c in failed(report) if c.startswith(("6.3.", "6.2.11", "6.2.10"))}


@cache
def _tt() -> bytes:
    return truetype()


def check(flavour: str, add_font: Callable[[pikepdf.Pdf], Any], content: bytes = TEXT
          ) -> PdfaReport:
    part = int(flavour[0])
    level = flavour[1:].upper() or None
    data = create_pdfa(part, level, content=content, mutate=add_font)
    return check_pdfa(data, flavour)


# -- a good TrueType subset ------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["1b", "2b", "2u", "3b", "4"])
def test_embedded_truetype_subset_passes(flavour: str) -> None:
    report = check(flavour, lambda pdf: simple_font(pdf, program=_tt(), to_unicode=UNICODE))
    assert report.compliant, report.failures


def test_truetype_with_2048_units_per_em_passes() -> None:
    program = truetype(upem=2048)
    report = check("2b", lambda pdf: simple_font(pdf, program=program))
    assert report.compliant, report.failures


# -- embedding and glyphs ---------------------------------------------------------------------


@pytest.mark.parametrize(("flavour", "clause"),
                         [("1b", "6.3.4-1"), ("2b", "6.2.11.4.1-1"), ("4", "6.2.10.4.1-1")])
def test_font_not_embedded(flavour: str, clause: str) -> None:
    report = check(flavour, lambda pdf: simple_font(pdf, program=None))
    assert clause in failed(report)
    f = next(f for f in report.failures if f"{f.clause}-{f.test}" == clause)
    assert "not embedded" in f.message and f.page == 1 and f.object


def test_invisible_text_needs_no_embedding() -> None:
    content = b"BT 3 Tr /F1 12 Tf 20 100 Td (A B) Tj ET"
    report = check("2b", lambda pdf: simple_font(pdf, program=None), content)
    assert report.compliant, report.failures


def test_glyph_missing_from_subset() -> None:
    content = b"BT /F1 12 Tf 20 100 Td (ABC) Tj ET"  # C is not in the font
    widths = [250] + [0] * 32 + [600, 650, 700]  # 32..67
    report = check("2b", lambda pdf: simple_font(pdf, program=_tt(), widths=widths), content)
    assert {"6.2.11.4.1-2", "6.2.11.8-1"} <= failed(report)
    msg = next(f.message for f in report.failures if f.clause == "6.2.11.4.1")
    assert "0x43" in msg


def test_notdef_referenced_even_in_invisible_text() -> None:
    content = b"BT 3 Tr /F1 12 Tf 20 100 Td (ABC) Tj ET"
    widths = [250] + [0] * 32 + [600, 650, 700]
    report = check("4", lambda pdf: simple_font(pdf, program=_tt(), widths=widths), content)
    assert font_failures(report) == {"6.2.10.9-1"}


def test_unreadable_font_program_is_reported_not_guessed() -> None:
    report = check("2b", lambda pdf: simple_font(pdf, program=b"\x00\x01\x00\x00garbage"))
    msgs = [f.message for f in report.failures if f.clause == "6.2.11.4.1"]
    assert msgs and "cannot be read" in msgs[0]
    assert "6.2.11.5-1" not in failed(report)


# -- widths -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("flavour", "clause"),
                         [("1b", "6.3.6-1"), ("2b", "6.2.11.5-1"), ("4", "6.2.10.5-1")])
def test_wrong_widths(flavour: str, clause: str) -> None:
    widths = [250] + [0] * 32 + [700, 650]  # A is 600 in the font
    report = check(flavour, lambda pdf: simple_font(pdf, program=_tt(), widths=widths))
    assert clause in failed(report)
    msg = next(f.message for f in report.failures if f"{f.clause}-{f.test}" == clause)
    assert "700" in msg and "600" in msg


def test_widths_in_invisible_text_are_not_checked() -> None:
    widths = [250] + [0] * 32 + [700, 650]
    content = b"BT 3 Tr /F1 12 Tf 20 100 Td (A B) Tj ET"
    report = check("2b", lambda pdf: simple_font(pdf, program=_tt(), widths=widths), content)
    assert "6.2.11.5-1" not in failed(report)


def test_widths_array_of_wrong_size() -> None:
    def short(pdf: pikepdf.Pdf) -> None:
        font = simple_font(pdf, program=_tt())
        font.LastChar = 0x43  # one more than /Widths covers

    assert "6.2.11.2-6" in failed(check("2b", short))


# -- CFF and Type 1 programs --------------------------------------------------------------------


def test_cff_type1c_font() -> None:
    program = bare_cff()

    def add(pdf: pikepdf.Pdf) -> None:
        simple_font(pdf, subtype="/Type1", program=program, file_key="/FontFile3",
                    file_subtype="/Type1C", encoding="/WinAnsiEncoding", flags=32,
                    extra_descriptor={"/CharSet": pikepdf.String("/space/A/B")})

    assert check("2b", add).compliant


@pytest.mark.parametrize("subtype", ["/Type1", "/TrueType"])
def test_opentype_font_files(subtype: str) -> None:
    program = opentype_cff() if subtype == "/Type1" else _tt()
    report = check("2b", lambda pdf: simple_font(
        pdf, subtype=subtype, program=program, file_key="/FontFile3",
        file_subtype="/OpenType"))
    assert report.compliant, report.failures


def test_mac_roman_truetype_with_only_a_mac_cmap() -> None:
    program = truetype(cmaps=((1, 0),))
    for flavour in ("2b", "4"):
        report = check(flavour, lambda pdf: simple_font(pdf, program=program,
                                                         encoding="/MacRomanEncoding"))
        assert report.compliant, (flavour, report.failures)


def test_cff_charset_must_list_every_glyph() -> None:
    program = bare_cff()

    def add(pdf: pikepdf.Pdf) -> None:
        simple_font(pdf, subtype="/Type1", program=program, file_key="/FontFile3",
                    file_subtype="/Type1C", encoding="/WinAnsiEncoding",
                    extra_descriptor={"/CharSet": pikepdf.String("/space/A")})

    assert "6.2.11.4.2-1" in failed(check("2b", add))
    # PDF/A-1 asks the CharSet for the glyphs used (B is shown here).
    assert "6.3.5-2" in failed(check("1b", add))

    def extra(pdf: pikepdf.Pdf) -> None:
        simple_font(pdf, subtype="/Type1", program=program, file_key="/FontFile3",
                    file_subtype="/Type1C", encoding="/WinAnsiEncoding",
                    extra_descriptor={"/CharSet": pikepdf.String("/space/A/B/C")})

    assert "6.2.11.4.2-1" in failed(check("2b", extra))  # C is not in the program
    assert "6.3.5-2" not in failed(check("1b", extra))


def test_cff_wrong_width() -> None:
    program = bare_cff()
    widths = [250] + [0] * 32 + [600, 800]  # B is 650 in the font
    report = check("2b", lambda pdf: simple_font(
        pdf, subtype="/Type1", program=program, file_key="/FontFile3",
        file_subtype="/Type1C", widths=widths))
    assert "6.2.11.5-1" in failed(report)


@pytest.mark.parametrize(("widths", "ok"), [([250] + [0] * 32 + [600, 650], True),
                                            ([250] + [0] * 32 + [610, 650], False)])
def test_type1_font_program(widths: list[int], ok: bool) -> None:
    data, l1, l2 = type1()
    report = check("2b", lambda pdf: simple_font(
        pdf, subtype="/Type1", program=data, file_key="/FontFile", lengths=(l1, l2),
        encoding=None, widths=widths))
    assert report.compliant is ok, report.failures
    if not ok:
        assert font_failures(report) == {"6.2.11.5-1"}


def test_type1_program_reader() -> None:
    data, _, _ = type1({"A": 600, "Aacute": 1200})
    prog = read_font_program(data, "/FontFile", None)
    assert prog.kind == "Type1" and prog.names is not None
    assert prog.width(prog.names["Aacute"]) == 1200
    assert prog.builtin is not None and prog.builtin[65] == "A"
    with pytest.raises(FontProgramError):
        read_font_program(b"%!PS-AdobeFont-1.0 nothing here", "/FontFile", None)


# -- TrueType encodings -------------------------------------------------------------------------


def test_symbolic_truetype_with_encoding() -> None:
    program = truetype(cmaps=((3, 0),), symbol_offset=0xF000)
    report = check("2b", lambda pdf: simple_font(pdf, program=program, flags=4))
    assert "6.2.11.6-3" in failed(report)
    ok = check("2b", lambda pdf: simple_font(pdf, program=program, flags=4, encoding=None))
    assert ok.compliant, ok.failures


def test_non_symbolic_truetype_needs_standard_encoding() -> None:
    report = check("2b", lambda pdf: simple_font(pdf, program=_tt(),
                                                 encoding="/StandardEncoding"))
    assert "6.2.11.6-2" in failed(report)


def test_non_symbolic_truetype_needs_unicode_cmap() -> None:
    program = truetype(cmaps=((3, 0),))
    assert "6.2.11.6-1" in failed(check("2b", lambda pdf: simple_font(pdf, program=program)))
    assert "6.2.10.6-1" in failed(check("4", lambda pdf: simple_font(pdf, program=program)))


def test_symbolic_truetype_cmap_subtables() -> None:
    program = truetype(cmaps=((3, 1), (1, 0)))
    report = check("4", lambda pdf: simple_font(pdf, program=program, flags=4, encoding=None))
    assert "6.2.10.6-4" not in failed(report)  # (1,0) is enough for PDF/A-4
    report = check("1b", lambda pdf: simple_font(pdf, program=program, flags=4, encoding=None))
    assert "6.3.7-3" in failed(report)  # PDF/A-1: exactly one subtable


# -- Unicode ----------------------------------------------------------------------------------


def test_level_u_needs_unicode_for_every_code() -> None:
    program = truetype(cmaps=((3, 0),), symbol_offset=0xF000)

    def symbolic(tu: bytes | None) -> Callable[[pikepdf.Pdf], Any]:
        return lambda pdf: simple_font(pdf, program=program, flags=4, encoding=None,
                                       to_unicode=tu)

    assert "6.2.11.7.2-1" in failed(check("2u", symbolic(None)))
    assert "6.2.11.7.2-1" not in failed(check("2b", symbolic(None)))  # level B: not needed
    assert check("2u", symbolic(UNICODE)).compliant


def test_tounicode_values_zero_or_bom() -> None:
    bad = to_unicode_cmap({0x20: " ", 0x41: "\x00", 0x42: "B"})
    report = check("2u", lambda pdf: simple_font(pdf, program=_tt(), to_unicode=bad))
    assert "6.2.11.7.2-2" in failed(report)
    report = check("4", lambda pdf: simple_font(pdf, program=_tt(), to_unicode=bad))
    assert "6.2.10.7-1" in failed(report)


def test_private_use_needs_actual_text_at_level_a() -> None:
    pua = to_unicode_cmap({0x20: " ", 0x41: "\ue001", 0x42: "B"})
    report = check("2a", lambda pdf: simple_font(pdf, program=_tt(), to_unicode=pua))
    assert "6.2.11.7.3-1" in failed(report)
    wrapped = b"/Span << /ActualText (A) >> BDC " + TEXT + b" EMC"
    report = check("2a", lambda pdf: simple_font(pdf, program=_tt(), to_unicode=pua), wrapped)
    assert "6.2.11.7.3-1" not in failed(report)


# -- composite fonts ---------------------------------------------------------------------------

GOOD_CIDSET = bytes([0b11110000])  # CIDs 0-3


def test_cid_font_type2_subset_passes() -> None:
    tu = to_unicode_cmap({1: " ", 2: "A", 3: "B"}, code_bytes=2)
    for flavour in ("1b", "2u", "4"):
        report = check(flavour, lambda pdf: cid_font(pdf, _tt(), cidset=GOOD_CIDSET,
                                                      to_unicode=tu), CID_TEXT)
        assert report.compliant, (flavour, report.failures)


def test_cidset_must_list_every_cid() -> None:
    bad = bytes([0b11000000])  # CIDs 2 and 3 missing
    report = check("2b", lambda pdf: cid_font(pdf, _tt(), cidset=bad), CID_TEXT)
    assert "6.2.11.4.2-2" in failed(report)
    too_many = bytes([0b11111111, 0b10000000])  # CIDs 4-8 do not exist
    report = check("2b", lambda pdf: cid_font(pdf, _tt(), cidset=too_many), CID_TEXT)
    assert "6.2.11.4.2-2" in failed(report)
    report = check("1b", lambda pdf: cid_font(pdf, _tt(), cidset=None), CID_TEXT)
    assert "6.3.5-3" in failed(report)  # PDF/A-1 subsets need a CIDSet
    report = check("2b", lambda pdf: cid_font(pdf, _tt(), cidset=None), CID_TEXT)
    assert "6.2.11.4.2-2" not in failed(report)  # optional from PDF/A-2 on


def test_cid_widths_and_missing_glyph() -> None:
    report = check("2b", lambda pdf: cid_font(pdf, _tt(), widths=[1, [250, 600, 900]]),
                   CID_TEXT)
    assert "6.2.11.5-1" in failed(report)
    report = check("2b", lambda pdf: cid_font(pdf, _tt()),
                   b"BT /F1 12 Tf 20 100 Td <00020009> Tj ET")
    assert {"6.2.11.4.1-2"} <= failed(report)


def test_cid_zero_is_notdef() -> None:
    report = check("2b", lambda pdf: cid_font(pdf, _tt()),
                   b"BT 3 Tr /F1 12 Tf 20 100 Td <00000002> Tj ET")
    assert font_failures(report) == {"6.2.11.8-1"}


def test_cid_to_gid_map_required_for_type2() -> None:
    report = check("2b", lambda pdf: cid_font(pdf, _tt(), cid_to_gid=None), CID_TEXT)
    assert "6.2.11.3.2-1" in failed(report)


def test_cmap_must_be_embedded_or_predefined() -> None:
    report = check("2b", lambda pdf: cid_font(pdf, _tt(), encoding="/Custom-H"), CID_TEXT)
    assert "6.2.11.3.3-1" in failed(report)
    report = check("1b", lambda pdf: cid_font(pdf, _tt(), encoding="/UniJIS-UCS2-H",
                                              registry=("Adobe", "Japan1", 4)), CID_TEXT)
    assert "6.3.3.3-1" in failed(report)  # PDF/A-1 allows only Identity-H/V unembedded


EMBEDDED_CMAP = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
                 b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                 b"def\n/CMapName /Test-H def\n/WMode %d def\n"
                 b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
                 b"1 begincidrange <0000> <00FF> 0 endcidrange\n"
                 b"endcmap CMapName currentdict /CMap defineresource pop end end\n")


def _embedded_cmap(pdf: pikepdf.Pdf, wmode_program: int, wmode_dict: int) -> pikepdf.Stream:
    return pdf.make_stream(EMBEDDED_CMAP % wmode_program, Type=pikepdf.Name.CMap,
                           CMapName=pikepdf.Name("/Test-H"), WMode=wmode_dict,
                           CIDSystemInfo=pikepdf.Dictionary(
                               Registry=pikepdf.String("Adobe"),
                               Ordering=pikepdf.String("Identity"), Supplement=0))


def test_embedded_cmap_wmode() -> None:
    ok = check("2b", lambda pdf: cid_font(pdf, _tt(), encoding=_embedded_cmap(pdf, 0, 0)),
               CID_TEXT)
    assert ok.compliant, ok.failures
    bad = check("2b", lambda pdf: cid_font(pdf, _tt(), encoding=_embedded_cmap(pdf, 1, 0)),
                CID_TEXT)
    assert "6.2.11.3.3-2" in failed(bad)


def test_cid_system_info_must_match_the_cmap() -> None:
    report = check("2b", lambda pdf: cid_font(pdf, _tt(), encoding=_embedded_cmap(pdf, 0, 0),
                                              registry=("Adobe", "Japan1", 2)), CID_TEXT)
    assert "6.2.11.3.1-1" in failed(report)


# -- dictionaries -------------------------------------------------------------------------------


def test_font_dictionary_entries() -> None:
    def broken(pdf: pikepdf.Pdf) -> None:
        font = simple_font(pdf, program=_tt())
        del font["/FirstChar"]
        font.Type = pikepdf.Name.Fnt

    report = check("2b", broken)
    assert {"6.2.11.2-1", "6.2.11.2-4"} <= failed(report)


def test_font_file_subtype() -> None:
    report = check("1b", lambda pdf: simple_font(
        pdf, subtype="/Type1", program=bare_cff(), file_key="/FontFile3",
        file_subtype="/OpenType"))
    assert "6.3.2-7" in failed(report)  # OpenType font files only from PDF/A-2 on


# -- CMap parsing -------------------------------------------------------------------------------


def test_cmap_parser() -> None:
    cm = parse_cmap(b"""
        /CMapName /X def /WMode 1 def
        2 begincodespacerange <00> <80> <8140> <FFFF> endcodespacerange
        1 begincidrange <8140> <8142> 100 endcidrange
        1 begincidchar <41> 7 endcidchar
        2 beginbfrange <41> <43> <0061> <50> <51> [<00660066> <D83DDE00>] endbfrange
        1 beginbfchar <60> /Aacute endbfchar
    """)
    assert cm.name == "X" and cm.wmode == 1
    assert cm.split(b"\x41\x81\x41") == [(0x41, 1), (0x8141, 2)]
    assert cm.cid(0x8141, 2) == 101 and cm.cid(0x41, 1) == 7 and cm.cid(0x42, 1) is None
    assert cm.unicode(0x42) == "b" and cm.unicode(0x51) == "\U0001F600"
    assert cm.unicode(0x50) == "ff" and cm.unicode(0x60) == "\u00c1"


# -- hostile font data ----------------------------------------------------------------------


@pytest.mark.parametrize(("key", "subtype", "data"), [
    ("/FontFile2", None, b"\x00\x01\x00\x00\x00\x09" + b"\xff" * 200),  # truncated directory
    ("/FontFile3", "/Type1C", b"\x01\x00\x04\x04" + bytes(range(256)) * 4),
    ("/FontFile", None, b"%!PS-AdobeFont-1.0\ncurrentfile eexec\n" + bytes(range(256)) * 8),
])
def test_broken_font_programs_raise_a_readable_error(key: str, subtype: str | None,
                                                      data: bytes) -> None:
    with pytest.raises(FontProgramError) as err:
        read_font_program(data, key, subtype)
    assert str(err.value)


def test_truncated_font_program_is_reported() -> None:
    program = _tt()[:300]
    report = check("2b", lambda pdf: simple_font(pdf, program=program))
    msgs = [f.message for f in report.failures if f.clause == "6.2.11.4.1"]
    assert msgs and "cannot be read" in msgs[0] and report.error is None


def test_hostile_cmap_parses_in_linear_time() -> None:
    cm = parse_cmap(b"beginbfchar <01> <0041> " * 100_000)
    assert cm.bf_chars == {}  # no section is ever closed
    many = b"".join(b"1 beginbfrange <%04X> <%04X> <0041> endbfrange\n" % (2 * i, 2 * i + 1)
                    for i in range(20_000))
    cm = parse_cmap(many)
    assert cm.unicode(5) == "B" and cm.unicode(39_999) == "B" and cm.unicode(40_000) is None
