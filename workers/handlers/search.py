"""Job handlers of the search domain: text extraction and evidence packs."""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any

from archive import tempfiles
from archive.evidence.models import Blob
from archive.search import exports, extract
from archive.search import service as search
from archive.search.models import BlobText
from workers.registry import JobContext, handler


@handler("extract_text")
def extract_text(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Extract the text of blob ``payload["blob_id"]`` for full-text search.

    Safe to run twice: a blob whose text is already stored is skipped (unless
    ``payload["force"]``) and storing is an upsert. A file that cannot be parsed (hostile,
    broken, too slow) is a result with an error, not a failed job: retrying would not help.
    """
    blob_id = int(payload["blob_id"])
    with ctx.session() as session:
        blob = session.get(Blob, blob_id)
        if blob is None:
            return {"skipped": "no such blob"}
        if blob.deleted_at is not None:
            return {"skipped": "destroyed"}
        done = session.get(BlobText, blob_id)
        if done is not None and done.error is None and not payload.get("force"):
            return {"skipped": "already extracted", "chars": done.chars}
        key, version_id, media_type = blob.store_key, blob.version_id, blob.media_type
    if media_type not in extract.PDF_TYPES + extract.XML_TYPES:
        result = extract.Extracted("none", text="")
    else:
        tmp_dir = ctx.settings.tmp_dir
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(dir=tmp_dir, suffix=".extract")
        lock = tempfiles.hold(path)      # in use: not a crash leftover
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in ctx.store.open(key, version_id):
                    out.write(chunk)
            result = extract.extract_file(path, media_type)
        finally:
            os.unlink(path)
            os.close(lock)
    with ctx.session() as session:
        search.store_text(session, blob_id, text=result.text, error=result.error,
                          extractor=result.extractor)
    return {"extractor": result.extractor, "chars": len(result.text or ""),
            "error": result.error, "truncated": result.truncated}


__all__ = ["extract_text"]


@handler("export")
def export(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Build the evidence pack of export ``payload["export_id"]`` and store it."""
    def report(state: dict[str, Any]) -> None:
        ctx.progress(state)
        ctx.check_cancelled()

    return exports.run_export(ctx.session, ctx.store, uuid.UUID(payload["export_id"]),
                              work_dir=ctx.settings.tmp_dir / "exports", report=report,
                              reads=ctx.reads.as_of_now if ctx.reads else None)
