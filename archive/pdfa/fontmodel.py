"""One model per font used in the document: its dictionaries, its embedded program (parsed
once, cached by object id) and, for every character code shown in it, the glyph that code
selects, whether the program defines it, its widths and its Unicode value.

:func:`analyse_fonts` builds the models from ``ctx.usage.fonts``; the font rules read them
through ``ctx.fonts`` (computed once per document).

Code -> glyph follows ISO 32000-1 9.6.6 (simple fonts) and 9.7 (composite fonts):

* Type 1 / CFF: code -> glyph name (``Differences``, ``BaseEncoding`` or the program's
  built-in encoding) -> charstring;
* TrueType (9.6.6.4): non-symbolic fonts go code -> name -> Unicode -> (3,1) cmap, or
  code -> name -> Mac Roman code -> (1,0) cmap, or name -> ``post``; symbolic fonts look the
  code up in the (3,0) cmap (also at 0xF000, 0xF100, 0xF200 + code) or the (1,0) cmap;
* Type 0: code -> CID through the CMap, CID -> glyph through ``CIDToGIDMap`` (Type 2) or the
  CFF charset (Type 0).
"""

from __future__ import annotations

import re
import sys
from array import array
from dataclasses import dataclass, field
from typing import Any

from archive.pdfa import pdfobj as po
from archive.pdfa.cmaps import (
    IDENTITY,
    PREDEFINED_ORDERING,
    CMap,
    identity_cmap,
    parse_cmap,
)
from archive.pdfa.fontenc import base_encoding, mac_roman_code, name_to_unicode
from archive.pdfa.fontprog import FontProgram, FontProgramError, read_font_program

SIMPLE = ("/Type1", "/MMType1", "/TrueType", "/Type3")
CID_SUBTYPES = ("/CIDFontType0", "/CIDFontType2")
FONT_FILE_KEYS = ("/FontFile", "/FontFile2", "/FontFile3")
STANDARD_14 = frozenset([
    "Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic", "Helvetica",
    "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique", "Courier",
    "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique", "Symbol", "ZapfDingbats"
])
# Names readers accept for the standard 14 (ISO 32000-1 9.6.2.2 / common aliases).
STANDARD_14_ALIASES = frozenset([
    "Arial", "Arial,Bold", "Arial,Italic", "Arial,BoldItalic", "ArialMT", "Arial-BoldMT",
    "Arial-ItalicMT", "Arial-BoldItalicMT", "TimesNewRoman", "TimesNewRoman,Bold",
    "TimesNewRoman,Italic", "TimesNewRoman,BoldItalic", "TimesNewRomanPSMT",
    "TimesNewRomanPS-BoldMT", "TimesNewRomanPS-ItalicMT", "TimesNewRomanPS-BoldItalicMT",
    "CourierNew", "CourierNew,Bold", "CourierNew,Italic", "CourierNew,BoldItalic",
    "CourierNewPSMT", "CourierNewPS-BoldMT", "CourierNewPS-ItalicMT",
    "CourierNewPS-BoldItalicMT", "Symbol,Bold", "Symbol,Italic", "Symbol,BoldItalic"
])
MAX_CODES_PER_FONT = 5000


@dataclass
class CodeUse:
    """How one character code of a font is shown: ever visibly (rendering mode other than 3)
    and ever outside an ActualText span; the first page it is seen on."""

    rendered: bool = False
    outside_actual: bool = False
    page: int | None = None


@dataclass
class Glyph:
    """What a character code selects in a font."""

    code: int
    length: int = 1  # bytes of the code
    cid: int | None = None
    gid: int | None = None
    name: str | None = None
    present: bool | None = None  # None: cannot be told (no program, unknown mapping)
    notdef: bool = False
    width_dict: float | None = None
    width_prog: float | None = None
    unicode: str | None = None


@dataclass
class PdfFont:
    """A font dictionary as used for text, with everything the font rules ask about."""

    font: Any  # the font dictionary (Type0: the composite font)
    subtype: str | None
    pages: set[int]
    rendered: bool  # some text shown with a rendering mode other than 3
    cid_font: Any = None  # Type0: the descendant CIDFont dictionary
    descriptor: Any = None
    file_key: str | None = None  # /FontFile, /FontFile2, /FontFile3
    file: Any = None  # the font file stream
    program: FontProgram | None = None
    program_error: str | None = None
    cmap: CMap | None = None  # Type0: the encoding CMap (None when unknown)
    cmap_name: str | None = None
    to_unicode: CMap | None = None
    codes: dict[tuple[int, int], CodeUse] = field(default_factory=dict)
    codes_known: bool = True  # False when strings cannot be cut into codes
    _glyphs: dict[tuple[int, int], Glyph] = field(default_factory=dict)
    _encoding: dict[int, str] | None = None
    _encoding_done: bool = False

    @property
    def page(self) -> int | None:
        return min(self.pages) if self.pages else None

    @property
    def base_font(self) -> str:
        nm = po.get_name(self.font, "/BaseFont")
        return nm[1:] if nm else "(no name)"

    @property
    def label(self) -> str:
        return f"font {self.base_font} ({self.kind})"

    @property
    def kind(self) -> str:
        """The font's /Subtype without the slash (``?`` when it has none)."""
        return (self.subtype or "?")[1:]

    @property
    def program_font(self) -> Any:
        """The dictionary that carries the font descriptor (the CIDFont for Type 0)."""
        return self.cid_font if self.subtype == "/Type0" else self.font

    @property
    def embedded(self) -> bool:
        return self.file is not None

    @property
    def symbolic(self) -> bool:
        flags = po.get_int(self.descriptor, "/Flags") or 0
        return bool(flags & 4)

    @property
    def is_standard(self) -> bool:
        """A standard 14 font referenced by name without an embedded program."""
        if self.embedded or self.subtype not in ("/Type1", "/MMType1", "/TrueType"):
            return False
        name = self.base_font
        return name in STANDARD_14 or name in STANDARD_14_ALIASES

    # -- encodings of simple fonts ------------------------------------------------------
    def encoding(self) -> dict[int, str] | None:
        """code -> glyph name for a simple font (None when codes select glyphs directly)."""
        if self._encoding_done:
            return self._encoding
        self._encoding_done = True
        enc = po.get(self.font, "/Encoding")
        table: dict[int, str] | None = None
        base_name = po.name(enc) if po.is_name(enc) else po.get_name(enc, "/BaseEncoding")
        base = base_encoding(base_name)
        if base is not None:
            table = dict(base)
        elif self.program is not None and self.program.builtin is not None:
            table = dict(self.program.builtin)
        elif self.subtype in ("/TrueType", "/Type1", "/MMType1") and not self.symbolic:
            # ISO 32000-1 Table 114: no built-in encoding to start from, so a non-symbolic
            # font starts from StandardEncoding.
            table = dict(base_encoding("/StandardEncoding") or {})
        elif self.subtype == "/Type3" or po.is_dict(enc):
            table = {}
        if po.is_dict(enc):
            diffs = po.elements(po.get(enc, "/Differences"))
            code = 0
            table = table if table is not None else {}
            for item in diffs:
                if isinstance(item, int) and not isinstance(item, bool):
                    code = item
                elif po.is_name(item):
                    table[code] = str(item)[1:]
                    code += 1
        self._encoding = table
        return table

    @property
    def differences(self) -> list[str]:
        enc = po.get(self.font, "/Encoding")
        return [str(n)[1:] for n in po.elements(po.get(enc, "/Differences")) if po.is_name(n)]

    # -- glyphs -------------------------------------------------------------------------
    def glyph(self, code: int, length: int) -> Glyph:
        key = (code, length)
        g = self._glyphs.get(key)
        if g is None:
            g = self._glyphs[key] = self._make_glyph(code, length)
        return g

    def _make_glyph(self, code: int, length: int) -> Glyph:
        if self.subtype == "/Type0":
            return self._cid_glyph(code, length)
        g = Glyph(code, length)
        enc = self.encoding()
        g.name = enc.get(code) if enc is not None else None
        g.width_dict = self._simple_width(code)
        if self.subtype == "/Type3":
            procs = po.get(self.font, "/CharProcs")
            g.present = g.name is not None and po.has(procs, "/" + g.name)
            g.notdef = g.name == ".notdef"
            if g.present and g.name is not None:
                g.width_prog = _type3_width(po.get(procs, "/" + g.name))
        elif self.program is not None:
            if self.subtype == "/TrueType" or self.program.kind in ("TrueType",) or (
                    self.program.kind == "OpenType" and self.program.names is None):
                g.gid = self._truetype_gid(code, g.name)
                g.present = g.gid is not None and 0 < g.gid < self.program.num_glyphs
                g.notdef = g.gid == 0
            else:
                names = self.program.names or {}
                g.gid = names.get(g.name) if g.name is not None else None
                g.present = g.gid is not None and g.name != ".notdef"
                g.notdef = g.name is None or g.name == ".notdef"
            if g.present and g.gid is not None:
                g.width_prog = self.program.width(g.gid)
        else:
            g.notdef = g.name == ".notdef"
        g.unicode = self._unicode(code, g.name)
        return g

    def _truetype_gid(self, code: int, name: str | None) -> int | None:
        prog = self.program
        assert prog is not None
        cmaps = prog.cmaps
        if not self.symbolic:
            if name is not None:
                if (3, 1) in cmaps:
                    uni = name_to_unicode(name)
                    if uni and len(uni) == 1:
                        gid = cmaps[(3, 1)].get(ord(uni))
                        if gid:
                            return gid
                if (1, 0) in cmaps:
                    mc = mac_roman_code(name)
                    if mc is not None:
                        gid = cmaps[(1, 0)].get(mc)
                        if gid:
                            return gid
                gid = prog.gid_of_name(name)
                if gid:
                    return gid
            return 0 if cmaps or name is not None else None
        # symbolic: the (3,0) subtable when there is one (and then only it), else (1,0)
        if (3, 0) in cmaps:
            table = cmaps[(3, 0)]
            for cand in (code, 0xF000 + code, 0xF100 + code, 0xF200 + code):
                gid = table.get(cand)
                if gid:
                    return gid
            return 0
        if (1, 0) in cmaps:
            gid = cmaps[(1, 0)].get(code)
            if gid:
                return gid
        if not cmaps:
            return None
        if (3, 0) not in cmaps and (1, 0) not in cmaps:
            # A symbolic font with only other subtables (e.g. one (3,1)): its single
            # table is what the code is looked up in.
            for table in cmaps.values():
                for cand in (code, 0xF000 + code):
                    gid = table.get(cand)
                    if gid:
                        return gid
        return 0

    def _simple_width(self, code: int) -> float | None:
        widths = po.get(self.font, "/Widths")
        first = po.get_int(self.font, "/FirstChar")
        if po.is_array(widths) and first is not None:
            arr = po.elements(widths)
            k = code - first
            if 0 <= k < len(arr):
                return po.number(arr[k])
        if self.descriptor is not None:
            mw = po.get_number(self.descriptor, "/MissingWidth")
            return mw if mw is not None else 0.0
        return None

    def _cid_glyph(self, code: int, length: int) -> Glyph:
        g = Glyph(code, length)
        cm = self.cmap
        cid = cm.cid(code, length) if cm is not None else None
        if cid is None and cm is not None and not cm.usecmap and code >= 0:
            cid = 0  # an unmapped code selects CID 0 (ISO 32000-1 9.7.6.3)
        g.cid = cid
        if cid is not None:
            g.width_dict = self._cid_width(cid)
            g.notdef = cid == 0
            prog = self.program
            if prog is not None:
                gid = self._cid_to_gid(cid)
                g.gid = gid
                g.present = gid is not None and 0 < gid < prog.num_glyphs
                if gid == 0:
                    g.notdef = True
                if g.present and gid is not None:
                    g.width_prog = prog.width(gid)
        g.unicode = self._unicode(code, None)
        return g

    def _cid_to_gid(self, cid: int) -> int | None:
        prog = self.program
        assert prog is not None
        cf = self.cid_font
        if po.get_name(cf, "/Subtype") == "/CIDFontType2" or prog.kind in ("TrueType",):
            m = po.get(cf, "/CIDToGIDMap")
            if po.is_stream(m):
                data = self._cid_to_gid_bytes()
                k = 2 * cid
                if k + 2 > len(data):
                    return 0
                return (data[k] << 8) | data[k + 1]
            return cid
        if prog.cids is not None:
            return prog.cids.get(cid, 0)
        return cid  # a name-keyed CFF in a CIDFont: CIDs are glyph indices

    _ctg: bytes | None = None

    def _cid_to_gid_bytes(self) -> bytes:
        if self._ctg is None:
            self._ctg = po.read_stream(po.get(self.cid_font, "/CIDToGIDMap")) or b""
        return self._ctg

    _w: dict[int, float] | None = None

    def _cid_width(self, cid: int) -> float | None:
        if self._w is None:
            self._w = _parse_w(po.get(self.cid_font, "/W"))
        w = self._w.get(cid)
        if w is not None:
            return w
        dw = po.get_number(self.cid_font, "/DW")
        return dw if dw is not None else 1000.0

    # -- Unicode ------------------------------------------------------------------------
    def _unicode(self, code: int, name: str | None) -> str | None:
        if self.to_unicode is not None:
            text = self.to_unicode.unicode(code)
            if text is not None:
                return text
        if self.subtype == "/Type0":
            info = po.get(self.cid_font, "/CIDSystemInfo")
            reg = po.text(po.get(info, "/Registry"))
            order = po.text(po.get(info, "/Ordering"))
            if reg == "Adobe" and order in ("GB1", "CNS1", "Japan1", "Korea1"):
                return "\ufffd"  # mapped through the predefined Adobe UCS2 CMaps
            return None
        return name_to_unicode(name)


_D0_D1 = re.compile(rb"^\s*([-+]?[\d.]+)\s+[-+]?[\d.]+\s+(?:d0|(?:[-+]?[\d.]+\s+){4}d1)\b")


def _type3_width(proc: Any) -> float | None:
    """The glyph width a Type 3 glyph procedure sets with d0 or d1 (glyph space)."""
    data = po.read_stream(proc, limit=4096)
    if not data:
        return None
    m = _D0_D1.match(data)
    if m is None:
        return None
    try:
        return float(m.group(1))
    except ValueError:
        return None


def _parse_w(arr: Any) -> dict[int, float]:
    """A CIDFont /W array as CID -> width (bounded)."""
    out: dict[int, float] = {}
    items = po.elements(arr)
    i = 0
    while i < len(items) and len(out) < 200000:
        first = po.integer(items[i])
        if first is None:
            break
        nxt = items[i + 1] if i + 1 < len(items) else None
        if po.is_array(nxt):
            for k, w in enumerate(po.elements(nxt)):
                v = po.number(w)
                if v is not None:
                    out[first + k] = v
            i += 2
        else:
            last = po.integer(nxt)
            w = po.number(items[i + 2]) if i + 2 < len(items) else None
            if last is None or w is None:
                break
            for c in range(first, min(last, first + 65536) + 1):
                out[c] = w
            i += 3
    return out


# -- building the models ------------------------------------------------------------------


def _font_file(descriptor: Any) -> tuple[str | None, Any]:
    for key in FONT_FILE_KEYS:
        s = po.get(descriptor, key)
        if po.is_stream(s):
            return key, s
    return None, None


class ProgramCache:
    """Parsed font programs of one document, by object id (a program shared by several
    font dictionaries is parsed once)."""

    def __init__(self) -> None:
        self._done: dict[Any, tuple[FontProgram | None, str | None]] = {}

    def get(self, key: str, stream: Any) -> tuple[FontProgram | None, str | None]:
        ident = po.key_of(stream) or ("direct", id(stream))
        hit = self._done.get(ident)
        if hit is None:
            data = po.read_stream(stream)
            if data is None:
                hit = (None, "the font file stream cannot be decoded")
            else:
                try:
                    hit = (read_font_program(data, key, po.get_name(stream, "/Subtype")), None)
                except FontProgramError as exc:
                    hit = (None, str(exc))
                except MemoryError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any parser failure is reported
                    hit = (None, f"the font program cannot be read ({type(exc).__name__})")
            self._done[ident] = hit
        return hit


def build_font(use: Any, programs: ProgramCache) -> PdfFont:
    font = use.font
    subtype = po.get_name(font, "/Subtype")
    pf = PdfFont(font=font, subtype=subtype, pages=set(use.pages), rendered=use.rendered)
    if subtype == "/Type0":
        desc = po.elements(po.get(font, "/DescendantFonts"))
        pf.cid_font = desc[0] if desc and po.is_dict(desc[0]) else None
        enc = po.get(font, "/Encoding")
        if po.is_name(enc):
            pf.cmap_name = str(enc)[1:]
            if pf.cmap_name in IDENTITY:
                pf.cmap = identity_cmap(pf.cmap_name)
            else:
                pf.codes_known = False
                pf.cmap = None
        elif po.is_stream(enc):
            pf.cmap = parse_cmap(po.read_stream(enc) or b"")
            pf.cmap_name = pf.cmap.name or po.get_name(enc, "/CMapName")
            use_cm = po.get(enc, "/UseCMap")
            parents = list(pf.cmap.usecmap)
            if po.is_name(use_cm):
                parents.append(str(use_cm)[1:])
            for parent in parents:
                if parent in IDENTITY:
                    base = identity_cmap(parent)
                    pf.cmap.identity = pf.cmap.identity or not (
                        pf.cmap.cid_chars or pf.cmap.cid_ranges)
                    if not pf.cmap.codespace:
                        pf.cmap.codespace = base.codespace
            if not pf.cmap.codespace:
                pf.codes_known = False
        else:
            pf.codes_known = False
    pf.descriptor = po.get(pf.program_font, "/FontDescriptor")
    if not po.is_dict(pf.descriptor):
        pf.descriptor = None
    pf.file_key, pf.file = _font_file(pf.descriptor)
    if pf.file is not None:
        pf.program, pf.program_error = programs.get(pf.file_key or "", pf.file)
    tu = po.get(font, "/ToUnicode")
    if po.is_stream(tu):
        pf.to_unicode = parse_cmap(po.read_stream(tu) or b"")
    if pf.codes_known:
        _collect_codes(pf, use)
    return pf


def _collect_codes(pf: PdfFont, use: Any) -> None:
    """The distinct codes shown in the font, with how they are shown. Strings are grouped
    by (visible, outside ActualText) first so each group is cut into codes in one go."""
    groups: dict[tuple[bool, bool], list[bytes]] = {}
    for data, tr, in_actual in use.shows:
        groups.setdefault((tr != 3, not in_actual), []).append(data)
    cm = pf.cmap
    composite = pf.subtype == "/Type0"
    two_bytes = composite and cm is not None and cm.fixed_two_bytes
    page = pf.page
    codes = pf.codes
    for (rendered, outside), datas in groups.items():
        found: set[tuple[int, int]] = set()
        if not composite:
            singles: set[int] = set()
            for d in datas:
                singles.update(d)
            found = {(c, 1) for c in singles}
        elif two_bytes:
            pairs: set[int] = set()
            for d in datas:
                if len(d) % 2:
                    d += b"\x00"
                arr = array("H", d)
                if sys.byteorder == "little":
                    arr.byteswap()
                pairs.update(arr)
            found = {(c, 2) for c in pairs}
        elif cm is not None:
            for d in datas:
                found.update(cm.split(d))
        for key in found:
            cu = codes.get(key)
            if cu is None:
                if len(codes) >= MAX_CODES_PER_FONT:
                    continue
                cu = codes[key] = CodeUse(page=page)
            cu.rendered = cu.rendered or rendered
            cu.outside_actual = cu.outside_actual or outside


def analyse_fonts(usage: Any) -> list[PdfFont]:
    programs = ProgramCache()
    out = []
    for use in usage.fonts.values():
        if not po.is_dict(use.font):
            continue
        out.append(build_font(use, programs))
    return out


def cmap_ordering(name: str) -> tuple[str, str] | None:
    """(registry, ordering) of a predefined CMap name."""
    order = PREDEFINED_ORDERING.get(name)
    return ("Adobe", order) if order else None
