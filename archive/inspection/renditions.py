"""Scans after inspection: OCR, the PDF/A rendition beside the original, fields from text.

The ``ocr`` job (enqueued by :func:`archive.inspection.records.record` for images and
PDFs) calls :func:`analyse` (no database: the bytes are fetched to a private folder, OCR
runs in a limited child, the rendition is checked with the project's own PDF/A checker)
and then :func:`record` in one unit of work:

* the rendition's bytes are stored first (content-addressed, locked as long as the
  original), then its ``renditions`` row and an ``evidence.rendition`` audit event;
* the inspection report gains a ``scan`` section: what OCR did (or why not: limits,
  ``not_available``), page quality (dpi, blank pages, skew), the fields read from the text
  with their confidence and line, *suggestions* for empty metadata (never applied) and
  warnings where typed metadata contradicts the text (added to the record's warnings).

The original's bytes and blob are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import audit, clock, tempfiles
from archive.accounts.principal import Principal
from archive.errors import Gone, NotFound
from archive.evidence import events, manifests, service
from archive.evidence.models import Blob, Evidence, Inspection, Rendition
from archive.inspection import sandboxed
from archive.inspection.crosscheck import text_cross_check
from archive.inspection.ocr import (
    PDF_TYPE,
    OcrOptions,
    OcrOutcome,
    scan_findings,
    tools_status,
    work_dir,
)
from archive.inspection.records import typed_metadata
from archive.inspection.textfields import read_fields
from archive.pdfa.isolated import check_pdfa_isolated
from archive.sandbox import SandboxError, run_limited
from archive.storage import ObjectStore
from archive.storage.verified import read_verified

KIND = "ocr_pdfa"
RENDITION_NAME = "rendition.pdf"


@dataclass
class ScanAnalysis:
    outcome: OcrOutcome
    pdfa: dict[str, Any] | None = None


def scanned(inspection: Inspection) -> bool:
    """Whether the scan section is recorded (one that said the OCR tools were missing may
    be replaced: ``archive jobs run ocr --payload '{"evidence_id": …}'`` once installed)."""
    scan = (inspection.report or {}).get("scan")
    return scan is not None and (scan.get("ocr") or {}).get("status") != "not_available"


def load(session: Session, evidence_id: uuid.UUID) -> tuple[Evidence, Blob, Inspection | None]:
    row = session.execute(sa.select(Evidence, Blob).join(Blob, Blob.id == Evidence.blob_id)
                          .where(Evidence.id == evidence_id)).first()
    if row is None:
        raise NotFound(f"no evidence record {evidence_id}")
    return row[0], row[1], session.get(Inspection, evidence_id)


@contextlib.contextmanager
def analyse(store: ObjectStore, blob: Blob, *, tmp_dir: Path,
            options: OcrOptions) -> Iterator[ScanAnalysis]:
    """OCR the blob's bytes; the rendition (``outcome.output``) lives until the block ends."""
    tools = tools_status(options.ocrmypdf, options.tesseract, options.languages)
    if tools["status"] != "ok" and blob.media_type != PDF_TYPE:
        yield ScanAnalysis(OcrOutcome("not_available", tools["detail"]))
        return
    folder = work_dir(tmp_dir)
    lock = tempfiles.hold(Path(folder))       # in use: not a crash leftover
    try:
        original = os.path.join(folder, "original")
        with open(original, "wb") as out:
            for chunk in store.open(blob.store_key, blob.version_id):
                out.write(chunk)
        if tools["status"] != "ok":
            # A PDF may still have a text layer to read fields from: survey it without OCR.
            options = OcrOptions(**{**options.__dict__, "ocrmypdf": "/nonexistent/ocrmypdf"})
        try:
            result = run_limited(sandboxed.ocr_job, original, blob.media_type, folder, options,
                                 limits=options.limits)
            outcome: OcrOutcome = result.value
        except SandboxError as exc:
            status = "refused" if exc.kind in ("timeout", "memory") else "failed"
            first = exc.detail.splitlines()[0] if exc.detail else exc.kind
            outcome = OcrOutcome(status, f"{exc.kind}: {first}")
        if outcome.status == "not_available" or (tools["status"] != "ok"
                                                 and outcome.status == "failed"):
            outcome.status, outcome.reason = "not_available", tools["detail"]
        pdfa = None
        if outcome.output:
            pdfa = check_pdfa_isolated(outcome.output, "2b").to_dict()
            text = json.dumps(pdfa).replace(json.dumps(outcome.output)[1:-1], RENDITION_NAME)
            pdfa = dict(json.loads(text))
        yield ScanAnalysis(outcome, pdfa)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(lock)


def record(session: Session, store: ObjectStore, principal: Principal,
           evidence_id: uuid.UUID, analysis: ScanAnalysis, *, tmp_dir: Path) -> dict[str, Any]:
    """Store the rendition (bytes first) and the scan section of the inspection report."""
    evidence, blob, inspection = load(session, evidence_id)
    if inspection is None:
        raise NotFound("the record has not been inspected yet", code="not_inspected")
    if scanned(inspection):
        return {"skipped": "already recorded"}
    outcome = analysis.outcome
    rendition = None
    if outcome.output:
        rendition = _store_rendition(session, store, principal, evidence, blob, analysis,
                                     tmp_dir)
    fields = read_fields(outcome.text) if outcome.text.strip() else None
    warnings: list[dict[str, Any]] = []
    suggestions: list[dict[str, Any]] = []
    if fields is not None:
        warnings, suggestions = text_cross_check(typed_metadata(evidence), fields,
                                                 source=outcome.text_source)
    scan = {"ocr": outcome.summary(), "quality": outcome.quality,
            "findings": scan_findings(outcome.quality),
            "fields": fields.to_dict() if fields else None,
            "suggestions": suggestions, "warnings": warnings,
            "rendition": _rendition_view(rendition) if rendition else None}
    session.execute(sa.update(Inspection).where(Inspection.evidence_id == evidence.id).values(
        report={**(inspection.report or {}), "scan": scan},
        warnings=[*(inspection.warnings or []), *warnings]))
    # The store describes the completed report too (a new inspection object, the latest).
    manifests.stage_inspection(session, inspection, blob, revised_at=clock.now())
    events.changed(session, [evidence.id], "inspection")
    return {"status": outcome.status, "reason": outcome.reason,
            "rendition": str(rendition.id) if rendition else None,
            "pdfa_compliant": rendition.pdfa_compliant if rendition else None,
            "warnings": len(warnings), "suggestions": len(suggestions)}


def _store_rendition(session: Session, store: ObjectStore, principal: Principal,
                     evidence: Evidence, source: Blob, analysis: ScanAnalysis,
                     tmp_dir: Path) -> Rendition:
    existing = session.scalar(sa.select(Rendition).where(
        Rendition.evidence_id == evidence.id, Rendition.kind == KIND,
        Rendition.source_blob_id == source.id))
    if existing is not None:
        return existing
    assert analysis.outcome.output is not None
    blob = service.store_derived(session, store, Path(analysis.outcome.output),
                                 media_type=PDF_TYPE, retain_until=source.retain_until,
                                 tmp_dir=tmp_dir)
    pdfa = analysis.pdfa or {}
    outcome = analysis.outcome
    row = Rendition(evidence_id=evidence.id, kind=KIND, source_blob_id=source.id,
                    blob_id=blob.id, pdfa_flavour=pdfa.get("flavour") or "2b",
                    pdfa_compliant=bool(pdfa.get("compliant")), pdfa=pdfa,
                    made_by={**outcome.engine, "pages": outcome.pages,
                             "ocr_pages": outcome.ocr_pages,
                             "seconds": round(outcome.seconds, 2)})
    session.add(row)
    session.flush()
    audit.record(session, actor=principal, action="evidence.rendition", target_type="evidence",
                 target_id=evidence.id, org_id=evidence.org_id,
                 details={"rendition_id": str(row.id), "kind": KIND, "sha256": blob.sha256,
                          "size": blob.size, "source_sha256": source.sha256,
                          "pdfa_flavour": row.pdfa_flavour,
                          "pdfa_compliant": row.pdfa_compliant,
                          "pdfa_failures": len(pdfa.get("failures") or []),
                          "pdfa_error": pdfa.get("error")})
    # The store describes the rendition too (issue 18): a link object beside the record's
    # manifests, so the bytes' meaning survives the loss of the database.
    manifests.stage_link(session, evidence_id=evidence.id, kind="rendition", action="link",
                         target=link_target(row, blob, source), by=principal.name,
                         at=row.created_at)
    return row


def link_target(row: Rendition, blob: Blob, source: Blob) -> dict[str, Any]:
    """The rendition as its record's link object names it: enough to restore the row."""
    return {"rendition_id": str(row.id), "kind": row.kind, "sha256": blob.sha256,
            "size": blob.size, "source_sha256": source.sha256,
            "pdfa_flavour": row.pdfa_flavour, "pdfa_compliant": row.pdfa_compliant,
            "media_type": blob.media_type, "pdfa": row.pdfa, "made_by": row.made_by}


def _rendition_view(row: Rendition) -> dict[str, Any]:
    return {"id": str(row.id), "pdfa_flavour": row.pdfa_flavour,
            "pdfa_compliant": row.pdfa_compliant}


# -- reading ---------------------------------------------------------------------------

def list_for(session: Session, principal: Principal,
             evidence_id: uuid.UUID) -> list[tuple[Rendition, Blob]]:
    """The renditions of a record the principal may read (scope checked like the record)."""
    service.get(session, principal, evidence_id, audit_read=False)
    return [(r, b) for r, b in session.execute(
        sa.select(Rendition, Blob).join(Blob, Blob.id == Rendition.blob_id)
        .where(Rendition.evidence_id == evidence_id).order_by(Rendition.created_at))]


def get(session: Session, principal: Principal, evidence_id: uuid.UUID,
        rendition_id: uuid.UUID) -> tuple[Evidence, Rendition, Blob]:
    evidence, _, _ = service.get(session, principal, evidence_id, audit_read=False)
    row = session.execute(sa.select(Rendition, Blob).join(Blob, Blob.id == Rendition.blob_id)
                          .where(Rendition.id == rendition_id,
                                 Rendition.evidence_id == evidence_id)).first()
    if row is None:
        raise NotFound("no such rendition of this record")
    return evidence, row[0], row[1]


def open_content(session: Session, store: ObjectStore, principal: Principal,
                 evidence: Evidence, rendition: Rendition, blob: Blob, *,
                 verify_limit: int = 0,
                 on_mismatch: Callable[[str], None] = lambda detail: None) -> Iterator[bytes]:
    """The rendition's bytes, re-hashed against its SHA-256 like an original's
    (``archive.storage.verified``); the download is recorded in the audit trail."""
    if evidence.status == "destroyed" or blob.deleted_at is not None:
        raise Gone("the record was destroyed by an approved disposition")
    audit.record(session, actor=principal, action="evidence.rendition_download",
                 target_type="evidence", target_id=evidence.id, org_id=evidence.org_id,
                 details={"rendition_id": str(rendition.id), "sha256": blob.sha256})
    return read_verified(store, blob.store_key, blob.version_id, sha256=blob.sha256,
                         size=blob.size, offset=0, length=blob.size,
                         verify_limit=verify_limit, on_mismatch=on_mismatch)
