"""Tiny font programs built with fontTools (TrueType, CFF) or by hand (Type 1), and helpers
that put them into a PDF/A fixture as a simple or a composite font."""

from __future__ import annotations

import io
from collections.abc import Callable

import pikepdf
from fontTools.fontBuilder import FontBuilder
from fontTools.misc import eexec
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

# glyph name -> (advance width, Unicode)
GLYPHS = {"space": (250, 0x20), "A": (600, 0x41), "B": (650, 0x42)}


def _box(pen: object, width: int) -> None:
    pen.moveTo((50, 0))  # type: ignore[attr-defined]
    pen.lineTo((50, 700))  # type: ignore[attr-defined]
    pen.lineTo((width - 50, 700))  # type: ignore[attr-defined]
    pen.lineTo((width - 50, 0))  # type: ignore[attr-defined]
    pen.closePath()  # type: ignore[attr-defined]


def truetype(glyphs: dict[str, tuple[int, int]] | None = None, *, upem: int = 1000,
             cmaps: tuple[tuple[int, int], ...] = ((3, 1),), symbol_offset: int = 0) -> bytes:
    """A TrueType font with .notdef plus ``glyphs``; ``cmaps`` lists the (platform, encoding)
    subtables to write (a (3,0) table maps 0xF000 + code when ``symbol_offset``)."""
    glyphs = GLYPHS if glyphs is None else glyphs
    order = [".notdef", *glyphs]
    fb = FontBuilder(upem, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({uv: n for n, (_, uv) in glyphs.items()})
    outlines = {}
    for name in order:
        pen = TTGlyphPen(None)
        if name != "space":
            _box(pen, glyphs.get(name, (500, 0))[0] * upem // 1000)
        outlines[name] = pen.glyph()
    fb.setupGlyf(outlines)
    fb.setupHorizontalMetrics({n: (glyphs.get(n, (500, 0))[0] * upem // 1000, 0)
                               for n in order})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Test", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    tables = []
    for pid, eid in cmaps:
        sub = CmapSubtable.newSubtable(4)
        sub.platformID, sub.platEncID, sub.language = pid, eid, 0
        off = symbol_offset if (pid, eid) == (3, 0) else 0
        sub.cmap = {uv + off: n for n, (_, uv) in glyphs.items()}
        if (pid, eid) == (1, 0):
            sub = CmapSubtable.newSubtable(6)
            sub.platformID, sub.platEncID, sub.language = 1, 0, 0
            sub.cmap = {uv: n for n, (_, uv) in glyphs.items() if uv < 256}
        tables.append(sub)
    cmap = newTable("cmap")
    cmap.tableVersion = 0
    cmap.tables = tables
    fb.font["cmap"] = cmap
    buf = io.BytesIO()
    fb.save(buf)
    return buf.getvalue()


def bare_cff(glyphs: dict[str, tuple[int, int]] | None = None) -> bytes:
    """A name-keyed CFF font program (FontFile3 /Type1C)."""
    return TTFont(io.BytesIO(opentype_cff(glyphs))).reader["CFF "]


def opentype_cff(glyphs: dict[str, tuple[int, int]] | None = None) -> bytes:
    """A CFF-flavoured OpenType font (FontFile3 /OpenType)."""
    glyphs = GLYPHS if glyphs is None else glyphs
    order = [".notdef", *glyphs]
    fb = FontBuilder(1000, isTTF=False)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({uv: n for n, (_, uv) in glyphs.items()})
    strings = {}
    for name in order:
        width = glyphs.get(name, (500, 0))[0]
        pen = T2CharStringPen(width, None)
        if name != "space":
            _box(pen, width)
        strings[name] = pen.getCharString()
    fb.setupCFF("TestCFF", {"FullName": "Test CFF"}, strings, {})
    fb.setupHorizontalMetrics({n: (glyphs.get(n, (500, 0))[0], 0) for n in order})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Test", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    buf = io.BytesIO()
    fb.save(buf)
    return buf.getvalue()


def _t1_number(v: int) -> bytes:
    if -107 <= v <= 107:
        return bytes([v + 139])
    if 108 <= v <= 1131:
        v -= 108
        return bytes([247 + v // 256, v % 256])
    if -1131 <= v <= -108:
        v = -v - 108
        return bytes([251 + v // 256, v % 256])
    return b"\xff" + v.to_bytes(4, "big", signed=True)


def type1(glyphs: dict[str, int] | None = None) -> tuple[bytes, int, int]:
    """A Type 1 font program (StandardEncoding) whose glyphs are ``name -> width``; returns
    (data, Length1, Length2)."""
    glyphs = {"space": 250, "A": 600, "B": 650} if glyphs is None else glyphs
    clear = (b"%!PS-AdobeFont-1.0: TestT1 001.000\n11 dict begin\n/FontName /TestT1 def\n"
             b"/FontType 1 def\n/PaintType 0 def\n/FontMatrix [0.001 0 0 0.001 0 0] readonly "
             b"def\n/Encoding StandardEncoding def\n/FontBBox {0 0 1000 1000} readonly def\n"
             b"currentdict end\ncurrentfile eexec\n")
    body = bytearray(b"dup /Private 8 dict dup begin\n/RD{string currentfile exch readstring "
                     b"pop}executeonly def\n/ND{noaccess def}executeonly def\n/lenIV 4 def\n"
                     b"/Subrs 0 array\n")
    body += b"2 index /CharStrings %d dict dup begin\n" % (len(glyphs) + 1)
    for name, width in {".notdef": 500, **glyphs}.items():
        plain = b"\x00\x00\x00\x00" + _t1_number(0) + _t1_number(width) + b"\x0d\x0e"
        enc, _ = eexec.encrypt(plain, 4330)
        body += b"/%s %d RD " % (name.encode(), len(enc)) + enc + b" ND\n"
    body += b"end\nend\nmark currentfile closefile\n"
    cipher, _ = eexec.encrypt(b"\x11\x22\x33\x44" + bytes(body), 55665)
    trailer = b"\n" + (b"0" * 64 + b"\n") * 8 + b"cleartomark\n"
    return clear + cipher + trailer, len(clear), len(cipher)


# -- putting fonts into PDFs -------------------------------------------------------------

Mutator = Callable[[pikepdf.Pdf], None]


def simple_font(pdf: pikepdf.Pdf, *, subtype: str = "/TrueType", program: bytes | None = None,
                file_key: str = "/FontFile2", file_subtype: str | None = None,
                base_font: str = "ABCDEF+Test", first: int = 32,
                widths: list[int] | None = None, encoding: object = "/WinAnsiEncoding",
                flags: int = 32, to_unicode: bytes | None = None,
                extra_descriptor: dict[str, object] | None = None,
                lengths: tuple[int, int] | None = None) -> pikepdf.Dictionary:
    """Add a simple font as /F1 of the first page and return its dictionary."""
    if widths is None:
        widths = [0] * (0x42 - first + 1)
        widths[0x20 - first] = 250
        widths[0x41 - first] = 600
        widths[0x42 - first] = 650
    desc = pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor,
                              FontName=pikepdf.Name("/" + base_font), Flags=flags,
                              FontBBox=[0, -200, 1000, 800], ItalicAngle=0, Ascent=800,
                              Descent=-200, CapHeight=700, StemV=80)
    if program is not None:
        stream = pdf.make_stream(program)
        if file_subtype:
            stream.Subtype = pikepdf.Name(file_subtype)
        if lengths:
            stream.Length1, stream.Length2, stream.Length3 = lengths[0], lengths[1], 0
        elif file_key == "/FontFile2":
            stream.Length1 = len(program)
        desc[file_key] = stream
    for k, v in (extra_descriptor or {}).items():
        desc[k] = v
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name(subtype),
        BaseFont=pikepdf.Name("/" + base_font), FirstChar=first,
        LastChar=first + len(widths) - 1, Widths=widths,
        FontDescriptor=pdf.make_indirect(desc)))
    if encoding is not None:
        font.Encoding = pikepdf.Name(encoding) if isinstance(encoding, str) else encoding
    if to_unicode is not None:
        font.ToUnicode = pdf.make_stream(to_unicode)
    _install(pdf, font)
    return font


def cid_font(pdf: pikepdf.Pdf, program: bytes | None, *, cidset: bytes | None = None,
             widths: list[object] | None = None, encoding: object = "/Identity-H",
             base_font: str = "ABCDEF+Test", cid_to_gid: object = "/Identity",
             to_unicode: bytes | None = None, registry: tuple[str, str, int] = (
                 "Adobe", "Identity", 0)) -> pikepdf.Dictionary:
    """Add a Type 0 font with a CIDFontType2 descendant as /F1 of the first page."""
    desc = pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor,
                              FontName=pikepdf.Name("/" + base_font), Flags=4,
                              FontBBox=[0, -200, 1000, 800], ItalicAngle=0, Ascent=800,
                              Descent=-200, CapHeight=700, StemV=80)
    if program is not None:
        desc.FontFile2 = pdf.make_stream(program, Length1=len(program))
    if cidset is not None:
        desc.CIDSet = pdf.make_stream(cidset)
    cf = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2,
        BaseFont=pikepdf.Name("/" + base_font),
        CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String(registry[0]),
                                         Ordering=pikepdf.String(registry[1]),
                                         Supplement=registry[2]),
        FontDescriptor=pdf.make_indirect(desc), DW=1000,
        W=widths if widths is not None else [1, [250, 600, 650]])
    if cid_to_gid is not None:
        cf.CIDToGIDMap = (pikepdf.Name(cid_to_gid) if isinstance(cid_to_gid, str)
                          else pdf.make_stream(cid_to_gid))
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0,
        BaseFont=pikepdf.Name("/" + base_font),
        Encoding=pikepdf.Name(encoding) if isinstance(encoding, str) else encoding,
        DescendantFonts=[pdf.make_indirect(cf)]))
    if to_unicode is not None:
        font.ToUnicode = pdf.make_stream(to_unicode)
    _install(pdf, font)
    return font


def _install(pdf: pikepdf.Pdf, font: pikepdf.Dictionary) -> None:
    page = pdf.pages[0].obj
    if "/Resources" not in page:
        page.Resources = pikepdf.Dictionary()
    page.Resources.Font = pikepdf.Dictionary(F1=font)


def to_unicode_cmap(pairs: dict[int, str], code_bytes: int = 1) -> bytes:
    """A ToUnicode CMap mapping the given codes."""
    width = 2 * code_bytes
    lo, hi = "0" * width, "F" * width
    lines = [f"<{c:0{width}X}> <{''.join(f'{ord(ch):04X}' for ch in text)}>"
             for c, text in sorted(pairs.items())]
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            f"1 begincodespacerange\n<{lo}> <{hi}>\nendcodespacerange\n"
            f"{len(lines)} beginbfchar\n" + "\n".join(lines) + "\nendbfchar\n"
            "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode()
