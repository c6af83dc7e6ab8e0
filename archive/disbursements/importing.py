"""Importing a voucher register (``archive disbursements import``, ``POST
/api/v1/disbursements/import``).

The file is read by ``register.read_register`` (encodings, Thai headers, BE dates,
amounts); each row is validated as the API validates a voucher and written through the
voucher service (``service.create`` / ``service.update``: history, audit events and the
findings' recompute exactly as for a voucher typed in).

* **Idempotent**: rows are keyed on (organisation, fiscal year, voucher number). A voucher
  that exists is updated with the columns the file has — and only when a value differs
  (``unchanged`` otherwise); a column the file lacks is left as it is. Re-importing the
  same file changes nothing and says so.
* **A bad row changes nothing**: each row is written inside its own savepoint; a row that
  fails validation or whose write is refused is rolled back alone and reported with its
  line number and reasons. The other rows stand.
* **Dry run**: every row is validated and written inside its savepoint, then rolled back —
  the report is what a real import would do, and nothing is kept.

One ``disbursement.import`` audit event records the file (name, SHA-256, encoding) and the
counts; the vouchers' own events record each change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from archive import audit
from archive.accounts import service as accounts
from archive.accounts.principal import Principal, require
from archive.audit import service as audit_service
from archive.disbursements import register, service
from archive.disbursements.models import Disbursement
from archive.disbursements.schemas import DisbursementCreate, DisbursementUpdate
from archive.errors import ArchiveError, InvalidInput
from archive.evidence.schemas import validation_problems
from archive.orgs import service as orgs

STATUSES = ("created", "updated", "unchanged", "error")
Progress = Callable[[int, int], None]


@dataclass
class RowResult:
    line: int
    voucher_no: str | None
    status: str
    id: str | None = None
    changed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    org_code: str
    dry_run: bool
    encoding: str
    columns: dict[str, str]
    ignored: list[str]
    sha256: str
    rows: list[RowResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {"org_code": self.org_code, "dry_run": self.dry_run, "encoding": self.encoding,
                "sha256": self.sha256, "columns": self.columns, "ignored": self.ignored,
                "counts": self.counts, "rows": [asdict(r) for r in self.rows]}


class RowOut(BaseModel):
    line: int
    voucher_no: str | None
    status: str
    id: str | None
    changed: list[str]
    errors: list[str]


class ImportOut(BaseModel):
    """The per-row report of a register import."""

    org_code: str
    dry_run: bool
    encoding: str
    sha256: str
    columns: dict[str, str]
    ignored: list[str]
    counts: dict[str, int]
    rows: list[RowOut]


def import_register(session: Session, principal: Principal, *, org_code: str, data: bytes,
                    filename: str | None = None, dry_run: bool = False,
                    progress: Progress | None = None) -> ImportReport:
    """Import a register file into ``org_code``'s vouchers; returns the per-row report.

    File-level problems (encoding, missing columns, size) raise ``InvalidInput`` and
    import nothing."""
    require(principal, "disbursements.create")
    org = orgs.get_by_code(session, org_code)
    accounts.ensure_in_scope(session, principal, org.id, "organisation")
    try:
        reg = register.read_register(data)
    except register.RegisterError as exc:
        raise InvalidInput(str(exc), code="invalid_register") from None
    report = ImportReport(org_code=org.code, dry_run=dry_run, encoding=reg.encoding,
                          columns=reg.columns, ignored=reg.ignored,
                          sha256=hashlib.sha256(data).hexdigest())
    existing = _existing(session, org.id, reg)
    given = set(reg.columns) | {"fiscal_year", "net_amount"}
    total = len(reg.rows)
    for done, row in enumerate(reg.rows, start=1):
        report.rows.append(_import_row(session, principal, org.code, row, existing, given,
                                       dry_run))
        if progress is not None:
            progress(done, total)
    audit.record(session, actor=principal, action="disbursement.import",
                 target_type="organisation", target_id=org.code, org_id=org.id,
                 details={"file": filename, "sha256": report.sha256,
                          "encoding": report.encoding, "dry_run": dry_run,
                          "counts": report.counts,
                          "errors": [r.line for r in report.rows if r.status == "error"][:200]})
    return report


def _existing(session: Session, org_id: int,
              reg: register.RegisterFile) -> dict[tuple[int, str], Disbursement]:
    keys = {(r.values.get("fiscal_year"), r.values.get("voucher_no")) for r in reg.rows
            if not r.errors}
    years = {fy for fy, _ in keys if fy is not None}
    if not years:
        return {}
    rows = session.scalars(sa.select(Disbursement).where(
        Disbursement.org_id == org_id, Disbursement.fiscal_year.in_(years),
        Disbursement.voucher_no.in_({no for _, no in keys if no})))
    return {(d.fiscal_year, d.voucher_no): d for d in rows}


def _import_row(session: Session, principal: Principal, org_code: str,
                row: register.RegisterRow, existing: dict[tuple[int, str], Disbursement],
                given: set[str], dry_run: bool) -> RowResult:
    result = RowResult(line=row.line, voucher_no=row.voucher_no, status="error")
    if row.errors:
        result.errors = row.errors
        return result
    values = {k: v for k, v in row.values.items() if k in given}
    try:
        create = DisbursementCreate.model_validate({"org_code": org_code, **values})
    except ValidationError as exc:
        result.errors = [f"{p['field']}: {p['message']}" for p in validation_problems(exc)]
        return result
    key = (create.fiscal_year, create.voucher_no)
    current = existing.get(key)  # type: ignore[arg-type]
    if current is not None:
        result.id = str(current.id)
        changes = {name: getattr(create, name) for name in given
                   if _differs(getattr(current, name), getattr(create, name))}
        if not changes:
            result.status = "unchanged"
            return result
        result.changed = sorted(changes)
    pending = list(session.info.get(audit_service._PENDING, []))  # noqa: SLF001
    savepoint = session.begin_nested()
    try:
        if current is None:
            voucher = service.create(session, principal, create)
            result.id, result.status = str(voucher.id), "created"
        else:
            update = DisbursementUpdate.model_validate(
                {**changes, "reason": f"register import, line {row.line}"})
            service.update(session, principal, current.id, update)
            result.status = "updated"
        session.flush()
    except (ArchiveError, sa.exc.IntegrityError) as exc:
        savepoint.rollback()
        _restore_pending(session, pending)
        result.status, result.changed = "error", []
        result.errors = _messages(exc) if isinstance(exc, ArchiveError) else [
            f"voucher {create.voucher_no} of fiscal year {create.fiscal_year} was written "
            "by someone else meanwhile; import again"]
        return result
    if dry_run:
        savepoint.rollback()
        _restore_pending(session, pending)
        if current is None:
            result.id = None
    else:
        savepoint.commit()
        if current is None:
            existing[key] = voucher  # type: ignore[index]
    return result


def _restore_pending(session: Session, pending: list[dict[str, Any]]) -> None:
    """Audit events are queued in ``session.info`` until commit; a rolled-back row's events
    go, the events of the rows before it stay."""
    session.info[audit_service._PENDING] = pending  # noqa: SLF001


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return (Decimal(old) if old is not None else None) != \
            (Decimal(new) if new is not None else None)
    if isinstance(old, dt.datetime):
        old = old.date()
    if isinstance(old, uuid.UUID):
        old = str(old)
    return bool(old != new)


def _messages(exc: ArchiveError) -> list[str]:
    detail = exc.detail
    if isinstance(detail, list):
        return [f"{p.get('field')}: {p.get('message')}" if isinstance(p, dict) else str(p)
                for p in detail]
    if isinstance(detail, dict):
        return [str(detail.get("message", detail))]
    return [f"{exc.code}: {detail}"]
