"""Embedded font programs: what glyphs they define and how wide each one is.

:func:`read_font_program` takes the decoded bytes of a ``FontFile`` (Type 1),
``FontFile2`` (TrueType) or ``FontFile3`` (``Type1C`` / ``CIDFontType0C`` bare CFF, or
``OpenType``) stream and returns a :class:`FontProgram`, or raises
:class:`FontProgramError` with a reason a person can read. Parsing is lazy where it is
cheap to be: TrueType advance widths are read straight from the ``hmtx`` bytes, CFF and
Type 1 charstrings are only interpreted for the glyphs whose width is asked for.

Widths are returned in the PDF's glyph-space units (1/1000 of text space), i.e. already
scaled by ``unitsPerEm`` or the font matrix.
"""

from __future__ import annotations

import io
import re
import struct
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field

from fontTools.encodings.StandardEncoding import StandardEncoding

# Font programs larger than this are not parsed (they would not be in a receipt).
MAX_PROGRAM_BYTES = 32 * 1024 * 1024


class FontProgramError(Exception):
    """The embedded font program cannot be read; the message says why."""


@dataclass
class FontProgram:
    """Glyphs and advance widths of one embedded font program."""

    kind: str  # "TrueType", "OpenType", "CFF", "Type1"
    num_glyphs: int
    names: dict[str, int] | None = None  # glyph name -> glyph id (name-keyed programs)
    cids: dict[int, int] | None = None  # CID -> glyph id (CID-keyed CFF)
    builtin: dict[int, str] | None = None  # built-in encoding: code -> glyph name
    cmaps: dict[tuple[int, int], CmapTable] = field(default_factory=dict)
    cmap_ids: list[tuple[int, int]] = field(default_factory=list)  # every subtable, in order
    _width: Callable[[int], float | None] | None = None
    _post: Callable[[], dict[str, int]] | None = None
    _outlined: Callable[[], set[int]] | None = None
    _widths: dict[int, float | None] = field(default_factory=dict)

    @property
    def cid_keyed(self) -> bool:
        return self.cids is not None

    def width(self, gid: int) -> float | None:
        """Advance width of a glyph in 1/1000 em, None when the program cannot say."""
        if gid in self._widths:
            return self._widths[gid]
        w: float | None = None
        if self._width is not None and 0 <= gid < self.num_glyphs:
            try:
                w = self._width(gid)
            except Exception:  # noqa: BLE001 - a broken charstring gives no width
                w = None
        self._widths[gid] = w
        return w

    def post_names(self) -> dict[str, int]:
        """Glyph names of a TrueType ``post`` table (empty without one)."""
        if self.names is None:
            self.names = {}
            if self._post is not None:
                try:
                    self.names = self._post()
                except Exception:  # noqa: BLE001
                    self.names = {}
        return self.names

    def outlined(self) -> set[int]:
        """Glyph ids with glyph data: for TrueType, the glyphs whose 'glyf' entry is not
        empty (subsets keep empty slots for the glyphs they drop); otherwise every glyph."""
        if self._outlined is not None:
            try:
                return self._outlined()
            except Exception:  # noqa: BLE001
                pass
        return set(range(self.num_glyphs))

    def gid_of_name(self, name: str) -> int | None:
        names = self.names if self.kind != "TrueType" else self.post_names()
        return names.get(name) if names else None

    @property
    def glyph_names(self) -> set[str]:
        return set(self.names or ())


def read_font_program(data: bytes, key: str, subtype: str | None) -> FontProgram:
    """Parse a font file stream; ``key`` is ``/FontFile``, ``/FontFile2`` or ``/FontFile3``
    and ``subtype`` the stream's /Subtype (FontFile3 only)."""
    if not data:
        raise FontProgramError("the font file stream is empty")
    if len(data) > MAX_PROGRAM_BYTES:
        raise FontProgramError(f"the font program is too large ({len(data)} bytes)")
    if key == "/FontFile":
        return _read_type1(data)
    if key == "/FontFile3" and subtype in ("/Type1C", "/CIDFontType0C"):
        return _read_bare_cff(data)
    if key == "/FontFile3" and subtype == "/OpenType" or key == "/FontFile2":
        return _read_sfnt(data, "OpenType" if key == "/FontFile3" else "TrueType")
    # An unknown FontFile3 subtype: try what the bytes look like.
    if data[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
        return _read_sfnt(data, "OpenType")
    if data[:1] == b"\x01":
        return _read_bare_cff(data)
    raise FontProgramError(f"unsupported font file format {subtype or key}")


# -- TrueType / OpenType ------------------------------------------------------------------


class CmapTable:
    """One 'cmap' subtable, decoded on demand: ``get(code)`` gives the glyph id or None.

    Formats 0, 4, 6 and 12 (the ones PDF writers produce) are read directly from the
    bytes; any other format is decoded through fontTools."""

    def __init__(self, lookup: Callable[[int], int | None]) -> None:
        self._lookup = lookup
        self._memo: dict[int, int | None] = {}

    def get(self, code: int) -> int | None:
        if code in self._memo:
            return self._memo[code]
        try:
            hit = self._lookup(code)
        except (struct.error, IndexError):
            hit = None
        self._memo[code] = hit
        return hit

    def __contains__(self, code: int) -> bool:
        return bool(self.get(code))


def _sfnt_tables(data: bytes) -> dict[str, bytes]:
    if len(data) < 12:
        raise FontProgramError("not a readable TrueType/OpenType font (too short)")
    version = data[:4]
    if version == b"ttcf":
        raise FontProgramError("a TrueType collection cannot be used as a PDF font program")
    if version not in (b"\x00\x01\x00\x00", b"OTTO", b"true", b"typ1"):
        raise FontProgramError("not a readable TrueType/OpenType font (unknown sfnt version "
                               f"{version!r})")
    n = struct.unpack(">H", data[4:6])[0]
    tables: dict[str, bytes] = {}
    for i in range(n):
        rec = data[12 + 16 * i: 28 + 16 * i]
        if len(rec) < 16:
            raise FontProgramError("not a readable TrueType/OpenType font (truncated table "
                                   "directory)")
        tag = rec[:4].decode("latin-1")
        off, length = struct.unpack(">II", rec[8:16])
        if off + length > len(data):
            raise FontProgramError(f"the font's {tag!r} table runs past the end of the font")
        tables[tag] = data[off:off + length]
    return tables


def _cmap_lookup(table: bytes, off: int) -> Callable[[int], int | None] | None:
    fmt = struct.unpack(">H", table[off:off + 2])[0]
    if fmt == 0:
        ids = table[off + 6:off + 262]
        return lambda c: ids[c] if 0 <= c < len(ids) else None
    if fmt == 6:
        first, count = struct.unpack(">HH", table[off + 6:off + 10])
        arr = struct.unpack(f">{count}H", table[off + 10:off + 10 + 2 * count])
        return lambda c: arr[c - first] if first <= c < first + count else None
    if fmt == 4:
        seg2 = struct.unpack(">H", table[off + 6:off + 8])[0]
        seg = seg2 // 2
        p = off + 14
        ends = struct.unpack(f">{seg}H", table[p:p + seg2])
        p += seg2 + 2
        starts = struct.unpack(f">{seg}H", table[p:p + seg2])
        p += seg2
        deltas = struct.unpack(f">{seg}h", table[p:p + seg2])
        p += seg2
        ro_base = p
        ranges = struct.unpack(f">{seg}H", table[p:p + seg2])

        def fmt4(c: int) -> int | None:
            k = bisect_left(ends, c)
            if k >= seg or starts[k] > c:
                return None
            if ranges[k] == 0:
                return (c + deltas[k]) & 0xFFFF
            at = ro_base + 2 * k + ranges[k] + 2 * (c - starts[k])
            g = struct.unpack(">H", table[at:at + 2])[0]
            return (g + deltas[k]) & 0xFFFF if g else 0

        return fmt4
    if fmt == 12:
        ngroups = struct.unpack(">I", table[off + 12:off + 16])[0]
        groups = [struct.unpack(">III", table[off + 16 + 12 * i:off + 28 + 12 * i])
                  for i in range(min(ngroups, (len(table) - off - 16) // 12))]
        group_ends = [g[1] for g in groups]

        def fmt12(c: int) -> int | None:
            k = bisect_left(group_ends, c)
            if k >= len(groups) or groups[k][0] > c:
                return None
            return groups[k][2] + c - groups[k][0]

        return fmt12
    return None


def _read_cmaps(prog: FontProgram, data: bytes, table: bytes) -> None:
    n = struct.unpack(">H", table[2:4])[0]
    fallback: list[tuple[tuple[int, int], int]] = []
    for i in range(n):
        pid, eid, off = struct.unpack(">HHI", table[4 + 8 * i:12 + 8 * i])
        ids = (pid, eid)
        prog.cmap_ids.append(ids)
        if ids in prog.cmaps:
            continue
        lookup = _cmap_lookup(table, off)
        if lookup is None:
            fallback.append((ids, off))
        else:
            prog.cmaps[ids] = CmapTable(lookup)
    if fallback:
        _read_cmaps_fonttools(prog, data, {ids for ids, _ in fallback})


def _read_cmaps_fonttools(prog: FontProgram, data: bytes, wanted: set[tuple[int, int]]
                          ) -> None:
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), lazy=True)
    font.setGlyphOrder([f"glyph{i:05d}" for i in range(max(prog.num_glyphs, 1))])
    for sub in font["cmap"].tables:
        ids = (int(sub.platformID), int(sub.platEncID))
        if ids in wanted and ids not in prog.cmaps:
            mapping = {code: _gid_from_name(g) for code, g in (sub.cmap or {}).items()}
            prog.cmaps[ids] = CmapTable(mapping.get)


def _read_sfnt(data: bytes, kind: str) -> FontProgram:
    tables = _sfnt_tables(data)
    maxp = tables.get("maxp", b"")
    if len(maxp) < 6:
        raise FontProgramError("the font has no readable 'maxp' table (number of glyphs)")
    num_glyphs = struct.unpack(">H", maxp[4:6])[0]
    prog = FontProgram(kind=kind, num_glyphs=num_glyphs)
    if "cmap" in tables:
        try:
            _read_cmaps(prog, data, tables["cmap"])
        except Exception as exc:  # noqa: BLE001
            raise FontProgramError(f"the font's 'cmap' table cannot be read ({_why(exc)})"
                                   ) from exc
    head = tables.get("head", b"")
    upem = struct.unpack(">H", head[18:20])[0] if len(head) >= 54 else 0
    hmtx, hhea = tables.get("hmtx"), tables.get("hhea", b"")
    if hmtx is not None and len(hhea) >= 36 and upem:
        n_metrics = struct.unpack(">H", hhea[34:36])[0]
        scale = 1000.0 / upem

        def width(gid: int) -> float | None:
            k = min(gid, n_metrics - 1)
            if k < 0 or 4 * k + 2 > len(hmtx):
                return None
            return struct.unpack(">H", hmtx[4 * k:4 * k + 2])[0] * scale

        prog._width = width
    loca = tables.get("loca")
    if loca is not None and len(head) >= 54:
        long_format = struct.unpack(">h", head[50:52])[0]

        def outlined() -> set[int]:
            if long_format:
                offs = struct.unpack(f">{len(loca) // 4}I", loca[: len(loca) // 4 * 4])
            else:
                offs = tuple(2 * o for o in
                             struct.unpack(f">{len(loca) // 2}H", loca[: len(loca) // 2 * 2]))
            n = min(num_glyphs, len(offs) - 1)
            return {g for g in range(n) if offs[g + 1] > offs[g]}

        prog._outlined = outlined
    if "CFF " in tables:
        cff = _read_cff_table(tables["CFF "])
        prog.names, prog.cids = cff.names, cff.cids
        prog.builtin = cff.builtin
        if prog._width is None:
            prog._width = cff._width
    else:
        def post() -> dict[str, int]:
            if "post" not in tables:
                return {}
            from fontTools.ttLib import TTFont

            order = TTFont(io.BytesIO(data), lazy=True).getGlyphOrder()
            return {n: i for i, n in enumerate(order) if not n.startswith("glyph")}

        prog._post = post
    return prog


def _gid_from_name(gname: str) -> int:
    if gname.startswith("glyph") and gname[5:].isdigit():
        return int(gname[5:])
    return 0


# -- CFF ----------------------------------------------------------------------------------


def _read_bare_cff(data: bytes) -> FontProgram:
    return _read_cff_table(data)


def _read_cff_table(data: bytes) -> FontProgram:
    from fontTools.cffLib import CFFFontSet

    try:
        cff = CFFFontSet()
        cff.decompile(io.BytesIO(data), otFont=None, isCFF2=False)
        top = cff.topDictIndex[0]
        charset = list(top.charset)
        strings = top.CharStrings
    except Exception as exc:  # noqa: BLE001
        raise FontProgramError(f"not a readable CFF font program ({_why(exc)})") from exc
    prog = FontProgram(kind="CFF", num_glyphs=len(charset))
    raw = getattr(top, "rawDict", {})
    if "ROS" in raw:
        cids: dict[int, int] = {}
        for gid, gname in enumerate(charset):
            if gname.startswith("cid") and gname[3:].isdigit():
                cids[int(gname[3:])] = gid
            elif gname == ".notdef":
                cids[0] = gid
        prog.cids = cids
    else:
        prog.names = {n: i for i, n in enumerate(charset)}
        try:
            enc = top.Encoding
        except Exception:  # noqa: BLE001
            enc = "StandardEncoding"
        if isinstance(enc, list):
            prog.builtin = {c: n for c, n in enumerate(enc) if n and n != ".notdef"}
        elif enc == "StandardEncoding":
            prog.builtin = _standard_builtin()
        else:
            prog.builtin = None  # ExpertEncoding: rarely used, names come from Differences
    top_fm = list(top.FontMatrix) if "FontMatrix" in raw else [0.001]
    fds = getattr(top, "FDArray", None)
    fdselect = getattr(top, "FDSelect", None)

    def width(gid: int) -> float | None:
        from fontTools.misc.psCharStrings import T2WidthExtractor

        cs = strings[charset[gid]]
        private = cs.private
        ext = T2WidthExtractor(getattr(private, "Subrs", []), cs.globalSubrs,
                               private.nominalWidthX, private.defaultWidthX, private)
        ext.execute(cs)
        scale = top_fm[0]
        if fds is not None and fdselect is not None:
            fd = fds[fdselect[gid]]
            if "FontMatrix" in getattr(fd, "rawDict", {}):
                fd_scale = list(fd.FontMatrix)[0]
                scale = fd_scale * top_fm[0] if "FontMatrix" in raw else fd_scale
        return float(ext.width) * scale * 1000.0

    prog._width = width
    return prog


def _standard_builtin() -> dict[int, str]:
    return {c: n for c, n in enumerate(StandardEncoding) if n != ".notdef"}


# -- Type 1 -------------------------------------------------------------------------------

_EEXEC = re.compile(rb"eexec[\r\n\t ]*")
_HEXDIGITS = re.compile(rb"^[0-9A-Fa-f\s]+$")
_FONT_MATRIX = re.compile(rb"/FontMatrix\s*[\[{]([^\]}]*)[\]}]")
_ENC_STANDARD = re.compile(rb"/Encoding\s+StandardEncoding\s+def")
_ENC_ENTRY = re.compile(rb"dup\s+(\d+)\s*/([^\s/\[\]{}()<>]+)\s+put")
_LENIV = re.compile(rb"/lenIV\s+(\d+)")
_CHARSTRINGS = re.compile(rb"/CharStrings\s+\d+\s+dict\s+dup\s+begin")
_CHARSTRING = re.compile(rb"\s*/([^\s/\[\]{}()<>]+)\s+(\d+)\s+(\S+) ")
_CS_END = re.compile(rb"\s*(?:ND|\|-|noaccess\s+def|def)")


def _strip_pfb(data: bytes) -> bytes:
    """Some writers embed a PFB file (with 6-byte segment headers) as a FontFile."""
    if data[:1] != b"\x80":
        return data
    out = bytearray()
    i = 0
    while i + 6 <= len(data) and data[i] == 0x80 and data[i + 1] in (1, 2):
        n = struct.unpack("<I", data[i + 2:i + 6])[0]
        out += data[i + 6:i + 6 + n]
        i += 6 + n
    return bytes(out) or data


def decrypt(cipher: bytes, r: int) -> tuple[bytes, int]:
    """Type 1 eexec / charstring decryption (Adobe Type 1 Font Format, 7.2)."""
    out = bytearray(len(cipher))
    for i, c in enumerate(cipher):
        out[i] = c ^ (r >> 8)
        r = ((c + r) * 52845 + 22719) & 0xFFFF
    return bytes(out), r


def _read_type1(data: bytes) -> FontProgram:
    data = _strip_pfb(data)
    m = _EEXEC.search(data)
    if m is None:
        raise FontProgramError("not a Type 1 font program (no eexec section)")
    clear, body = data[:m.start()], data[m.end():]
    if not clear.lstrip().startswith(b"%!") and b"/FontName" not in clear:
        raise FontProgramError("not a Type 1 font program (no PostScript header)")
    head = body[:8]
    if head and _HEXDIGITS.match(head):
        digits = re.sub(rb"[^0-9A-Fa-f]", b"", body.split(b"cleartomark")[0])
        body = bytes.fromhex(digits[: len(digits) // 2 * 2].decode("ascii"))
    plain, _ = decrypt(body, 55665)
    plain = plain[4:]
    fm = _FONT_MATRIX.search(clear)
    scale = 0.001
    if fm is not None:
        try:
            scale = float(fm.group(1).split()[0])
        except (ValueError, IndexError):
            scale = 0.001
    if _ENC_STANDARD.search(clear):
        builtin = _standard_builtin()
    else:
        builtin = {int(c): n.decode("latin-1") for c, n in _ENC_ENTRY.findall(clear)
                   if int(c) < 256}
    leniv_m = _LENIV.search(plain)
    leniv = int(leniv_m.group(1)) if leniv_m else 4
    cs_m = _CHARSTRINGS.search(plain)
    if cs_m is None:
        raise FontProgramError("the Type 1 font program has no readable CharStrings")
    charstrings: dict[str, bytes] = {}
    pos = cs_m.end()
    while True:
        m2 = _CHARSTRING.match(plain, pos)
        if m2 is None:
            break
        n = int(m2.group(2))
        start = m2.end()
        charstrings[m2.group(1).decode("latin-1")] = plain[start:start + n]
        pos = start + n
        end = _CS_END.match(plain, pos)
        if end is not None:
            pos = end.end()
    if not charstrings:
        raise FontProgramError("the Type 1 font program has no readable CharStrings")
    names = {n: i for i, n in enumerate(charstrings)}
    order = list(charstrings)
    prog = FontProgram(kind="Type1", num_glyphs=len(order), names=names, builtin=builtin)

    def width(gid: int) -> float | None:
        wx = _type1_width(decrypt(charstrings[order[gid]], 4330)[0][leniv:])
        return None if wx is None else wx * scale * 1000.0

    prog._width = width
    return prog


def _type1_width(cs: bytes) -> float | None:
    """The advance width from a decrypted Type 1 charstring's hsbw or sbw command."""
    stack: list[float] = []
    i = 0
    n = len(cs)
    while i < n:
        v = cs[i]
        if v >= 32:
            if v <= 246:
                stack.append(v - 139)
                i += 1
            elif v <= 250:
                stack.append((v - 247) * 256 + cs[i + 1] + 108)
                i += 2
            elif v <= 254:
                stack.append(-(v - 251) * 256 - cs[i + 1] - 108)
                i += 2
            else:
                stack.append(struct.unpack(">i", cs[i + 1:i + 5])[0])
                i += 5
            continue
        if v == 13:  # hsbw: sbx wx
            return stack[1] if len(stack) >= 2 else None
        if v == 12 and i + 1 < n:
            op = cs[i + 1]
            i += 2
            if op == 7:  # sbw: sbx sby wx wy
                return stack[2] if len(stack) >= 4 else None
            if op == 12 and len(stack) >= 2:  # div
                b = stack.pop()
                a = stack.pop()
                stack.append(a / b if b else 0.0)
                continue
            return None
        return None
    return None


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__
