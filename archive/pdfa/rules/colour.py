"""Colour (ISO 19005-1 6.2.2-6.2.3, -2/-3 6.2.3-6.2.4, -4 6.2.3-6.2.4): output intents and
ICC profiles, device colour spaces against the output intent and the blending space,
overprint, DeviceN colorants and separations."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from archive.messages import Message, message
from archive.pdfa import pdfobj as po
from archive.pdfa.context import DocContext
from archive.pdfa.registry import Issues, issue, rule
from archive.pdfa.usage import ColourSpace, ColourUse

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
                yield issue(message("pdfa.colour_output_profile_missing",
                                    "The PDF/A output intent has no DestOutputProfile; embed the "
                                    "ICC profile of the intended output device."), obj=oi)
            continue
        h = IccHeader.read(prof)
        if h is None:
            yield issue(message("pdfa.colour_output_profile_unreadable",
                                "The output intent's ICC profile cannot be read."), obj=prof)
            continue
        ok = (h.device_class in ("prtr", "mntr") and h.colour_space in ("RGB ", "CMYK", "GRAY")
              and h.version < _max_icc_version(ctx))
        if not ok:
            yield issue(message("pdfa.colour_output_profile_kind",
                                "The output intent's ICC profile (class {profile_class!r}, "
                                "colour space {colour_space!r}, version {version}) must be an "
                                "output or monitor profile in Gray, RGB or CMYK, version below "
                                "{max_version:g}.", profile_class=h.device_class,
                                colour_space=h.colour_space, version=h.version,
                                max_version=_max_icc_version(ctx)), obj=prof)


@rule("1:6.2.2-2", "2,3:6.2.3-2", "4:6.2.3-2")
def same_output_profile(ctx: DocContext) -> Issues:
    profiles = [po.get(oi, "/DestOutputProfile") for oi in ctx.output_intents]
    profiles = [p for p in profiles if p is not None]
    keys = {po.key_of(p) or id(p) for p in profiles}
    if len(keys) > 1:
        yield issue(message("pdfa.colour_output_profiles_differ",
                            "The output intents use different DestOutputProfile objects; all "
                            "must refer to the same ICC profile object."),
                    obj=ctx.output_intents[0])
    for i, page in enumerate(ctx.pages):
        page_profiles = [po.get(oi, "/DestOutputProfile")
                         for oi in po.elements(po.get(page, "/OutputIntents"))]
        pkeys = {po.key_of(p) or id(p) for p in page_profiles if p is not None}
        if ctx.part == 4 and len(pkeys) > 1:
            yield issue(message("pdfa.colour_page_output_profiles_differ",
                                "A page's output intents use different DestOutputProfile objects."),
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
            yield issue(message("pdfa.colour_no_dest_output_profile_ref",
                                "An output intent uses DestOutputProfileRef (an external "
                                "profile); embed the profile with DestOutputProfile instead."),
                        obj=oi)


def _icc_of(cs: ColourSpace) -> Any:
    parts = po.elements(cs.obj)
    return parts[1] if cs.family == "ICCBased" and len(parts) > 1 else None


@rule("1:6.2.3.2-1", "2,3:6.2.4.2-1", "4:6.2.4.2-1")
def input_profiles(ctx: DocContext) -> Issues:
    for cs in ctx.used_colour_spaces("ICCBased"):
        prof = _icc_of(cs)
        h = IccHeader.read(prof)
        if h is None:
            yield issue(message("pdfa.colour_input_profile_unreadable",
                                "An ICCBased colour space has no readable ICC profile stream."),
                        obj=prof or cs.obj)
            continue
        if not (h.device_class in ("prtr", "mntr", "scnr", "spac")
                and h.colour_space in ("RGB ", "CMYK", "GRAY", "Lab ")
                and h.version < _max_icc_version(ctx)):
            yield issue(message("pdfa.colour_input_profile_kind",
                                "An ICCBased colour space's profile (class {profile_class!r}, "
                                "colour space {colour_space!r}, version {version}) is not one "
                                "PDF/A allows.", profile_class=h.device_class,
                                colour_space=h.colour_space, version=h.version), obj=prof)


@rule("1:6.2.3.2-2")
def icc_components(ctx: DocContext) -> Issues:
    want = {1: ("GRAY",), 3: ("RGB ", "Lab "), 4: ("CMYK",)}
    for cs in ctx.used_colour_spaces("ICCBased"):
        prof = _icc_of(cs)
        n = po.get_int(prof, "/N")
        h = IccHeader.read(prof)
        if n is None or h is None or h.colour_space not in want.get(n, ()):
            if h is None:
                yield issue(message("pdfa.colour_icc_components_unreadable",
                                    "The ICCBased colour space declares N = {n} but its "
                                    "profile is 'unreadable'; they must agree.", n=n),
                            obj=prof or cs.obj)
            else:
                yield issue(message("pdfa.colour_icc_components",
                                    "The ICCBased colour space declares N = {n} but its "
                                    "profile is {colour_space!r}; they must agree.", n=n,
                                    colour_space=h.colour_space), obj=prof or cs.obj)


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


def _how_used(use: ColourUse) -> Message:
    """How a device colour space is used, as words for :func:`_device_rule`'s message."""
    if use.alternate_of:
        return message("pdfa.colour_use_alternate", "as the alternate of another colour space")
    uses = {
        "fill": message("pdfa.colour_use_fill", "for fill"),
        "stroke": message("pdfa.colour_use_stroke", "for stroke"),
        "image": message("pdfa.colour_use_image", "for image"),
        "shading": message("pdfa.colour_use_shading", "for shading"),
        "group": message("pdfa.colour_use_group", "for group"),
        "3D artwork": message("pdfa.colour_use_3d", "for 3D artwork"),
    }
    return uses.get(use.how) or message("pdfa.colour_use_other", "for {use}", use=use.how)


def _device_rule(family: str) -> Any:
    def check(ctx: DocContext) -> Issues:
        seen_pages: set[int | None] = set()
        for use in ctx.usage.colour_uses:
            if use.cs_key != ("dev", family) or use.page in seen_pages:
                continue
            if not _device_ok(ctx, family, use):
                seen_pages.add(use.page)
                need = {"DeviceRGB": "RGB ", "DeviceCMYK": "CMYK ", "DeviceGray": ""}[family]
                how = _how_used(use)
                if ctx.part == 1:
                    yield issue(message("pdfa.colour_device_no_intent_1",
                                        "{family} is used {how} but the file has no {need}PDF/A "
                                        "output intent; add an output intent or use a "
                                        "calibrated (ICCBased) colour space.", family=family,
                                        how=how, need=need), page=use.page)
                else:
                    yield issue(message("pdfa.colour_device_no_intent",
                                        "{family} is used {how} but the file has no {need}PDF/A "
                                        "output intent or Default colour space; add an output "
                                        "intent or use a calibrated (ICCBased) colour space.",
                                        family=family, how=how, need=need), page=use.page)

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
            yield issue(message("pdfa.colour_icc_cmyk_overprint",
                                "An ICCBased CMYK colour space is painted with overprint on and "
                                "overprint mode 1; set OPM to 0."), page=use.page)
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
            yield issue(message("pdfa.colour_icc_cmyk_not_output_profile",
                                "An ICCBased CMYK colour space uses the same profile as the "
                                "output intent (or the blending space); use DeviceCMYK instead."),
                        page=use.page)
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
            yield issue(message("pdfa.colour_devicen_colorants",
                                "The DeviceN colour space has no Colorants entry for the spot "
                                "colour {colorant}; describe every spot colour in /Colorants.",
                                colorant=missing[0][1:]),
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
            yield issue(message("pdfa.colour_separations_consistent",
                                "Separation colour spaces named {name} use different alternate "
                                "spaces or tint transforms; make them identical.", name=nm[1:]),
                        obj=sep)
