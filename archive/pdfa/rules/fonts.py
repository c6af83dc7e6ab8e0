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

from archive.messages import message
from archive.pdfa import pdfobj as po
from archive.pdfa.cmaps import IDENTITY, PREDEFINED, PREDEFINED_ORDERING, parse_cmap
from archive.pdfa.context import DocContext
from archive.pdfa.fontenc import in_agl
from archive.pdfa.fontmodel import CID_SUBTYPES, SIMPLE, Glyph, PdfFont
from archive.pdfa.registry import Issue, Issues, issue, rule

_SUBSET = re.compile(r"^[A-Z]{6}\+")
_VALID_SUBTYPES = ("/Type1", "/MMType1", "/TrueType", "/Type3", "/Type0") + CID_SUBTYPES
_SHOW_CODES = 6


def _codes(glyphs: list[Glyph]) -> str:
    shown = ", ".join(f"0x{g.code:0{2 * g.length}X}" if g.code >= 0 else "an invalid code"
                      for g in glyphs[:_SHOW_CODES])
    more = f" and {len(glyphs) - _SHOW_CODES} more" if len(glyphs) > _SHOW_CODES else ""
    return f"code{'s' if len(glyphs) > 1 else ''} {shown}{more}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


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
            yield issue(f"The dictionary of {f.label} has /Type {t or 'missing'}; a font "
                        "dictionary must have /Type /Font.", **_where(f, d))


@rule("1:6.3.2-2", "2,3:6.2.11.2-2", "4:6.2.10.2-2")
def font_subtype(ctx: DocContext) -> Issues:
    for f, d in _font_dicts(ctx):
        st = po.get_name(d, "/Subtype")
        if st not in _VALID_SUBTYPES:
            yield issue(f"The dictionary of {f.label} has /Subtype {st or 'missing'}; it must "
                        "be Type1, MMType1, TrueType, Type3, Type0, CIDFontType0 or "
                        "CIDFontType2.", **_where(f, d))


@rule("1:6.3.2-3", "2,3:6.2.11.2-3", "4:6.2.10.2-3")
def font_base_font(ctx: DocContext) -> Issues:
    for f, d in _font_dicts(ctx):
        if po.get_name(d, "/Subtype") == "/Type3":
            continue
        if not po.is_name(po.get(d, "/BaseFont")):
            yield issue(f"A {(po.get_name(d, '/Subtype') or '?')[1:]} font dictionary has no "
                        "/BaseFont name (the PostScript name of the font).", **_where(f, d))


def _simple_fonts(ctx: DocContext) -> Iterator[PdfFont]:
    for f in ctx.fonts:
        if f.subtype in SIMPLE and not f.is_standard:
            yield f


@rule("1:6.3.2-4", "2,3:6.2.11.2-4", "4:6.2.10.2-4")
def font_first_char(ctx: DocContext) -> Issues:
    for f in _simple_fonts(ctx):
        if po.get_int(f.font, "/FirstChar") is None:
            yield issue(f"{_cap(f.label)} has no valid /FirstChar; every simple font "
                        "other than the standard 14 needs FirstChar, LastChar and Widths.",
                        **_where(f))


@rule("1:6.3.2-5", "2,3:6.2.11.2-5", "4:6.2.10.2-5")
def font_last_char(ctx: DocContext) -> Issues:
    for f in _simple_fonts(ctx):
        if po.get_int(f.font, "/LastChar") is None:
            yield issue(f"{_cap(f.label)} has no valid /LastChar; every simple font "
                        "other than the standard 14 needs FirstChar, LastChar and Widths.",
                        **_where(f))


@rule("1:6.3.2-6", "2,3:6.2.11.2-6", "4:6.2.10.2-6")
def font_widths_size(ctx: DocContext) -> Issues:
    for f in _simple_fonts(ctx):
        widths = po.get(f.font, "/Widths")
        first = po.get_int(f.font, "/FirstChar")
        last = po.get_int(f.font, "/LastChar")
        if not po.is_array(widths):
            yield issue(f"{_cap(f.label)} has no /Widths array.", **_where(f))
            continue
        if first is None or last is None:
            continue
        n = len(po.elements(widths))
        if n != last - first + 1:
            yield issue(f"The /Widths array of {f.label} has {n} entries; FirstChar {first} "
                        f"to LastChar {last} needs {last - first + 1}.", **_where(f))


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
            yield issue(f"The embedded program of {f.label} has font file /Subtype "
                        f"{po.name(st) or st}; allowed are {', '.join(a[1:] for a in allowed)}.",
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
            yield issue(f"The CIDFont of {f.label} declares {reg}-{order}-{supp} but its CMap "
                        f"is {creg}-{corder}-{csupp}; Registry and Ordering must be the same "
                        "(and the CIDFont's Supplement not above the CMap's).", **_where(f))


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
            yield issue(f"The Type 2 CIDFont of {f.label} has no valid /CIDToGIDMap (a stream "
                        "or /Identity).", **_where(f, cf))


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
            yield issue(f"{_cap(f.label)} uses the CMap {name or 'missing'}, which is "
                        "not embedded and not one of the predefined CMaps allowed; embed the "
                        "CMap.", **_where(f))


@rule("1:6.3.3.3-2", "2,3:6.2.11.3.3-2", "4:6.2.10.3.3-2")
def cmap_wmode(ctx: DocContext) -> Issues:
    for f in _type0(ctx):
        enc = po.get(f.font, "/Encoding")
        if not po.is_stream(enc) or f.cmap is None:
            continue
        in_dict = po.get_int(enc, "/WMode") or 0
        in_prog = f.cmap.wmode or 0
        if in_dict != in_prog:
            yield issue(f"The embedded CMap of {f.label} says WMode {in_prog} in its program "
                        f"but /WMode {in_dict} in its dictionary; make them equal.",
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
                yield issue(f"The embedded CMap of {f.label} references the CMap {name}; a "
                            "CMap may only use the predefined CMaps.", **_where(f, enc))
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
                                "embedded fonts).", font=f.label), **_where(f, f.program_font))


def _program_error(f: PdfFont) -> Issue:
    return issue(f"The embedded program of {f.label} cannot be read: {f.program_error}. Its "
                 "glyphs and widths cannot be verified; re-embed the font.",
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
            yield issue(f"{_cap(f.label)}: {_codes(missing)} shown as text select glyphs "
                        "the embedded font program does not define; embed a font (subset) that "
                        "contains every glyph used.", **_where(f))


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
                yield issue(f"{_cap(f.label)} is a subset but its font descriptor has no "
                            "/CharSet listing the glyph names it contains.",
                            **_where(f, f.descriptor))
            continue
        if f.program is None or f.program.names is None:
            continue
        listed = {n.strip() for n in listed}
        if ctx.part == 1:
            # PDF/A-1: the CharSet names the glyphs the subset is used for.
            names = {g.name for g, _ in _glyphs(f) if g.present and g.name}
            what = "glyph used from"
        else:
            names = set(f.program.names)
            what = "glyph of"
        unlisted = sorted(names - {".notdef"} - listed)
        if unlisted:
            yield issue(f"The /CharSet of {f.label} does not list every {what} the embedded "
                        f"program (missing: {', '.join(unlisted[:6])}).",
                        **_where(f, f.descriptor))
        elif ctx.part != 1 and (absent := sorted(listed - names - {".notdef"})):
            # PDF/A-2 and later: the CharSet names exactly the glyphs of the subset.
            yield issue(f"The /CharSet of {f.label} lists glyphs the embedded program does "
                        f"not have ({', '.join(absent[:6])}).", **_where(f, f.descriptor))


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
                yield issue(f"{_cap(f.label)} is a subset but its font descriptor has no "
                            "/CIDSet stream identifying the CIDs it contains.",
                            **_where(f, f.descriptor))
            continue
        data = po.read_stream(cidset, limit=8192)  # CIDs stop at 65535
        if ctx.part == 1:
            # PDF/A-1: the CIDSet identifies the CIDs the subset is used for.
            present: set[int] | None = {g.cid for g, _ in _glyphs(f)
                                        if g.cid is not None and g.present}
            what = "CID used from"
        else:
            present = _cids_in_program(f)
            what = "CID of"
        if data is None or present is None:
            continue
        marked = {i * 8 + b for i, byte in enumerate(data) for b in range(8)
                  if byte & (0x80 >> b)}
        wrong = sorted(present - marked - {0})
        if wrong:
            yield issue(f"The /CIDSet of {f.label} does not list every {what} the embedded "
                        f"program (e.g. CID {', '.join(map(str, wrong[:5]))} is missing).",
                        **_where(f, cidset))
            continue
        if ctx.part == 1:
            continue
        extra = sorted(_cids_absent(f, marked - {0}))
        if extra:
            yield issue(f"The /CIDSet of {f.label} lists CIDs the embedded program does not "
                        f"have (e.g. CID {', '.join(map(str, extra[:5]))}).",
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
            yield issue(f"{_cap(f.label)}: the widths in {where} differ from the embedded "
                        f"program for {_codes(bad)} (e.g. {g.width_dict:g} in the dictionary, "
                        f"{g.width_prog:g} in the program); rewrite the widths from the font.",
                        **_where(f))


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
        problem = None
        if enc not in ("/MacRomanEncoding", "/WinAnsiEncoding"):
            problem = f"its encoding is {enc[1:] if enc else 'not given'}"
        elif diffs_present:
            if ctx.part == 1:
                problem = "its encoding has a /Differences array"
            else:
                has31 = f.program is not None and (3, 1) in f.program.cmaps
                bad = [n for n in diffs if not in_agl(n)]
                if bad or not has31:
                    problem = ("its /Differences use names outside the Adobe Glyph List "
                               f"({', '.join(bad[:5])})" if bad else
                               "its /Differences need a (3,1) Unicode cmap in the program")
        if problem:
            yield issue(f"Non-symbolic TrueType {f.label}: {problem}; it must use "
                        "MacRomanEncoding or WinAnsiEncoding"
                        + ("" if ctx.part == 1 else " (Differences only with Adobe Glyph List "
                           "names and a (3,1) cmap)") + ".", **_where(f))


@rule("1:6.3.7-2", "2,3:6.2.11.6-3", "4:6.2.10.6-3")
def truetype_symbolic_no_encoding(ctx: DocContext) -> Issues:
    for f in _truetype(ctx):
        if f.symbolic and po.has(f.font, "/Encoding"):
            yield issue(f"Symbolic TrueType {f.label} has an /Encoding entry; remove it (or mark "
                        "the font non-symbolic with a standard encoding).", **_where(f))


@rule("1:6.3.7-3", "2,3:6.2.11.6-4", "4:6.2.10.6-4")
def truetype_symbolic_cmap(ctx: DocContext) -> Issues:
    for f in _truetype(ctx):
        if not f.symbolic or f.program is None:
            continue
        ids = f.program.cmap_ids
        if ctx.part == 1:
            ok = len(ids) == 1
            need = "exactly one cmap subtable"
        elif ctx.part == 4:
            ok = (3, 0) in ids or (1, 0) in ids
            need = "a (3,0) Microsoft Symbol or (1,0) Mac Roman cmap subtable"
        else:
            ok = len(ids) == 1 or (3, 0) in ids
            need = "exactly one cmap subtable or a (3,0) Microsoft Symbol one"
        if not ok:
            yield issue(f"The program of symbolic TrueType {f.label} has cmap subtables "
                        f"{_ids(ids)}; it needs {need}.", **_where(f, f.file))


def _ids(ids: list[tuple[int, int]]) -> str:
    return ", ".join(f"({p},{e})" for p, e in ids) or "none"


@rule("2,3:6.2.11.6-1", "4:6.2.10.6-1")
def truetype_nonsymbolic_cmap(ctx: DocContext) -> Issues:
    for f in _truetype(ctx):
        if f.symbolic or f.program is None:
            continue
        ids = f.program.cmap_ids
        if ctx.part == 4:
            ok = (3, 1) in ids or (1, 0) in ids
            need = "a (3,1) Microsoft Unicode or (1,0) Mac Roman cmap subtable"
        else:
            ok = len(ids) > 1 if (3, 0) in ids else len(ids) > 0
            need = "a non-symbolic cmap subtable"
        if not ok:
            yield issue(f"The program of non-symbolic TrueType {f.label} has cmap subtables "
                        f"{_ids(ids)}; it needs {need}.", **_where(f, f.file))


# -- Unicode (6.3.8, 6.2.11.7, 6.2.10.7) --------------------------------------------------


@rule("1a:6.3.8-1", "2a,2u,3a,3u:6.2.11.7.2-1")
def unicode_mapping(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        unmapped = [g for g, _ in _glyphs(f) if g.unicode is None]
        if unmapped:
            yield issue(f"{_cap(f.label)}: {_codes(unmapped)} cannot be mapped to Unicode; "
                        "add a /ToUnicode CMap that covers every code used.", **_where(f))


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
            yield issue(f"The /ToUnicode CMap of {f.label} maps {_codes(bad)} to U+0000, U+FEFF "
                        "or U+FFFE; map them to the real characters.", **_where(f))


def _pua(text: str) -> bool:
    return any(0xE000 <= ord(c) <= 0xF8FF or 0xF0000 <= ord(c) <= 0x10FFFD for c in text)


@rule("2a,3a:6.2.11.7.3-1")
def unicode_pua_actual_text(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        bad = [g for g, use in _glyphs(f)
               if use.outside_actual and g.unicode and _pua(g.unicode)]
        if bad:
            yield issue(f"{_cap(f.label)}: {_codes(bad)} map to Private Use Area "
                        "characters outside any ActualText; wrap them in marked content with "
                        "/ActualText giving the real text.", **_where(f))


# -- .notdef (6.2.11.8, 6.2.10.9) ---------------------------------------------------------


@rule("2,3:6.2.11.8-1", "4:6.2.10.9-1")
def no_notdef(ctx: DocContext) -> Issues:
    for f in ctx.fonts:
        bad = [g for g, _ in _glyphs(f) if g.notdef]
        if bad:
            yield issue(f"{_cap(f.label)}: {_codes(bad)} shown as text select the "
                        ".notdef glyph; use codes the font maps to real glyphs.", **_where(f))

