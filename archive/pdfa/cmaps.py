"""CMaps (ISO 32000-1 9.7.5 and 9.10.3): the character-code maps of composite fonts and the
ToUnicode maps of every font.

An embedded CMap is a small PostScript program. :func:`parse_cmap` reads the parts that
matter for PDF/A without running it: code space ranges, code-to-CID mappings (``cidrange``,
``cidchar``), code-to-Unicode mappings (``bfrange``, ``bfchar``), ``WMode``, the
``CIDSystemInfo`` and any ``usecmap`` reference. The predefined CMaps of ISO 32000-1 Table
118 are known by name only (their mapping data is not shipped): ``Identity-H`` and
``Identity-V`` are handled fully, the others give their character collection.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

# ISO 32000-1:2008 9.7.5.2 Table 118 (and ISO 32000-2:2020 Table 116): the predefined CMaps,
# with the character collection (ordering) each one maps to (registry is always Adobe).
_PREDEFINED_GROUPS = {
    "GB1": "GB-EUC-H GB-EUC-V GBpc-EUC-H GBpc-EUC-V GBK-EUC-H GBK-EUC-V GBKp-EUC-H "
           "GBKp-EUC-V GBK2K-H GBK2K-V UniGB-UCS2-H UniGB-UCS2-V UniGB-UTF16-H UniGB-UTF16-V",
    "CNS1": "B5pc-H B5pc-V HKscs-B5-H HKscs-B5-V ETen-B5-H ETen-B5-V ETenms-B5-H ETenms-B5-V "
            "CNS-EUC-H CNS-EUC-V UniCNS-UCS2-H UniCNS-UCS2-V UniCNS-UTF16-H UniCNS-UTF16-V",
    "Japan1": "83pv-RKSJ-H 90ms-RKSJ-H 90ms-RKSJ-V 90msp-RKSJ-H 90msp-RKSJ-V 90pv-RKSJ-H "
              "Add-RKSJ-H Add-RKSJ-V EUC-H EUC-V Ext-RKSJ-H Ext-RKSJ-V H V UniJIS-UCS2-H "
              "UniJIS-UCS2-V UniJIS-UCS2-HW-H UniJIS-UCS2-HW-V UniJIS-UTF16-H UniJIS-UTF16-V",
    "Korea1": "KSC-EUC-H KSC-EUC-V KSCms-UHC-H KSCms-UHC-V KSCms-UHC-HW-H KSCms-UHC-HW-V "
              "KSCpc-EUC-H UniKS-UCS2-H UniKS-UCS2-V UniKS-UTF16-H UniKS-UTF16-V",
}
PREDEFINED_ORDERING: dict[str, str] = {
    n: ordering for ordering, names in _PREDEFINED_GROUPS.items() for n in names.split()}
IDENTITY = frozenset({"Identity-H", "Identity-V"})
PREDEFINED = frozenset(PREDEFINED_ORDERING) | IDENTITY


_FULL_2 = [(2, b"\x00\x00", b"\xff\xff")]


def predefined_wmode(name: str) -> int:
    return 1 if name.endswith("-V") or name == "V" else 0


# -- the CMap model ---------------------------------------------------------------------


@dataclass
class CMap:
    """What an embedded (or predefined Identity) CMap says."""

    name: str | None = None
    wmode: int | None = None  # as written in the program (None: not given, i.e. 0)
    registry: str | None = None
    ordering: str | None = None
    supplement: int | None = None
    usecmap: list[str] = field(default_factory=list)
    # code space ranges: (length, low bytes, high bytes)
    codespace: list[tuple[int, bytes, bytes]] = field(default_factory=list)
    # code -> CID: single codes and ranges (low, high, first CID) per code length
    cid_chars: dict[tuple[int, int], int] = field(default_factory=dict)
    cid_ranges: list[tuple[int, int, int, int]] = field(default_factory=list)  # len, lo, hi, cid
    notdef_ranges: list[tuple[int, int, int, int]] = field(default_factory=list)
    # code -> Unicode (ToUnicode): single codes and ranges (code value, ignoring length)
    bf_chars: dict[int, str] = field(default_factory=dict)
    bf_ranges: list[tuple[int, int, object]] = field(default_factory=list)  # lo, hi, dst
    identity: bool = False
    _cid_index: _RangeIndex | None = None
    _bf_index: _RangeIndex | None = None

    # -- codes --------------------------------------------------------------------------
    @property
    def fixed_two_bytes(self) -> bool:
        """Every code is two bytes (Identity-H/V and CMaps with one <0000> <FFFF> range)."""
        return (self.identity and not self.codespace) or self.codespace == _FULL_2

    def split(self, data: bytes) -> list[tuple[int, int]]:
        """Cut a shown string into codes: (code value, byte length)."""
        if (self.identity and not self.codespace) or self.codespace == _FULL_2:
            return [((data[i] << 8) | (data[i + 1] if i + 1 < len(data) else 0), 2)
                    for i in range(0, len(data), 2)]
        spaces = self.codespace or [(1, b"\x00", b"\xff")]
        out: list[tuple[int, int]] = []
        i = 0
        n = len(data)
        shortest = min(s[0] for s in spaces)
        while i < n:
            took = 0
            for length in (1, 2, 3, 4):
                if i + length > n:
                    break
                chunk = data[i:i + length]
                for slen, lo, hi in spaces:
                    if slen == length and all(lo[k] <= chunk[k] <= hi[k] for k in range(length)):
                        took = length
                        break
                if took:
                    break
            if not took:
                took = min(shortest, n - i)  # invalid code: consumed, maps to nothing
                out.append((-1 - int.from_bytes(data[i:i + took], "big"), took))
            else:
                out.append((int.from_bytes(data[i:i + took], "big"), took))
            i += took
        return out

    def cid(self, code: int, length: int) -> int | None:
        """The CID a code selects, or None when the CMap does not map it."""
        if code < 0:
            return None
        if self.identity:
            return code
        hit = self.cid_chars.get((length, code))
        if hit is not None:
            return hit
        if self._cid_index is None:
            self._cid_index = _RangeIndex([(lo, hi, (rlen, first))
                                           for rlen, lo, hi, first in self.cid_ranges])
        for lo, _, (rlen, first) in self._cid_index.find(code):
            if rlen == length:
                return int(first + code - lo)
        return None

    def max_cid(self) -> int:
        top = max(self.cid_chars.values(), default=-1)
        for _, lo, hi, first in self.cid_ranges:
            top = max(top, first + hi - lo)
        return top

    # -- Unicode ------------------------------------------------------------------------
    def unicode(self, code: int) -> str | None:
        """The Unicode text a ToUnicode CMap gives a code, or None when it gives none."""
        hit = self.bf_chars.get(code)
        if hit is not None:
            return hit
        if self._bf_index is None:
            self._bf_index = _RangeIndex(self.bf_ranges)
        for lo, _, dst in self._bf_index.find(code):
            off = code - lo
            if isinstance(dst, list):
                return dst[off] if off < len(dst) else None
            if isinstance(dst, bytes):
                if not dst:
                    return ""
                value = int.from_bytes(dst, "big") + off
                raw = value.to_bytes(len(dst), "big") if value < 1 << (8 * len(dst)) else dst
                return _utf16(raw)
        return None

    @property
    def has_unicode(self) -> bool:
        return bool(self.bf_chars or self.bf_ranges)


class _RangeIndex:
    """Ranges (low, high, value) sorted for lookup; the last-defined range wins where ranges
    overlap (only the few nearest ranges below a code are looked at)."""

    def __init__(self, ranges: list[tuple[int, int, Any]]) -> None:
        order = sorted(range(len(ranges)), key=lambda i: (ranges[i][0], i))
        self._ranges = [ranges[i] for i in order]
        self._rank = order
        self._lows = [r[0] for r in self._ranges]

    def find(self, code: int) -> list[tuple[int, int, Any]]:
        k = bisect_right(self._lows, code) - 1
        hits = []
        for j in range(k, max(k - 32, -1), -1):
            lo, hi, _ = self._ranges[j]
            if lo <= code <= hi:
                hits.append((self._rank[j], self._ranges[j]))
        hits.sort(key=lambda h: -h[0])
        return [h[1] for h in hits]


def _utf16(raw: bytes) -> str:
    if len(raw) % 2:
        raw = b"\x00" + raw
    return raw.decode("utf-16-be", errors="surrogatepass").encode(
        "utf-16", errors="surrogatepass").decode("utf-16", errors="replace")


def _as_int(b: bytes) -> int:
    return int.from_bytes(b, "big")


_SECTION_MARK = re.compile(rb"\b(begin|end)(codespacerange|cidrange|cidchar|notdefrange|"
                           rb"notdefchar|bfrange|bfchar)\b")
MAX_CMAP_BYTES = 8 * 1024 * 1024
_HEX = rb"<([0-9A-Fa-f\s]*)>"
_PAIR = re.compile(_HEX + rb"\s*" + _HEX)
_RANGE_CID = re.compile(_HEX + rb"\s*" + _HEX + rb"\s*(\d+)")
_CHAR_CID = re.compile(_HEX + rb"\s*(\d+)")
_BF_CHAR = re.compile(_HEX + rb"\s*(?:" + _HEX + rb"|/([^\s/<>\[\]()]+))")
_BF_RANGE = re.compile(_HEX + rb"\s*" + _HEX + rb"\s*(?:" + _HEX + rb"|\[([^\]]*)\])")
_HEX_ONLY = re.compile(_HEX)
_WMODE = re.compile(rb"/WMode\s+(\d+)")
_CMAP_NAME = re.compile(rb"/CMapName\s*/([^\s/<>\[\]()]+)")
_REGISTRY = re.compile(rb"/Registry\s*\(([^)]*)\)")
_ORDERING = re.compile(rb"/Ordering\s*\(([^)]*)\)")
_SUPPLEMENT = re.compile(rb"/Supplement\s+(\d+)")
_USECMAP = re.compile(rb"/([^\s/<>\[\]()]+)\s+usecmap")
_WS = re.compile(rb"\s+")


def _hex(text: bytes) -> bytes:
    digits = _WS.sub(b"", text)
    if len(digits) % 2:
        digits += b"0"
    return bytes.fromhex(digits.decode("ascii"))


def _first(pattern: re.Pattern[bytes], data: bytes) -> bytes | None:
    m = pattern.search(data)
    return m.group(1) if m else None


def _sections(data: bytes) -> list[tuple[bytes, bytes]]:
    """(kind, body) of every begin<kind> ... end<kind> section, in one linear pass."""
    out: list[tuple[bytes, bytes]] = []
    open_kind: bytes | None = None
    start = 0
    for m in _SECTION_MARK.finditer(data):
        if m.group(1) == b"begin":
            open_kind, start = m.group(2), m.end()
        elif open_kind is not None and open_kind == m.group(2):
            out.append((open_kind, data[start:m.start()]))
            open_kind = None
    return out


def parse_cmap(data: bytes) -> CMap:
    """Read an embedded CMap or ToUnicode program (tolerant: malformed parts are skipped)."""
    cm = CMap()
    data = data[:MAX_CMAP_BYTES]
    wmode = _first(_WMODE, data)
    cm.wmode = int(wmode) if wmode is not None else None
    name = _first(_CMAP_NAME, data)
    cm.name = name.decode("latin-1") if name is not None else None
    for attr, pattern in (("registry", _REGISTRY), ("ordering", _ORDERING)):
        value = _first(pattern, data)
        if value is not None:
            setattr(cm, attr, value.decode("latin-1"))
    supp = _first(_SUPPLEMENT, data)
    cm.supplement = int(supp) if supp is not None else None
    cm.usecmap = [m.decode("latin-1") for m in _USECMAP.findall(data)]
    for kind, body in _sections(data):
        if kind == b"codespacerange":
            for lo_t, hi_t in _PAIR.findall(body):
                lo, hi = _hex(lo_t), _hex(hi_t)
                if len(lo) == len(hi) and 1 <= len(lo) <= 4:
                    cm.codespace.append((len(lo), lo, hi))
        elif kind in (b"cidrange", b"notdefrange"):
            target = cm.cid_ranges if kind == b"cidrange" else cm.notdef_ranges
            for lo_t, hi_t, first in _RANGE_CID.findall(body):
                low = _hex(lo_t)
                target.append((len(low), _as_int(low), _as_int(_hex(hi_t)), int(first)))
        elif kind == b"cidchar":
            for code_t, cid in _CHAR_CID.findall(body):
                raw = _hex(code_t)
                cm.cid_chars[(len(raw), _as_int(raw))] = int(cid)
        elif kind == b"bfchar":
            for code_t, dst_t, glyph in _BF_CHAR.findall(body):
                code = _as_int(_hex(code_t))
                if glyph:
                    cm.bf_chars[code] = _glyph_name_text(glyph.decode("latin-1"))
                else:
                    cm.bf_chars[code] = _utf16(_hex(dst_t))
        elif kind == b"bfrange":
            for lo_t, hi_t, dst_t, arr in _BF_RANGE.findall(body):
                first_code, last_code = _as_int(_hex(lo_t)), _as_int(_hex(hi_t))
                if arr:
                    items = [_utf16(_hex(x)) for x in _HEX_ONLY.findall(arr)]
                    cm.bf_ranges.append((first_code, last_code, items))
                else:
                    cm.bf_ranges.append((first_code, last_code, _hex(dst_t)))
    return cm


def _glyph_name_text(name: str) -> str:
    from fontTools import agl

    return agl.toUnicode(name)


def identity_cmap(name: str) -> CMap:
    return CMap(name=name, wmode=predefined_wmode(name), registry="Adobe",
                ordering="Identity", supplement=0, identity=True,
                codespace=[(2, b"\x00\x00", b"\xff\xff")])

