"""What only the file's bytes can tell: header, trailer, xref layout, object and stream syntax.

qpdf repairs what it reads, so syntax rules (ISO 19005 clause 6.1) are checked on the raw
bytes, guided by qpdf's cross-reference table for where each object starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_WS = b" \t\r\n\f\x00"
_EOL = (b"\r\n", b"\n", b"\r")

_HEADER = re.compile(rb"%PDF-")
_OBJ_HEADER = re.compile(rb"(\d+)([ \t\r\n\f\x00]+)(\d+)([ \t\r\n\f\x00]+)obj")
_STARTXREF = re.compile(rb"startxref[ \t\r\n\f\x00]+(\d+)")
_EOF = re.compile(rb"%%EOF")
_XREF_SECTION = re.compile(rb"xref([ \t\r\n\f\x00]*)(\d+)([ \t\r\n\f\x00]+)(\d+)")
_ID = re.compile(rb"/ID[ \t\r\n\f\x00]*\[[ \t\r\n\f\x00]*"
                 rb"(<[0-9A-Fa-f \t\r\n\f]*>|\((?:\\.|[^\\)])*\))")
_SUBSECTION = re.compile(rb"[\r\n](\d+)([ \t]+)(\d+)[ \t]*(?=[\r\n])")
_DICT_THEN_STREAM = re.compile(rb">>[ \t\r\n\f\x00]*stream")
_PREV = re.compile(rb"/(?:Prev|XRefStm)[ \t\r\n\f\x00]+(\d+)")
_TYPE_XREF = re.compile(rb"/Type[ \t\r\n\f\x00]*/XRef(?![A-Za-z0-9])")
_TOKENS = re.compile(rb"[(<%]")
_PARENS = re.compile(rb"[()\\]")
_HEX_BODY = re.compile(rb"[0-9A-Fa-f]")
_HEX_WS = re.compile(rb"[ \t\r\n\f\x00]")


@dataclass
class StreamSyntax:
    objnum: int
    declared_length: int | None
    real_length: int | None
    keyword_eol_ok: bool  # "stream" followed by CRLF or LF
    endstream_eol_ok: bool  # "endstream" preceded by an EOL


@dataclass
class RawInfo:
    size: int = 0
    header_offset: int = -1
    header_line: bytes = b""
    binary_comment: bytes = b""  # up to 4 bytes after the % of the second line
    post_eof_bytes: int = 0
    eof_found: bool = False
    linearized: bool = False
    first_id: bytes | None = None
    last_id: bytes | None = None
    xref_tables: int = 0
    xref_streams: int = 0
    xref_header_space_ok: bool = True
    xref_eol_ok: bool = True
    bad_object_headers: list[int] = field(default_factory=list)
    streams: list[StreamSyntax] = field(default_factory=list)
    odd_hex_strings: list[int] = field(default_factory=list)
    non_hex_strings: list[int] = field(default_factory=list)


def _eol_len(data: bytes, pos: int) -> int:
    """Length of the EOL marker at ``pos`` (2 for CRLF, 1 for CR or LF, 0 for none)."""
    if data[pos:pos + 2] == b"\r\n":
        return 2
    if data[pos:pos + 1] in (b"\r", b"\n"):
        return 1
    return 0


def scan_header(data: bytes, info: RawInfo) -> None:
    m = _HEADER.search(data, 0, 1024)
    if m is None:
        return
    info.header_offset = m.start()
    end = m.start()
    while end < len(data) and data[end] not in (10, 13):
        end += 1
    info.header_line = data[m.start():end]
    pos = end + _eol_len(data, end)
    if data[pos:pos + 1] == b"%":
        info.binary_comment = data[pos + 1:pos + 5]


def scan_tail(data: bytes, info: RawInfo) -> None:
    found = list(_EOF.finditer(data, max(0, len(data) - 4096)))
    last = found[-1] if found else None
    if last is None:
        last_pos = data.rfind(b"%%EOF")
        if last_pos < 0:
            return
        end = last_pos + 5
    else:
        end = last.end()
    info.eof_found = True
    rest = data[end:]
    if rest in (b"", b"\r", b"\n", b"\r\n"):
        info.post_eof_bytes = 0
    else:
        info.post_eof_bytes = len(rest)


def scan_xref(data: bytes, info: RawInfo) -> None:
    starts = [int(m.group(1)) for m in _STARTXREF.finditer(data)]
    seen: set[int] = set()
    todo = list(starts)
    ids: list[tuple[int, bytes]] = []
    while todo and len(seen) < 1000:
        off = todo.pop()
        if off in seen or off >= len(data):
            continue
        seen.add(off)
        if data[off:off + 4] == b"xref":
            info.xref_tables += 1
            m = _XREF_SECTION.match(data, off)
            if m:
                if m.group(1) not in _EOL:
                    info.xref_eol_ok = False
                if m.group(3) != b" ":
                    info.xref_header_space_ok = False
            tpos = data.find(b"trailer", off)
            table = data[off + 4:tpos if tpos > 0 else off + 4 + 65536]
            for sub in _SUBSECTION.finditer(table):
                if sub.group(2) != b" ":
                    info.xref_header_space_ok = False
            tail = data[tpos:tpos + 4096] if tpos >= 0 else b""
        elif _OBJ_HEADER.match(data, off):
            tail = data[off:off + 4096]
            head = tail.split(b"stream", 1)[0]
            if _TYPE_XREF.search(head) is None:
                # startxref (or /Prev) points at an ordinary object: a broken offset that
                # a lenient parser repairs by scanning the file, not an xref stream.
                continue
            info.xref_streams += 1
            tpos = off
        else:
            continue
        end = tail.find(b">>\n", 0)
        trailer_text = tail if end < 0 else tail[:end + 2]
        idm = _ID.search(trailer_text)
        if idm:
            ids.append((tpos, idm.group(1)))
        for pm in _PREV.finditer(trailer_text):
            todo.append(int(pm.group(1)))
    if not info.xref_tables and not info.xref_streams:
        # No cross-reference section where startxref says: what the file holds is what
        # its objects are, so an xref stream anywhere in it counts.
        for m in _OBJ_HEADER.finditer(data):
            head = data[m.end():m.end() + 4096].split(b"stream", 1)[0]
            if _TYPE_XREF.search(head.split(b"endobj", 1)[0]):
                info.xref_streams += 1
                break
    if ids:
        ids.sort()
        info.first_id = ids[0][1]
        info.last_id = ids[-1][1]


def scan_objects(data: bytes, xref: dict[tuple[int, int], Any], stream_lengths: dict[int, Any],
                 info: RawInfo, *, check_strings: bool = True) -> None:
    """Check each uncompressed object's header, stream keywords and hex strings.

    ``stream_lengths`` maps the object number of every stream to its declared /Length.
    """
    size = len(data)
    for (num, _gen), entry in xref.items():
        try:
            if entry.type != 1:
                continue
            off = int(entry.offset)
        except Exception:  # noqa: BLE001
            continue
        if off <= 0 or off >= size:
            continue
        m = _OBJ_HEADER.match(data, off)
        if m is None:
            # qpdf accepts an offset that lands on white-space before the header and reads
            # on; the layout rule must still see what precedes the object number.
            start = off
            while start < size and start - off < 256 and data[start] in _WS:
                start += 1
            m = _OBJ_HEADER.match(data, start) if start > off else None
            if m is None:
                continue
            off = start
        ok = (len(m.group(2)) == 1 and len(m.group(4)) == 1 and data[off - 1] in (10, 13)
              and _eol_len(data, m.end()) > 0)
        body_start = m.end()
        is_stream = num in stream_lengths
        declared = stream_lengths.get(num)
        if not is_stream:
            # qpdf reads object streams (/Type /ObjStm) and lists only the objects in
            # them: the stream itself is known here by its syntax alone.
            declared = _hidden_stream_length(data, body_start)
            is_stream = declared is not None
        body_end = -1
        if is_stream:
            spos = _find_stream_keyword(data, body_start)
            if spos < 0:
                is_stream = False
            else:
                body_end = spos
                _scan_stream(data, num, spos, declared, info)
                endstream = data.find(b"endstream", spos + 6)
                if endstream >= 0:
                    endobj = data.find(b"endobj", endstream + 9)
                    if endobj >= 0:
                        ok = ok and _endobj_ok(data, endobj, endstream + 9)
        if not is_stream:
            endobj = data.find(b"endobj", body_start)
            if endobj >= 0:
                body_end = endobj
                ok = ok and _endobj_ok(data, endobj, None)
        if not ok:
            info.bad_object_headers.append(num)
        if check_strings and body_end > body_start:
            _scan_strings(data, body_start, body_end, num, info)


_OBJSTM = re.compile(rb"/Type[ \t\r\n\f\x00]*/ObjStm")
_DIRECT_LENGTH = re.compile(rb"/Length[ \t\r\n\f\x00]+(\d+)"
                            rb"(?![ \t\r\n\f\x00]+\d+[ \t\r\n\f\x00]+R)")


def _hidden_stream_length(data: bytes, body_start: int) -> int | None:
    """The direct /Length of an object stream starting at ``body_start`` (``None``: not an
    object stream, or its length is indirect)."""
    m = _DICT_THEN_STREAM.search(data, body_start, body_start + 4096)
    if m is None:
        return None
    head = data[body_start:m.start()]
    if b"endobj" in head or not _OBJSTM.search(head):
        return None
    length = _DIRECT_LENGTH.search(head)
    return int(length.group(1)) if length else None


def _endobj_ok(data: bytes, endobj: int, after_endstream: int | None) -> bool:
    if data[endobj - 1] not in (10, 13):
        return False
    after = endobj + 6
    return after >= len(data) or _eol_len(data, after) > 0


def _find_stream_keyword(data: bytes, start: int) -> int:
    """Position of the ``stream`` keyword that follows the stream dictionary's ``>>``."""
    m = _DICT_THEN_STREAM.search(data, start)
    return -1 if m is None else m.end() - 6


def _scan_stream(data: bytes, num: int, spos: int, declared: Any, info: RawInfo) -> None:
    after = spos + 6
    keyword_ok = data[after:after + 2] == b"\r\n" or data[after:after + 1] == b"\n"
    start = after + _eol_len(data, after)
    length = declared if isinstance(declared, int) and not isinstance(declared, bool) else None
    real = None
    end_ok = False
    if length is not None and length >= 0 and start + length <= len(data):
        tail = data[start + length:start + length + 11]
        eol = _eol_len(tail, 0)
        if tail[eol:eol + 9] == b"endstream":
            real = length
            end_ok = eol > 0
    if real is None:
        endpos = data.find(b"endstream", start)
        if endpos >= 0:
            eol = 2 if data[endpos - 2:endpos] == b"\r\n" else (
                1 if data[endpos - 1:endpos] in (b"\r", b"\n") else 0)
            real = max(0, endpos - eol - start)
            end_ok = eol > 0
    info.streams.append(StreamSyntax(num, length, real, keyword_ok, end_ok))


def _scan_strings(data: bytes, start: int, end: int, num: int, info: RawInfo) -> None:
    """Find hexadecimal strings in an object's text and check their digits."""
    pos = start
    odd = bad = False
    while True:
        m = _TOKENS.search(data, pos, end)
        if m is None:
            break
        ch = m.group(0)
        pos = m.end()
        if ch == b"%":
            nl = pos
            while nl < end and data[nl] not in (10, 13):
                nl += 1
            pos = nl
        elif ch == b"(":
            depth = 1
            while depth and pos < end:
                pm = _PARENS.search(data, pos, end)
                if pm is None:
                    pos = end
                    break
                c = pm.group(0)
                pos = pm.end()
                if c == b"\\":
                    pos += 1
                elif c == b"(":
                    depth += 1
                else:
                    depth -= 1
        else:  # "<"
            if data[pos:pos + 1] == b"<":
                pos += 1
                continue
            close = data.find(b">", pos, end)
            if close < 0:
                break
            body = data[pos:close]
            pos = close + 1
            digits = _HEX_WS.sub(b"", body)
            if len(_HEX_BODY.findall(digits)) != len(digits):
                bad = True
            elif len(digits) % 2:
                odd = True
    if odd:
        info.odd_hex_strings.append(num)
    if bad:
        info.non_hex_strings.append(num)


def detect_linearized(data: bytes, info: RawInfo) -> None:
    head = data[:2048]
    if b"/Linearized" not in head:
        return
    m = re.search(rb"/L[ \t\r\n\f\x00]+(\d+)", head[head.find(b"/Linearized"):])
    info.linearized = m is not None and int(m.group(1)) == len(data)


def scan(data: bytes, xref: dict[tuple[int, int], Any], stream_lengths: dict[int, Any],
         *, check_strings: bool = True) -> RawInfo:
    info = RawInfo(size=len(data))
    scan_header(data, info)
    scan_tail(data, info)
    scan_xref(data, info)
    detect_linearized(data, info)
    scan_objects(data, xref, stream_lengths, info, check_strings=check_strings)
    return info
