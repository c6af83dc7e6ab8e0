"""The content walk: every content stream of the document (pages, form XObjects, patterns,
Type 3 glyphs, annotation appearances, soft masks) once, filling a :class:`Usage`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pikepdf

from archive.pdfa import pdfobj as po
from archive.pdfa.usage import (
    _DEVICE,
    _FILL_OPS,
    _INITIAL_GRAY,
    _MAX_DEPTH,
    _MAX_SHOWS_PER_FONT,
    _RESOURCE_OPERAND,
    _SET_GRAY,
    _SHOW_OPS,
    _STROKE_OPS,
    KNOWN_OPERATORS,
    ColourSpace,
    ColourUse,
    FontUse,
    Usage,
    _family,
    _State,
    _takes_resource,
    scan_operands,
)

if TYPE_CHECKING:  # pragma: no cover
    from archive.pdfa.context import DocContext


class _Unit:
    """One content stream being walked: where it is, its resources and its state."""

    __slots__ = ("stream", "res", "page", "st", "group", "defaults", "objnum", "stack",
                 "marked")

    def __init__(self, stream: Any, res: Any, page: int | None, st: _State, group: Any,
                 defaults: frozenset[str], objnum: int | None) -> None:
        self.stream, self.res, self.page, self.st = stream, res, page, st
        self.group, self.defaults, self.objnum = group, defaults, objnum
        self.stack: list[_State] = []
        self.marked: list[bool] = []  # per open marked-content sequence: inside ActualText?


# Colour set by the device-colour operators (lower case: fill; upper case: stroke).
_DEVICE_SET = {"g": _SET_GRAY, "rg": ("dev", "DeviceRGB"), "k": ("dev", "DeviceCMYK")}


class _Walker:
    """Walks content streams once, filling a :class:`Usage`."""

    def __init__(self, ctx: DocContext) -> None:
        self.ctx = ctx
        self.u = Usage()
        self.walked: set[Any] = set()
        self.depth = 0
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
        unit = _Unit(stream, res, page, st, group, self._defaults(res),
                     po.objgen(stream)[0] or None)
        scan_operands(u, stream, kind, instructions, unit.objnum, page)
        reported = False  # an inherited resource name was reported for this stream
        handlers = _HANDLERS
        for inst in instructions:
            try:
                op = str(inst.operator)
            except Exception:  # noqa: BLE001
                continue
            if op == "INLINE IMAGE":
                self.inline_image(inst, res, page, unit.st, unit.defaults, group)
                continue
            if op not in KNOWN_OPERATORS:
                if op not in u.undefined_ops:
                    u.undefined_ops[op] = (unit.objnum, page)
                continue
            ops = inst.operands
            if op in _RESOURCE_OPERAND and not reported and self.inherited_name(
                    op, ops, res, kind, inherits):
                u.inherited_resources.append((unit.objnum, page))
                reported = True
            handler = handlers.get(op)
            if handler is not None:
                handler(self, unit, op, ops)

    # -- operators (one handler per family; see _HANDLERS) -----------------------------
    def op_q(self, unit: _Unit, op: str, ops: Any) -> None:
        # Nesting is counted per content stream, as veraPDF parses each stream (page,
        # form, pattern, glyph, appearance) with its own q/Q stack; a Q with nothing
        # saved restores nothing.
        if op == "q":
            unit.stack.append(unit.st.copy())
            depth = len(unit.stack)
            if depth > self.u.max_q_depth:
                self.u.max_q_depth = depth
                self.u.q_depth_where = (unit.objnum, unit.page)
        elif unit.stack:
            unit.st = unit.stack.pop()

    def op_paint(self, unit: _Unit, op: str, ops: Any) -> None:
        st, res = unit.st, unit.res
        if op in _FILL_OPS:
            self.use_cs(self.resolve(st.fill, res), "fill", unit.page, st, unit.defaults,
                        unit.group)
        if op in _STROKE_OPS:
            self.use_cs(self.resolve(st.stroke, res), "stroke", unit.page, st,
                        unit.defaults, unit.group)

    def op_show(self, unit: _Unit, op: str, ops: Any) -> None:
        self.show(unit.st, ops, op, unit.page, unit.res, unit.defaults, unit.group,
                  any(unit.marked))

    def op_colour(self, unit: _Unit, op: str, ops: Any) -> None:
        st = unit.st
        if op == "cs" or op == "CS":
            if not ops:
                return
            val = ("name", str(ops[0])) if po.is_name(ops[0]) else None
        elif op == "scn" or op == "SCN":
            if ops and po.is_name(ops[-1]):
                self.pattern(str(ops[-1]), unit.res, unit.page, st, unit.defaults,
                             unit.group)
            return
        else:
            val = _DEVICE_SET[op.lower()]
        if op.islower():
            st.fill = val
        else:
            st.stroke = val

    def op_text_state(self, unit: _Unit, op: str, ops: Any) -> None:
        if op == "Tr":
            if ops and isinstance(ops[0], int):
                unit.st.tr = int(ops[0])
        elif ops and po.is_name(ops[0]):  # Tf
            font = po.get(po.get(unit.res, "/Font"), str(ops[0]))
            if font is None:
                self.u.missing_resources.append(("Font", str(ops[0]), unit.objnum,
                                                 unit.page))
            unit.st.font = font

    def op_resource(self, unit: _Unit, op: str, ops: Any) -> None:
        if not ops or not po.is_name(ops[0]):
            return
        nm, res, page, st = str(ops[0]), unit.res, unit.page, unit.st
        if op == "gs":
            self.ext_gstate(nm, res, page, st, unit.objnum)
        elif op == "Do":
            self.xobject(nm, res, page, st, unit.defaults, unit.group, unit.objnum)
        elif op == "sh":
            sh = po.get(po.get(res, "/Shading"), nm)
            if sh is None:
                self.u.missing_resources.append(("Shading", nm, unit.objnum, page))
            else:
                self.shading(sh, res, page, st, unit.defaults, unit.group)
        else:  # ri
            self.u.rendering_intents.append((nm, unit.objnum, page))

    def op_marked(self, unit: _Unit, op: str, ops: Any) -> None:
        if op == "EMC":
            if unit.marked:
                unit.marked.pop()
            return
        has_actual = False
        if op == "BDC" and len(ops) >= 2:
            props = ops[1]
            if po.is_name(props):
                props = po.get(po.get(unit.res, "/Properties"), str(props))
            if props is not None:
                self.u.marked_props.append((props, unit.page))
                at = po.get(props, "/ActualText")
                if at is not None:
                    has_actual = True
                    self.u.actual_texts.append((at, unit.page))
                else:
                    mcid = po.get_int(props, "/MCID")
                    if mcid is not None:
                        has_actual = self.ctx.mcid_has_actual_text(
                            po.get_int(unit.stream, "/StructParents"), mcid)
        unit.marked.append(has_actual)

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


_HANDLERS: dict[str, Callable[[_Walker, _Unit, str, Any], None]] = {
    **dict.fromkeys(("q", "Q"), _Walker.op_q),
    **dict.fromkeys(_FILL_OPS | _STROKE_OPS, _Walker.op_paint),
    **dict.fromkeys(_SHOW_OPS, _Walker.op_show),
    **dict.fromkeys(("cs", "CS", "scn", "SCN", "g", "G", "rg", "RG", "k", "K"),
                    _Walker.op_colour),
    **dict.fromkeys(("Tf", "Tr"), _Walker.op_text_state),
    **dict.fromkeys(("gs", "Do", "sh", "ri"), _Walker.op_resource),
    **dict.fromkeys(("BDC", "BMC", "EMC"), _Walker.op_marked),
}
