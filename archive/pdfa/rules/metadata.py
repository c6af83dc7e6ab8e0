"""Metadata (ISO 19005-1 6.7, -2/-3 6.6, -4 6.7): the XMP stream, its schemas and value
types, PDF/A extension schemas, PDF/A identification and Info/XMP consistency."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from archive.messages import Items, message
from archive.pdfa import pdfobj as po
from archive.pdfa.context import DocContext
from archive.pdfa.registry import Issues, issue, rule
from archive.pdfa.xmp import DC, PDF_NS, PDFA_EXTENSION, PDFAID, XMP_BASIC, Prop, Xmp
from archive.pdfa.xmp_schemas import check_value, predefined

# -- the metadata stream -----------------------------------------------------------------


@rule("1:6.7.2-1", "2,3:6.6.2.1-1", "4:6.7.2.1-1")
def has_metadata(ctx: DocContext) -> Issues:
    md = po.get(ctx.catalog, "/Metadata")
    if not po.is_stream(md):
        yield issue(message("pdfa.no_xmp", "The catalog has no XMP metadata stream "
                            "(/Metadata); add one with the PDF/A identification."))
        return
    if po.get_name(md, "/Type") != "/Metadata" or po.get_name(md, "/Subtype") != "/XML":
        yield issue(message("pdfa.xmp_has_metadata",
                            "The metadata stream must have /Type /Metadata and /Subtype /XML."),
                    obj=md)


@rule("1:6.7.2-2")
def metadata_not_filtered(ctx: DocContext) -> Issues:
    md = po.get(ctx.catalog, "/Metadata")
    if po.is_stream(md) and po.has(md, "/Filter"):
        yield issue(message("pdfa.xmp_metadata_not_filtered",
                            "The catalog metadata stream is compressed (/Filter); PDF/A-1 "
                            "requires it uncompressed so the XMP can be read without PDF tools."),
                    obj=md)


def _packets(ctx: DocContext) -> list[tuple[Xmp, Any]]:
    """The catalog's packet first, then those of other objects (PDF/A-2 and later)."""
    return [(ctx.xmp, ctx.extensions), *ctx.object_packets]


@rule("1:6.7.5-1", "2,3:6.6.2.1-2", "4:6.7.2.1-2")
def packet_no_bytes(ctx: DocContext) -> Issues:
    for x, _ in _packets(ctx):
        if x.present and "bytes" in x.header:
            yield issue(message("pdfa.xmp_packet_no_bytes",
                                "The XMP packet header uses the deprecated 'bytes' attribute; "
                                "remove it."), obj=x.stream)


@rule("1:6.7.5-2", "2,3:6.6.2.1-3", "4:6.7.2.1-3")
def packet_no_encoding(ctx: DocContext) -> Issues:
    for x, _ in _packets(ctx):
        if x.present and "encoding" in x.header:
            yield issue(message("pdfa.xmp_packet_no_encoding",
                                "The XMP packet header uses the deprecated 'encoding' attribute; "
                                "remove it."), obj=x.stream)


@rule("1:6.7.9-1", "2,3:6.6.2.1-4", "4:6.7.2.1-4")
def packet_well_formed(ctx: DocContext) -> Issues:
    for x, ext in _packets(ctx):
        if x.present and x.error:
            yield issue(message("pdfa.xmp_unreadable",
                                "The XMP metadata cannot be read: {error}.", error=x.error),
                        obj=x.stream)
        elif x.present and not ext.well_formed:
            yield issue(message("pdfa.xmp_extension_malformed",
                                "A PDF/A extension schema description is malformed; describe "
                                "extension schemas with the "
                                "pdfaExtension/pdfaSchema/pdfaProperty schemas."), obj=x.stream)


@rule("2,3:6.6.2.1-5", "4:6.7.2.1-5")
def packet_utf8(ctx: DocContext) -> Issues:
    for x, _ in _packets(ctx):
        if x.present and not x.utf8:
            yield issue(message("pdfa.xmp_packet_utf8",
                                "The XMP metadata is not encoded as UTF-8; re-encode it."),
                        obj=x.stream)


# -- identification ----------------------------------------------------------------------


def _pdfaid(x: Xmp, name: str) -> Prop | None:
    return x.find(PDFAID, name) if x.ok else None


@rule("1:6.7.11-1", "2,3:6.6.4-1", "4:6.7.3-1")
def identification_present(ctx: DocContext) -> Issues:
    if _pdfaid(ctx.xmp, "part") is None:
        yield issue(message("pdfa.xmp_identification_present",
                            "The XMP metadata has no PDF/A identification (pdfaid:part); add the "
                            "pdfaid schema with part and conformance."))


@rule("1:6.7.11-2", "2,3:6.6.4-2", "4:6.7.3-2")
def identification_part(ctx: DocContext) -> Issues:
    p = _pdfaid(ctx.xmp, "part")
    if p is not None and (p.node.kind != "simple" or p.node.text.strip() != str(ctx.part)):
        yield issue(message("pdfa.xmp_identification_part",
                            "pdfaid:part is {found!r} but the file is checked as PDF/A-{part}.",
                            found=p.node.text.strip(), part=ctx.part))


@rule("1:6.7.11-3", "2,3:6.6.4-3", "4:6.7.3-3")
def identification_conformance(ctx: DocContext) -> Issues:
    if not ctx.xmp.ok:
        return
    p = _pdfaid(ctx.xmp, "conformance")
    value = p.node.text.strip() if p is not None and p.node.kind == "simple" else None
    if ctx.part == 4:
        want = {"": None, "e": "E", "f": "F"}[ctx.level]
        if value != want:
            if want and value is None:
                yield issue(message("pdfa.xmp_conformance_4_missing", "pdfaid:conformance is "
                                    "None; a PDF/A-{flavour} file must declare {want!r}.",
                                    flavour=ctx.flavour, want=want))
            elif want:
                yield issue(message("pdfa.xmp_conformance_4", "pdfaid:conformance is "
                                    "{value!r}; a PDF/A-{flavour} file must declare {want!r}.",
                                    value=value, flavour=ctx.flavour, want=want))
            else:
                yield issue(message("pdfa.xmp_conformance_4_none", "pdfaid:conformance is "
                                    "{value!r}; a PDF/A-{flavour} file must not declare one.",
                                    value=value, flavour=ctx.flavour))
        return
    allowed = {"a": {"A"}, "b": {"A", "B", "U"} if ctx.part >= 2 else {"A", "B"},
               "u": {"A", "U"}}[ctx.level]
    if value is None:
        yield issue(message("pdfa.xmp_conformance_missing",
                            "pdfaid:conformance is None; for PDF/A-{flavour} it must be "
                            "{allowed: or }.", flavour=ctx.flavour,
                            allowed=Items(sorted(allowed))))
    elif value not in allowed:
        yield issue(message("pdfa.xmp_identification_conformance",
                            "pdfaid:conformance is {value!r}; for PDF/A-{flavour} it must be "
                            "{allowed: or }.", value=value, flavour=ctx.flavour,
                            allowed=Items(sorted(allowed))))


def _prefix_rule(name: str) -> Any:
    def check(ctx: DocContext) -> Issues:
        p = _pdfaid(ctx.xmp, name)
        if p is not None and p.prefix != "pdfaid":
            yield issue(message("pdfa.xmp_id_prefix",
                                "The PDF/A identification property {name} uses the prefix "
                                "{prefix!r}; it must be 'pdfaid'.", name=name, prefix=p.prefix))

    check.__name__ = f"identification_{name}_prefix"
    return check


rule("1:6.7.11-4", "2,3:6.6.4-4", "4:6.7.3-4")(_prefix_rule("part"))
rule("1:6.7.11-5", "2,3:6.6.4-5")(_prefix_rule("conformance"))
rule("1:6.7.11-6", "2,3:6.6.4-6")(_prefix_rule("amd"))
rule("2,3:6.6.4-7")(_prefix_rule("corr"))
rule("4:6.7.3-6")(_prefix_rule("rev"))


@rule("4:6.7.3-5")
def identification_rev(ctx: DocContext) -> Issues:
    if not ctx.xmp.ok:
        return
    p = _pdfaid(ctx.xmp, "rev")
    value = p.node.text.strip() if p is not None and p.node.kind == "simple" else None
    if value is None:
        yield issue(message("pdfa.xmp_rev_missing",
                            "pdfaid:rev is None; PDF/A-4 requires the four-digit year of "
                            "the standard's revision (e.g. 2020)."))
    elif re.fullmatch(r"\d{4}", value) is None:
        yield issue(message("pdfa.xmp_identification_rev",
                            "pdfaid:rev is {value!r}; PDF/A-4 requires the four-digit year of "
                            "the standard's revision (e.g. 2020).", value=value))


# -- extension schemas -------------------------------------------------------------------

def _ext_rule(test1: int) -> Any:
    def check(ctx: DocContext) -> Issues:
        for x, ext in _packets(ctx):
            for msg in ext.problems.get(test1, [])[:5]:
                yield issue(message("pdfa.xmp_extension_schema",
                                    "PDF/A extension schema: {problem}.", problem=msg),
                            obj=x.stream)

    check.__name__ = f"extension_schema_{test1}"
    return check


rule("1:6.7.8-1", "2,3:6.6.2.3.2-1")(_ext_rule(1))
for _t in range(2, 20):
    rule(f"1:6.7.8-{_t}", f"2,3:6.6.2.3.3-{_t - 1}")(_ext_rule(_t))


# -- properties and value types ----------------------------------------------------------


def _known(ctx: DocContext) -> dict[str, dict[str, str]]:
    table = predefined(ctx.part)
    table.setdefault(PDFA_EXTENSION, {})["schemas"] = "Bag Text"
    return table


def _declared(ext: Any, main: Any, ns: str, name: str) -> str | None:
    """The value type an extension schema gives a property: the packet's own schemas,
    then (for another object's packet) the catalog's (veraPDF's isDefinedInMainPackage)."""
    vtype = ext.properties.get(ns, {}).get(name)
    if vtype is None and main is not None:
        vtype = main.properties.get(ns, {}).get(name)
    return vtype


def _each_property(ctx: DocContext) -> Iterator[tuple[Xmp, Any, Any, Prop]]:
    for i, (x, ext) in enumerate(_packets(ctx)):
        if not x.ok:
            continue
        main = ctx.extensions if i else None
        for p in x.props:
            yield x, ext, main, p


@rule("1:6.7.9-2", "2,3:6.6.2.3.1-1")
def properties_defined(ctx: DocContext) -> Issues:
    table = _known(ctx)
    for x, ext, main, p in _each_property(ctx):
        if p.name in table.get(p.ns, {}) or _declared(ext, main, p.ns, p.name):
            continue
        yield issue(message("pdfa.xmp_properties_defined",
                            "The XMP property {property} ({ns}) is neither predefined nor "
                            "described by a PDF/A extension schema; add an extension schema or "
                            "remove it.", property=p.qname, ns=p.ns),
                    obj=x.stream)


@rule("1:6.7.9-3", "2,3:6.6.2.3.1-2")
def property_value_types(ctx: DocContext) -> Issues:
    table = _known(ctx)
    for x, ext, main, p in _each_property(ctx):
        if p.ns == PDFA_EXTENSION:
            continue
        vtype = table.get(p.ns, {}).get(p.name) or _declared(ext, main, p.ns, p.name)
        if vtype is None:
            continue
        types = {**main.types, **ext.types} if main is not None else ext.types
        if not check_value(p.node, vtype, types):
            yield issue(message("pdfa.xmp_property_value_types",
                                "The XMP property {property} does not have the value type "
                                "{vtype} its schema requires.", property=p.qname, vtype=vtype),
                        obj=x.stream)


# -- document information dictionary (PDF/A-1) -------------------------------------------

_PDF_DATE = re.compile(
    r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+\-])(\d{2})?'?(\d{2})?'?)?\Z")
_XMP_DATE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?\Z")


def parse_pdf_date(text: str) -> datetime | None:
    """A PDF date string as an instant; None when it is not one (trailing text included).
    Without a time zone the date is taken as UTC, as XMP dates without one are."""
    m = _PDF_DATE.match(text.strip())
    if m is None:
        return None
    y, mo, d, h, mi, s, sign, oh, om = m.groups()
    try:
        dt = datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        return None
    if sign in ("+", "-"):
        off = timedelta(hours=int(oh or 0), minutes=int(om or 0))
        return dt.replace(tzinfo=timezone(off if sign == "+" else -off))
    return dt.replace(tzinfo=UTC)


def parse_xmp_date(text: str) -> datetime | None:
    m = _XMP_DATE.match(text.strip())
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    # Fractions of a second count (to the millisecond, as a Java Calendar keeps them).
    micro = int(round(float(frac) * 1000)) * 1000 if frac else 0
    try:
        dt = datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0),
                      min(micro, 999000))
    except ValueError:
        return None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        off = timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
        return dt.replace(tzinfo=timezone(sign * off))
    return dt.replace(tzinfo=UTC)


def _info(ctx: DocContext) -> Any:
    info = po.get(ctx.trailer, "/Info")
    return info if po.is_plain_dict(info) else None


def _info_text(ctx: DocContext, key: str) -> str | None:
    v = po.get(_info(ctx), key)
    return po.text(v)


def _xmp_for_info(ctx: DocContext) -> Xmp:
    return ctx.xmp


def _info_rule(key: str, label: str, getter: Any) -> Any:
    def check(ctx: DocContext) -> Issues:
        value = _info_text(ctx, key)
        if value is None:
            return
        xmp_value = getter(_xmp_for_info(ctx)) if ctx.xmp.ok else None
        if xmp_value != value:
            if xmp_value is None:
                yield issue(message("pdfa.xmp_info_missing", "The Info dictionary /{key} "
                                    "({value!r}) does not match the XMP {property} (None); "
                                    "make them equal.", key=key[1:], value=value[:60],
                                    property=label), obj=_info(ctx))
                return
            yield issue(message("pdfa.xmp_info_mismatch", "The Info dictionary /{key} "
                                "({value!r}) does not match the XMP {property} ({xmp_value!r}); "
                                "make them equal.", key=key[1:], value=value[:60],
                                property=label,
                                xmp_value=xmp_value[:60] if xmp_value else xmp_value),
                        obj=_info(ctx))

    check.__name__ = f"info_{key[1:].lower()}_matches_xmp"
    return check


def _creator(x: Xmp) -> str | None:
    items = x.items(DC, "creator")
    p = x.find(DC, "creator")
    if not items or p is None or p.node.kind != "array" or len(p.node.items) != 1:
        return None
    return items[0]


rule("1:6.7.3-2")(_info_rule("/Title", "dc:title", lambda x: x.lang_default(DC, "title")))
rule("1:6.7.3-3")(_info_rule("/Author", "dc:creator", _creator))
rule("1:6.7.3-4")(_info_rule("/Subject", "dc:description",
                             lambda x: x.lang_default(DC, "description")))
rule("1:6.7.3-5")(_info_rule("/Keywords", "pdf:Keywords", lambda x: x.simple(PDF_NS, "Keywords")))
rule("1:6.7.3-6")(_info_rule("/Creator", "xmp:CreatorTool",
                             lambda x: x.simple(XMP_BASIC, "CreatorTool")))
rule("1:6.7.3-7")(_info_rule("/Producer", "pdf:Producer", lambda x: x.simple(PDF_NS, "Producer")))


def _date_rule(key: str, xmp_name: str) -> Any:
    def check(ctx: DocContext) -> Issues:
        raw = _info_text(ctx, key)
        if raw is None:
            return
        xmp_text = ctx.xmp.simple(XMP_BASIC, xmp_name) if ctx.xmp.ok else None
        a = parse_pdf_date(raw)
        b = parse_xmp_date(xmp_text) if xmp_text else None
        if a is None or b is None or a != b:
            yield issue(message("pdfa.xmp_info_date_mismatch",
                                "The Info dictionary /{key} ({value!r}) and the XMP "
                                "xmp:{xmp_name} ({xmp_value!r}) are not the same date and time; "
                                "make them equal.", key=key[1:], value=raw, xmp_name=xmp_name,
                                xmp_value=xmp_text),
                        obj=_info(ctx))

    check.__name__ = f"info_{key[1:].lower()}_matches_xmp"
    return check


rule("1:6.7.3-1")(_date_rule("/CreationDate", "CreateDate"))
rule("1:6.7.3-8")(_date_rule("/ModDate", "ModifyDate"))
