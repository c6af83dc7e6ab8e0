"""The per-document context every rule reads from; each piece is computed once, on demand.

Rules never walk the file themselves. They ask the context for what they need:

* ``ctx.raw`` / ``ctx.rawinfo``: the file's bytes and the syntax facts only they show
  (header, trailer IDs, xref layout, object and stream keywords, hex strings);
* ``ctx.pdf``, ``ctx.trailer``, ``ctx.catalog``, ``ctx.pages`` (page dictionaries in
  order), ``ctx.page_index(obj)``;
* ``ctx.cos``: one pass over every object reachable from the trailer (streams,
  dictionaries, numbers, strings and names, with the object that holds them);
* ``ctx.usage``: one pass over every content stream (pages, form XObjects, patterns,
  Type 3 glyphs, annotation appearances, soft masks) that records what is *used* and
  where: images, forms, graphics states, fonts with the strings shown in each and the
  text rendering mode, colour spaces per painting operation, undefined operators, q/Q
  nesting, marked content, transparency per page;
* ``ctx.annotations`` (annotation dictionary, page index), ``ctx.actions``;
* ``ctx.xmp``: the catalog's XMP metadata, parsed once;
* ``ctx.output_intent_cs`` and friends for colour rules.

Everything is lazy: a rule family that is not run costs nothing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import pikepdf

from archive.pdfa import pdfobj as po
from archive.pdfa.flavours import level_of, part_of
from archive.pdfa.rawscan import RawInfo
from archive.pdfa.rawscan import scan as raw_scan

# --------------------------------------------------------------------------------------
# Object walk


@dataclass
class CosFacts:
    """Facts gathered in one pass over every object reachable from the trailer."""

    objects: int = 0
    streams: list[Any] = field(default_factory=list)
    dicts: list[Any] = field(default_factory=list)  # indirect and direct dictionaries
    big_ints: list[tuple[int, int | None]] = field(default_factory=list)
    reals: list[tuple[float, int | None]] = field(default_factory=list)  # |x|>32767 or tiny
    long_strings: list[tuple[int, int | None]] = field(default_factory=list)  # len > 32767
    long_names: list[tuple[str, int | None]] = field(default_factory=list)
    big_arrays: list[tuple[int, int | None]] = field(default_factory=list)
    big_dicts: list[tuple[int, int | None]] = field(default_factory=list)
    indirect_count: int = 0


def _walk_cos(pdf: pikepdf.Pdf) -> CosFacts:
    facts = CosFacts()
    seen: set[tuple[int, int]] = set()
    T_DICT, T_STREAM, T_ARRAY = po.T_DICT, po.T_STREAM, po.T_ARRAY
    T_STRING, T_NAME = po.T_STRING, po.T_NAME
    Obj = pikepdf.Object
    # (object, number of the indirect object that holds it)
    stack: list[tuple[Any, int | None]] = [(pdf.trailer, None)]
    while stack:
        obj, holder = stack.pop()
        facts.objects += 1
        if isinstance(obj, Obj):
            try:
                t = obj._type_code
            except Exception:  # noqa: BLE001
                continue
            if t is T_DICT or t is T_STREAM or t is T_ARRAY:
                og = obj.objgen
                if og[0]:
                    if og in seen:
                        continue
                    seen.add(og)
                    holder = og[0]
                try:
                    if t is T_ARRAY:
                        values = list(obj)
                        if len(values) > 8191:
                            facts.big_arrays.append((len(values), holder))
                    else:
                        pairs = list(obj.items())
                        if len(pairs) > 4095:
                            facts.big_dicts.append((len(pairs), holder))
                        if t is T_STREAM:
                            facts.streams.append(obj)
                        else:
                            facts.dicts.append(obj)
                        values = []
                        for k, v in pairs:
                            if len(k) > 128:
                                facts.long_names.append((k, holder))
                            values.append(v)
                except Exception:  # noqa: BLE001 - broken containers are skipped
                    continue
                stack.extend((v, holder) for v in values)
            elif t is T_STRING:
                try:
                    n = len(bytes(obj))
                except Exception:  # noqa: BLE001
                    continue
                if n > 32767:
                    facts.long_strings.append((n, holder))
            elif t is T_NAME:
                try:
                    raw = po.name_bytes(obj)
                except Exception:  # noqa: BLE001
                    continue
                if len(raw) > 127:
                    facts.long_names.append((raw.decode("latin-1"), holder))
        elif isinstance(obj, bool):
            continue
        elif isinstance(obj, int):
            if obj > 2147483647 or obj < -2147483648:
                facts.big_ints.append((obj, holder))
        else:  # Decimal
            try:
                f = float(obj)
            except (TypeError, ValueError):
                continue
            if abs(f) > 32767.0 or (f != 0.0 and abs(f) < 1.175e-38):
                facts.reals.append((f, holder))
    facts.indirect_count = len(pdf.objects)
    return facts


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


class _Walker:
    """Walks content streams once, filling a :class:`Usage`."""

    def __init__(self, ctx: DocContext) -> None:
        self.ctx = ctx
        self.u = Usage()
        self.walked: set[Any] = set()
        self.depth = 0
        self.q_base = 0
        self.page_res: Any = None  # resources of the page being walked

    # -- colour spaces ----------------------------------------------------------------
    def cs_key(self, cs: Any, res: Any) -> Any:
        """Register a colour space (name or array) and return its key."""
        n = po.name(cs)
        if n is not None and n not in _DEVICE:
            resolved = po.get(po.get(res, "/ColorSpace"), n)
            if resolved is None:
                self.u.missing_resources.append(("ColorSpace", n, None, None))
                return None
            cs = resolved
            n = po.name(cs)
        if n is not None:
            fam = _DEVICE.get(n, n[1:])
            key: Any = ("dev", fam)
        else:
            fam = _family(cs) or "?"
            og = po.key_of(cs)
            key = og if og is not None else ("direct", po.unparse(cs))
        if key not in self.u.colour_spaces:
            self.u.colour_spaces[key] = ColourSpace(cs, fam, key)
        return key

    def use_cs(self, key: Any, how: str, page: int | None, st: _State | None,
               defaults: frozenset[str], group: Any, alternate_of: Any = None) -> None:
        if key is None:
            return
        overprint = False
        if st is not None:
            overprint = st.op_stroke if how == "stroke" else st.op_fill
        use = ColourUse(key, how, page, overprint, st.opm if st else 0, defaults, group,
                        self.ctx.page_oi_cs(page), alternate_of)
        if use in self.u.colour_uses:
            return
        self.u.colour_uses.add(use)
        cs = self.u.colour_spaces.get(key)
        if cs is None or key[0] == "dev":
            return
        # The base or alternate space of a derived space is used as well.
        fam = cs.family
        parts = po.elements(cs.obj)
        sub = None
        if fam == "Indexed" and len(parts) > 1:
            sub = parts[1]
        elif fam in ("Separation",) and len(parts) > 2 or fam in ("DeviceN",) and len(parts) > 2:
            sub = parts[2]
        elif fam == "Pattern" and len(parts) > 1:
            sub = parts[1]
        if sub is not None and self.depth < _MAX_DEPTH:
            self.depth += 1
            try:
                skey = self.cs_key(sub, None)
                self.use_cs(skey, how, page, st, defaults, group, alternate_of=key)
            finally:
                self.depth -= 1

    # -- units ------------------------------------------------------------------------
    def walk_page(self, index: int, page: Any) -> None:
        own = po.get(page, "/Resources")
        res = own if own is not None else self.ctx.page_resources(page)
        self.page_res = res
        self.note_resources(res, index)
        group = po.get(page, "/Group")
        gkey = None
        if po.get_name(group, "/S") == "/Transparency" and po.get(group, "/CS") is not None:
            gkey = self.cs_key(po.get(group, "/CS"), res)
            self.use_cs(gkey, "group", index, None, self._defaults(res), None)
        # Resources inherited from the page tree are not explicitly associated with the
        # page's content stream (ISO 19005-2/-4 6.2.2).
        self.walk_unit(page, res, index, _State(), gkey, kind="page",
                       inherits=own is None and res is not None)
        for annot in self.ctx.page_annotations(page):
            if _gs_transparent(annot):
                self.u.transparent_pages.add(index)
            if po.get_name(annot, "/Subtype") == "/3D":
                self.three_d(annot, res, index, gkey)
            ap = po.get(annot, "/AP")
            for key in ("/N", "/R", "/D"):
                entry = po.get(ap, key)
                streams = [entry] if po.is_stream(entry) else [
                    v for _, v in po.items(entry) if po.is_stream(v)]
                for s in streams:
                    if po.get_name(po.get(s, "/Group"), "/S") == "/Transparency":
                        self.u.transparent_pages.add(index)
                    self.walk_form(s, res, index, _State(), gkey, from_annotation=True)

    def note_resources(self, res: Any, page: int | None) -> None:
        if po.is_dict(res):
            key = po.key_of(res) or ("direct", id(res))
            self.u.resource_dicts.setdefault(key, (res, page))

    def three_d(self, annot: Any, res: Any, page: int, group: Any) -> None:
        """The colour space of a 3D annotation's 3D stream (ISO 32000-2 13.6.3) is used to
        render it; a name is looked up like one given to ``cs``."""
        stream = po.get(annot, "/3DD")
        if po.get_name(stream, "/Type") == "/3DRef":
            stream = po.get(stream, "/3DD")
        if not po.is_stream(stream):
            return
        cs = po.get(stream, "/ColorSpace")
        parts = po.elements(cs)
        if len(parts) == 1 and po.is_name(parts[0]):
            cs = parts[0]
        n = po.name(cs)
        if n is None and not parts:
            return
        if n in ("/DeviceGray", "/DeviceRGB", "/DeviceCMYK"):
            key = self.resolve(("dev", n[1:]), res)
        else:
            key = self.cs_key(cs, res)
        self.use_cs(key, "3D artwork", page, None, self._defaults(res), group)

    def _defaults(self, res: Any) -> frozenset[str]:
        csd = po.get(res, "/ColorSpace")
        if csd is None:
            return frozenset()
        return frozenset(k for k in ("/DefaultGray", "/DefaultRGB", "/DefaultCMYK")
                         if po.has(csd, k))

    def walk_form(self, form: Any, parent_res: Any, page: int | None, st: _State, group: Any,
                  from_annotation: bool = False, explicit_res: bool = False,
                  standalone: bool = False) -> None:
        """Walk a form XObject, pattern, glyph or appearance stream. ``explicit_res``: the
        parent resources are explicitly associated with it (a Type 3 font's /Resources for
        its glyphs); ``standalone``: a group with no parent group (a soft mask's)."""
        key = po.key_of(form)
        if key is not None:
            if key in self.walked:
                return
            self.walked.add(key)
        if self.depth >= _MAX_DEPTH:
            return
        res = po.get(form, "/Resources")
        inherits = res is None and not explicit_res
        if res is None:
            res = parent_res
        else:
            self.note_resources(res, page)
        g = po.get(form, "/Group")
        if po.get_name(g, "/S") == "/Transparency" and po.get(g, "/CS") is not None:
            # The form's blending space is itself a used colour space; device colours inside
            # are judged against the innermost device-independent blending space. A
            # non-isolated group ignores its CS and blends in its parent's colour space
            # (ISO 32000-1 11.6.6, Table 147), unless it has no parent (a soft mask's).
            gkey = self.cs_key(po.get(g, "/CS"), res)
            self.use_cs(gkey, "group", page, None, self._defaults(res), group)
            gcs = self.u.colour_spaces.get(gkey)
            honoured = po.get(g, "/I") is True or standalone
            if (honoured and gcs is not None
                    and gcs.family in ("ICCBased", "CalRGB", "CalGray", "Lab")):
                group = gkey
        self.depth += 1
        try:
            self.walk_unit(form, res, page, st.copy(), group, kind="form", inherits=inherits)
        finally:
            self.depth -= 1

    def walk_unit(self, stream: Any, res: Any, page: int | None, st: _State, group: Any,
                  kind: str, inherits: bool = False) -> None:
        u = self.u
        u.units += 1
        try:
            instructions = pikepdf.parse_content_stream(stream)
        except Exception as exc:  # noqa: BLE001
            u.content_errors.append((str(exc), po.objgen(stream)[0] or None, page))
            return
        objnum = po.objgen(stream)[0] or None
        reported = False  # an inherited resource name was reported for this stream
        self.scan_operands(stream, kind, instructions, objnum, page)
        defaults = self._defaults(res)
        stack: list[_State] = []
        marked: list[bool] = []  # inside ActualText?
        in_bx = 0
        base = self.q_base
        for inst in instructions:
            try:
                op = str(inst.operator)
            except Exception:  # noqa: BLE001
                continue
            if op == "INLINE IMAGE":
                self.inline_image(inst, res, page, st, defaults, group)
                continue
            if op not in KNOWN_OPERATORS:
                if op not in u.undefined_ops:
                    u.undefined_ops[op] = (objnum, page)
                continue
            ops = inst.operands
            if op in _RESOURCE_OPERAND and not reported and self.inherited_name(
                    op, ops, res, kind, inherits):
                u.inherited_resources.append((objnum, page))
                reported = True
            if op == "q":
                stack.append(st.copy())
                depth = base + len(stack)
                if depth > u.max_q_depth:
                    u.max_q_depth = depth
                    u.q_depth_where = (objnum, page)
            elif op == "Q":
                if stack:
                    st = stack.pop()
            elif op in _FILL_OPS or op in _STROKE_OPS:
                if op in _FILL_OPS:
                    self.use_cs(self.resolve(st.fill, res), "fill", page, st, defaults, group)
                if op in _STROKE_OPS:
                    self.use_cs(self.resolve(st.stroke, res), "stroke", page, st, defaults,
                                group)
            elif op in _SHOW_OPS:
                self.show(st, ops, op, page, res, defaults, group, bool(marked and any(marked)))
            elif op == "cs" or op == "CS":
                if ops:
                    cs = ops[0]
                    val = ("name", str(cs)) if po.is_name(cs) else None
                    if op == "cs":
                        st.fill = val
                    else:
                        st.stroke = val
            elif op == "g":
                st.fill = _SET_GRAY
            elif op == "G":
                st.stroke = _SET_GRAY
            elif op == "rg":
                st.fill = ("dev", "DeviceRGB")
            elif op == "RG":
                st.stroke = ("dev", "DeviceRGB")
            elif op == "k":
                st.fill = ("dev", "DeviceCMYK")
            elif op == "K":
                st.stroke = ("dev", "DeviceCMYK")
            elif op == "scn" or op == "SCN":
                if ops and po.is_name(ops[-1]):
                    self.pattern(str(ops[-1]), res, page, st, defaults, group)
            elif op == "Tf":
                if ops and po.is_name(ops[0]):
                    font = po.get(po.get(res, "/Font"), str(ops[0]))
                    if font is None:
                        u.missing_resources.append(("Font", str(ops[0]), objnum, page))
                    st.font = font
            elif op == "Tr":
                if ops and isinstance(ops[0], int):
                    st.tr = int(ops[0])
            elif op == "gs":
                if ops and po.is_name(ops[0]):
                    self.ext_gstate(str(ops[0]), res, page, st, objnum)
            elif op == "Do":
                if ops and po.is_name(ops[0]):
                    self.q_base = base + len(stack)
                    self.xobject(str(ops[0]), res, page, st, defaults, group, objnum)
                    self.q_base = base
            elif op == "sh":
                if ops and po.is_name(ops[0]):
                    sh = po.get(po.get(res, "/Shading"), str(ops[0]))
                    if sh is None:
                        u.missing_resources.append(("Shading", str(ops[0]), objnum, page))
                    else:
                        self.shading(sh, res, page, st, defaults, group)
            elif op == "ri":
                if ops and po.is_name(ops[0]):
                    u.rendering_intents.append((str(ops[0]), objnum, page))
            elif op == "BDC" or op == "BMC":
                has_actual = False
                if op == "BDC" and len(ops) >= 2:
                    props = ops[1]
                    if po.is_name(props):
                        props = po.get(po.get(res, "/Properties"), str(props))
                    if props is not None:
                        u.marked_props.append((props, page))
                        at = po.get(props, "/ActualText")
                        if at is not None:
                            has_actual = True
                            u.actual_texts.append((at, page))
                        else:
                            mcid = po.get_int(props, "/MCID")
                            if mcid is not None:
                                has_actual = self.ctx.mcid_has_actual_text(
                                    po.get_int(stream, "/StructParents"), mcid)
                marked.append(has_actual)
            elif op == "EMC":
                if marked:
                    marked.pop()
            elif op == "BX":
                in_bx += 1
            elif op == "EX":
                in_bx = max(0, in_bx - 1)
        self.q_base = base

    def inherited_name(self, op: str, ops: Any, res: Any, kind: str, inherits: bool) -> bool:
        """Does ``op`` take a named resource from a dictionary not explicitly associated
        with its content stream? ``inherits``: the stream has no resources of its own and
        uses ``res`` from its parent; otherwise a form, pattern, glyph or appearance stream
        whose own resources lack the name falls back on the page's, as veraPDF resolves."""
        if inherits:
            return _takes_resource(op, ops, res)
        page_res = self.page_res
        return (kind != "page" and page_res is not None and res is not page_res
                and not _takes_resource(op, ops, res) and _takes_resource(op, ops, page_res))

    def scan_operands(self, stream: Any, kind: str, instructions: Any, objnum: int | None,
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
                    self.u.content_hex.append(("nonhex", objnum, page))
                elif len(digits) % 2:
                    self.u.content_hex.append(("odd", objnum, page))
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
                        self.u.content_numbers.append((float(v), True, objnum, page))
                elif isinstance(v, Decimal):
                    f = float(v)
                    if abs(f) > 32767.0 or (f != 0.0 and abs(f) < 1.175e-38):
                        self.u.content_numbers.append((f, False, objnum, page))
                elif po.kind(v) is po.T_STRING:
                    n = len(bytes(v))
                    if n > 32767:
                        self.u.content_strings.append((n, objnum, page))

    def resolve(self, cur: Any, res: Any) -> Any:
        if cur is None:
            return None
        if cur[0] == "dev":
            key = cur
            if key not in self.u.colour_spaces:
                self.u.colour_spaces[key] = ColourSpace(pikepdf.Name("/" + cur[1]), cur[1], key)
            return key
        return self.cs_key(pikepdf.Name(cur[1]), res)

    def show(self, st: _State, ops: Any, op: str, page: int | None, res: Any,
             defaults: frozenset[str], group: Any, in_actual: bool) -> None:
        tr = st.tr
        # Like veraPDF, visible text uses the colours its rendering mode paints, and also
        # any colour the content set explicitly for the other channel (not the initial
        # DeviceGray black).
        if tr not in (3, 7):
            if tr in (0, 2, 4, 6) or st.fill is not _INITIAL_GRAY:
                self.use_cs(self.resolve(st.fill, res), "fill", page, st, defaults, group)
            if tr in (1, 2, 5, 6) or st.stroke is not _INITIAL_GRAY:
                self.use_cs(self.resolve(st.stroke, res), "stroke", page, st, defaults,
                            group)
        font = st.font
        if font is None:
            return
        key = po.key_of(font) or ("direct", id(font))
        use = self.u.fonts.get(key)
        if use is None:
            use = self.u.fonts[key] = FontUse(font)
            self.type3(font, res, page, st, group)
        if page is not None:
            use.pages.add(page)
        use.render_modes.add(tr)
        if len(use.shows) >= _MAX_SHOWS_PER_FONT:
            return
        if op == "TJ":
            for part in po.elements(ops[0]) if ops else []:
                b = po.raw_bytes(part)
                if b is not None:
                    use.shows.add((b, tr, in_actual))
        elif ops:
            b = po.raw_bytes(ops[-1])
            if b is not None:
                use.shows.add((b, tr, in_actual))

    def type3(self, font: Any, res: Any, page: int | None, st: _State, group: Any) -> None:
        if po.get_name(font, "/Subtype") != "/Type3":
            return
        own = po.get(font, "/Resources")
        if own is not None:
            self.note_resources(own, page)
        fres = own or res
        for _, proc in po.items(po.get(font, "/CharProcs")):
            if po.is_stream(proc):
                self.walk_form(proc, fres, page, st, group, explicit_res=own is not None)

    def ext_gstate(self, nm: str, res: Any, page: int | None, st: _State,
                   objnum: int | None) -> None:
        gs = po.get(po.get(res, "/ExtGState"), nm)
        if gs is None:
            self.u.missing_resources.append(("ExtGState", nm, objnum, page))
            return
        key = po.key_of(gs) or ("direct", objnum, nm)
        if key not in self.u.ext_gstates:
            self.u.ext_gstates[key] = (gs, page)
        op = po.get(gs, "/OP")
        if isinstance(op, bool):
            st.op_stroke = op
            st.op_fill = op
        op2 = po.get(gs, "/op")
        if isinstance(op2, bool):
            st.op_fill = op2
        opm = po.get_int(gs, "/OPM")
        if opm is not None:
            st.opm = opm
        ri = po.get_name(gs, "/RI")
        if ri is not None:
            self.u.rendering_intents.append((ri, po.objgen(gs)[0] or objnum, page))
        if page is not None and _gs_transparent(gs):
            self.u.transparent_pages.add(page)
        smask = po.get(gs, "/SMask")
        if po.is_dict(smask):
            g = po.get(smask, "/G")
            if po.is_stream(g):
                self.walk_form(g, res, page, _State(), None, standalone=True)
        font = po.elements(po.get(gs, "/Font"))
        if font:
            st.font = font[0]

    def xobject(self, nm: str, res: Any, page: int | None, st: _State,
                defaults: frozenset[str], group: Any, objnum: int | None) -> None:
        xo = po.get(po.get(res, "/XObject"), nm)
        if not po.is_stream(xo):
            self.u.missing_resources.append(("XObject", nm, objnum, page))
            return
        key = po.key_of(xo) or ("direct", objnum, nm)
        sub = po.get_name(xo, "/Subtype")
        if sub == "/Image":
            first = key not in self.u.images
            if first:
                self.u.images[key] = (xo, page)
            self.image(xo, res, page, st, defaults, group)
        elif sub == "/Form":
            if key not in self.u.forms:
                self.u.forms[key] = (xo, page)
            g = po.get(xo, "/Group")
            if page is not None and po.get_name(g, "/S") == "/Transparency":
                self.u.transparent_pages.add(page)
            self.walk_form(xo, res, page, st, group)
        else:
            if key not in self.u.other_xobjects:
                self.u.other_xobjects[key] = (xo, page)

    def image(self, img: Any, res: Any, page: int | None, st: _State,
              defaults: frozenset[str], group: Any) -> None:
        if po.get(img, "/ImageMask") is True:
            self.use_cs(self.resolve(st.fill, res), "fill", page, st, defaults, group)
        else:
            cs = po.get(img, "/ColorSpace")
            if cs is not None:
                self.use_cs(self.cs_key(cs, res), "image", page, st, defaults, group)
        smask = po.get(img, "/SMask")
        if page is not None and (po.is_stream(smask) or (po.get_int(img, "/SMaskInData") or 0)):
            self.u.transparent_pages.add(page)
        if po.is_stream(smask):
            key = po.key_of(smask)
            if key is not None and key not in self.u.images:
                self.u.images[key] = (smask, page)

    def inline_image(self, inst: Any, res: Any, page: int | None, st: _State,
                     defaults: frozenset[str], group: Any) -> None:
        try:
            img = inst.iimage
            d = img.obj
        except Exception:  # noqa: BLE001
            return
        self.u.inline_images.append((d, page))
        if po.get(d, "/ImageMask") is True or po.get(d, "/IM") is True:
            self.use_cs(self.resolve(st.fill, res), "fill", page, st, defaults, group)
            return
        cs = po.get(d, "/ColorSpace")
        if cs is None:
            cs = po.get(d, "/CS")
        if cs is not None:
            self.use_cs(self.cs_key(cs, res), "image", page, st, defaults, group)

    def shading(self, sh: Any, res: Any, page: int | None, st: _State | None,
                defaults: frozenset[str], group: Any) -> None:
        key = po.key_of(sh) or ("direct", po.unparse(sh)[:200])
        if key not in self.u.shadings:
            self.u.shadings[key] = (sh, page)
        cs = po.get(sh, "/ColorSpace")
        if cs is not None:
            self.use_cs(self.cs_key(cs, res), "shading", page, st, defaults, group)

    def pattern(self, nm: str, res: Any, page: int | None, st: _State,
                defaults: frozenset[str], group: Any) -> None:
        pat = po.get(po.get(res, "/Pattern"), nm)
        if pat is None:
            return
        key = po.key_of(pat) or ("direct", nm)
        if key in self.u.patterns:
            return
        self.u.patterns[key] = (pat, page)
        ptype = po.get_int(pat, "/PatternType")
        if ptype == 2:
            sh = po.get(pat, "/Shading")
            if sh is not None:
                self.shading(sh, res, page, st, defaults, group)
            gs = po.get(pat, "/ExtGState")
            if gs is not None:
                gkey = po.key_of(gs) or ("direct", "pattern", nm)
                self.u.ext_gstates.setdefault(gkey, (gs, page))
        elif ptype == 1 and po.is_stream(pat):
            self.walk_form(pat, res, page, _State(), group)


def _gs_transparent(gs: Any) -> bool:
    smask = po.get(gs, "/SMask")
    if smask is not None and po.name(smask) != "/None":
        return True
    for key in ("/CA", "/ca"):
        v = po.get_number(gs, key)
        if v is not None and v < 1.0:
            return True
    bm = po.get(gs, "/BM")
    names = [po.name(b) for b in po.as_list(bm)]
    return bool(names) and not any(n in ("/Normal", "/Compatible") for n in names)


# --------------------------------------------------------------------------------------
# The context


class DocContext:
    """Shared, lazily computed view of one document for all rules of one run."""

    def __init__(self, raw: bytes, pdf: pikepdf.Pdf, flavour: str = "2b",
                 path: str | None = None, depth: int = 0) -> None:
        self.raw = raw
        self.pdf = pdf
        self.path = path
        self.depth = depth  # nesting level when checking embedded files
        self.set_flavour(flavour)

    def set_flavour(self, flavour: str) -> None:
        """The flavour being checked (known only after reading the XMP claim for auto)."""
        self.flavour = flavour
        self.part = part_of(flavour)
        self.level = level_of(flavour)
        self.__dict__.pop("_page_oi", None)

    # -- basic structure --------------------------------------------------------------
    @cached_property
    def trailer(self) -> Any:
        return self.pdf.trailer

    @cached_property
    def catalog(self) -> Any:
        root = po.get(self.trailer, "/Root")
        return root if po.is_dict(root) else pikepdf.Dictionary()

    @cached_property
    def xref(self) -> dict[tuple[int, int], Any]:
        try:
            return dict(self.pdf.get_xref_table())
        except Exception:  # noqa: BLE001
            return {}

    @cached_property
    def pages(self) -> list[Any]:
        out: list[Any] = []
        try:
            for p in self.pdf.pages:
                out.append(p.obj)
        except Exception:  # noqa: BLE001 - a broken page tree gives what was read
            pass
        return out

    @cached_property
    def _page_numbers(self) -> dict[Any, int]:
        return {po.objgen(p): i for i, p in enumerate(self.pages) if po.key_of(p)}

    def page_index(self, page_obj: Any) -> int | None:
        return self._page_numbers.get(po.objgen(page_obj))

    def inherited(self, page: Any, key: str) -> Any:
        node, hops = page, 0
        while node is not None and hops < 64:
            v = po.get(node, key)
            if v is not None:
                return v
            node = po.get(node, "/Parent")
            hops += 1
        return None

    def page_resources(self, page: Any) -> Any:
        return self.inherited(page, "/Resources")

    def page_annotations(self, page: Any) -> list[Any]:
        return [a for a in po.elements(po.get(page, "/Annots")) if po.is_dict(a)]

    @cached_property
    def annotations(self) -> list[tuple[Any, int]]:
        """Every annotation dictionary on every page, with its 0-based page index."""
        out = []
        for i, page in enumerate(self.pages):
            for a in self.page_annotations(page):
                out.append((a, i))
        return out

    # -- raw bytes --------------------------------------------------------------------
    @cached_property
    def rawinfo(self) -> RawInfo:
        lengths: dict[int, Any] = {}
        for s in self.cos.streams:
            og = po.objgen(s)
            if og[0]:
                length = po.get(s, "/Length")
                lengths[og[0]] = length
        return raw_scan(self.raw, self.xref, lengths, check_strings=True)

    # -- object walk ------------------------------------------------------------------
    @cached_property
    def cos(self) -> CosFacts:
        return _walk_cos(self.pdf)

    # -- content ----------------------------------------------------------------------
    @cached_property
    def usage(self) -> Usage:
        walker = _Walker(self)
        for i, page in enumerate(self.pages):
            walker.walk_page(i, page)
        return walker.u

    @cached_property
    def fonts(self) -> list[Any]:
        """A :class:`~archive.pdfa.fontmodel.PdfFont` per font used for text: dictionaries,
        the parsed font program (each program parsed once) and the codes shown in it."""
        from archive.pdfa.fontmodel import analyse_fonts

        return analyse_fonts(self.usage)

    def iter_used_fonts(self) -> Iterator[FontUse]:
        yield from self.usage.fonts.values()

    def used_colour_spaces(self, family: str | None = None) -> list[ColourSpace]:
        """Colour spaces that some painting operation uses (incl. bases and alternates)."""
        keys = {u.cs_key for u in self.usage.colour_uses}
        return [cs for k, cs in self.usage.colour_spaces.items()
                if k in keys and (family is None or cs.family == family)]

    @cached_property
    def signature_dicts(self) -> list[Any]:
        """Signature dictionaries (/V of signature fields) in the AcroForm field tree."""
        out = []
        for fld in self.form_fields:
            v = po.get(fld, "/V")
            if self.field_type(fld) == "/Sig" and po.is_dict(v):
                out.append(v)
        return out

    @cached_property
    def form_fields(self) -> list[Any]:
        """Every field dictionary of the interactive form (terminal and non-terminal)."""
        out: list[Any] = []
        seen: set[Any] = set()
        stack = list(po.elements(po.get(po.get(self.catalog, "/AcroForm"), "/Fields")))
        while stack and len(out) < 100000:
            f = stack.pop()
            if not po.is_dict(f):
                continue
            key = po.key_of(f)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            out.append(f)
            stack.extend(po.elements(po.get(f, "/Kids")))
        return out

    def field_type(self, fld: Any) -> str | None:
        """/FT of a field or widget, inherited through /Parent."""
        return po.name(self.inherited(fld, "/FT"))

    @cached_property
    def unicode_names(self) -> list[tuple[str | None, Any]]:
        """Font names, colourant names and structure types (which must be UTF-8) with the
        object holding them; the text is None when the bytes are not valid UTF-8."""
        out: list[tuple[str | None, Any]] = []

        def add(n: Any, holder: Any) -> None:
            if po.kind(n) is po.T_NAME:
                try:
                    raw = po.name_bytes(n)
                except Exception:  # noqa: BLE001
                    return
                try:
                    out.append((raw.decode("utf-8"), holder))
                except UnicodeDecodeError:
                    out.append((None, holder))

        for use in self.usage.fonts.values():
            f = use.font
            add(po.get(f, "/BaseFont"), f)
            add(po.get(po.get(f, "/FontDescriptor"), "/FontName"), f)
            for d in po.elements(po.get(f, "/DescendantFonts")):
                add(po.get(d, "/BaseFont"), d)
                add(po.get(po.get(d, "/FontDescriptor"), "/FontName"), d)
        spaces = [cs.obj for cs in self.used_colour_spaces()
                  if cs.family in ("Separation", "DeviceN")]
        # Fonts and colour spaces named in a page's or a content stream's resource
        # dictionary count even when no operator uses them (veraPDF's PDResources).
        def ident(o: Any) -> Any:
            return po.key_of(o) or ("direct", po.unparse(o)[:500])

        seen = {ident(use.font) for use in self.usage.fonts.values()}
        seen |= {ident(cs) for cs in spaces}
        for res, _page in self.usage.resource_dicts.values():
            for _, f in po.items(po.get(res, "/Font"))[:10000]:
                if ident(f) not in seen:
                    seen.add(ident(f))
                    add(po.get(f, "/BaseFont"), f)
            for _, cs in po.items(po.get(res, "/ColorSpace"))[:10000]:
                if _family(cs) in ("Separation", "DeviceN") and ident(cs) not in seen:
                    seen.add(ident(cs))
                    spaces.append(cs)
        for cs in spaces:
            parts = po.elements(cs)
            if _family(cs) == "Separation" and len(parts) > 1:
                add(parts[1], cs)
            elif len(parts) > 1:
                for n in po.elements(parts[1]):
                    add(n, cs)
        for elem in self.struct_elements:
            add(po.get(elem, "/S"), elem)
        # Structure type names are also the keys and values of the role maps.
        root = po.get(self.catalog, "/StructTreeRoot")
        maps = [po.get(root, "/RoleMap")]
        for ns in po.elements(po.get(root, "/Namespaces")):
            maps.append(po.get(ns, "/RoleMapNS"))
        for rm in maps:
            for key, value in po.items(rm)[:10000]:
                holder = rm
                try:
                    add(pikepdf.Name(key), holder)
                except Exception:  # noqa: BLE001 - keys pikepdf cannot rebuild are skipped
                    pass
                add(value, holder)
                for v in po.elements(value)[:1]:
                    add(v, holder)
        return out

    @cached_property
    def struct_elements(self) -> list[Any]:
        """Structure element dictionaries under the StructTreeRoot (bounded walk)."""
        root = po.get(self.catalog, "/StructTreeRoot")
        out: list[Any] = []
        seen: set[Any] = set()
        stack = po.as_list(po.get(root, "/K"))
        while stack and len(out) < 200000:
            e = stack.pop()
            if not po.is_dict(e):
                continue
            key = po.key_of(e)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            if po.has(e, "/S"):
                out.append(e)
            stack.extend(po.as_list(po.get(e, "/K")))
        return out

    @cached_property
    def _parent_tree(self) -> dict[int, Any]:
        """The structure parent tree (StructParents key -> value), flattened (bounded)."""
        out: dict[int, Any] = {}
        root = po.get(po.get(self.catalog, "/StructTreeRoot"), "/ParentTree")
        stack: list[Any] = [root]
        seen: set[Any] = set()
        while stack and len(seen) < 10000:
            node = stack.pop()
            key = po.key_of(node)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            nums = po.elements(po.get(node, "/Nums"))
            for i in range(0, len(nums) - 1, 2):
                k = po.integer(nums[i])
                if k is not None:
                    out[k] = nums[i + 1]
            stack.extend(po.elements(po.get(node, "/Kids")))
        return out

    def mcid_has_actual_text(self, struct_parents: int | None, mcid: int) -> bool:
        """Whether the structure element owning marked content ``mcid`` of a page or form
        (its /StructParents key), or one of its ancestors, has an /ActualText."""
        if struct_parents is None or not self._parent_tree:
            return False
        elems = po.elements(self._parent_tree.get(struct_parents))
        elem = elems[mcid] if 0 <= mcid < len(elems) else None
        hops = 0
        while po.is_dict(elem) and hops < 64:
            if po.has(elem, "/ActualText"):
                return True
            elem = po.get(elem, "/P")
            hops += 1
        return False

    # -- colour -----------------------------------------------------------------------
    @cached_property
    def output_intents(self) -> list[Any]:
        return [oi for oi in po.elements(po.get(self.catalog, "/OutputIntents"))
                if po.is_dict(oi)]

    @cached_property
    def pdfa_output_intent(self) -> Any:
        for oi in self.output_intents:
            if po.get_name(oi, "/S") == "/GTS_PDFA1":
                return oi
        return None

    @cached_property
    def output_intent_cs(self) -> str | None:
        """ICC colour space signature (``"RGB "``, ``"CMYK"``, ``"GRAY"``) of the PDF/A
        output intent's destination profile, or None without one."""
        return _icc_colour_space(po.get(self.pdfa_output_intent, "/DestOutputProfile"))

    @cached_property
    def _page_oi(self) -> dict[int, str | None]:
        out: dict[int, str | None] = {}
        if self.part != 4:
            return out
        for i, page in enumerate(self.pages):
            for oi in po.elements(po.get(page, "/OutputIntents")):
                if po.get_name(oi, "/S") == "/GTS_PDFA1":
                    out[i] = _icc_colour_space(po.get(oi, "/DestOutputProfile"))
        return out

    def page_oi_cs(self, page: int | None) -> str | None:
        if page is None:
            return None
        return self._page_oi.get(page)

    # -- metadata ---------------------------------------------------------------------
    @cached_property
    def xmp(self) -> Any:
        from archive.pdfa.xmp import parse_metadata_stream

        return parse_metadata_stream(po.get(self.catalog, "/Metadata"))

    @cached_property
    def extensions(self) -> Any:
        """PDF/A extension schemas declared in the XMP (:class:`xmp_extensions.Extensions`)."""
        from archive.pdfa.xmp_extensions import read_extensions

        return read_extensions(self.xmp)


def _icc_colour_space(profile: Any) -> str | None:
    data = po.read_stream(profile, limit=128) if po.is_stream(profile) else None
    if not data or len(data) < 20:
        return None
    return data[16:20].decode("latin-1")


def open_context(raw: bytes, flavour: str = "2b", path: str | None = None, depth: int = 0
                 ) -> DocContext:
    pdf = pikepdf.open(io.BytesIO(raw), inherit_page_attributes=False)
    len(pdf.pages)  # a broken page tree (a loop) raises here, as on opening with qpdf's default
    return DocContext(raw, pdf, flavour, path, depth)
