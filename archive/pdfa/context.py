"""The per-document context every rule reads from; each piece is computed once, on demand.

Rules never walk the file themselves. They ask the context for what they need:

* ``ctx.raw`` / ``ctx.rawinfo``: the file's bytes and the syntax facts only they show
  (header, trailer IDs, xref layout, object and stream keywords, hex strings);
* ``ctx.pdf``, ``ctx.trailer``, ``ctx.catalog``, ``ctx.pages`` (page dictionaries in
  order), ``ctx.page_index(obj)``;
* ``ctx.cos``: one pass over every object reachable from the trailer (streams,
  dictionaries, numbers, strings and names, with the object that holds them);
* ``ctx.usage``: one pass (:mod:`archive.pdfa.walker`) over every content stream
  (pages, form XObjects, patterns, Type 3 glyphs, annotation appearances, soft masks)
  that records what is *used* and where: images, forms, graphics states, fonts with the
  strings shown in each and the text rendering mode, colour spaces per painting
  operation, undefined operators, q/Q nesting, marked content, transparency per page;
* ``ctx.annotations`` (annotation dictionary, page index), ``ctx.actions``;
* ``ctx.xmp``: the catalog's XMP metadata, parsed once;
* ``ctx.output_intent_cs`` and friends for colour rules.

Everything is lazy: a rule family that is not run costs nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cached_property
from typing import Any

import pikepdf

from archive.pdfa import pdfobj as po
from archive.pdfa.cosfacts import CosFacts, _walk_cos
from archive.pdfa.flavours import level_of, part_of
from archive.pdfa.rawscan import RawInfo
from archive.pdfa.rawscan import scan as raw_scan
from archive.pdfa.usage import ColourSpace, ColourUse, FontUse, Usage, _family
from archive.pdfa.walker import _Walker

__all__ = ["ColourSpace", "ColourUse", "CosFacts", "DocContext", "FontUse", "Usage",
           "open_context"]


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
        return _walk_cos(self.pdf, self.raw)

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

    @cached_property
    def object_packets(self) -> list[tuple[Any, Any]]:
        """XMP packets of other objects than the catalog (pages, images, forms, fonts...):
        (parsed packet, its extension schemas), one per metadata stream, for every
        dictionary or stream whose /Metadata is a stream of /Type /Metadata and /Subtype
        /XML. veraPDF validates these for PDF/A-2 and later only (each against its own
        extension schemas and the catalog's)."""
        from archive.pdfa.xmp import parse_metadata_stream
        from archive.pdfa.xmp_extensions import read_extensions

        if self.part == 1:
            return []
        main = po.key_of(po.get(self.catalog, "/Metadata"))
        seen: set[Any] = {main} if main is not None else set()
        out: list[tuple[Any, Any]] = []
        for holder in (*self.cos.dicts, *self.cos.streams):
            md = po.get(holder, "/Metadata")
            if (md is None or not po.is_stream(md) or po.get_name(md, "/Type") != "/Metadata"
                    or po.get_name(md, "/Subtype") != "/XML"):
                continue
            key = po.key_of(md) or ("direct", id(md))
            if key in seen or po.key_of(holder) == po.key_of(self.catalog):
                continue
            seen.add(key)
            x = parse_metadata_stream(md)
            out.append((x, read_extensions(x, self.extensions)))
        return out


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
