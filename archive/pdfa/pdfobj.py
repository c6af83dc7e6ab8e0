"""Small, defensive helpers over pikepdf objects.

Rules read files written by strangers: a value may be missing, of the wrong type or a
dangling reference. These helpers answer ``None`` instead of raising, so rules can say
"wrong" or "absent" without a try block each.
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Any

import pikepdf
from pikepdf import ObjectType

_Obj = pikepdf.Object
T_DICT = ObjectType.dictionary
T_STREAM = ObjectType.stream
T_ARRAY = ObjectType.array
T_NAME = ObjectType.name_
T_STRING = ObjectType.string
T_NULL = ObjectType.null


def kind(obj: Any) -> ObjectType | None:
    """The pikepdf object type, or None for Python scalars (int, Decimal, bool)."""
    if isinstance(obj, _Obj):
        try:
            return obj._type_code
        except Exception:  # noqa: BLE001 - unresolvable objects behave like null
            return None
    return None


def is_dict(obj: Any) -> bool:
    """A dictionary or a stream (whose dictionary can be read the same way)."""
    return kind(obj) in (T_DICT, T_STREAM)


def is_plain_dict(obj: Any) -> bool:
    return kind(obj) is T_DICT


def is_stream(obj: Any) -> bool:
    return kind(obj) is T_STREAM


def is_array(obj: Any) -> bool:
    return kind(obj) is T_ARRAY


def is_name(obj: Any) -> bool:
    return kind(obj) is T_NAME


def is_string(obj: Any) -> bool:
    return kind(obj) is T_STRING


def get(obj: Any, key: str) -> Any:
    """``obj[key]`` for a dictionary or stream, None when absent or not a dictionary."""
    # The hottest helper of the checker: the type tests of kind() are inlined.
    try:
        t = obj._type_code
    except Exception:  # noqa: BLE001 - scalars, None and unresolvable objects
        return None
    if t is not T_DICT and t is not T_STREAM:
        return None
    try:
        value = obj.get(key)
    except Exception:  # noqa: BLE001
        return None
    if isinstance(value, _Obj):
        try:
            if value._type_code is T_NULL:
                return None
        except Exception:  # noqa: BLE001 - unresolvable: returned as it is, as before
            pass
    return value


def has(obj: Any, key: str) -> bool:
    if kind(obj) not in (T_DICT, T_STREAM):
        return False
    try:
        return key in obj
    except Exception:  # noqa: BLE001
        return False


def name(obj: Any) -> str | None:
    """``"/Name"`` for a name object, else None."""
    if kind(obj) is T_NAME:
        try:
            return str(obj)
        except Exception:  # noqa: BLE001
            return None
    return None


def name_bytes(obj: Any) -> bytes:
    """The bytes of a name without the slash, with #xx escapes expanded."""
    text = bytes(obj.unparse())[1:]
    if b"#" not in text:
        return text
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == 0x23 and i + 2 < len(text):
            try:
                out.append(int(text[i + 1:i + 3], 16))
                i += 3
                continue
            except ValueError:
                pass
        out.append(c)
        i += 1
    return bytes(out)


def get_name(obj: Any, key: str) -> str | None:
    return name(get(obj, key))


def number(obj: Any) -> float | None:
    if isinstance(obj, bool):
        return None
    if isinstance(obj, int | float):
        return float(obj)
    if isinstance(obj, Decimal):
        return float(obj)
    return None


def get_number(obj: Any, key: str) -> float | None:
    return number(get(obj, key))


def integer(obj: Any) -> int | None:
    if isinstance(obj, bool) or not isinstance(obj, int):
        return None
    return obj


def get_int(obj: Any, key: str) -> int | None:
    return integer(get(obj, key))


def text(obj: Any) -> str | None:
    """A PDF text string as Python text (PDFDocEncoding or UTF-16), else None."""
    if kind(obj) is T_STRING:
        try:
            return str(obj)
        except Exception:  # noqa: BLE001
            return None
    return None


def raw_bytes(obj: Any) -> bytes | None:
    if kind(obj) is T_STRING:
        try:
            return bytes(obj)
        except Exception:  # noqa: BLE001
            return None
    return None


def items(obj: Any) -> list[tuple[str, Any]]:
    if kind(obj) not in (T_DICT, T_STREAM):
        return []
    try:
        return list(obj.items())
    except Exception:  # noqa: BLE001
        return []


def keys(obj: Any) -> list[str]:
    if kind(obj) not in (T_DICT, T_STREAM):
        return []
    try:
        return list(obj.keys())
    except Exception:  # noqa: BLE001
        return []


def elements(obj: Any) -> list[Any]:
    if kind(obj) is not T_ARRAY:
        return []
    try:
        return list(obj)
    except Exception:  # noqa: BLE001
        return []


def as_list(obj: Any) -> list[Any]:
    """An array's elements, or ``[obj]`` for a single value, ``[]`` for None."""
    if obj is None:
        return []
    if kind(obj) is T_ARRAY:
        return elements(obj)
    return [obj]


def objgen(obj: Any) -> tuple[int, int]:
    try:
        og = obj.objgen
    except Exception:  # noqa: BLE001
        return (0, 0)
    return (int(og[0]), int(og[1]))


def key_of(obj: Any) -> Any:
    """Identity for de-duplication: the object number for indirect objects, else None."""
    og = objgen(obj)
    return og if og != (0, 0) else None


def same_object(a: Any, b: Any) -> bool:
    ka, kb = key_of(a), key_of(b)
    if ka is not None or kb is not None:
        return ka == kb
    return unparse(a) == unparse(b)


def equivalent(a: Any, b: Any) -> bool:
    """Same object, or objects with equal content (streams: dictionary and data)."""
    if same_object(a, b):
        return True
    if is_stream(a) and is_stream(b):
        try:
            return (unparse(a.stream_dict) == unparse(b.stream_dict)
                    and read_raw(a) == read_raw(b))
        except Exception:  # noqa: BLE001
            return False
    return unparse(a) == unparse(b)


def unparse(obj: Any) -> bytes:
    try:
        if isinstance(obj, _Obj):
            return bytes(obj.unparse(resolved=True))
        return repr(obj).encode()
    except Exception:  # noqa: BLE001
        return b""


def read_stream(obj: Any, limit: int | None = None) -> bytes | None:
    """Decoded stream data, or None when it cannot be decoded. With ``limit``, at least
    the first ``limit`` bytes (an unfiltered or plainly Flate-compressed stream is only
    decoded that far: ICC headers are read from profiles of megabytes)."""
    if kind(obj) is not T_STREAM:
        return None
    if limit is not None:
        head = _read_head(obj, limit)
        if head is not None:
            return head
    try:
        data = bytes(obj.read_bytes())
    except Exception:  # noqa: BLE001
        return None
    return data if limit is None else data[:limit]


def _read_head(obj: Any, limit: int) -> bytes | None:
    """The first ``limit`` decoded bytes of a stream without a filter or with a single
    /FlateDecode and no parameters; None when another way of decoding is needed."""
    try:
        filt = obj.get("/Filter")
        if filt is not None and isinstance(filt, _Obj) and filt._type_code is T_ARRAY:
            filt = filt[0] if len(filt) == 1 else False
        if filt is not None and (not isinstance(filt, _Obj) or str(filt) != "/FlateDecode"
                                 or obj.get("/DecodeParms") is not None):
            return None
        raw = bytes(obj.read_raw_bytes())
    except Exception:  # noqa: BLE001
        return None
    if filt is None:
        return raw[:limit]
    try:
        head = zlib.decompressobj().decompress(raw, limit)
    except zlib.error:
        return None
    return head if len(head) >= limit else None


def read_raw(obj: Any) -> bytes | None:
    if kind(obj) is not T_STREAM:
        return None
    try:
        return bytes(obj.read_raw_bytes())
    except Exception:  # noqa: BLE001
        return None


def filters(obj: Any) -> list[str]:
    """Names of the stream's filters (``/FlateDecode`` ...), in order."""
    return [n for n in (name(f) for f in as_list(get(obj, "/Filter"))) if n]
