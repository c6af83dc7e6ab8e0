"""Inspecting a stored record: PDF/A check plus what the file says about itself.

:func:`analyse` fetches the bytes and runs the parsers (each in a limited child process);
:func:`record` stores the outcome on the record in the caller's transaction: the report,
the PDF/A verdict, cross-check warnings, and the metadata the uploader left empty filled
from the file (as a normal, audited metadata change marked "filled from the file").
Recording is idempotent: a record already inspected is left alone.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, tempfiles
from archive.accounts.principal import Principal
from archive.errors import ArchiveError, NotFound
from archive.evidence import events, manifests, service
from archive.evidence.models import Blob, Evidence, Inspection
from archive.evidence.schemas import EvidenceUpdate, parse_metadata
from archive.messages import message
from archive.queue.service import enqueue
from archive.storage import ObjectStore
from archive.thai import fiscal_year

TYPED_FIELDS = ("issuer_tax_id", "doc_number", "issue_date", "amount", "currency",
                "issuer_name", "issuer_branch", "vat_amount")


@dataclass
class Analysis:
    pdfa: dict[str, Any] | None
    report: dict[str, Any] | None
    error: str | None = None


def load(session: Session, evidence_id: uuid.UUID) -> tuple[Evidence, Blob, bool]:
    """The record, its blob, and whether it has been inspected already."""
    row = session.execute(sa.select(Evidence, Blob).join(Blob, Blob.id == Evidence.blob_id)
                          .where(Evidence.id == evidence_id)).first()
    if row is None:
        raise NotFound(f"no evidence record {evidence_id}")
    done = session.get(Inspection, evidence_id) is not None
    return row[0], row[1], done


def typed_metadata(evidence: Evidence) -> dict[str, Any]:
    """What the uploader typed, for the cross-check (``doc_type`` is compared, never filled)."""
    return {**{f: getattr(evidence, f) for f in TYPED_FIELDS}, "doc_type": evidence.doc_type}


def analyse(store: ObjectStore, blob: Blob, typed: dict[str, Any], *, tmp_dir: Path,
            trust_roots: tuple[bytes, ...] = (), filename: str | None = None) -> Analysis:
    """Fetch the bytes to a private temporary file and inspect them (parsers sandboxed).

    The reports name ``filename`` (what the uploader called the file), never the temporary
    file: a server path in a report tells outsiders about the machine and readers nothing."""
    from archive.inspection import inspect as inspect_file
    from archive.pdfa.isolated import check_pdfa_isolated

    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="inspect-")
    path = Path(name)
    lock = tempfiles.hold(path)      # in use: not a crash leftover (archive/tempfiles.py)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in store.open(blob.store_key, blob.version_id):
                out.write(chunk)
        pdfa = None
        if blob.media_type == "application/pdf":
            pdfa = _without_path(check_pdfa_isolated(path, "auto").to_dict(), path, filename)
            pdfa["path"] = filename
        report = _without_path(inspect_file(path, media_type=blob.media_type, typed=typed,
                                            trust_roots=trust_roots or None).to_dict(),
                               path, filename)
        return Analysis(pdfa, {**report, "name": filename})
    finally:
        path.unlink(missing_ok=True)
        os.close(lock)


def _without_path(report: dict[str, Any], path: Path, filename: str | None) -> dict[str, Any]:
    """The report with every mention of the temporary file (parsers quote it in their
    error messages) replaced by the uploaded file's name."""
    text = json.dumps(report, ensure_ascii=False)
    for spelling in (str(path), path.name):
        text = text.replace(json.dumps(spelling)[1:-1], json.dumps(filename or "file")[1:-1])
    return dict(json.loads(text))


def record(session: Session, principal: Principal, evidence_id: uuid.UUID,
           analysis: Analysis) -> Inspection | None:
    """Store the analysis on the record; ``None`` if it was inspected meanwhile."""
    evidence, blob, done = load(session, evidence_id)
    if done:
        return None
    report = analysis.report or {}
    cross = report.get("cross_check") or {}
    warnings = list(cross.get("warnings") or [])
    filled = _fill_from_file(session, principal, evidence, cross.get("fills") or [], warnings)
    _fiscal_year_against_issue_date(session, evidence, warnings)
    reason = _failure_reason(analysis)
    failed = reason is not None
    inspection = Inspection(evidence_id=evidence.id, blob_id=blob.id,
                            status="failed" if failed else "inspected", pdfa=analysis.pdfa,
                            report=report, warnings=warnings, filled=filled, error=reason)
    session.add(inspection)
    manifests.stage_inspection(session, inspection, blob)
    pdfa_ok = None if analysis.pdfa is None else bool(analysis.pdfa.get("compliant"))
    session.execute(sa.update(Evidence).where(Evidence.id == evidence.id).values(
        status="inspection_failed" if failed else "inspected", pdfa_compliant=pdfa_ok))
    audit.record(session, actor=principal, action="evidence.inspect", target_type="evidence",
                 target_id=evidence.id, org_id=evidence.org_id,
                 details={"status": inspection.status, "pdfa_compliant": pdfa_ok,
                          "pdfa_flavour": (analysis.pdfa or {}).get("flavour"),
                          "warnings": len(warnings), "filled": filled,
                          "error": reason})
    events.changed(session, [evidence.id], "inspection")
    if blob.media_type in _SCAN_TYPES and evidence.status != "destroyed":
        # Scans next: OCR, the PDF/A rendition and fields read from the text
        # (archive.inspection.renditions), after the inspection that reports on the file.
        enqueue(session, "ocr", {"evidence_id": str(evidence.id)},
                dedup_key=f"ocr:{evidence.id}:{blob.id}")
    return inspection


_SCAN_TYPES = ("image/jpeg", "image/png", "image/tiff", "application/pdf")


# The inspection itself could not finish (as opposed to a file that fails a check).
_ABORTED = ("timeout", "memory", "crashed")


def _failure_reason(analysis: Analysis) -> str | None:
    if analysis.error:
        return analysis.error
    for err in (analysis.report or {}).get("errors") or []:
        if err.get("kind") in _ABORTED:
            return f"{err.get('section')}: {err.get('message')}"
    pdfa_error = (analysis.pdfa or {}).get("error") or ""
    if any(word in pdfa_error for word in ("too long", "out of memory", "crashed")):
        return f"PDF/A check: {pdfa_error}"
    return None


def _fill_from_file(session: Session, principal: Principal, evidence: Evidence,
                    fills: list[dict[str, Any]], warnings: list[dict[str, Any]]) -> list[str]:
    """Fill fields the uploader left empty; values that fail our own validation (a tax ID
    with a wrong check digit, say) are not filled but reported as warnings."""
    changes: dict[str, Any] = {}
    for fill in fills:
        field = fill.get("field")
        if field not in TYPED_FIELDS or getattr(evidence, field) not in (None, ""):
            continue
        try:
            parse_metadata(EvidenceUpdate, {field: fill.get("value")})
        except ArchiveError as exc:
            problems = cast(list[dict[str, str]], exc.detail)
            said = message("crosscheck.fill_invalid", "the file gives {value}, which is not "
                           "valid here: {problem}", value=repr(fill.get("value")),
                           problem=problems[0]["message"])
            warnings.append({"field": field, "typed": None, "found": fill.get("value"),
                             "message": said, "msg": said.as_dict()})
            continue
        changes[field] = fill.get("value")
    if not changes:
        return []
    update = parse_metadata(EvidenceUpdate, {**changes, "reason": "filled from the file"})
    source = None
    if update.issue_date is not None and evidence.fiscal_year_source == "upload_date":
        # The fiscal year was only defaulted from the upload day: it follows the issue
        # date the file gives, in the same (one) audited change.
        derived = fiscal_year(update.issue_date)
        if derived != evidence.fiscal_year:
            changes["fiscal_year"] = derived
            update = parse_metadata(EvidenceUpdate, {**changes,
                                                     "reason": "filled from the file"})
            source = "issue_date"
    service.update(session, principal, evidence.id, update, fiscal_year_source=source)
    return sorted(changes)


def _fiscal_year_against_issue_date(session: Session, evidence: Evidence,
                                    warnings: list[dict[str, Any]]) -> None:
    """A typed (or confirmed) fiscal year in another fiscal year than the issue date is a
    warning (a defaulted one was re-derived with the fill, :func:`_fill_from_file`)."""
    session.refresh(evidence)
    if evidence.issue_date is None:
        return
    date_year = fiscal_year(evidence.issue_date)
    if evidence.fiscal_year == date_year:
        return
    warnings.append({"field": "fiscal_year", "typed": evidence.fiscal_year,
                     "found": date_year,
                     "message": (said := message(
                         "crosscheck.fiscal_year", "fiscal year {value} is not the fiscal year "
                         "of the issue date {date} ({date_year})", value=evidence.fiscal_year,
                         date=evidence.issue_date.isoformat(), date_year=date_year)),
                     "msg": said.as_dict()})


def get(session: Session, principal: Principal, evidence_id: uuid.UUID) -> Inspection | None:
    """The stored inspection of a record the principal may read (scope checked)."""
    service.get(session, principal, evidence_id, audit_read=False)
    return session.get(Inspection, evidence_id)
