"""One pass over every object reachable from the trailer: the facts the implementation-limit
rules need (big numbers, long strings and names, big arrays and dictionaries), and every
stream and dictionary for the rules that look at them all."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pikepdf

from archive.pdfa import pdfobj as po

# --------------------------------------------------------------------------------------
# Object walk


@dataclass
class CosFacts:
    """Facts gathered in one pass over every object reachable from the trailer."""

    objects: int = 0
    streams: list[Any] = field(default_factory=list)
    dicts: list[Any] = field(default_factory=list)  # indirect and direct dictionaries
    big_ints: list[tuple[int, int | None]] = field(default_factory=list)
    reals: list[tuple[float, int | None]] = field(default_factory=list)  # |x|>32767 or tiny
    long_strings: list[tuple[int, int | None]] = field(default_factory=list)  # len > 32767
    long_names: list[tuple[str, int | None]] = field(default_factory=list)
    big_arrays: list[tuple[int, int | None]] = field(default_factory=list)
    big_dicts: list[tuple[int, int | None]] = field(default_factory=list)
    indirect_count: int = 0


# A name token of 128 bytes or more in the file's bytes (escapes only shorten a name).
_LONG_NAME = re.compile(rb"/[^\x00\t\n\f\r ()<>\[\]{}/%]{128,}")


def _walk_cos(pdf: pikepdf.Pdf, raw: bytes | None = None) -> CosFacts:
    """``raw``: the file's bytes. When they show that no name can exceed 127 bytes and no
    string 32,767 (no long name token, a small file, no object streams hiding objects
    from the bytes), names and strings are not measured one by one."""
    facts = CosFacts()
    if raw is None or b"/ObjStm" in raw:
        names = strings = True
    else:
        names = _LONG_NAME.search(raw) is not None
        strings = len(raw) > 32767
    seen: set[tuple[int, int]] = set()
    T_DICT, T_STREAM, T_ARRAY = po.T_DICT, po.T_STREAM, po.T_ARRAY
    T_STRING, T_NAME = po.T_STRING, po.T_NAME
    Obj = pikepdf.Object
    count = 0
    # Containers still to open, each with the number of the indirect object that holds
    # it; their scalar values (most of a file) are looked at as they are met, not pushed.
    stack: list[tuple[Any, int | None]] = [(pdf.trailer, None)]
    while stack:
        obj, holder = stack.pop()
        try:
            t = obj._type_code
            og = obj.objgen
        except Exception:  # noqa: BLE001
            continue
        if og[0]:
            if og in seen:
                continue
            seen.add(og)
            holder = og[0]
        try:
            if t is T_ARRAY:
                values = list(obj)
                if len(values) > 8191:
                    facts.big_arrays.append((len(values), holder))
            else:
                if names:
                    values = []
                    for k, v in obj.items():
                        if len(k) > 128:
                            facts.long_names.append((k, holder))
                        values.append(v)
                else:
                    values = list(obj.values())
                if len(values) > 4095:
                    facts.big_dicts.append((len(values), holder))
                if t is T_STREAM:
                    facts.streams.append(obj)
                else:
                    facts.dicts.append(obj)
        except Exception:  # noqa: BLE001 - broken containers are skipped
            continue
        count += len(values)
        for v in values:
            if isinstance(v, Obj):
                try:
                    vt = v._type_code
                except Exception:  # noqa: BLE001
                    continue
                if vt is T_DICT or vt is T_STREAM or vt is T_ARRAY:
                    stack.append((v, holder))
                elif vt is T_STRING:
                    if not strings:
                        continue
                    try:
                        n = len(bytes(v))
                    except Exception:  # noqa: BLE001
                        continue
                    if n > 32767:
                        facts.long_strings.append((n, holder))
                elif vt is T_NAME:
                    if not names:
                        continue
                    try:
                        text = po.name_bytes(v)
                    except Exception:  # noqa: BLE001
                        continue
                    if len(text) > 127:
                        facts.long_names.append((text.decode("latin-1"), holder))
            elif v.__class__ is bool:
                continue
            elif isinstance(v, int):
                if v > 2147483647 or v < -2147483648:
                    facts.big_ints.append((v, holder))
            else:  # Decimal
                try:
                    f = float(v)
                except (TypeError, ValueError):
                    continue
                if abs(f) > 32767.0 or (f != 0.0 and abs(f) < 1.175e-38):
                    facts.reals.append((f, holder))
    facts.objects = count
    facts.indirect_count = len(pdf.objects)
    return facts
