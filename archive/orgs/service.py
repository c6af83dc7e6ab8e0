"""Organisations: the DLA → province → LAO tree that scopes every record.

The tree's rules are enforced on every new organisation: a DLA office is a root, a
provincial office (สถ.จ.) sits under a DLA office, and an LAO (อบจ., เทศบาล, อบต., เมืองพัทยา)
under a provincial office. LAO codes follow a configured pattern (``lao_code_pattern``,
by default the DLA's seven-digit organisation code); callers pass it from the settings.
Existing rows are never re-checked: data from before the rules stays as it was.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit
from archive.accounts.principal import Principal, require
from archive.errors import Conflict, InvalidInput, NotFound
from archive.orgs import snapshots
from archive.orgs.models import LAO_TYPES, ORG_TYPES, PARENT_TYPE, Organisation
from archive.orgs.register import RegisterRow, read_register
from archive.orgs.scope import descendants as descendants  # re-exported for existing callers
from archive.orgs.scope import limit_to_scope
from archive.textnorm import clean_text

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


_BY_CODE = sa.select(Organisation).where(Organisation.code == sa.bindparam("code"))


def get_by_code(session: Session, code: str) -> Organisation:
    org = session.scalar(_BY_CODE, {"code": code})
    if org is None:
        raise NotFound(f"no organisation with code {code!r}", code="org_not_found")
    return org


def check_code(code: str, type: str, code_pattern: str | None) -> None:
    if not _CODE.match(code):
        raise InvalidInput("organisation code: 1–32 letters, digits, '.', '_' or '-'",
                           code="invalid_org_code")
    if type in LAO_TYPES and code_pattern is not None and \
            not re.fullmatch(code_pattern, code):
        raise InvalidInput(f"organisation code {code!r} is not in the format of LAO codes "
                           f"({code_pattern}; by default the DLA's 7-digit organisation code)",
                           code="invalid_org_code")


def check_parent(type: str, parent_code: str | None, parent_type: str | None) -> None:
    """The tree's rule for an organisation of ``type`` under the parent ``parent_code``
    (of ``parent_type``; both None for no parent)."""
    if type not in ORG_TYPES:
        raise InvalidInput(f"organisation type must be one of {', '.join(ORG_TYPES)}",
                           code="invalid_org_type")
    wanted = PARENT_TYPE[type]
    if wanted is None and parent_code is not None:
        raise InvalidInput(f"a {type} is at the top of the tree: it has no parent",
                           code="invalid_parent")
    if wanted is not None and (parent_code is None or parent_type != wanted):
        found = f"{parent_code} is a {parent_type}" if parent_code else "none given"
        raise InvalidInput(f"a {type} belongs under a {wanted} (DLA office → provincial "
                           f"office → LAO); {found}", code="invalid_parent")


def create(session: Session, principal: Principal, *, code: str, name: str,
           type: str = "sao", parent_code: str | None = None,
           code_pattern: str | None = None) -> Organisation:
    require(principal, "orgs.manage")
    if type not in ORG_TYPES:
        raise InvalidInput(f"organisation type must be one of {', '.join(ORG_TYPES)}",
                           code="invalid_org_type")
    check_code(code, type, code_pattern)
    name = clean_text(name)
    if not name:
        raise InvalidInput("organisation name is empty")
    if session.scalar(sa.select(Organisation.id).where(Organisation.code == code)):
        raise Conflict(f"organisation {code!r} already exists")
    parent = get_by_code(session, parent_code) if parent_code else None
    check_parent(type, parent.code if parent else None, parent.type if parent else None)
    org = Organisation(code=code, name=name, type=type,
                       parent_id=parent.id if parent else None)
    session.add(org)
    session.flush()
    snapshots.stage(session, org.id)
    audit.record(session, actor=principal, action="org.create", target_type="organisation",
                 target_id=org.code, org_id=org.id,
                 details={"name": name, "type": type, "parent": parent_code})
    return org


def list_all(session: Session) -> list[Organisation]:
    return list(session.scalars(sa.select(Organisation).order_by(Organisation.code)))


def visible(session: Session, principal: Principal) -> list[Organisation]:
    """Organisations the principal may see: their scope (administrators see all)."""
    require(principal, "orgs.read")
    if principal.role == "admin":
        return list_all(session)
    q = sa.select(Organisation).order_by(Organisation.code)
    return list(session.scalars(limit_to_scope(session, principal, q, Organisation.id)))


# -- bulk import of the organisation register --------------------------------------------

@dataclass
class RowReport:
    row: int                      # line number in the file (the header is line 1)
    code: str | None
    outcome: str                  # created | updated | unchanged | duplicate | error
    detail: str | None = None


@dataclass
class ImportReport:
    encoding: str
    layout: str
    dry_run: bool
    rows: list[RowReport] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.outcome] = out.get(r.outcome, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"encoding": self.encoding, "layout": self.layout, "dry_run": self.dry_run,
                "counts": self.counts, "rows": [asdict(r) for r in self.rows]}


@dataclass
class _Known:
    type: str
    name: str
    parent: str | None
    id: int | None = None         # None: to be created by this import


def import_register(session: Session, principal: Principal, data: bytes, *,
                    dry_run: bool = False, code_pattern: str | None = None) -> ImportReport:
    """Load an organisation register (CSV; UTF-8 with or without BOM, or CP874): new
    organisations are created, changed names updated, the rest reported unchanged — so
    importing the same file twice changes nothing the second time. Every row gets an
    outcome; a bad row is reported with its line number and changes nothing. Parents may
    come earlier or later in the same file. Organisations are never moved or retyped."""
    require(principal, "orgs.manage")
    encoding, layout, rows = read_register(data)
    report = ImportReport(encoding, layout, dry_run)
    known: dict[str, _Known] = {}
    for org in list_all(session):
        known[org.code] = _Known(org.type, org.name, None, org.id)
    by_id = {k.id: code for code, k in known.items()}
    for org in list_all(session):
        known[org.code].parent = by_id.get(org.parent_id)
    provinces = _province_offices(known)
    results: dict[int, RowReport] = {}
    seen: dict[str, RegisterRow] = {}
    level = {t: (0 if p is None else 1 if p == "dla-office" else 2)
             for t, p in PARENT_TYPE.items()}
    ordered = sorted(rows, key=lambda r: (level.get(r.type or "", 3), r.line))
    planned: list[tuple[RegisterRow, str]] = []
    for row in ordered:
        outcome = _plan(row, known, provinces, seen, code_pattern)
        results[row.line] = outcome
        if outcome.outcome in ("created", "updated"):
            planned.append((row, outcome.outcome))
    report.rows = [results[r.line] for r in sorted(rows, key=lambda r: r.line)]
    if dry_run:
        return report
    for row, action in planned:
        assert row.code is not None and row.type is not None and row.name is not None
        if action == "created":
            create(session, principal, code=row.code, name=row.name, type=row.type,
                   parent_code=row.parent_code, code_pattern=code_pattern)
        else:
            org = get_by_code(session, row.code)
            previous, org.name = org.name, row.name
            snapshots.stage(session, org.id)
            audit.record(session, actor=principal, action="org.update",
                         target_type="organisation", target_id=org.code, org_id=org.id,
                         details={"name": row.name, "previous_name": previous,
                                  "source": "import"})
    audit.record(session, actor=principal, action="org.import", target_type="organisation",
                 details={"encoding": encoding, "layout": layout, "counts": report.counts})
    return report


def _province_offices(known: dict[str, _Known]) -> dict[str, list[str]]:
    """Province name → codes of provincial offices whose name ends with it."""
    out: dict[str, list[str]] = {}
    for code, k in known.items():
        if k.type == "province":
            out.setdefault(_province_key(k.name), []).append(code)
    return out


_OFFICE_PREFIXES = ("สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด", "สถ.จังหวัด", "สถ.จ.", "จังหวัด",
                    "จ.")


def _province_key(name: str) -> str:
    name = clean_text(name).replace(" ", "")
    for prefix in _OFFICE_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _plan(row: RegisterRow, known: dict[str, _Known], provinces: dict[str, list[str]],
          seen: dict[str, RegisterRow], code_pattern: str | None) -> RowReport:
    def error(detail: str) -> RowReport:
        return RowReport(row.line, row.code, "error", detail)

    if row.problem:
        return error(row.problem)
    assert row.code is not None and row.type is not None and row.name is not None
    name = clean_text(row.name)
    if not name:
        return error("the name is empty")
    row.name = name
    if row.province is not None and row.parent_code is None:
        offices = provinces.get(_province_key(row.province), [])
        if len(offices) != 1:
            return error(f"no single provincial office for province {row.province!r} "
                         f"({len(offices)} found); create it first")
        row.parent_code = offices[0]
    first = seen.get(row.code)
    if first is not None:
        if (first.name, first.type, first.parent_code) == (row.name, row.type,
                                                           row.parent_code):
            return RowReport(row.line, row.code, "duplicate", f"same as line {first.line}")
        return error(f"code {row.code} is on line {first.line} with other values")
    seen[row.code] = row
    existing = known.get(row.code)
    if existing is not None:
        if existing.type != row.type or existing.parent != row.parent_code:
            return error(f"{row.code} exists as a {existing.type} under "
                         f"{existing.parent or '(no parent)'}; the import does not move or "
                         "retype organisations")
        if existing.name == row.name:
            return RowReport(row.line, row.code, "unchanged")
        existing.name = row.name
        return RowReport(row.line, row.code, "updated", "name changed")
    try:
        check_code(row.code, row.type, code_pattern)
        parent = known.get(row.parent_code) if row.parent_code else None
        if row.parent_code and parent is None:
            raise InvalidInput(f"no organisation with code {row.parent_code!r}")
        check_parent(row.type, row.parent_code, parent.type if parent else None)
    except InvalidInput as exc:
        return error(str(exc.detail))
    known[row.code] = _Known(row.type, row.name, row.parent_code)
    return RowReport(row.line, row.code, "created")

