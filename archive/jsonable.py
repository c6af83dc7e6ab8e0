"""The one converter from the archive's values to JSON-friendly ones.

Dates and times become ISO 8601, Decimals their exact string (``"10700.00"``, never a
float), UUIDs their string, sets sorted lists, dataclasses their ``to_dict()`` or their
fields, mapping keys strings; anything else unknown its ``str``. ``floats_as_text`` turns
floats into strings too — for what is hashed (the audit chain), whose JSON must read the
same from either database.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def jsonable(value: Any, *, floats_as_text: bool = False) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return str(value) if floats_as_text else value
    if isinstance(value, dict):
        return {str(k): jsonable(v, floats_as_text=floats_as_text) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, floats_as_text=floats_as_text) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v, floats_as_text=floats_as_text) for v in value), key=str)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to_dict = getattr(value, "to_dict", None)
        if to_dict is not None:
            return to_dict()
        return {f.name: jsonable(getattr(value, f.name), floats_as_text=floats_as_text)
                for f in dataclasses.fields(value)}
    isoformat = getattr(value, "isoformat", None)     # date, datetime, time
    if isoformat is not None:
        return isoformat()
    return str(value)                                 # Decimal, UUID, anything else
