"""What the content streams use: the records the content walk fills, and the operator tables
and small helpers it reads (see :mod:`archive.pdfa.walker`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from archive.pdfa import pdfobj as po

# --------------------------------------------------------------------------------------
# Content walk


@dataclass
class ColourSpace:
    """A colour space as found in a resource or operator, with what it resolves to."""

    obj: Any  # pikepdf Name or array
    family: str  # "DeviceRGB", "ICCBased", "Separation", ... without the slash
    key: Any  # identity for de-duplication


@dataclass(frozen=True)
class ColourUse:
    """One way a colour space is used: ``how`` is fill, stroke, image, shading, group..."""

    cs_key: Any
    how: str
    page: int | None
    overprint: bool = False
    opm: int = 0
    defaults: frozenset[str] = frozenset()  # DefaultGray/RGB/CMYK present in resources
    group_cs: Any = None  # the blending colour space (ColourSpace key) in effect
    page_oi_cs: str | None = None  # page-level output intent colour space (PDF/A-4)
    alternate_of: Any = None  # set when this is the alternate/base of another space


@dataclass
class FontUse:
    """A font selected by ``Tf`` somewhere, with everything shown in it."""

    font: Any
    pages: set[int] = field(default_factory=set)
    # (string bytes, text rendering mode, inside ActualText) -- capped per font
    shows: set[tuple[bytes, int, bool]] = field(default_factory=set)
    render_modes: set[int] = field(default_factory=set)

    @property
    def rendered(self) -> bool:
        """True when some text in this font is drawn with a mode other than 3 (invisible)."""
        return any(m != 3 for m in self.render_modes)


@dataclass
class Usage:
    """What the content streams of the document use, and where."""

    images: dict[Any, tuple[Any, int | None]] = field(default_factory=dict)
    forms: dict[Any, tuple[Any, int | None]] = field(default_factory=dict)
    other_xobjects: dict[Any, tuple[Any, int | None]] = field(default_factory=dict)
    inline_images: list[tuple[Any, int | None]] = field(default_factory=list)
    ext_gstates: dict[Any, tuple[Any, int | None]] = field(default_factory=dict)
    shadings: dict[Any, tuple[Any, int | None]] = field(default_factory=dict)
    patterns: dict[Any, tuple[Any, int | None]] = field(default_factory=dict)
    fonts: dict[Any, FontUse] = field(default_factory=dict)
    colour_spaces: dict[Any, ColourSpace] = field(default_factory=dict)
    colour_uses: set[ColourUse] = field(default_factory=set)
    undefined_ops: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    max_q_depth: int = 0
    q_depth_where: tuple[int | None, int | None] = (None, None)
    rendering_intents: list[tuple[str, int | None, int | None]] = field(default_factory=list)
    transparent_pages: set[int] = field(default_factory=set)
    content_errors: list[tuple[str, int | None, int | None]] = field(default_factory=list)
    marked_props: list[tuple[Any, int | None]] = field(default_factory=list)  # BDC property lists
    actual_texts: list[tuple[Any, int | None]] = field(default_factory=list)
    # content streams that use a resource name their resource dictionary does not define
    missing_resources: list[tuple[str, str, int | None, int | None]] = field(default_factory=list)
    units: int = 0
    # operands of content streams: (value, is_integer, stream object, page)
    content_numbers: list[tuple[float, bool, int | None, int | None]] = field(
        default_factory=list)
    content_strings: list[tuple[int, int | None, int | None]] = field(default_factory=list)
    content_hex: list[tuple[str, int | None, int | None]] = field(default_factory=list)
    # content streams (pages, forms, patterns, glyphs) that take a named resource from a
    # resource dictionary they inherit instead of one explicitly associated with them
    inherited_resources: list[tuple[int | None, int | None]] = field(default_factory=list)
    # resource dictionaries of the pages and of the content streams walked, with the page:
    # the font and colourant names they define are checked even when not used
    resource_dicts: dict[Any, tuple[Any, int | None]] = field(default_factory=dict)


# Operators of ISO 32000 (the same set as the PDF 1.4 reference and PDF 2.0).
_OPERATOR_TEXT = """
b B b* B* BDC BI BMC BT BX c cm CS cs d d0 d1 Do DP EI EMC ET EX f F f* G g gs h i ID j J
K k l m M MP n q Q re RG rg ri s S SC sc SCN scn sh T* Tc Td TD Tf TJ Tj TL Tm Tr Ts Tw Tz
v w W W* y ' "
"""
KNOWN_OPERATORS = frozenset(_OPERATOR_TEXT.split())
_FILL_OPS = frozenset({"f", "F", "f*", "B", "B*", "b", "b*"})
_STROKE_OPS = frozenset({"S", "s", "B", "B*", "b", "b*"})
_SHOW_OPS = frozenset({"Tj", "TJ", "'", '"'})
# Operators that name a resource: the resource category and which operand is the name.
_RESOURCE_OPERAND = {"Tf": ("/Font", 0), "gs": ("/ExtGState", 0), "Do": ("/XObject", 0),
                     "sh": ("/Shading", 0), "cs": ("/ColorSpace", 0), "CS": ("/ColorSpace", 0),
                     "scn": ("/Pattern", -1), "SCN": ("/Pattern", -1),
                     "BDC": ("/Properties", 1), "DP": ("/Properties", 1)}
_DEVICE = {"/DeviceGray": "DeviceGray", "/DeviceRGB": "DeviceRGB", "/DeviceCMYK": "DeviceCMYK",
           "/Pattern": "Pattern", "/G": "DeviceGray", "/RGB": "DeviceRGB", "/CMYK": "DeviceCMYK",
           "/CalRGB": "CalRGB", "/CalGray": "CalGray", "/Lab": "Lab", "/I": "Indexed"}
_MAX_SHOWS_PER_FONT = 20000
# A hex string in a content stream: printable text between single angle brackets (dicts
# use << >>; inline image data is binary and rarely looks like this).
_HEX_IN_CONTENT = re.compile(rb"(?<![<])<(?![<])([\x20-\x3d\x3f-\x7e\t\r\n\f]{0,4096}?)>")
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")
_HEX_WS_RE = re.compile(rb"[ \t\r\n\f\x00]")
_BIG_NUMBER = re.compile(rb"\d{5,}")
_PAREN_OR_ESCAPE = re.compile(rb"[()\\]")


def _blank_literal_strings(data: bytes) -> bytes:
    """``data`` with the bodies of literal strings ``(...)`` blanked out, so that text such
    as ``(a <b> c)`` is not mistaken for a hex string."""
    out = bytearray(data)
    depth = 0
    start = 0
    skip_until = -1
    for m in _PAREN_OR_ESCAPE.finditer(data):
        i = m.start()
        if i < skip_until:
            continue
        c = data[i]
        if c == 0x5C:  # backslash: the next byte is escaped (inside strings)
            if depth:
                skip_until = i + 2
            continue
        if c == 0x28:
            if depth == 0:
                start = i + 1
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                out[start:i] = b" " * (i - start)
    if depth:
        out[start:] = b" " * (len(data) - start)
    return bytes(out)
_MAX_DEPTH = 40


def _takes_resource(op: str, ops: Any, res: Any) -> bool:
    """True when operator ``op`` with operands ``ops`` takes a named resource that the
    resource dictionary ``res`` defines (``/DeviceRGB cs`` or ``/P <<...>> BDC`` name none)."""
    cat, i = _RESOURCE_OPERAND[op]
    try:
        nm = ops[i]
    except IndexError:
        return False
    return po.is_name(nm) and po.get(po.get(res, cat), str(nm)) is not None


def _family(cs: Any) -> str | None:
    n = po.name(cs)
    if n is not None:
        fam = _DEVICE.get(n)
        return fam if fam else n[1:]
    first = po.elements(cs)[:1]
    if first:
        n = po.name(first[0])
        if n is not None:
            fam = _DEVICE.get(n)
            return fam if fam else n[1:]
    if po.is_dict(cs):  # a bare ICC stream used as a colour space is malformed but seen
        return None
    return None


_INITIAL_GRAY = ("dev", "DeviceGray")
_SET_GRAY = tuple(["dev", "DeviceGray"])  # equal to the initial value, but not the same object


class _State:
    __slots__ = ("fill", "stroke", "tr", "font", "op_fill", "op_stroke", "opm")

    def __init__(self) -> None:
        self.fill: Any = _INITIAL_GRAY
        self.stroke: Any = _INITIAL_GRAY
        self.tr = 0
        self.font: Any = None
        self.op_fill = False
        self.op_stroke = False
        self.opm = 0

    def copy(self) -> _State:
        s = _State.__new__(_State)
        s.fill, s.stroke, s.tr, s.font = self.fill, self.stroke, self.tr, self.font
        s.op_fill, s.op_stroke, s.opm = self.op_fill, self.op_stroke, self.opm
        return s


def scan_operands(u: Usage, stream: Any, kind: str, instructions: Any, objnum: int | None,
                  page: int | None) -> None:
    """Numbers, strings and hex strings inside the content stream (implementation
    limits and hex syntax apply to operands too). A cheap look at the bytes first,
    the operands only when the bytes hint at a problem."""
    if kind == "page":
        parts = [c for c in po.as_list(po.get(stream, "/Contents")) if po.is_stream(c)]
    else:
        parts = [stream]
    chunks = [po.read_stream(c) or b"" for c in parts]
    data = b"\n".join(chunks)
    if b"<" in data:
        if b"(" in data:
            data = _blank_literal_strings(data)
        for m in _HEX_IN_CONTENT.finditer(data):
            body = m.group(1)
            digits = _HEX_WS_RE.sub(b"", body)
            if _NOT_HEX.search(digits):
                u.content_hex.append(("nonhex", objnum, page))
            elif len(digits) % 2:
                u.content_hex.append(("odd", objnum, page))
    if len(data) <= 32767 and _BIG_NUMBER.search(data) is None:
        return
    for inst in instructions:
        try:
            operands = list(inst.operands)
        except Exception:  # noqa: BLE001 - inline images have no operand list
            continue
        for v in operands:
            if isinstance(v, bool):
                continue
            if isinstance(v, int):
                if v > 2147483647 or v < -2147483648:
                    u.content_numbers.append((float(v), True, objnum, page))
            elif isinstance(v, Decimal):
                f = float(v)
                if abs(f) > 32767.0 or (f != 0.0 and abs(f) < 1.175e-38):
                    u.content_numbers.append((f, False, objnum, page))
            elif po.kind(v) is po.T_STRING:
                n = len(bytes(v))
                if n > 32767:
                    u.content_strings.append((n, objnum, page))
