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
from dataclasses import dataclass, field

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


# -- tokenizer --------------------------------------------------------------------------

_TOKEN = re.compile(rb"""
    (?P<ws>[\x00\t\n\x0c\r ]+|%[^\r\n]*)
  | (?P<hex><[0-9A-Fa-f\s]*>)
  | (?P<dopen><<) | (?P<dclose>>>)
  | (?P<lit>\((?:\\.|[^\\)])*\))
  | (?P<aopen>\[) | (?P<aclose>\])
  | (?P<bopen>\{) | (?P<bclose>\})
  | (?P<name>/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)
  | (?P<word>[^\x00\t\n\x0c\r ()<>\[\]{}/%]+)
  | (?P<other>.)
""", re.X | re.S)

_WS = re.compile(rb"\s+")


class _Hex(bytes):
    """A hex string token (a character code or a Unicode value)."""


class _Name(str):
    """A PostScript name literal (``/Name``) without the slash."""


Token = object


def tokens(data: bytes) -> list[Token]:
    """PostScript tokens: ints, _Hex, _Name, str (operators), bytes (literal strings),
    and the one-character strings ``[ ] << >>``."""
    out: list[Token] = []
    for m in _TOKEN.finditer(data):
        kind = m.lastgroup
        text = m.group()
        if kind == "ws" or kind == "other" or kind == "bopen" or kind == "bclose":
            continue
        if kind == "hex":
            digits = _WS.sub(b"", text[1:-1])
            if len(digits) % 2:
                digits += b"0"
            out.append(_Hex(bytes.fromhex(digits.decode("ascii"))))
        elif kind == "name":
            out.append(_Name(text[1:].decode("latin-1")))
        elif kind == "lit":
            out.append(_unescape(text[1:-1]))
        elif kind in ("dopen", "dclose", "aopen", "aclose"):
            out.append(text.decode("latin-1"))
        else:
            word = text.decode("latin-1")
            try:
                out.append(int(word))
            except ValueError:
                try:
                    out.append(float(word))
                except ValueError:
                    out.append(word)
    return out


def _unescape(body: bytes) -> bytes:
    if b"\\" not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == 0x5C and i + 1 < len(body):
            n = body[i + 1]
            esc = {0x6E: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x66: 12}.get(n)
            if esc is not None:
                out.append(esc)
                i += 2
                continue
            if 0x30 <= n <= 0x37:
                j = i + 1
                while j < min(i + 4, len(body)) and 0x30 <= body[j] <= 0x37:
                    j += 1
                out.append(int(body[i + 1:j], 8) & 0xFF)
                i = j
                continue
            out.append(n)
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


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
    _sorted: list[tuple[int, int, int, int]] | None = None

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
        for rlen, lo, hi, first in self.cid_ranges:
            if rlen == length and lo <= code <= hi:
                return first + code - lo
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
        for lo, hi, dst in self.bf_ranges:
            if lo <= code <= hi:
                off = code - lo
                if isinstance(dst, list):
                    return dst[off] if off < len(dst) else None
                if isinstance(dst, bytes):
                    if not dst:
                        return ""
                    value = int.from_bytes(dst, "big") + off
                    raw = value.to_bytes(len(dst), "big") if value < 1 << (8 * len(dst)) \
                        else dst
                    return _utf16(raw)
        return None

    @property
    def has_unicode(self) -> bool:
        return bool(self.bf_chars or self.bf_ranges)


def _utf16(raw: bytes) -> str:
    if len(raw) % 2:
        raw = b"\x00" + raw
    return raw.decode("utf-16-be", errors="surrogatepass").encode(
        "utf-16", errors="surrogatepass").decode("utf-16", errors="replace")


def _as_int(b: bytes) -> int:
    return int.from_bytes(b, "big")


def parse_cmap(data: bytes) -> CMap:
    """Read an embedded CMap or ToUnicode program (tolerant: malformed parts are skipped)."""
    cm = CMap()
    toks = tokens(data)
    n = len(toks)
    i = 0
    while i < n:
        t = toks[i]
        if type(t) is str:
            if t == "begincodespacerange":
                i += 1
                while i + 1 < n and isinstance(toks[i], _Hex) and isinstance(toks[i + 1], _Hex):
                    lo, hi = toks[i], toks[i + 1]
                    if len(lo) == len(hi) and 1 <= len(lo) <= 4:
                        cm.codespace.append((len(lo), bytes(lo), bytes(hi)))
                    i += 2
                continue
            if t in ("begincidrange", "beginnotdefrange"):
                target = cm.cid_ranges if t == "begincidrange" else cm.notdef_ranges
                i += 1
                while (i + 2 < n and isinstance(toks[i], _Hex) and isinstance(toks[i + 1], _Hex)
                       and isinstance(toks[i + 2], int)):
                    lo, hi, first = toks[i], toks[i + 1], toks[i + 2]
                    target.append((len(lo), _as_int(lo), _as_int(hi), int(first)))  # type: ignore[call-overload]
                    i += 3
                continue
            if t in ("begincidchar", "beginnotdefchar"):
                i += 1
                while i + 1 < n and isinstance(toks[i], _Hex) and isinstance(toks[i + 1], int):
                    code, cid = toks[i], toks[i + 1]
                    if t == "begincidchar":
                        cm.cid_chars[(len(code), _as_int(code))] = int(cid)  # type: ignore[arg-type,call-overload]
                    i += 2
                continue
            if t == "beginbfchar":
                i += 1
                while i + 1 < n and isinstance(toks[i], _Hex):
                    code, dst = toks[i], toks[i + 1]
                    if isinstance(dst, _Hex):
                        cm.bf_chars[_as_int(code)] = _utf16(bytes(dst))
                    elif isinstance(dst, _Name):
                        cm.bf_chars[_as_int(code)] = _glyph_name_text(dst)
                    else:
                        break
                    i += 2
                continue
            if t == "beginbfrange":
                i += 1
                while i + 2 < n and isinstance(toks[i], _Hex) and isinstance(toks[i + 1], _Hex):
                    lo, hi, dst = toks[i], toks[i + 1], toks[i + 2]
                    if isinstance(dst, _Hex):
                        cm.bf_ranges.append((_as_int(lo), _as_int(hi), bytes(dst)))
                        i += 3
                    elif dst == "[":
                        j = i + 3
                        items: list[str] = []
                        while j < n and toks[j] != "]":
                            v = toks[j]
                            items.append(_utf16(bytes(v)) if isinstance(v, _Hex) else "")
                            j += 1
                        cm.bf_ranges.append((_as_int(lo), _as_int(hi), items))
                        i = j + 1
                    else:
                        break
                continue
            if t == "usecmap" and i > 0 and isinstance(toks[i - 1], _Name):
                cm.usecmap.append(str(toks[i - 1]))
        elif isinstance(t, _Name):
            nxt = toks[i + 1] if i + 1 < n else None
            if t == "WMode" and isinstance(nxt, int) and not isinstance(nxt, bool):
                cm.wmode = nxt
            elif t == "CMapName" and isinstance(nxt, _Name) and cm.name is None:
                cm.name = str(nxt)
            elif t == "Registry" and isinstance(nxt, bytes) and not isinstance(nxt, _Hex):
                cm.registry = nxt.decode("latin-1")
            elif t == "Ordering" and isinstance(nxt, bytes) and not isinstance(nxt, _Hex):
                cm.ordering = nxt.decode("latin-1")
            elif t == "Supplement" and isinstance(nxt, int):
                cm.supplement = nxt
        i += 1
    return cm


def _glyph_name_text(name: str) -> str:
    from fontTools import agl

    return agl.toUnicode(name)


def identity_cmap(name: str) -> CMap:
    return CMap(name=name, wmode=predefined_wmode(name), registry="Adobe",
                ordering="Identity", supplement=0, identity=True,
                codespace=[(2, b"\x00\x00", b"\xff\xff")])

