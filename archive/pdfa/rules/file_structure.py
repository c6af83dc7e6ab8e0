"""File structure (ISO 19005-1 6.1, -2/-3 6.1, -4 6.1): header, trailer, xref, objects,
streams, filters, implementation limits, permissions and page boundaries."""

from __future__ import annotations

import re

from archive.messages import Items, message
from archive.pdfa import pdfobj as po
from archive.pdfa.context import DocContext
from archive.pdfa.registry import Issues, issue, rule

_HEADER_1 = re.compile(rb"%PDF-\d\.\d")
_HEADER_2 = re.compile(rb"%PDF-1\.[0-7]\Z")
_HEADER_4 = re.compile(rb"%PDF-2\.\d\Z")


@rule("1:6.1.2-1", "2,3:6.1.2-1", "4:6.1.2-1")
def header(ctx: DocContext) -> Issues:
    info = ctx.rawinfo
    line = info.header_line
    if info.header_offset != 0:
        yield issue(message("pdfa.file_header",
                            "The file does not start with the %PDF- header (found at byte "
                            "{offset}); remove anything before it.", offset=info.header_offset))
        return
    if ctx.part == 1:
        ok = _HEADER_1.match(line) is not None
        want = message("pdfa.file_header_want_1", "%PDF-n.m")
    elif ctx.part == 4:
        ok = _HEADER_4.match(line) is not None
        want = message("pdfa.file_header_want_4", "%PDF-2.n on a line of its own")
    else:
        ok = _HEADER_2.match(line) is not None
        want = message("pdfa.file_header_want_2", "%PDF-1.n (n = 0..7) on a line of its own")
    if not ok:
        shown = line[:20].decode("latin-1", "replace")
        yield issue(message("pdfa.file_header_version",
                            "The file header is {found!r}; it must be {want}.", found=shown,
                            want=want))


@rule("1:6.1.2-2", "2,3:6.1.2-2", "4:6.1.2-2")
def binary_comment(ctx: DocContext) -> Issues:
    comment = ctx.rawinfo.binary_comment
    if len(comment) < 4 or any(b <= 127 for b in comment):
        yield issue(message("pdfa.file_binary_comment",
                            "The header line must be followed by a comment of at least four "
                            "bytes above 127 (e.g. %\\xe2\\xe3\\xcf\\xd3) that marks the file as "
                            "binary."))


@rule("1:6.1.3-1", "2,3:6.1.3-1", "4:6.1.3-1")
def trailer_id(ctx: DocContext) -> Issues:
    info = ctx.rawinfo
    if ctx.part == 1 and info.linearized:
        present = info.first_id is not None
    else:
        ids = po.elements(po.get(ctx.trailer, "/ID"))
        present = bool(ids) and any(po.raw_bytes(i) for i in ids[:1])
        if ctx.part == 1:
            present = po.get(ctx.trailer, "/ID") is not None
    if not present:
        yield issue(message("pdfa.file_trailer_id",
                            "The trailer has no file identifier (/ID); save the file with an ID "
                            "array of two byte strings."))


@rule("1:6.1.3-2", "2,3:6.1.3-2", "4:6.1.3-2")
def no_encryption(ctx: DocContext) -> Issues:
    enc = po.get(ctx.trailer, "/Encrypt")
    if enc is not None:
        yield issue(message("pdfa.file_no_encryption",
                            "The file is encrypted (/Encrypt in the trailer); PDF/A forbids "
                            "encryption. Save an unencrypted copy."), obj=enc)


@rule("1:6.1.3-3", "2,3:6.1.3-3", "4:6.1.3-3")
def nothing_after_eof(ctx: DocContext) -> Issues:
    info = ctx.rawinfo
    if info.post_eof_bytes:
        yield issue(message("pdfa.file_nothing_after_eof",
                            "{count} bytes follow the last %%EOF marker; only a single "
                            "end-of-line may follow it. Truncate the file after %%EOF.",
                            count=info.post_eof_bytes))


@rule("1:6.1.3-4")
def linearized_ids_match(ctx: DocContext) -> Issues:
    info = ctx.rawinfo
    if info.linearized and info.first_id and info.last_id and info.first_id != info.last_id:
        yield issue(message("pdfa.file_linearized_ids_match",
                            "The linearized file has different IDs in its first-page trailer and "
                            "its last trailer; they must be identical."))


@rule("4:6.1.3-4")
def no_info_without_pieceinfo(ctx: DocContext) -> Issues:
    info = po.get(ctx.trailer, "/Info")
    if info is not None and po.get(ctx.catalog, "/PieceInfo") is None:
        yield issue(message("pdfa.file_no_info_without_pieceinfo",
                            "The trailer has an /Info dictionary; PDF/A-4 allows it only when "
                            "the catalog has /PieceInfo. Remove the document information "
                            "dictionary."),
                    obj=info)


@rule("4:6.1.3-5")
def info_only_moddate(ctx: DocContext) -> Issues:
    info = po.get(ctx.trailer, "/Info")
    if not po.is_dict(info):
        return
    keys = po.keys(info)
    if keys != ["/ModDate"]:
        extra = [k for k in keys if k != "/ModDate"]
        if extra:
            yield issue(message("pdfa.file_info_only_moddate",
                                "The document information dictionary may only hold /ModDate "
                                "in PDF/A-4 (found: {keys}); move the rest to the XMP "
                                "metadata.", keys=Items(extra)), obj=info)
        else:
            yield issue(message("pdfa.file_info_empty",
                                "The document information dictionary may only hold /ModDate "
                                "in PDF/A-4 (found: no /ModDate); move the rest to the XMP "
                                "metadata."), obj=info)


@rule("1:6.1.4-1")
def xref_subsection_header(ctx: DocContext) -> Issues:
    if not ctx.rawinfo.xref_header_space_ok:
        yield issue(message("pdfa.file_xref_subsection_header",
                            "A cross-reference subsection header separates its two numbers by "
                            "something other than a single space."))


@rule("1:6.1.4-2", "2,3:6.1.4-2", "4:6.1.4-1")
def xref_keyword_eol(ctx: DocContext) -> Issues:
    if not ctx.rawinfo.xref_eol_ok:
        yield issue(message("pdfa.file_xref_keyword_eol",
                            "The xref keyword must be followed by a single end-of-line marker "
                            "before the subsection header."))


@rule("1:6.1.4-3")
def no_xref_streams(ctx: DocContext) -> Issues:
    # What the file's bytes hold (an xref stream reached from startxref, /Prev or a hybrid
    # /XRefStm), not what qpdf reports after repairing a broken xref: a repaired table of
    # an ordinary file may list objects from object streams that no xref stream indexes.
    if ctx.rawinfo.xref_streams:
        yield issue(message("pdfa.file_no_xref_streams",
                            "The file uses cross-reference streams, which PDF/A-1 forbids; save "
                            "it with a classic xref table."))


@rule("1:6.1.6-1", "2,3:6.1.6-1", "4:6.1.5-1")
def hex_even(ctx: DocContext) -> Issues:
    for num in ctx.rawinfo.odd_hex_strings:
        yield issue(message("pdfa.file_hex_even",
                            "A hexadecimal string has an odd number of digits."), obj=num)
    for what, in_stream, page in ctx.usage.content_hex:
        if what == "odd":
            yield issue(message("pdfa.file_hex_even_content",
                                "A hexadecimal string in a content stream has an odd number of "
                                "digits."), obj=in_stream, page=page)


@rule("1:6.1.6-2", "2,3:6.1.6-2", "4:6.1.5-2")
def hex_digits(ctx: DocContext) -> Issues:
    for num in ctx.rawinfo.non_hex_strings:
        yield issue(message("pdfa.file_hex_digits",
                            "A hexadecimal string contains characters other than 0-9, A-F, a-f."),
                    obj=num)
    for what, in_stream, page in ctx.usage.content_hex:
        if what == "nonhex":
            yield issue(message("pdfa.file_hex_digits_content",
                                "A hexadecimal string in a content stream contains characters "
                                "other than 0-9, A-F, a-f."), obj=in_stream, page=page)


@rule("1:6.1.7-1", "2,3:6.1.7.1-1", "4:6.1.6.1-1")
def stream_length(ctx: DocContext) -> Issues:
    for s in ctx.rawinfo.streams:
        if s.real_length is not None and s.declared_length != s.real_length:
            yield issue(message("pdfa.file_stream_length",
                                "The stream's /Length is {declared} but its data is {actual} "
                                "bytes; rewrite the file to fix the length.",
                                declared=s.declared_length, actual=s.real_length),
                        obj=s.objnum)


@rule("1:6.1.7-2", "2,3:6.1.7.1-2")
def stream_keywords(ctx: DocContext) -> Issues:
    for s in ctx.rawinfo.streams:
        if not (s.keyword_eol_ok and s.endstream_eol_ok):
            yield issue(message("pdfa.file_stream_keywords",
                                "The stream keyword must be followed by CR LF or LF, and "
                                "endstream preceded by an end-of-line."), obj=s.objnum)


@rule("1:6.1.7-3", "2,3:6.1.7.1-3", "4:6.1.6.1-2")
def no_external_streams(ctx: DocContext) -> Issues:
    for s in ctx.cos.streams:
        bad = [k for k in ("/F", "/FFilter", "/FDecodeParms") if po.has(s, k)]
        if bad:
            yield issue(message("pdfa.file_no_external_streams",
                                "A stream refers to external data ({keys}); embed the data in "
                                "the stream instead.", keys=Items(bad)), obj=s)


_ALLOWED_FILTERS = {"/ASCIIHexDecode", "/ASCII85Decode", "/FlateDecode", "/RunLengthDecode",
                    "/CCITTFaxDecode", "/JBIG2Decode", "/DCTDecode", "/JPXDecode"}


@rule("1:6.1.10-1")
def no_lzw(ctx: DocContext) -> Issues:
    for s in ctx.cos.streams:
        if "/LZWDecode" in po.filters(s):
            yield issue(message("pdfa.lzw_stream", "A stream is LZW-compressed, which PDF/A "
                                "forbids; re-compress it with Flate."), obj=s)


@rule("2,3:6.1.7.2-1", "4:6.1.6.2-1")
def allowed_filters(ctx: DocContext) -> Issues:
    for s in ctx.cos.streams:
        fl = po.filters(s)
        if not fl:
            continue
        parms = po.as_list(po.get(s, "/DecodeParms"))
        for i, f in enumerate(fl):
            if f in _ALLOWED_FILTERS:
                continue
            if f == "/Crypt":
                p = parms[i] if i < len(parms) else None
                if po.get_name(p, "/Name") in (None, "/Identity"):
                    continue
            if f == "/LZWDecode":
                yield issue(message("pdfa.file_filter_lzw", "A stream uses LZW compression, "
                                    "which PDF/A forbids; re-encode it with a standard filter "
                                    "such as Flate."), obj=s)
            else:
                yield issue(message("pdfa.file_filter_forbidden", "A stream uses the filter "
                                    "{filter}, which PDF/A forbids; re-encode it with a "
                                    "standard filter such as Flate.", filter=f), obj=s)
            break


_INLINE_OK = {"/ASCIIHexDecode", "/ASCII85Decode", "/FlateDecode", "/RunLengthDecode",
              "/CCITTFaxDecode", "/DCTDecode", "/AHx", "/A85", "/Fl", "/RL", "/CCF", "/DCT"}


def _inline_filters(d: object) -> list[str]:
    f = po.get(d, "/Filter")
    if f is None:
        f = po.get(d, "/F")
    return [n for n in (po.name(x) for x in po.as_list(f)) if n]


@rule("1:6.1.10-2")
def no_lzw_inline(ctx: DocContext) -> Issues:
    for d, page in ctx.usage.inline_images:
        if any(f in ("/LZWDecode", "/LZW") for f in _inline_filters(d)):
            yield issue(message("pdfa.lzw_inline", "An inline image is LZW-compressed, which "
                                "PDF/A forbids."), page=page)


@rule("2,3:6.1.10-1", "4:6.1.9-1")
def inline_filters(ctx: DocContext) -> Issues:
    for d, page in ctx.usage.inline_images:
        bad = [f for f in _inline_filters(d) if f not in _INLINE_OK]
        if bad:
            yield issue(message("pdfa.file_inline_filters",
                                "An inline image uses the filter {filter}, which PDF/A forbids "
                                "for inline images.", filter=bad[0]), page=page)


@rule("1:6.1.8-1", "2,3:6.1.9-1", "4:6.1.8-1")
def object_syntax(ctx: DocContext) -> Issues:
    for num in ctx.rawinfo.bad_object_headers:
        yield issue(message("pdfa.file_object_syntax",
                            "The object's 'N G obj' header or endobj keyword is not laid out as "
                            "PDF/A requires (single spaces, end-of-line around obj and endobj)."),
                    obj=num)


# -- implementation limits ---------------------------------------------------------------


@rule("1:6.1.12-1", "2,3:6.1.13-1")
def int_limits(ctx: DocContext) -> Issues:
    for value, holder in ctx.cos.big_ints:
        yield issue(message("pdfa.file_int_limits",
                            "The integer {value} is outside the 32-bit range PDF/A allows.",
                            value=value),
                    obj=holder)
    for number, is_int, num, page in ctx.usage.content_numbers:
        if is_int:
            yield issue(message("pdfa.file_int_limits_content",
                                "The integer {value:.0f} in a content stream is outside the "
                                "32-bit range PDF/A allows.", value=number), obj=num, page=page)


@rule("1:6.1.12-2", "2,3:6.1.13-2")
def real_limits(ctx: DocContext) -> Issues:
    limit = 32767.0 if ctx.part == 1 else 3.403e38
    for value, holder in ctx.cos.reals:
        if abs(value) > limit:
            yield issue(message("pdfa.file_real_limits",
                                "The real number {value:g} is larger than {limit:g}, the limit "
                                "PDF/A sets.", value=value, limit=limit), obj=holder)
    for number, is_int, num, page in ctx.usage.content_numbers:
        if not is_int and abs(number) > limit:
            yield issue(message("pdfa.file_real_limits_content",
                                "The real number {value:g} in a content stream is larger than "
                                "{limit:g}, the limit PDF/A sets.", value=number, limit=limit),
                        obj=num, page=page)


@rule("2,3:6.1.13-5")
def real_tiny(ctx: DocContext) -> Issues:
    found = [(v, h, None) for v, h in ctx.cos.reals] + [
        (v, n, p) for v, is_int, n, p in ctx.usage.content_numbers if not is_int]
    for value, holder, page in found:
        if value != 0.0 and abs(value) < 1.175e-38:
            yield issue(message("pdfa.file_real_tiny",
                                "The real number {value:g} is closer to zero than 1.175e-38; "
                                "write it as 0.", value=value), obj=holder, page=page)


@rule("1:6.1.12-3", "2,3:6.1.13-3")
def string_limits(ctx: DocContext) -> Issues:
    limit = 65535 if ctx.part == 1 else 32767
    found = [(n, h, None) for n, h in ctx.cos.long_strings] + ctx.usage.content_strings
    for length, holder, page in found:
        if length > limit:
            yield issue(message("pdfa.file_string_limits",
                                "A string is {length} bytes long; PDF/A allows at most {limit}.",
                                length=length, limit=limit),
                        obj=holder, page=page)


@rule("1:6.1.12-4", "2,3:6.1.13-4")
def name_limits(ctx: DocContext) -> Issues:
    for nm, holder in ctx.cos.long_names:
        yield issue(message("pdfa.file_name_limits",
                            "The name {name}... is longer than 127 bytes.", name=nm[:40]),
                    obj=holder)


@rule("1:6.1.12-5")
def array_limits(ctx: DocContext) -> Issues:
    for size, holder in ctx.cos.big_arrays:
        yield issue(message("pdfa.file_array_limits",
                            "An array has {size} elements; PDF/A-1 allows at most 8191.",
                            size=size), obj=holder)


@rule("1:6.1.12-6")
def dict_limits(ctx: DocContext) -> Issues:
    for size, holder in ctx.cos.big_dicts:
        yield issue(message("pdfa.file_dict_limits",
                            "A dictionary has {size} entries; PDF/A-1 allows at most 4095.",
                            size=size),
                    obj=holder)


@rule("1:6.1.12-7", "2,3:6.1.13-7")
def indirect_object_limit(ctx: DocContext) -> Issues:
    n = ctx.cos.indirect_count
    if n > 8388607:
        yield issue(message("pdfa.file_indirect_object_limit",
                            "The file has {count} indirect objects; PDF/A allows at most "
                            "8,388,607.", count=n))


@rule("1:6.1.12-8", "2,3:6.1.13-8")
def q_nesting(ctx: DocContext) -> Issues:
    u = ctx.usage
    if u.max_q_depth > 28:
        objnum, page = u.q_depth_where
        yield issue(message("pdfa.file_q_nesting",
                            "Graphics states are nested {depth} deep with q/Q; PDF/A allows at "
                            "most 28.", depth=u.max_q_depth), obj=objnum, page=page)


@rule("1:6.1.12-9", "2,3:6.1.13-9")
def devicen_limit(ctx: DocContext) -> Issues:
    limit = 8 if ctx.part == 1 else 32
    for cs in ctx.used_colour_spaces("DeviceN"):
        names = po.elements(po.elements(cs.obj)[1]) if len(po.elements(cs.obj)) > 1 else []
        if len(names) > limit:
            yield issue(message("pdfa.file_devicen_limit",
                                "A DeviceN colour space has {count} colourants; PDF/A-{part} "
                                "allows at most {limit}.", count=len(names), part=ctx.part,
                                limit=limit), obj=cs.obj)


@rule("2,3:6.1.13-11")
def page_boundaries(ctx: DocContext) -> Issues:
    for i, page in enumerate(ctx.pages):
        for key in ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
            box = ctx.inherited(page, key) if key in ("/MediaBox", "/CropBox") else po.get(
                page, key)
            nums = [po.number(v) for v in po.elements(box)]
            if box is None or len(nums) != 4 or None in nums:
                continue
            w = abs(nums[2] - nums[0])  # type: ignore[operator]
            h = abs(nums[3] - nums[1])  # type: ignore[operator]
            if not (3 <= w <= 14400 and 3 <= h <= 14400):
                yield issue(message("pdfa.file_page_boundaries",
                                    "The page's {box} is {width:g} x {height:g} units; each side "
                                    "must be between 3 and 14400.", box=key[1:], width=w,
                                    height=h), obj=page, page=i)


# -- permissions and signatures references -----------------------------------------------


@rule("2,3:6.1.12-1", "4:6.1.11-1")
def permissions(ctx: DocContext) -> Issues:
    perms = po.get(ctx.catalog, "/Perms")
    extra = [k for k in po.keys(perms) if k not in ("/UR3", "/DocMDP")]
    if extra:
        yield issue(message("pdfa.file_permissions",
                            "The permissions dictionary has {keys}; only /UR3 and /DocMDP are "
                            "allowed.", keys=Items(extra)), obj=perms)


@rule("2,3:6.1.12-2")
def docmdp_references(ctx: DocContext) -> Issues:
    if not po.has(po.get(ctx.catalog, "/Perms"), "/DocMDP"):
        return
    for sig in ctx.signature_dicts:
        for ref in po.elements(po.get(sig, "/Reference")):
            bad = [k for k in ("/DigestLocation", "/DigestMethod", "/DigestValue")
                   if po.has(ref, k)]
            if bad:
                yield issue(message("pdfa.file_docmdp_references",
                                    "A signature reference dictionary holds {keys}, which PDF/A "
                                    "forbids when DocMDP is used.", keys=Items(bad)), obj=sig)


@rule("4:6.1.12-1")
def catalog_version(ctx: DocContext) -> Issues:
    v = po.name(po.get(ctx.catalog, "/Version"))
    if po.get(ctx.catalog, "/Version") is not None and (
            v is None or re.fullmatch(r"/2\.\d", v) is None):
        if v is None:
            yield issue(message("pdfa.file_catalog_version_not_name", "The catalog /Version "
                                "is not a name; a PDF/A-4 file must declare 2.n or omit it."))
        else:
            yield issue(message("pdfa.file_catalog_version", "The catalog /Version is "
                                "{version}; a PDF/A-4 file must declare 2.n or omit it.",
                                version=v))


@rule("4e:6.1.6.1-3")
def three_d_subtype(ctx: DocContext) -> Issues:
    for s in ctx.cos.streams:
        if po.get_name(s, "/Type") == "/3D":
            sub = po.get_name(s, "/Subtype")
            if sub not in ("/U3D", "/PRC"):
                yield issue(message("pdfa.file_three_d_subtype",
                                    "A 3D stream has subtype {subtype}; it must be U3D or PRC.",
                                    subtype=sub), obj=s)


# -- names that must be UTF-8 ------------------------------------------------------------


@rule("2,3:6.1.8-1", "4:6.1.7-1")
def names_utf8(ctx: DocContext) -> Issues:
    for nm, obj in ctx.unicode_names:
        if nm is None:
            yield issue(message("pdfa.file_names_utf8",
                                "A font, colourant or structure type name is not valid UTF-8 "
                                "after #-escapes are expanded."), obj=obj)


_CID_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\d+)")
_CID_CHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*(\d+)")


def max_cid(cmap: bytes) -> int:
    """The largest CID an embedded CMap maps to (cidrange and cidchar sections)."""
    top = -1
    for section in re.findall(rb"begincidrange(.*?)endcidrange", cmap, re.S):
        for lo, hi, start in _CID_RANGE.findall(section):
            top = max(top, int(start) + max(0, int(hi, 16) - int(lo, 16)))
    for section in re.findall(rb"begincidchar(.*?)endcidchar", cmap, re.S):
        for _, cid in _CID_CHAR.findall(section):
            top = max(top, int(cid))
    return top


@rule("1:6.1.12-10", "2,3:6.1.13-10")
def cid_limit(ctx: DocContext) -> Issues:
    for use in ctx.usage.fonts.values():
        enc = po.get(use.font, "/Encoding")
        if not po.is_stream(enc):
            continue
        data = po.read_stream(enc) or b""
        top = max_cid(data)
        if top > 65535:
            yield issue(message("pdfa.file_cid_limit",
                                "An embedded CMap maps to CID {cid}; PDF/A allows at most 65535.",
                                cid=top),
                        obj=enc, page=min(use.pages) if use.pages else None)
