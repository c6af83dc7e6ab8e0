"""Graphics (ISO 19005-1 6.2 and 6.4, -2/-3 6.2, -4 6.2): images and JPEG 2000, form and
PostScript XObjects, graphics states and halftones, rendering intents, operators, resources
and transparency. Colour spaces and ICC profiles are in :mod:`archive.pdfa.rules.colour`."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from archive.messages import Items, message
from archive.pdfa import pdfobj as po
from archive.pdfa.context import DocContext
from archive.pdfa.registry import Issues, issue, rule

# -- images ------------------------------------------------------------------------------


def _used_images(ctx: DocContext) -> list[tuple[Any, int | None]]:
    return list(ctx.usage.images.values())


@rule("1:6.2.4-1", "2,3:6.2.8-1", "4:6.2.7.1-1")
def image_no_alternates(ctx: DocContext) -> Issues:
    for img, page in _used_images(ctx):
        if po.has(img, "/Alternates"):
            yield issue(message("pdfa.graphics_image_no_alternates",
                                "An image has /Alternates (alternate images); remove them."),
                        obj=img, page=page)


@rule("1:6.2.4-2")
def xobject_no_opi(ctx: DocContext) -> Issues:
    for xo, page in _used_images(ctx) + list(ctx.usage.forms.values()):
        if po.has(xo, "/OPI"):
            yield issue(message("pdfa.graphics_xobject_no_opi",
                                "An XObject has an /OPI (open prepress) entry; remove it."),
                        obj=xo, page=page)


@rule("2,3:6.2.8-2", "4:6.2.7.1-2")
def image_no_opi(ctx: DocContext) -> Issues:
    for img, page in _used_images(ctx):
        if po.has(img, "/OPI"):
            yield issue(message("pdfa.graphics_image_no_opi",
                                "An image has an /OPI (open prepress) entry; remove it."),
                        obj=img, page=page)


@rule("1:6.2.4-3", "2,3:6.2.8-3", "4:6.2.7.1-3")
def image_no_interpolate(ctx: DocContext) -> Issues:
    for img, page in _used_images(ctx):
        if po.get(img, "/Interpolate") is True:
            yield issue(message("pdfa.graphics_image_no_interpolate",
                                "An image asks for /Interpolate true; set it to false."),
                        obj=img, page=page)
    for d, page in ctx.usage.inline_images:
        if po.get(d, "/I") is True or po.get(d, "/Interpolate") is True:
            yield issue(message("pdfa.graphics_inline_interpolate",
                                "An inline image asks for interpolation (/I true); set it to "
                                "false."),
                        page=page)


def _is_mask(img: Any) -> bool:
    return po.get(img, "/ImageMask") is True or po.get(img, "/IM") is True


@rule("1:6.2.4-4", "2,3:6.2.8-4", "4:6.2.7.1-4")
def image_bits(ctx: DocContext) -> Issues:
    allowed = {1, 2, 4, 8} if ctx.part == 1 else {1, 2, 4, 8, 16}
    images = _used_images(ctx) + ctx.usage.inline_images
    for img, page in images:
        if _is_mask(img):
            continue
        bpc = po.get(img, "/BitsPerComponent")
        if bpc is None:
            bpc = po.get(img, "/BPC")
        if bpc is not None and bpc not in allowed:
            yield issue(message("pdfa.graphics_image_bits",
                                "An image has BitsPerComponent {bpc}; PDF/A allows {allowed}.",
                                bpc=bpc, allowed=Items(sorted(allowed))), obj=img, page=page)


@rule("1:6.2.4-5", "2,3:6.2.8-5", "4:6.2.7.1-5")
def mask_bits(ctx: DocContext) -> Issues:
    for img, page in _used_images(ctx):
        if _is_mask(img):
            bpc = po.get(img, "/BitsPerComponent")
            if bpc is not None and bpc != 1:
                yield issue(message("pdfa.graphics_mask_bits",
                                    "An image mask has BitsPerComponent {bpc}; it must be 1.",
                                    bpc=bpc),
                            obj=img, page=page)


# -- JPEG 2000 ---------------------------------------------------------------------------


@dataclass
class Jpx:
    channels: int | None = None
    bit_depth: int | None = None  # 1..38, None when it varies per component
    bpcc: bool = False
    colr: list[tuple[int, int, int | None]] | None = None  # (method, approx, enumcs)


def read_jpx(data: bytes) -> Jpx:
    info = Jpx(colr=[])
    if data[:4] == b"\xff\x4f\xff\x51":  # raw codestream: read the SIZ marker
        if len(data) >= 42:
            csiz = struct.unpack(">H", data[40:42])[0]
            info.channels = csiz
            depths = {(data[42 + 3 * i] & 0x7F) + 1 for i in range(csiz)
                      if 42 + 3 * i < len(data)}
            info.bit_depth = depths.pop() if len(depths) == 1 else None
        return info
    _boxes(data, 0, len(data), info, 0)
    return info


def _boxes(data: bytes, pos: int, end: int, info: Jpx, depth: int) -> None:
    while pos + 8 <= end and depth < 4:
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        head = 8
        if length == 1 and pos + 16 <= end:
            length = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
            head = 16
        elif length == 0:
            length = end - pos
        if length < head:
            return
        body = pos + head
        stop = min(pos + length, end)
        if kind == b"jp2h":
            _boxes(data, body, stop, info, depth + 1)
        elif kind == b"ihdr" and stop - body >= 14:
            nc = struct.unpack(">H", data[body + 8:body + 10])[0]
            bpc = data[body + 10]
            info.channels = nc
            info.bit_depth = None if bpc == 0xFF else (bpc & 0x7F) + 1
        elif kind == b"bpcc":
            info.bpcc = True
        elif kind == b"colr" and stop - body >= 3:
            meth, approx = data[body], data[body + 2]
            enum = struct.unpack(">I", data[body + 3:body + 7])[0] if (
                meth == 1 and stop - body >= 7) else None
            assert info.colr is not None
            info.colr.append((meth, approx, enum))
        elif kind == b"jp2c":
            return
        pos = pos + length


def _jpx_images(ctx: DocContext) -> Iterator[tuple[Any, int | None, Jpx]]:
    cache = ctx.__dict__.setdefault("_jpx_cache", {})
    for img, page in _used_images(ctx):
        if "/JPXDecode" not in po.filters(img):
            continue
        key = po.key_of(img) or id(img)
        if key not in cache:
            raw = po.read_raw(img) or b""
            cache[key] = read_jpx(raw)
        yield img, page, cache[key]


def _chosen_colr(j: Jpx) -> tuple[int, int, int | None] | None:
    if not j.colr:
        return None
    if len(j.colr) == 1:
        return j.colr[0]
    approx = [c for c in j.colr if c[1] == 1]
    return approx[0] if len(approx) == 1 else j.colr[0]


@rule("2,3:6.2.8.3-1", "4:6.2.7.3-1")
def jpx_channels(ctx: DocContext) -> Issues:
    for img, page, j in _jpx_images(ctx):
        if j.channels not in (1, 3, 4):
            yield issue(message("pdfa.graphics_jpx_channels",
                                "The JPEG 2000 image has {channels} colour channels; PDF/A "
                                "allows 1, 3 or 4.", channels=j.channels), obj=img, page=page)


@rule("2,3:6.2.8.3-2", "4:6.2.7.3-2")
def jpx_colour_specs(ctx: DocContext) -> Issues:
    for img, page, j in _jpx_images(ctx):
        if po.has(img, "/ColorSpace"):
            continue
        specs = j.colr or []
        if len(specs) != 1 and sum(1 for c in specs if c[1] == 1) != 1:
            yield issue(message("pdfa.graphics_jpx_colour_specs",
                                "The JPEG 2000 image has several colour specifications and not "
                                "exactly one marked APPROX 1 (and no /ColorSpace in the image "
                                "dictionary)."),
                        obj=img, page=page)


@rule("2,3:6.2.8.3-3", "4:6.2.7.3-3")
def jpx_colour_method(ctx: DocContext) -> Issues:
    for img, page, j in _jpx_images(ctx):
        c = _chosen_colr(j)
        if not po.has(img, "/ColorSpace") and (c is None or c[0] not in (1, 2, 3)):
            yield issue(message("pdfa.graphics_jpx_colour_method",
                                "The JPEG 2000 image's colour specification method must be 1, 2 "
                                "or 3 (or the image dictionary must give /ColorSpace)."),
                        obj=img, page=page)


@rule("2,3:6.2.8.3-4", "4:6.2.7.3-4")
def jpx_no_cie_jab(ctx: DocContext) -> Issues:
    for img, page, j in _jpx_images(ctx):
        c = _chosen_colr(j)
        if not po.has(img, "/ColorSpace") and c is not None and c[2] == 19:
            yield issue(message("pdfa.graphics_jpx_no_cie_jab",
                                "The JPEG 2000 image uses the CIEJab colour space (19), which "
                                "PDF/A forbids."), obj=img, page=page)


@rule("2,3:6.2.8.3-5", "4:6.2.7.3-5")
def jpx_bit_depth(ctx: DocContext) -> Issues:
    for img, page, j in _jpx_images(ctx):
        if j.bpcc or j.bit_depth is None or not 1 <= j.bit_depth <= 38:
            yield issue(message("pdfa.graphics_jpx_bit_depth",
                                "The JPEG 2000 image's channels must all have the same bit "
                                "depth, between 1 and 38."), obj=img, page=page)


# -- form and PostScript XObjects --------------------------------------------------------


@rule("1:6.2.5-1", "2,3:6.2.9-1")
def form_no_postscript(ctx: DocContext) -> Issues:
    for form, page in ctx.usage.forms.values():
        bad = po.get_name(form, "/Subtype2") == "/PS" or po.has(form, "/PS") or (
            ctx.part >= 2 and po.has(form, "/OPI"))
        if bad:
            yield issue(message("pdfa.graphics_form_postscript_1", "A form XObject carries "
                                "PostScript (/PS or /Subtype2 /PS); remove it.")
                        if ctx.part == 1 else
                        message("pdfa.graphics_form_postscript", "A form XObject carries "
                                "PostScript (/PS or /Subtype2 /PS) or OPI; remove it."),
                        obj=form, page=page)


@rule("4:6.2.8.1-1")
def form_no_opi(ctx: DocContext) -> Issues:
    for form, page in ctx.usage.forms.values():
        if po.has(form, "/OPI"):
            yield issue(message("pdfa.graphics_form_no_opi",
                                "A form XObject has an /OPI entry; remove it."),
                        obj=form, page=page)


@rule("1:6.2.6-1", "2,3:6.2.9-2", "4:6.2.8.2-1")
def no_reference_xobjects(ctx: DocContext) -> Issues:
    for form, page in ctx.usage.forms.values():
        if po.has(form, "/Ref"):
            yield issue(message("pdfa.graphics_no_reference_xobjects",
                                "A reference XObject (/Ref, content imported from another file) "
                                "is used; embed the content instead."), obj=form, page=page)


@rule("1:6.2.7-1", "2,3:6.2.9-3")
def no_postscript_xobjects(ctx: DocContext) -> Issues:
    for xo, page in ctx.usage.other_xobjects.values():
        if po.get_name(xo, "/Subtype") == "/PS":
            yield issue(message("pdfa.graphics_no_postscript_xobjects",
                                "A PostScript XObject is used; PDF/A forbids PostScript."),
                        obj=xo, page=page)


# -- graphics states and halftones -------------------------------------------------------


def _gstates(ctx: DocContext) -> list[tuple[Any, int | None]]:
    return list(ctx.usage.ext_gstates.values())


@rule("1:6.2.8-1", "2,3:6.2.5-1", "4:6.2.5-1")
def gs_no_tr(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        if po.has(gs, "/TR"):
            yield issue(message("pdfa.graphics_gs_no_tr",
                                "A graphics state sets a transfer function (/TR); remove it."),
                        obj=gs, page=page)


@rule("1:6.2.8-2", "2,3:6.2.5-2", "4:6.2.5-2")
def gs_tr2_default(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        if po.has(gs, "/TR2") and po.get_name(gs, "/TR2") != "/Default":
            yield issue(message("pdfa.graphics_gs_tr2_default",
                                "A graphics state sets /TR2 to something other than /Default; "
                                "remove it."), obj=gs, page=page)


@rule("2,3:6.2.5-3")
def gs_no_htp(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        if po.has(gs, "/HTP"):
            yield issue(message("pdfa.graphics_gs_no_htp",
                                "A graphics state has the /HTP key; remove it."), obj=gs, page=page)


@rule("4:6.2.5-3")
def gs_no_hto(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        if po.has(gs, "/HTO"):
            yield issue(message("pdfa.graphics_gs_no_hto",
                                "A graphics state has the /HTO (halftone origin) key; remove it."),
                        obj=gs, page=page)


def _halftones(ctx: DocContext) -> Iterator[tuple[Any, str | None, int | None]]:
    for gs, page in _gstates(ctx):
        ht = po.get(gs, "/HT")
        if not po.is_dict(ht):
            continue
        yield ht, None, page
        if po.get_int(ht, "/HalftoneType") == 5:
            for k, sub in po.items(ht):
                if po.is_dict(sub) and k not in ("/Type",):
                    yield sub, k, page


@rule("2,3:6.2.5-4", "4:6.2.5-4")
def halftone_type(ctx: DocContext) -> Issues:
    for ht, colorant, page in _halftones(ctx):
        if colorant is not None:
            continue
        t = po.get_int(ht, "/HalftoneType")
        if t not in (1, 5):
            yield issue(message("pdfa.graphics_halftone_type",
                                "A halftone has HalftoneType {type}; PDF/A allows 1 or 5.",
                                type=t), obj=ht,
                        page=page)


@rule("2,3:6.2.5-5", "4:6.2.5-5")
def halftone_no_name(ctx: DocContext) -> Issues:
    for ht, _, page in _halftones(ctx):
        if po.has(ht, "/HalftoneName"):
            yield issue(message("pdfa.graphics_halftone_no_name",
                                "A halftone has a /HalftoneName; remove it."), obj=ht, page=page)


@rule("2,3:6.2.5-6", "4:6.2.5-6")
def halftone_transfer(ctx: DocContext) -> Issues:
    for ht, colorant, page in _halftones(ctx):
        if colorant == "/Default":
            continue
        has_tf = po.has(ht, "/TransferFunction")
        process = colorant is None or colorant in ("/Cyan", "/Magenta", "/Yellow", "/Black")
        if process and has_tf:
            yield issue(message("pdfa.graphics_halftone_process_transfer",
                                "A halftone for a process colour has a TransferFunction; remove "
                                "it."),
                        obj=ht, page=page)
        elif not process and not has_tf:
            yield issue(message("pdfa.graphics_halftone_spot_transfer", "The halftone for "
                                "the spot colour {colorant} needs a TransferFunction.",
                                colorant=colorant[1:] if colorant else ""), obj=ht, page=page)


# -- rendering intents, operators, resources ---------------------------------------------

_INTENTS = {"/RelativeColorimetric", "/AbsoluteColorimetric", "/Perceptual", "/Saturation"}


@rule("1:6.2.9-1", "2,3:6.2.6-1")
def rendering_intents(ctx: DocContext) -> Issues:
    found = list(ctx.usage.rendering_intents)
    for img, page in _used_images(ctx) + ctx.usage.inline_images:
        ri = po.get_name(img, "/Intent")
        if ri is not None:
            found.append((ri, po.objgen(img)[0] or None, page))
    for ri, num, page in found:
        if ri not in _INTENTS:
            yield issue(message("pdfa.graphics_rendering_intents",
                                "The rendering intent {intent} is not one of "
                                "RelativeColorimetric, AbsoluteColorimetric, Perceptual or "
                                "Saturation.", intent=ri[1:]), obj=num, page=page)


@rule("1:6.2.10-1", "2,3:6.2.2-1", "4:6.2.2-1")
def no_undefined_operators(ctx: DocContext) -> Issues:
    for op, (num, page) in ctx.usage.undefined_ops.items():
        yield issue(message("pdfa.graphics_no_undefined_operators",
                            "A content stream uses the operator {op!r}, which is not defined by "
                            "PDF; remove it.", op=op), obj=num, page=page)


@rule("2,3:6.2.2-2", "4:6.2.2-2")
def explicit_resources(ctx: DocContext) -> Issues:
    for num, page in ctx.usage.inherited_resources:
        yield issue(message("pdfa.graphics_explicit_resources",
                            "A content stream uses named resources it inherits (a page from the "
                            "page tree, or a form XObject, pattern, glyph or appearance without "
                            "/Resources of its own); give it its own /Resources dictionary."),
                    obj=num, page=page)


@rule("4:6.2.2-3")
def defined_resources(ctx: DocContext) -> Issues:
    for what, nm, num, page in ctx.usage.missing_resources:
        yield issue(message("pdfa.graphics_resource_undefined", "A content stream uses the "
                            "{kind} resource {name} that its resource dictionary does not "
                            "define.", kind=what, name=str(nm)), obj=num, page=page)


# -- transparency ------------------------------------------------------------------------


@rule("1:6.4-1")
def gs_no_smask(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        sm = po.get(gs, "/SMask")
        if sm is not None and po.name(sm) != "/None":
            yield issue(message("pdfa.smask_gs", "A graphics state uses a soft mask (/SMask); "
                                "PDF/A-1 forbids transparency."), obj=gs, page=page)


@rule("1:6.4-2")
def xobject_no_smask(ctx: DocContext) -> Issues:
    for xo, page in _used_images(ctx) + list(ctx.usage.forms.values()):
        if po.has(xo, "/SMask"):
            yield issue(message("pdfa.smask_xobject", "An XObject has a soft mask (/SMask); "
                                "PDF/A-1 forbids transparency."), obj=xo, page=page)


@rule("1:6.4-3")
def no_transparency_groups(ctx: DocContext) -> Issues:
    for i, page in enumerate(ctx.pages):
        if po.get_name(po.get(page, "/Group"), "/S") == "/Transparency":
            yield issue(message("pdfa.transparency_group", "The page is a transparency group; "
                                "PDF/A-1 forbids transparency."), obj=page, page=i)
    for form, page in ctx.usage.forms.values():
        if po.get_name(po.get(form, "/Group"), "/S") == "/Transparency":
            yield issue(message("pdfa.graphics_no_transparency_groups",
                                "A form XObject is a transparency group; PDF/A-1 forbids "
                                "transparency."), obj=form, page=page)


@rule("1:6.4-4")
def gs_blend_normal(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        bm = po.get(gs, "/BM")
        if bm is None:
            continue
        names = [po.name(b) for b in po.as_list(bm)]
        if not names or names[0] not in ("/Normal", "/Compatible"):
            yield issue(message("pdfa.graphics_gs_blend_normal",
                                "A graphics state uses the blend mode {mode}; PDF/A-1 allows "
                                "only Normal or Compatible.", mode=str(names[:1])),
                        obj=gs, page=page)


def _alpha_rule(key: str) -> Any:
    def check(ctx: DocContext) -> Issues:
        for gs, page in _gstates(ctx):
            v = po.get_number(gs, key)
            if v is not None and abs(v - 1.0) > 1e-6:
                yield issue(message("pdfa.graphics_alpha",
                                    "A graphics state sets {key} (constant alpha) to {value:g}; "
                                    "PDF/A-1 requires 1.0.", key=key[1:], value=v),
                            obj=gs, page=page)

    check.__name__ = f"gs_{key[1:]}_opaque"
    return check


rule("1:6.4-5")(_alpha_rule("/CA"))
rule("1:6.4-6")(_alpha_rule("/ca"))

_BLEND_MODES = {"/Normal", "/Compatible", "/Multiply", "/Screen", "/Overlay", "/Darken",
                "/Lighten", "/ColorDodge", "/ColorBurn", "/HardLight", "/SoftLight",
                "/Difference", "/Exclusion", "/Hue", "/Saturation", "/Color", "/Luminosity"}


@rule("2,3:6.2.10-1", "4:6.2.9-1")
def blend_modes(ctx: DocContext) -> Issues:
    holders = _gstates(ctx)
    if ctx.part == 4:
        holders = holders + [(a, p) for a, p in ctx.annotations]
    for holder, page in holders:
        bm = po.get(holder, "/BM")
        if bm is None:
            continue
        for b in po.as_list(bm):
            n = po.name(b)
            if n not in _BLEND_MODES:
                yield issue(message("pdfa.graphics_blend_modes",
                                    "The blend mode {mode} is not defined by ISO 32000.", mode=n),
                            obj=holder,
                            page=page)
                break


@rule("2,3:6.2.10-2", "4:6.2.9-2")
def transparency_needs_blending_space(ctx: DocContext) -> Issues:
    if ctx.output_intent_cs is not None:
        return
    for i in sorted(ctx.usage.transparent_pages):
        if i >= len(ctx.pages):
            continue
        page = ctx.pages[i]
        if ctx.part == 4 and ctx.page_oi_cs(i) is not None:
            continue
        if po.get(po.get(page, "/Group"), "/CS") is None:
            yield issue(message("pdfa.graphics_transparency_needs_blending_space",
                                "The page uses transparency but the file has no PDF/A output "
                                "intent and the page has no transparency group colour space "
                                "(/Group /CS); add one of them."), obj=page, page=i)
