"""Fonts (ISO 19005-1 6.3, -2/-3 6.2.11, -4 6.2.10): font dictionaries, composite fonts and
CMaps, embedding, subsets (CharSet, CIDSet), widths, TrueType encodings, Unicode mapping and
the .notdef glyph.

Every rule reads ``ctx.fonts`` (:mod:`archive.pdfa.fontmodel`): one model per font used for
text, with its embedded program parsed once and the character codes shown in it. Glyph
rules look only at the codes that are actually shown; rules about rendering skip text drawn
exclusively in rendering mode 3 (invisible), as the standard does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from archive.messages import Items, Message, message
from archive.pdfa import pdfobj as po
from archive.pdfa.cmaps import IDENTITY, PREDEFINED, PREDEFINED_ORDERING, parse_cmap
from archive.pdfa.context import DocContext
from archive.pdfa.fontenc import in_agl
from archive.pdfa.fontmodel import CID_SUBTYPES, SIMPLE, Glyph, PdfFont
from archive.pdfa.registry import Issue, Issues, issue, rule

_SUBSET = re.compile(r"^[A-Z]{6}\+")
_VALID_SUBTYPES = ("/Type1", "/MMType1", "/TrueType", "/Type3", "/Type0") + CID_SUBTYPES
_SHOW_CODES = 6


def _codes(glyphs: list[Glyph]) -> Message:
    """``code 0x41`` / ``codes 0x41, 0x42`` / ``codes ... and 3 more``, as a message."""
    shown = Items(f"0x{g.code:0{2 * g.length}X}" if g.code >= 0
                  else message("pdfa.font_code_invalid", "an invalid code")
                  for g in glyphs[:_SHOW_CODES])
    if len(glyphs) > _SHOW_CODES:
        return message("pdfa.font_codes_more", "codes {codes} and {more} more", codes=shown,
                       more=len(glyphs) - _SHOW_CODES)
    if len(glyphs) > 1:
        return message("pdfa.font_codes", "codes {codes}", codes=shown)
    return message("pdfa.font_code", "code {codes}", codes=shown)


def _font_dicts(ctx: DocContext) -> Iterator[tuple[PdfFont, Any]]:
    """Every font dictionary in use: the font and, for Type 0, its descendant CIDFont."""
    for f in ctx.fonts:
        yield f, f.font
        if f.subtype == "/Type0" and f.cid_font is not None:
            yield f, f.cid_font


def _glyphs(f: PdfFont, *, rendered: bool = False) -> Iterator[tuple[Glyph, Any]]:
    for (code, length), use in sorted(f.codes.items()):
        if rendered and not use.rendered:
            continue
        yield f.glyph(code, length), use


def _where(f: PdfFont, what: Any = None) -> dict[str, Any]:
    return {"obj": what if what is not None else f.font, "page": f.page}


# -- font dictionaries (6.3.2, 6.2.11.2, 6.2.10.2) ----------------------------------------


@rule("1:6.3.2-1", "2,3:6.2.11.2-1", "4:6.2.10.2-1")
def font_type(ctx: DocContext) -> Issues:
    for f, d in _font_dicts(ctx):
        t = po.get_name(d, "/Type")
        if t != "/Font":
            if t is None:
                yield issue(message("pdfa.font_type_missing", "The dictionary of font {font} "
                                    "({kind}) has /Type missing; a font dictionary must have "
                                    "/Type /Font.", font=f.base_font, kind=f.kind),
                            **_where(f, d))
            else:
                yield issue(message("pdfa.font_type", "The dictionary of font {font} ({kind}) "
                                    "has /Type {type}; a font dictionary must have /Type /Font.",
                                    font=f.base_font, kind=f.kind, type=t), **_where(f, d))


@rule("1:6.3.2-2", "2,3:6.2.11.2-2", "4:6.2.10.2-2")
def font_subtype(ctx: DocContext) -> Issues:
    for f, d in _font_dicts(ctx):
        st = po.get_name(d, "/Subtype")
        if st not in _VALID_SUBTYPES:
            if st is None:
                yield issue(message("pdfa.font_subtype_missing", "The dictionary of font "
                                    "{font} ({kind}) has /Subtype missing; it must be Type1, "
                                    "MMType1, TrueType, Type3, Type0, CIDFontType0 or "
                                    "CIDFontType2.", font=f.base_font, kind=f.kind),
                            **_where(f, d))
            else:
                yield issue(message("pdfa.font_subtype", "The dictionary of font {font} "
                                    "({kind}) has /Subtype {subtype}; it must be Type1, "
                                    "MMType1, TrueType, Type3, Type0, CIDFontType0 or "
                                    "CIDFontType2.", font=f.base_font, kind=f.kind,
                                    subtype=st), **_where(f, d))


@rule("1:6.3.2-3", "2,3:6.2.11.2-3", "4:6.2.10.2-3")
def font_base_font(ctx: DocContext) -> Issues:
    for f, d in _font_dicts(ctx):
        if po.get_name(d, "/Subtype") == "/Type3":
            continue
        if not po.is_name(po.get(d, "/BaseFont")):
            yield issue(message("pdfa.font_base_font",
                                "A {subtype} font dictionary has no /BaseFont name (the "
                                "PostScript name of the font).",
                                subtype=(po.get_name(d, '/Subtype') or '?')[1:]), **_where(f, d))


def _simple_fonts(ctx: DocContext) -> Iterator[PdfFont]:
    for f in ctx.fonts:
        if f.subtype in SIMPLE and not f.is_standard:
            yield f


@rule("1:6.3.2-4", "2,3:6.2.11.2-4", "4:6.2.10.2-4")
def font_first_char(ctx: DocContext) -> Issues:
    for f in _simple_fonts(ctx):
        if po.get_int(f.font, "/FirstChar") is None:
            yield issue(message("pdfa.font_first_char",
                                "Font {font} ({kind}) has no valid /FirstChar; every simple font "
                                "other than the standard 14 needs FirstChar, LastChar and Widths.",
                                font=f.base_font, kind=f.kind),
                        **_where(f))


@rule("1:6.3.2-5", "2,3:6.2.11.2-5", "4:6.2.10.2-5")
def font_last_char(ctx: DocContext) -> Issues:
    for f in _simple_fonts(ctx):
        if po.get_int(f.font, "/LastChar") is None:
            yield issue(message("pdfa.font_last_char",
                                "Font {font} ({kind}) has no valid /LastChar; every simple font "
                                "other than the standard 14 needs FirstChar, LastChar and Widths.",
                                font=f.base_font, kind=f.kind),
                        **_where(f))


@rule("1:6.3.2-6", "2,3:6.2.11.2-6", "4:6.2.10.2-6")
def font_widths_size(ctx: DocContext) -> Issues:
    for f in _simple_fonts(ctx):
        widths = po.get(f.font, "/Widths")
        first = po.get_int(f.font, "/FirstChar")
        last = po.get_int(f.font, "/LastChar")
        if not po.is_array(widths):
            yield issue(message("pdfa.font_widths_missing",
                                "Font {font} ({kind}) has no /Widths array.", font=f.base_font,
                                kind=f.kind), **_where(f))
            continue
        if first is None or last is None:
            continue
        n = len(po.elements(widths))
        if n != last - first + 1:
            yield issue(message("pdfa.font_widths_size",
                                "The /Widths array of font {font} ({kind}) has {count} entries; "
                                "FirstChar {first} to LastChar {last} needs {needed}.",
                                font=f.base_font, kind=f.kind, count=n, first=first, last=last,
                                needed=last - first + 1), **_where(f))


@rule("1:6.3.2-7", "2,3:6.2.11.2-7", "4:6.2.10.2-7")
def font_file_subtype(ctx: DocContext) -> Issues:
    allowed = ("/Type1C", "/CIDFontType0C") + (("/OpenType",) if ctx.part != 1 else ())
    for f in ctx.fonts:
        if f.file is None:
            continue
        st = po.get(f.file, "/Subtype")
        if st is None:
            continue
        if po.name(st) not in allowed:
            yield issue(message("pdfa.font_file_subtype",
                                "The embedded program of font {font} ({kind}) has font file "
                                "/Subtype {subtype}; allowed are {allowed}.", font=f.base_font,
                                kind=f.kind, subtype=po.name(st) or st,
                                allowed=Items(a[1:] for a in allowed)),
                        **_where(f, f.file))


# -- composite fonts and CMaps (6.3.3, 6.2.11.3, 6.2.10.3) --------------------------------


def _type0(ctx: DocContext) -> Iterator[PdfFont]:
    for f in ctx.fonts:
        if f.subtype == "/Type0":
            yield f


def _system_info(d: Any) -> tuple[str | None, str | None, int | None]:
    info = po.get(d, "/CIDSystemInfo")
    return (po.text(po.get(info, "/Registry")), po.text(po.get(info, "/Ordering")),
            po.get_int(info, "/Supplement"))


@rule("1:6.3.3.1-1", "2,3:6.2.11.3.1-1", "4:6.2.10.3.1-1")
def cid_system_info(ctx: DocContext) -> Issues:
    for f in _type0(ctx):
        enc = po.get(f.font, "/Encoding")
        if po.name(enc) in ("/Identity-H", "/Identity-V") or f.cmap_name in IDENTITY:
            continue
        reg, order, supp = _system_info(f.cid_font)
        if po.is_stream(enc):
            creg, corder, csupp = _system_info(enc)
            if creg is None and f.cmap is not None:
                creg, corder, csupp = f.cmap.registry, f.cmap.ordering, f.cmap.supplement
        elif po.is_name(enc):
            name = str(enc)[1:]
            creg = "Adobe" if name in PREDEFINED_ORDERING else None
            corder = PREDEFINED_ORDERING.get(name)
            csupp = None
        else:
            continue
        ok = reg is not None and order is not None and reg == creg and order == corder
        if ok and ctx.part != 1 and po.is_stream(enc):
            ok = supp is not None and csupp is not None and supp <= csupp
        if not ok:
            yield issue(message("pdfa.font_cid_system_info",
                                "The CIDFont of font {font} ({kind}) declares "
                                "{reg}-{order}-{supp} but its CMap is {creg}-{corder}-{csupp}; "
                                "Registry and Ordering must be the same (and the CIDFont's "
                                "Supplement not above the CMap's).", font=f.base_font,
                                kind=f.kind, reg=reg, order=order, supp=supp, creg=creg,
                                corder=corder, csupp=csupp), **_where(f))


@rule("1:6.3.3.2-1", "2,3:6.2.11.3.2-1", "4:6.2.10.3.2-1")
def cid_to_gid_map(ctx: DocContext) -> Issues:
    for f in _type0(ctx):
        cf = f.cid_font
        if po.get_name(cf, "/Subtype") != "/CIDFontType2":
            continue
        if ctx.part == 1 and not f.rendered or ctx.part != 1 and not f.embedded:
            continue
        m = po.get(cf, "/CIDToGIDMap")
        if not (po.is_stream(m) or po.name(m) == "/Identity"):
            yield issue(message("pdfa.font_cid_to_gid_map",
                                "The Type 2 CIDFont of font {font} ({kind}) has no valid "
                                "/CIDToGIDMap (a stream or /Identity).", font=f.base_font,
                                kind=f.kind), **_where(f, cf))


def _allowed_cmaps(ctx: DocContext) -> frozenset[str]:
    return IDENTITY if ctx.part == 1 else PREDEFINED


@rule("1:6.3.3.3-1", "2,3:6.2.11.3.3-1", "4:6.2.10.3.3-1")
def cmap_embedded(ctx: DocContext) -> Issues:
    allowed = _allowed_cmaps(ctx)
    for f in _type0(ctx):
        enc = po.get(f.font, "/Encoding")
        if po.is_stream(enc):
            continue
        name = po.name(enc)
        if name is None or name[1:] not in allowed:
            if name is None:
                yield issue(message("pdfa.font_cmap_missing", "Font {font} ({kind}) uses the "
                                    "CMap missing, which is not embedded and not one of the "
                                    "predefined CMaps allowed; embed the CMap.",
                                    font=f.base_font, kind=f.kind), **_where(f))
            else:
                yield issue(message("pdfa.font_cmap_embedded", "Font {font} ({kind}) uses the "
                                    "CMap {cmap}, which is not embedded and not one of the "
                                    "predefined CMaps allowed; embed the CMap.",
                                    font=f.base_font, kind=f.kind, cmap=name), **_where(f))


@rule("1:6.3.3.3-2", "2,3:6.2.11.3.3-2", "4:6.2.10.3.3-2")
def cmap_wmode(ctx: DocContext) -> Issues:
    for f in _type0(ctx):
        enc = po.get(f.font, "/Encoding")
        if not po.is_stream(enc) or f.cmap is None:
            continue
        in_dict = po.get_int(enc, "/WMode") or 0
        in_prog = f.cmap.wmode or 0
        if in_dict != in_prog:
            yield issue(message("pdfa.font_cmap_wmode",
                                "The embedded CMap of font {font} ({kind}) says WMode "
                                "{in_program} in its program but /WMode {in_dict} in its "
                                "dictionary; make them equal.", font=f.base_font, kind=f.kind,
                                in_program=in_prog, in_dict=in_dict),
                        **_where(f, enc))


@rule("2,3:6.2.11.3.3-3", "4:6.2.10.3.3-3")
def cmap_references(ctx: DocContext) -> Issues:
    for f in _type0(ctx):
        enc = po.get(f.font, "/Encoding")
        if not po.is_stream(enc):
            continue
        refs: list[str] = []
        use = po.get(enc, "/UseCMap")
        if po.is_name(use):
            refs.append(str(use)[1:])
        elif po.is_stream(use):
            inner = parse_cmap(po.read_stream(use) or b"")
            refs.append(po.get_name(use, "/CMapName") or inner.name or "(embedded CMap)")
        if f.cmap is not None:
            refs.extend(f.cmap.usecmap)
        for ref in refs:
            name = ref.lstrip("/")
            if name not in PREDEFINED:
                yield issue(message("pdfa.font_cmap_references",
                                    "The embedded CMap of font {font} ({kind}) references the "
                                    "CMap {cmap}; a CMap may only use the predefined CMaps.",
                                    font=f.base_font, kind=f.kind, cmap=name), **_where(f, enc))
                break


# -- embedding and subsets (6.3.4, 6.3.5, 6.2.11.4, 6.2.10.4) -----------------------------


@rule("1:6.3.4-1", "2,3:6.2.11.4.1-1", "4:6.2.10.4.1-1")
def font_embedded(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        if f.subtype == "/Type3" or not f.rendered:
            continue
        if f.subtype == "/Type0" and f.cid_font is None:
            continue
        if f.file is None:
            yield issue(message("pdfa.font_not_embedded", "The program of {font} is not "
                                "embedded; embed the font (text that is drawn must use "
                                "embedded fonts).", font=_font_label(f)),
                        **_where(f, f.program_font))


def _font_label(f: PdfFont) -> Message:
    """``font NAME (KIND)`` as a message, for a template that takes the font as one value
    (its Thai says แบบอักษร, not the English word)."""
    return message("pdfa.font_label", "font {font} ({kind})", font=f.base_font, kind=f.kind)


def _program_error(f: PdfFont) -> Issue:
    return issue(message("pdfa.font_program_error",
                         "The embedded program of font {font} ({kind}) cannot be read: {error}. "
                         "Its glyphs and widths cannot be verified; re-embed the font.",
                         font=f.base_font, kind=f.kind, error=f.program_error),
                 **_where(f, f.file))


@rule("1:6.3.5-1", "2,3:6.2.11.4.1-2", "4:6.2.10.4.1-2")
def glyphs_present(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        if f.subtype != "/Type3" and f.file is None:
            continue
        if f.program_error is not None:
            if f.rendered:
                yield _program_error(f)
            continue
        missing = [g for g, _ in _glyphs(f, rendered=True) if g.present is False]
        if missing:
            yield issue(message("pdfa.font_glyphs_present",
                                "Font {font} ({kind}): {codes} shown as text select glyphs the "
                                "embedded font program does not define; embed a font (subset) "
                                "that contains every glyph used.", font=f.base_font, kind=f.kind,
                                codes=_codes(missing)), **_where(f))


def _charset_names(desc: Any) -> set[str] | None:
    cs = po.get(desc, "/CharSet")
    if cs is None:
        return None
    raw = po.raw_bytes(cs)
    if raw is None:
        return set()
    return {n for n in raw.decode("latin-1").split("/") if n.strip()} - {""}


def _subset(f: PdfFont) -> bool:
    name = po.get_name(f.program_font, "/BaseFont") or ""
    return bool(_SUBSET.match(name[1:]))


@rule("1:6.3.5-2", "2,3:6.2.11.4.2-1")
def type1_charset(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        if f.subtype not in ("/Type1", "/MMType1") or not _subset(f):
            continue
        if ctx.part != 1 and f.file is None:
            continue
        listed = _charset_names(f.descriptor)
        if listed is None:
            if ctx.part == 1:
                yield issue(message("pdfa.font_charset_missing",
                                    "Font {font} ({kind}) is a subset but its font descriptor "
                                    "has no /CharSet listing the glyph names it contains.",
                                    font=f.base_font, kind=f.kind),
                            **_where(f, f.descriptor))
            continue
        if f.program is None or f.program.names is None:
            continue
        listed = {n.strip() for n in listed}
        if ctx.part == 1:
            # PDF/A-1: the CharSet names the glyphs the subset is used for.
            names = {g.name for g, _ in _glyphs(f) if g.present and g.name}
        else:
            names = set(f.program.names)
        unlisted = sorted(names - {".notdef"} - listed)
        if unlisted:
            yield issue(message(
                "pdfa.font_charset_incomplete_1", "The /CharSet of font {font} ({kind}) does "
                "not list every glyph used from the embedded program (missing: {names}).",
                font=f.base_font, kind=f.kind, names=Items(unlisted[:6])) if ctx.part == 1
                else message(
                "pdfa.font_charset_incomplete", "The /CharSet of font {font} ({kind}) does "
                "not list every glyph of the embedded program (missing: {names}).",
                font=f.base_font, kind=f.kind, names=Items(unlisted[:6])),
                **_where(f, f.descriptor))
        elif ctx.part != 1 and (absent := sorted(listed - names - {".notdef"})):
            # PDF/A-2 and later: the CharSet names exactly the glyphs of the subset.
            yield issue(message("pdfa.font_charset_extra",
                                "The /CharSet of font {font} ({kind}) lists glyphs the embedded "
                                "program does not have ({names}).", font=f.base_font, kind=f.kind,
                                names=Items(absent[:6])), **_where(f, f.descriptor))


def _cids_in_program(f: PdfFont) -> set[int] | None:
    """CIDs with a glyph in the embedded program (for TrueType: a non-empty outline)."""
    prog = f.program
    if prog is None:
        return None
    cf = f.cid_font
    if prog.cids is not None:
        return set(prog.cids)
    outlined = prog.outlined()
    if po.get_name(cf, "/Subtype") == "/CIDFontType2":
        m = po.get(cf, "/CIDToGIDMap")
        if po.is_stream(m):
            data = po.read_stream(m, limit=131072) or b""
            out = set()
            for cid in range(len(data) // 2):
                gid = (data[2 * cid] << 8) | data[2 * cid + 1]
                if gid in outlined:
                    out.add(cid)
            return out
    return outlined


@rule("1:6.3.5-3", "2,3:6.2.11.4.2-2")
def cid_set(ctx: DocContext) -> Issues:
    for f in _type0(ctx):
        if f.cid_font is None or not _subset(f):
            continue
        if ctx.part != 1 and f.file is None:
            continue
        cidset = po.get(f.descriptor, "/CIDSet")
        if cidset is None:
            if ctx.part == 1:
                yield issue(message("pdfa.font_cid_set_missing",
                                    "Font {font} ({kind}) is a subset but its font descriptor "
                                    "has no /CIDSet stream identifying the CIDs it contains.",
                                    font=f.base_font, kind=f.kind),
                            **_where(f, f.descriptor))
            continue
        data = po.read_stream(cidset, limit=8192)  # CIDs stop at 65535
        if ctx.part == 1:
            # PDF/A-1: the CIDSet identifies the CIDs the subset is used for.
            present: set[int] | None = {g.cid for g, _ in _glyphs(f)
                                        if g.cid is not None and g.present}
        else:
            present = _cids_in_program(f)
        if data is None or present is None:
            continue
        marked = {i * 8 + b for i, byte in enumerate(data) for b in range(8)
                  if byte & (0x80 >> b)}
        wrong = sorted(present - marked - {0})
        if wrong:
            yield issue(message(
                "pdfa.font_cid_set_incomplete_1", "The /CIDSet of font {font} ({kind}) does "
                "not list every CID used from the embedded program (e.g. CID {cids} is "
                "missing).", font=f.base_font, kind=f.kind, cids=Items(wrong[:5]))
                if ctx.part == 1 else message(
                "pdfa.font_cid_set_incomplete", "The /CIDSet of font {font} ({kind}) does not "
                "list every CID of the embedded program (e.g. CID {cids} is missing).",
                font=f.base_font, kind=f.kind, cids=Items(wrong[:5])), **_where(f, cidset))
            continue
        if ctx.part == 1:
            continue
        extra = sorted(_cids_absent(f, marked - {0}))
        if extra:
            yield issue(message("pdfa.font_cid_set_extra",
                                "The /CIDSet of font {font} ({kind}) lists CIDs the embedded "
                                "program does not have (e.g. CID {cids}).", font=f.base_font,
                                kind=f.kind, cids=Items(extra[:5])),
                        **_where(f, cidset))


def _cids_absent(f: PdfFont, marked: set[int]) -> set[int]:
    """CIDs of ``marked`` with no glyph at all in the program (empty glyphs count as
    present)."""
    prog = f.program
    if prog is None:
        return set()
    if prog.cids is not None:
        return marked - set(prog.cids)
    m = po.get(f.cid_font, "/CIDToGIDMap")
    if po.get_name(f.cid_font, "/Subtype") == "/CIDFontType2" and po.is_stream(m):
        data = po.read_stream(m, limit=131072) or b""
        out = set()
        for cid in marked:
            k = 2 * cid
            if k + 2 > len(data) or ((data[k] << 8) | data[k + 1]) >= prog.num_glyphs:
                out.add(cid)
        return out
    return {cid for cid in marked if cid >= prog.num_glyphs}


# -- widths (6.3.6, 6.2.11.5, 6.2.10.5) ---------------------------------------------------


@rule("1:6.3.6-1", "2,3:6.2.11.5-1", "4:6.2.10.5-1")
def glyph_widths(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        if f.program is None and f.subtype != "/Type3":
            continue
        bad = []
        for g, _ in _glyphs(f, rendered=True):
            if g.width_prog is None or g.width_dict is None:
                continue
            if abs(g.width_prog - g.width_dict) > 1:
                bad.append(g)
        if bad:
            g = bad[0]
            where = "/W" if f.subtype == "/Type0" else "/Widths"
            yield issue(message("pdfa.font_glyph_widths", "Font {font} ({kind}): the widths "
                                "in {where} differ from the embedded program for {codes} (e.g. "
                                "{width_dict:g} in the dictionary, {width_prog:g} in the "
                                "program); rewrite the widths from the font.", font=f.base_font,
                                kind=f.kind, where=where, codes=_codes(bad),
                                width_dict=g.width_dict, width_prog=g.width_prog), **_where(f))


# -- TrueType encodings (6.3.7, 6.2.11.6, 6.2.10.6) ---------------------------------------


def _truetype(ctx: DocContext) -> Iterator[PdfFont]:
    for f in ctx.fonts:
        if f.subtype == "/TrueType":
            yield f


def _encoding_name(f: PdfFont) -> str | None:
    enc = po.get(f.font, "/Encoding")
    if po.is_name(enc):
        return str(enc)
    return po.get_name(enc, "/BaseEncoding")


@rule("1:6.3.7-1", "2,3:6.2.11.6-2", "4:6.2.10.6-2")
def truetype_nonsymbolic_encoding(ctx: DocContext) -> Issues:
    for f in _truetype(ctx):
        if f.symbolic:
            continue
        enc = _encoding_name(f)
        diffs = f.differences
        diffs_present = po.has(po.get(f.font, "/Encoding"), "/Differences")
        problem: Message | None = None
        if enc not in ("/MacRomanEncoding", "/WinAnsiEncoding"):
            problem = (message("pdfa.font_tt_encoding_is", "its encoding is {encoding}",
                               encoding=enc[1:]) if enc else
                       message("pdfa.font_tt_encoding_not_given", "its encoding is not given"))
        elif diffs_present:
            if ctx.part == 1:
                problem = message("pdfa.font_tt_differences",
                                  "its encoding has a /Differences array")
            else:
                has31 = f.program is not None and (3, 1) in f.program.cmaps
                bad = [n for n in diffs if not in_agl(n)]
                if bad:
                    problem = message("pdfa.font_tt_differences_agl", "its /Differences use "
                                      "names outside the Adobe Glyph List ({names})",
                                      names=Items(bad[:5]))
                elif not has31:
                    problem = message("pdfa.font_tt_differences_cmap", "its /Differences need "
                                      "a (3,1) Unicode cmap in the program")
        if problem and ctx.part == 1:
            yield issue(message("pdfa.font_tt_nonsymbolic_encoding_1", "Non-symbolic TrueType "
                                "font {font} ({kind}): {problem}; it must use MacRomanEncoding "
                                "or WinAnsiEncoding.", font=f.base_font, kind=f.kind,
                                problem=problem), **_where(f))
        elif problem:
            yield issue(message("pdfa.font_tt_nonsymbolic_encoding", "Non-symbolic TrueType "
                                "font {font} ({kind}): {problem}; it must use MacRomanEncoding "
                                "or WinAnsiEncoding (Differences only with Adobe Glyph List "
                                "names and a (3,1) cmap).", font=f.base_font, kind=f.kind,
                                problem=problem), **_where(f))


@rule("1:6.3.7-2", "2,3:6.2.11.6-3", "4:6.2.10.6-3")
def truetype_symbolic_no_encoding(ctx: DocContext) -> Issues:
    for f in _truetype(ctx):
        if f.symbolic and po.has(f.font, "/Encoding"):
            yield issue(message("pdfa.font_truetype_symbolic_no_encoding",
                                "Symbolic TrueType font {font} ({kind}) has an /Encoding entry; "
                                "remove it (or mark the font non-symbolic with a standard "
                                "encoding).", font=f.base_font, kind=f.kind), **_where(f))


@rule("1:6.3.7-3", "2,3:6.2.11.6-4", "4:6.2.10.6-4")
def truetype_symbolic_cmap(ctx: DocContext) -> Issues:
    for f in _truetype(ctx):
        if not f.symbolic or f.program is None:
            continue
        ids = f.program.cmap_ids
        if ctx.part == 1:
            ok = len(ids) == 1
            need = message("pdfa.font_cmap_need_one", "exactly one cmap subtable")
        elif ctx.part == 4:
            ok = (3, 0) in ids or (1, 0) in ids
            need = message("pdfa.font_cmap_need_symbol_4",
                           "a (3,0) Microsoft Symbol or (1,0) Mac Roman cmap subtable")
        else:
            ok = len(ids) == 1 or (3, 0) in ids
            need = message("pdfa.font_cmap_need_symbol",
                           "exactly one cmap subtable or a (3,0) Microsoft Symbol one")
        if not ok:
            yield issue(message("pdfa.font_tt_symbolic_cmap", "The program of symbolic "
                                "TrueType font {font} ({kind}) has cmap subtables {cmaps}; it "
                                "needs {need}.", font=f.base_font, kind=f.kind,
                                cmaps=_ids(ids), need=need), **_where(f, f.file))


def _ids(ids: list[tuple[int, int]]) -> Items | Message:
    if not ids:
        return message("pdfa.font_cmaps_none", "none")
    return Items(f"({p},{e})" for p, e in ids)


@rule("2,3:6.2.11.6-1", "4:6.2.10.6-1")
def truetype_nonsymbolic_cmap(ctx: DocContext) -> Issues:
    for f in _truetype(ctx):
        if f.symbolic or f.program is None:
            continue
        ids = f.program.cmap_ids
        if ctx.part == 4:
            ok = (3, 1) in ids or (1, 0) in ids
            need = message("pdfa.font_cmap_need_unicode_4",
                           "a (3,1) Microsoft Unicode or (1,0) Mac Roman cmap subtable")
        else:
            ok = len(ids) > 1 if (3, 0) in ids else len(ids) > 0
            need = message("pdfa.font_cmap_need_nonsymbolic", "a non-symbolic cmap subtable")
        if not ok:
            yield issue(message("pdfa.font_tt_nonsymbolic_cmap", "The program of non-symbolic "
                                "TrueType font {font} ({kind}) has cmap subtables {cmaps}; it "
                                "needs {need}.", font=f.base_font, kind=f.kind,
                                cmaps=_ids(ids), need=need), **_where(f, f.file))


# -- Unicode (6.3.8, 6.2.11.7, 6.2.10.7) --------------------------------------------------


@rule("1a:6.3.8-1", "2a,2u,3a,3u:6.2.11.7.2-1")
def unicode_mapping(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        unmapped = [g for g, _ in _glyphs(f) if g.unicode is None]
        if unmapped:
            yield issue(message("pdfa.font_unicode_mapping",
                                "Font {font} ({kind}): {codes} cannot be mapped to Unicode; add "
                                "a /ToUnicode CMap that covers every code used.",
                                font=f.base_font, kind=f.kind, codes=_codes(unmapped)), **_where(f))


def _bad_unicode(text: str) -> bool:
    return "\x00" in text or "\ufeff" in text or "\ufffe" in text


@rule("2a,2u,3a,3u:6.2.11.7.2-2", "4:6.2.10.7-1")
def unicode_values(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        if f.to_unicode is None:
            continue
        bad = [g for g, _ in _glyphs(f)
               if (t := f.to_unicode.unicode(g.code)) is not None and _bad_unicode(t)]
        if bad:
            yield issue(message("pdfa.font_unicode_values",
                                "The /ToUnicode CMap of font {font} ({kind}) maps {codes} to "
                                "U+0000, U+FEFF or U+FFFE; map them to the real characters.",
                                font=f.base_font, kind=f.kind, codes=_codes(bad)), **_where(f))


def _pua(text: str) -> bool:
    return any(0xE000 <= ord(c) <= 0xF8FF or 0xF0000 <= ord(c) <= 0x10FFFD for c in text)


@rule("2a,3a:6.2.11.7.3-1")
def unicode_pua_actual_text(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        bad = [g for g, use in _glyphs(f)
               if use.outside_actual and g.unicode and _pua(g.unicode)]
        if bad:
            yield issue(message("pdfa.font_unicode_pua_actual_text",
                                "Font {font} ({kind}): {codes} map to Private Use Area "
                                "characters outside any ActualText; wrap them in marked content "
                                "with /ActualText giving the real text.", font=f.base_font,
                                kind=f.kind, codes=_codes(bad)), **_where(f))


# -- .notdef (6.2.11.8, 6.2.10.9) ---------------------------------------------------------


@rule("2,3:6.2.11.8-1", "4:6.2.10.9-1")
def no_notdef(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        bad = [g for g, _ in _glyphs(f) if g.notdef]
        if bad:
            yield issue(message("pdfa.font_no_notdef",
                                "Font {font} ({kind}): {codes} shown as text select the .notdef "
                                "glyph; use codes the font maps to real glyphs.",
                                font=f.base_font, kind=f.kind, codes=_codes(bad)), **_where(f))

