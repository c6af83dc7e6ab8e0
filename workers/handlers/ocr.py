"""Handler of the ``ocr`` job: scans after inspection (archive/inspection/renditions.py)."""

from __future__ import annotations

import uuid
from typing import Any

from archive.accounts.principal import system_principal
from archive.inspection import renditions
from archive.inspection.ocr import OcrOptions
from archive.search import service as search
from workers.registry import JobContext, handler


@handler("ocr")
def ocr_scan(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """OCR a scanned record: PDF/A rendition beside the original, OCR text for search,
    page quality and the fields read from the text in the inspection report.

    Safe to run twice: a record whose report has its scan section is skipped, and the
    rendition is stored under its content address with a unique row per source blob. A
    scan stopped by a limit or without OCR tools is a result (a report), not a failure."""
    evidence_id = uuid.UUID(payload["evidence_id"])
    with ctx.session() as s:
        evidence, blob, inspection = renditions.load(s, evidence_id)
        if evidence.status == "destroyed":
            return {"skipped": "destroyed"}
        if inspection is None:
            return {"skipped": "not inspected"}
        if renditions.scanned(inspection):
            return {"skipped": "already done"}
        if not ctx.settings.ocr_enabled:
            return {"skipped": "OCR is switched off (ARCHIVE_OCR_ENABLED)"}
        s.expunge(blob)
    options = OcrOptions.from_settings(ctx.settings)
    with renditions.analyse(ctx.store, blob, tmp_dir=ctx.settings.tmp_dir,
                            options=options) as analysis:
        ctx.check_cancelled()
        with ctx.session() as s:
            result = renditions.record(s, ctx.store, system_principal("worker"), evidence_id,
                                       analysis, tmp_dir=ctx.settings.tmp_dir)
            outcome = analysis.outcome
            if outcome.status == "done" and outcome.text.strip() \
                    and "skipped" not in result:
                # The OCR text is the scan's text for search (marked as OCR in results);
                # a PDF's own text layer stays what extract_text found.
                search.store_text(s, blob.id, text=outcome.text, extractor="ocr")
    return result
