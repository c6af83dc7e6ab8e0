"""Graphics (ISO 19005-1 6.2 and 6.4, -2/-3 6.2, -4 6.2): output intents and ICC profiles,
device colour spaces, overprint, separations, images and JPEG 2000, form and PostScript
XObjects, graphics states and halftones, rendering intents, operators, resources and
transparency."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from archive.pdfa import pdfobj as po
from archive.pdfa.context import ColourSpace, ColourUse, DocContext
from archive.pdfa.registry import Issues, issue, rule

# -- ICC profiles ------------------------------------------------------------------------


@dataclass(frozen=True)
class IccHeader:
    version: float
    device_class: str
    colour_space: str

    @classmethod
    def read(cls, stream: Any) -> IccHeader | None:
        data = po.read_stream(stream, limit=132)
        if not data or len(data) < 128:
            return None
        major, minor = data[8], data[9] >> 4
        return cls(float(f"{major}.{minor}"), data[12:16].decode("latin-1"),
                   data[16:20].decode("latin-1"))


def _max_icc_version(ctx: DocContext) -> float:
    return 3.0 if ctx.part == 1 else 5.0


@rule("1:6.2.2-1", "2,3:6.2.3-1", "4:6.2.3-1")
def output_profile(ctx: DocContext) -> Issues:
    for oi in ctx.output_intents:
        if po.get_name(oi, "/S") != "/GTS_PDFA1":
            continue
        prof = po.get(oi, "/DestOutputProfile")
        if prof is None:
            if ctx.part == 1:
                yield issue("The PDF/A output intent has no DestOutputProfile; embed the ICC "
                            "profile of the intended output device.", obj=oi)
            continue
        h = IccHeader.read(prof)
        if h is None:
            yield issue("The output intent's ICC profile cannot be read.", obj=prof)
            continue
        ok = (h.device_class in ("prtr", "mntr") and h.colour_space in ("RGB ", "CMYK", "GRAY")
              and h.version < _max_icc_version(ctx))
        if not ok:
            yield issue(f"The output intent's ICC profile (class {h.device_class!r}, colour "
                        f"space {h.colour_space!r}, version {h.version}) must be an output or "
                        f"monitor profile in Gray, RGB or CMYK, version below "
                        f"{_max_icc_version(ctx):g}.", obj=prof)


@rule("1:6.2.2-2", "2,3:6.2.3-2", "4:6.2.3-2")
def same_output_profile(ctx: DocContext) -> Issues:
    profiles = [po.get(oi, "/DestOutputProfile") for oi in ctx.output_intents]
    profiles = [p for p in profiles if p is not None]
    keys = {po.key_of(p) or id(p) for p in profiles}
    if len(keys) > 1:
        yield issue("The output intents use different DestOutputProfile objects; all must "
                    "refer to the same ICC profile object.", obj=ctx.output_intents[0])
    for i, page in enumerate(ctx.pages):
        page_profiles = [po.get(oi, "/DestOutputProfile")
                         for oi in po.elements(po.get(page, "/OutputIntents"))]
        pkeys = {po.key_of(p) or id(p) for p in page_profiles if p is not None}
        if ctx.part == 4 and len(pkeys) > 1:
            yield issue("A page's output intents use different DestOutputProfile objects.",
                        obj=page, page=i)


@rule("2,3:6.2.3-3", "4:6.2.3-3")
def no_dest_output_profile_ref(ctx: DocContext) -> Issues:
    intents = list(ctx.output_intents)
    for page in ctx.pages:
        intents.extend(po.elements(po.get(page, "/OutputIntents")))
    for oi in intents:
        if ctx.part != 4 and po.get_name(oi, "/S") != "/GTS_PDFX":
            continue
        if po.has(oi, "/DestOutputProfileRef"):
            yield issue("An output intent uses DestOutputProfileRef (an external profile); "
                        "embed the profile with DestOutputProfile instead.", obj=oi)


def _icc_of(cs: ColourSpace) -> Any:
    parts = po.elements(cs.obj)
    return parts[1] if cs.family == "ICCBased" and len(parts) > 1 else None


@rule("1:6.2.3.2-1", "2,3:6.2.4.2-1", "4:6.2.4.2-1")
def input_profiles(ctx: DocContext) -> Issues:
    for cs in ctx.used_colour_spaces("ICCBased"):
        prof = _icc_of(cs)
        h = IccHeader.read(prof)
        if h is None:
            yield issue("An ICCBased colour space has no readable ICC profile stream.",
                        obj=prof or cs.obj)
            continue
        if not (h.device_class in ("prtr", "mntr", "scnr", "spac")
                and h.colour_space in ("RGB ", "CMYK", "GRAY", "Lab ")
                and h.version < _max_icc_version(ctx)):
            yield issue(f"An ICCBased colour space's profile (class {h.device_class!r}, colour "
                        f"space {h.colour_space!r}, version {h.version}) is not one PDF/A "
                        "allows.", obj=prof)


@rule("1:6.2.3.2-2")
def icc_components(ctx: DocContext) -> Issues:
    want = {1: ("GRAY",), 3: ("RGB ", "Lab "), 4: ("CMYK",)}
    for cs in ctx.used_colour_spaces("ICCBased"):
        prof = _icc_of(cs)
        n = po.get_int(prof, "/N")
        h = IccHeader.read(prof)
        if n is None or h is None or h.colour_space not in want.get(n, ()):
            yield issue(f"The ICCBased colour space declares N = {n} but its profile is "
                        f"{h.colour_space if h else 'unreadable'!r}; they must agree.",
                        obj=prof or cs.obj)


# -- device colour spaces ----------------------------------------------------------------

_DEFAULT_FOR = {"DeviceRGB": "/DefaultRGB", "DeviceCMYK": "/DefaultCMYK",
                "DeviceGray": "/DefaultGray"}
_OI_FOR = {"DeviceRGB": "RGB ", "DeviceCMYK": "CMYK"}


def _blend_family(ctx: DocContext, key: Any) -> str | None:
    """Colour family of a transparency blending space: ``RGB ``, ``CMYK``, ``GRAY``..."""
    if key is None:
        return None
    cs = ctx.usage.colour_spaces.get(key)
    if cs is None:
        return None
    if cs.family == "ICCBased":
        h = IccHeader.read(_icc_of(cs))
        return h.colour_space if h else None
    return {"CalRGB": "CalRGB", "DeviceRGB": "DeviceRGB", "DeviceCMYK": "DeviceCMYK",
            "CalGray": "CalGray", "DeviceGray": "DeviceGray"}.get(cs.family)


def _device_ok(ctx: DocContext, family: str, use: ColourUse) -> bool:
    if _DEFAULT_FOR[family] in use.defaults:
        return True
    if ctx.part == 4:
        oi = use.page_oi_cs if use.page_oi_cs is not None else ctx.output_intent_cs
        blend = _blend_family(ctx, use.group_cs)
        if family == "DeviceRGB":
            return oi == "RGB " or blend in ("RGB ", "CalRGB")
        if family == "DeviceCMYK":
            return oi == "CMYK" or blend == "CMYK"
        return oi is not None
    oi = ctx.output_intent_cs
    if family == "DeviceGray":
        return oi is not None
    return oi == _OI_FOR[family]


def _device_rule(family: str) -> Any:
    def check(ctx: DocContext) -> Issues:
        seen_pages: set[int | None] = set()
        for use in ctx.usage.colour_uses:
            if use.cs_key != ("dev", family) or use.page in seen_pages:
                continue
            if not _device_ok(ctx, family, use):
                seen_pages.add(use.page)
                need = {"DeviceRGB": "RGB ", "DeviceCMYK": "CMYK ", "DeviceGray": ""}[family]
                how = "as the alternate of another colour space" if use.alternate_of else (
                    f"for {use.how}")
                yield issue(f"{family} is used {how} but the file has no {need}PDF/A output "
                            f"intent{' or Default colour space' if ctx.part >= 2 else ''}; add "
                            "an output intent or use a calibrated (ICCBased) colour space.",
                            page=use.page)

    check.__name__ = f"{family.lower()}_needs_output_intent"
    return check


rule("1:6.2.3.3-1", "2,3:6.2.4.3-2", "4:6.2.4.3-2")(_device_rule("DeviceRGB"))
rule("1:6.2.3.3-2", "2,3:6.2.4.3-3", "4:6.2.4.3-3")(_device_rule("DeviceCMYK"))
rule("1:6.2.3.3-3", "2,3:6.2.4.3-4", "4:6.2.4.3-4")(_device_rule("DeviceGray"))


def _is_icc_cmyk(cs: ColourSpace | None) -> bool:
    if cs is None or cs.family != "ICCBased":
        return False
    prof = _icc_of(cs)
    if po.get_int(prof, "/N") == 4:
        return True
    h = IccHeader.read(prof)
    return h is not None and h.colour_space == "CMYK"


@rule("2,3:6.2.4.2-2", "4:6.2.4.2-2")
def icc_cmyk_overprint(ctx: DocContext) -> Issues:
    for use in ctx.usage.colour_uses:
        if use.overprint and use.opm == 1 and _is_icc_cmyk(
                ctx.usage.colour_spaces.get(use.cs_key)):
            yield issue("An ICCBased CMYK colour space is painted with overprint on and "
                        "overprint mode 1; set OPM to 0.", page=use.page)
            return


def icc_profile_id(stream: Any) -> bytes | None:
    """The identity of an ICC profile as ISO 19005-4 6.2.4.2 compares them: the Profile ID
    of its header (bytes 84-99) when set, else the MD5 that ICC.1 7.2.18 defines for that
    field (of the whole profile with the flags, rendering intent and ID fields zeroed)."""
    data = po.read_stream(stream)
    if not data or len(data) < 128:
        return None
    stored = data[84:100]
    if any(stored):
        return stored
    buf = bytearray(data)
    buf[44:48] = bytes(4)
    buf[64:68] = bytes(4)
    buf[84:100] = bytes(16)
    return hashlib.md5(bytes(buf), usedforsecurity=False).digest()


def _current_output_profile(ctx: DocContext, page: int | None) -> Any:
    """DestOutputProfile of the PDF/A output intent in effect on a page: the page's own
    (PDF/A-4 allows one per page), else the document's."""
    if page is not None and 0 <= page < len(ctx.pages):
        for oi in po.elements(po.get(ctx.pages[page], "/OutputIntents")):
            if po.get_name(oi, "/S") == "/GTS_PDFA1":
                return po.get(oi, "/DestOutputProfile")
    return po.get(ctx.pdfa_output_intent, "/DestOutputProfile")


@rule("4:6.2.4.2-3")
def icc_cmyk_not_output_profile(ctx: DocContext) -> Issues:
    ids: dict[Any, bytes | None] = {}

    def same(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        if po.same_object(a, b):
            return True
        for s in (a, b):
            k = po.key_of(s) or id(s)
            if k not in ids:
                ids[k] = icc_profile_id(s)
        ida, idb = ids[po.key_of(a) or id(a)], ids[po.key_of(b) or id(b)]
        return ida is not None and ida == idb

    for use in ctx.usage.colour_uses:
        cs = ctx.usage.colour_spaces.get(use.cs_key)
        if not _is_icc_cmyk(cs):
            continue
        prof = _icc_of(cs)  # type: ignore[arg-type]
        blend = ctx.usage.colour_spaces.get(use.group_cs) if use.group_cs else None
        blend_prof = _icc_of(blend) if blend is not None else None
        if same(prof, _current_output_profile(ctx, use.page)) or same(prof, blend_prof):
            yield issue("An ICCBased CMYK colour space uses the same profile as the output "
                        "intent (or the blending space); use DeviceCMYK instead.", page=use.page)
            return


# -- separations and DeviceN -------------------------------------------------------------

_PROCESS = {"/Cyan", "/Magenta", "/Yellow", "/Black", "/None", "/All"}


@rule("2,3:6.2.4.4-1", "4:6.2.4.4-1")
def devicen_colorants(ctx: DocContext) -> Issues:
    for cs in ctx.used_colour_spaces("DeviceN"):
        parts = po.elements(cs.obj)
        names = [po.name(n) for n in po.elements(parts[1])] if len(parts) > 1 else []
        attrs = parts[4] if len(parts) > 4 else None
        colorants = po.get(attrs, "/Colorants")
        process = {po.name(n) for n in po.elements(
            po.get(po.get(attrs, "/Process"), "/Components"))}
        missing = [n for n in names if n and n not in _PROCESS and n not in process
                   and not po.has(colorants, n)]
        if missing:
            yield issue(f"The DeviceN colour space has no Colorants entry for the spot colour "
                        f"{missing[0][1:]}; describe every spot colour in /Colorants.",
                        obj=cs.obj)


def _separations(ctx: DocContext) -> Iterator[tuple[str, Any]]:
    for cs in ctx.used_colour_spaces():
        parts = po.elements(cs.obj)
        if cs.family == "Separation" and len(parts) > 3:
            yield str(po.name(parts[1])), cs.obj
        elif cs.family == "DeviceN" and len(parts) > 4:
            for _, sep in po.items(po.get(parts[4], "/Colorants")):
                sp = po.elements(sep)
                if len(sp) > 3 and po.name(sp[0]) == "/Separation":
                    yield str(po.name(sp[1])), sep


@rule("2,3:6.2.4.4-2", "4:6.2.4.4-2")
def separations_consistent(ctx: DocContext) -> Issues:
    first: dict[str, Any] = {}
    for nm, sep in _separations(ctx):
        if nm in ("/All", "/None"):
            continue
        if nm not in first:
            first[nm] = sep
            continue
        a, b = po.elements(first[nm]), po.elements(sep)
        if not (po.equivalent(a[2], b[2]) and po.equivalent(a[3], b[3])):
            yield issue(f"Separation colour spaces named {nm[1:]} use different alternate "
                        "spaces or tint transforms; make them identical.", obj=sep)


# -- images ------------------------------------------------------------------------------


def _used_images(ctx: DocContext) -> list[tuple[Any, int | None]]:
    return list(ctx.usage.images.values())


@rule("1:6.2.4-1", "2,3:6.2.8-1", "4:6.2.7.1-1")
def image_no_alternates(ctx: DocContext) -> Issues:
    for img, page in _used_images(ctx):
        if po.has(img, "/Alternates"):
            yield issue("An image has /Alternates (alternate images); remove them.",
                        obj=img, page=page)


@rule("1:6.2.4-2")
def xobject_no_opi(ctx: DocContext) -> Issues:
    for xo, page in _used_images(ctx) + list(ctx.usage.forms.values()):
        if po.has(xo, "/OPI"):
            yield issue("An XObject has an /OPI (open prepress) entry; remove it.",
                        obj=xo, page=page)


@rule("2,3:6.2.8-2", "4:6.2.7.1-2")
def image_no_opi(ctx: DocContext) -> Issues:
    for img, page in _used_images(ctx):
        if po.has(img, "/OPI"):
            yield issue("An image has an /OPI (open prepress) entry; remove it.",
                        obj=img, page=page)


@rule("1:6.2.4-3", "2,3:6.2.8-3", "4:6.2.7.1-3")
def image_no_interpolate(ctx: DocContext) -> Issues:
    for img, page in _used_images(ctx):
        if po.get(img, "/Interpolate") is True:
            yield issue("An image asks for /Interpolate true; set it to false.",
                        obj=img, page=page)
    for d, page in ctx.usage.inline_images:
        if po.get(d, "/I") is True or po.get(d, "/Interpolate") is True:
            yield issue("An inline image asks for interpolation (/I true); set it to false.",
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
            yield issue(f"An image has BitsPerComponent {bpc}; PDF/A allows "
                        f"{', '.join(map(str, sorted(allowed)))}.", obj=img, page=page)


@rule("1:6.2.4-5", "2,3:6.2.8-5", "4:6.2.7.1-5")
def mask_bits(ctx: DocContext) -> Issues:
    for img, page in _used_images(ctx):
        if _is_mask(img):
            bpc = po.get(img, "/BitsPerComponent")
            if bpc is not None and bpc != 1:
                yield issue(f"An image mask has BitsPerComponent {bpc}; it must be 1.",
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
            yield issue(f"The JPEG 2000 image has {j.channels} colour channels; PDF/A allows "
                        "1, 3 or 4.", obj=img, page=page)


@rule("2,3:6.2.8.3-2", "4:6.2.7.3-2")
def jpx_colour_specs(ctx: DocContext) -> Issues:
    for img, page, j in _jpx_images(ctx):
        if po.has(img, "/ColorSpace"):
            continue
        specs = j.colr or []
        if len(specs) != 1 and sum(1 for c in specs if c[1] == 1) != 1:
            yield issue("The JPEG 2000 image has several colour specifications and not exactly "
                        "one marked APPROX 1 (and no /ColorSpace in the image dictionary).",
                        obj=img, page=page)


@rule("2,3:6.2.8.3-3", "4:6.2.7.3-3")
def jpx_colour_method(ctx: DocContext) -> Issues:
    for img, page, j in _jpx_images(ctx):
        c = _chosen_colr(j)
        if not po.has(img, "/ColorSpace") and (c is None or c[0] not in (1, 2, 3)):
            yield issue("The JPEG 2000 image's colour specification method must be 1, 2 or 3 "
                        "(or the image dictionary must give /ColorSpace).", obj=img, page=page)


@rule("2,3:6.2.8.3-4", "4:6.2.7.3-4")
def jpx_no_cie_jab(ctx: DocContext) -> Issues:
    for img, page, j in _jpx_images(ctx):
        c = _chosen_colr(j)
        if not po.has(img, "/ColorSpace") and c is not None and c[2] == 19:
            yield issue("The JPEG 2000 image uses the CIEJab colour space (19), which PDF/A "
                        "forbids.", obj=img, page=page)


@rule("2,3:6.2.8.3-5", "4:6.2.7.3-5")
def jpx_bit_depth(ctx: DocContext) -> Issues:
    for img, page, j in _jpx_images(ctx):
        if j.bpcc or j.bit_depth is None or not 1 <= j.bit_depth <= 38:
            yield issue("The JPEG 2000 image's channels must all have the same bit depth, "
                        "between 1 and 38.", obj=img, page=page)


# -- form and PostScript XObjects --------------------------------------------------------


@rule("1:6.2.5-1", "2,3:6.2.9-1")
def form_no_postscript(ctx: DocContext) -> Issues:
    for form, page in ctx.usage.forms.values():
        bad = po.get_name(form, "/Subtype2") == "/PS" or po.has(form, "/PS") or (
            ctx.part >= 2 and po.has(form, "/OPI"))
        if bad:
            yield issue("A form XObject carries PostScript (/PS or /Subtype2 /PS)"
                        + (" or OPI" if ctx.part >= 2 else "") + "; remove it.",
                        obj=form, page=page)


@rule("4:6.2.8.1-1")
def form_no_opi(ctx: DocContext) -> Issues:
    for form, page in ctx.usage.forms.values():
        if po.has(form, "/OPI"):
            yield issue("A form XObject has an /OPI entry; remove it.", obj=form, page=page)


@rule("1:6.2.6-1", "2,3:6.2.9-2", "4:6.2.8.2-1")
def no_reference_xobjects(ctx: DocContext) -> Issues:
    for form, page in ctx.usage.forms.values():
        if po.has(form, "/Ref"):
            yield issue("A reference XObject (/Ref, content imported from another file) is "
                        "used; embed the content instead.", obj=form, page=page)


@rule("1:6.2.7-1", "2,3:6.2.9-3")
def no_postscript_xobjects(ctx: DocContext) -> Issues:
    for xo, page in ctx.usage.other_xobjects.values():
        if po.get_name(xo, "/Subtype") == "/PS":
            yield issue("A PostScript XObject is used; PDF/A forbids PostScript.",
                        obj=xo, page=page)


# -- graphics states and halftones -------------------------------------------------------


def _gstates(ctx: DocContext) -> list[tuple[Any, int | None]]:
    return list(ctx.usage.ext_gstates.values())


@rule("1:6.2.8-1", "2,3:6.2.5-1", "4:6.2.5-1")
def gs_no_tr(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        if po.has(gs, "/TR"):
            yield issue("A graphics state sets a transfer function (/TR); remove it.",
                        obj=gs, page=page)


@rule("1:6.2.8-2", "2,3:6.2.5-2", "4:6.2.5-2")
def gs_tr2_default(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        if po.has(gs, "/TR2") and po.get_name(gs, "/TR2") != "/Default":
            yield issue("A graphics state sets /TR2 to something other than /Default; remove "
                        "it.", obj=gs, page=page)


@rule("2,3:6.2.5-3")
def gs_no_htp(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        if po.has(gs, "/HTP"):
            yield issue("A graphics state has the /HTP key; remove it.", obj=gs, page=page)


@rule("4:6.2.5-3")
def gs_no_hto(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        if po.has(gs, "/HTO"):
            yield issue("A graphics state has the /HTO (halftone origin) key; remove it.",
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
            yield issue(f"A halftone has HalftoneType {t}; PDF/A allows 1 or 5.", obj=ht,
                        page=page)


@rule("2,3:6.2.5-5", "4:6.2.5-5")
def halftone_no_name(ctx: DocContext) -> Issues:
    for ht, _, page in _halftones(ctx):
        if po.has(ht, "/HalftoneName"):
            yield issue("A halftone has a /HalftoneName; remove it.", obj=ht, page=page)


@rule("2,3:6.2.5-6", "4:6.2.5-6")
def halftone_transfer(ctx: DocContext) -> Issues:
    for ht, colorant, page in _halftones(ctx):
        if colorant == "/Default":
            continue
        has_tf = po.has(ht, "/TransferFunction")
        process = colorant is None or colorant in ("/Cyan", "/Magenta", "/Yellow", "/Black")
        if process and has_tf:
            yield issue("A halftone for a process colour has a TransferFunction; remove it.",
                        obj=ht, page=page)
        elif not process and not has_tf:
            yield issue(f"The halftone for the spot colour {colorant[1:] if colorant else ''} "
                        "needs a TransferFunction.", obj=ht, page=page)


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
            yield issue(f"The rendering intent {ri[1:]} is not one of RelativeColorimetric, "
                        "AbsoluteColorimetric, Perceptual or Saturation.", obj=num, page=page)


@rule("1:6.2.10-1", "2,3:6.2.2-1", "4:6.2.2-1")
def no_undefined_operators(ctx: DocContext) -> Issues:
    for op, (num, page) in ctx.usage.undefined_ops.items():
        yield issue(f"A content stream uses the operator {op!r}, which is not defined by PDF; "
                    "remove it.", obj=num, page=page)


@rule("2,3:6.2.2-2", "4:6.2.2-2")
def explicit_resources(ctx: DocContext) -> Issues:
    for num, page in ctx.usage.inherited_resources:
        yield issue("A content stream uses named resources it inherits (a page from the "
                    "page tree, or a form XObject, pattern, glyph or appearance without "
                    "/Resources of its own); give it its own /Resources dictionary.",
                    obj=num, page=page)


@rule("4:6.2.2-3")
def defined_resources(ctx: DocContext) -> Issues:
    for what, nm, num, page in ctx.usage.missing_resources:
        yield issue(f"A content stream uses the {what} resource {nm} that its resource "
                    "dictionary does not define.", obj=num, page=page)


# -- transparency ------------------------------------------------------------------------


@rule("1:6.4-1")
def gs_no_smask(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        sm = po.get(gs, "/SMask")
        if sm is not None and po.name(sm) != "/None":
            yield issue("A graphics state uses a soft mask (/SMask); PDF/A-1 forbids "
                        "transparency.", obj=gs, page=page)


@rule("1:6.4-2")
def xobject_no_smask(ctx: DocContext) -> Issues:
    for xo, page in _used_images(ctx) + list(ctx.usage.forms.values()):
        if po.has(xo, "/SMask"):
            yield issue("An XObject has a soft mask (/SMask); PDF/A-1 forbids transparency.",
                        obj=xo, page=page)


@rule("1:6.4-3")
def no_transparency_groups(ctx: DocContext) -> Issues:
    for i, page in enumerate(ctx.pages):
        if po.get_name(po.get(page, "/Group"), "/S") == "/Transparency":
            yield issue("The page is a transparency group; PDF/A-1 forbids transparency.",
                        obj=page, page=i)
    for form, page in ctx.usage.forms.values():
        if po.get_name(po.get(form, "/Group"), "/S") == "/Transparency":
            yield issue("A form XObject is a transparency group; PDF/A-1 forbids "
                        "transparency.", obj=form, page=page)


@rule("1:6.4-4")
def gs_blend_normal(ctx: DocContext) -> Issues:
    for gs, page in _gstates(ctx):
        bm = po.get(gs, "/BM")
        if bm is None:
            continue
        names = [po.name(b) for b in po.as_list(bm)]
        if not names or names[0] not in ("/Normal", "/Compatible"):
            yield issue(f"A graphics state uses the blend mode {names[:1]}; PDF/A-1 allows "
                        "only Normal or Compatible.", obj=gs, page=page)


def _alpha_rule(key: str) -> Any:
    def check(ctx: DocContext) -> Issues:
        for gs, page in _gstates(ctx):
            v = po.get_number(gs, key)
            if v is not None and abs(v - 1.0) > 1e-6:
                yield issue(f"A graphics state sets {key[1:]} (constant alpha) to {v:g}; "
                            "PDF/A-1 requires 1.0.", obj=gs, page=page)

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
                yield issue(f"The blend mode {n} is not defined by ISO 32000.", obj=holder,
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
            yield issue("The page uses transparency but the file has no PDF/A output intent "
                        "and the page has no transparency group colour space (/Group /CS); "
                        "add one of them.", obj=page, page=i)
