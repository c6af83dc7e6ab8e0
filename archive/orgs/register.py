"""Reading an organisation register (CSV) into rows: pure, no database.

Two layouts are read:

* the archive's own: ``code, name, type, parent_code`` (types as in ``ORG_TYPES`` or their
  Thai names);
* the DLA's register of LAOs (ชื่อและที่ตั้งองค์กรปกครองส่วนท้องถิ่น): ``รหัส อปท.``,
  ``อปท.``, ``ประเภท อปท.``, ``จังหวัด`` and other columns, which are ignored; the parent is
  the provincial office of the province. That register has one line per sub-district an
  LAO covers, so one LAO appears on several identical lines.

Files come as UTF-8 (with or without a byte-order mark) or, from Thai spreadsheet
exports, CP874 / TIS-620.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from archive.errors import InvalidInput
from archive.orgs.models import ORG_TYPES

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def _key(text: str) -> str:
    """A header or type name without spaces, dots and case: ``รหัส อปท.`` → ``รหัสอปท``."""
    return "".join(ch for ch in text.strip().lstrip("\ufeff").lower() if ch not in " ._-\t")


# Thai (and English) names of organisation types, by _key.
TYPE_NAMES: dict[str, str] = {
    **{_key(t): t for t in ORG_TYPES},
    _key("กรมส่งเสริมการปกครองท้องถิ่น"): "dla-office", _key("สถ."): "dla-office",
    _key("สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด"): "province", _key("สถ.จ."): "province",
    _key("อบจ."): "pao", _key("องค์การบริหารส่วนจังหวัด"): "pao",
    _key("เทศบาล"): "municipality", _key("เทศบาลนคร"): "municipality",
    _key("เทศบาลเมือง"): "municipality", _key("เทศบาลตำบล"): "municipality",
    _key("ทน."): "municipality", _key("ทม."): "municipality", _key("ทต."): "municipality",
    _key("อบต."): "sao", _key("องค์การบริหารส่วนตำบล"): "sao",
    _key("เมืองพัทยา"): "pattaya", _key("ท้องถิ่นรูปแบบพิเศษ"): "pattaya",
}

ARCHIVE_COLUMNS = {"code": "code", "name": "name", "type": "type", "parentcode": "parent_code",
                   "parent": "parent_code"}
DLA_COLUMNS = {_key("รหัส อปท."): "code", _key("อปท."): "name", _key("ประเภท อปท."): "type",
               _key("จังหวัด"): "province"}


@dataclass
class RegisterRow:
    line: int
    code: str | None = None
    name: str | None = None
    type: str | None = None
    parent_code: str | None = None
    province: str | None = None
    problem: str | None = None


def decode(data: bytes) -> tuple[str, str]:
    """(encoding, text): UTF-8 with or without BOM, else CP874."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", data[3:].decode("utf-8")
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return "cp874", data.decode("cp874")
    except UnicodeDecodeError:
        raise InvalidInput("the file is neither UTF-8 nor CP874 (TIS-620) text",
                           code="invalid_register") from None


def read_register(data: bytes) -> tuple[str, str, list[RegisterRow]]:
    """(encoding, layout, rows) of a register file; a file that is not one is refused."""
    if not data.strip():
        raise InvalidInput("the register file is empty", code="invalid_register")
    encoding, text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InvalidInput(f"the register has no header line ({exc})",
                           code="invalid_register") from None
    keys = [_key(h) for h in header]
    if {"code", "name", "type"} <= set(keys):
        layout, columns = "archive", ARCHIVE_COLUMNS
    elif set(DLA_COLUMNS) <= set(keys):
        layout, columns = "dla", DLA_COLUMNS
    else:
        raise InvalidInput("unknown register layout: expected the columns code, name, type, "
                           "parent_code, or the DLA register's รหัส อปท., อปท., ประเภท อปท., "
                           "จังหวัด", code="invalid_register")
    where = {columns[k]: i for i, k in enumerate(keys) if k in columns}
    rows = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            rows.append(_row(line, values, where, layout))
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num}: not CSV ({exc})",
                           code="invalid_register") from None
    return encoding, layout, rows


def _row(line: int, values: list[str], where: dict[str, int], layout: str) -> RegisterRow:
    def get(field: str) -> str | None:
        i = where.get(field)
        value = values[i].strip() if i is not None and i < len(values) else ""
        return value or None

    row = RegisterRow(line, code=(get("code") or "").translate(_THAI_DIGITS) or None,
                      name=get("name"), parent_code=get("parent_code"),
                      province=get("province"))
    type_name = get("type")
    row.type = TYPE_NAMES.get(_key(type_name)) if type_name else None
    missing = [f for f, v in (("code", row.code), ("name", row.name), ("type", type_name))
               if v is None]
    if layout == "dla" and row.province is None:
        missing.append("จังหวัด")
    if missing:
        row.problem = f"missing {', '.join(missing)}"
    elif row.type is None:
        row.problem = f"unknown organisation type {type_name!r}"
    return row
