"""The hash of one metadata version of a record.

``version_hash`` = SHA-256 over the canonical JSON of the record's identity, its version
number, the fields anyone may correct (``METADATA_FIELDS``) and those fixed at ingest
(organisation, file name, uploader), the SHA-256 of its bytes, and the hash of the
previous version — so a record's versions form a chain, and each version is bound to
the bytes it describes.

The hash is written on the row (``evidence.meta_hash``; each history row keeps the hash
of the version it holds) and into the audit event of the change that made the version
(``evidence.create``, ``evidence.update``, ``evidence.seal``). The rows can be rewritten
by anyone with database access; the audit events cannot without breaking the audit chain
and its locked checkpoints. ``archive verify`` therefore recomputes each record's current
version and compares it with the hash its latest audit event recorded.

State the archive maintains by itself (status, PDF/A verdict, holds, retention dates) is
not part of a version: it changes without a correction and is recomputed from rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from archive.evidence.schemas import METADATA_FIELDS

FORMAT = "evidence-archive.record-version/1"
FIXED_FIELDS = ("org_id", "original_filename", "uploaded_by")
HASHED_FIELDS = METADATA_FIELDS + FIXED_FIELDS
# The audit actions whose details carry ``meta_hash`` and ``version`` (``evidence.restore``:
# a version rebuilt from its manifest in the store whose own event was lost with the
# database, ``archive rebuild --from-store``).
HASHED_ACTIONS = ("evidence.create", "evidence.update", "evidence.seal", "evidence.restore")

_CENT = Decimal("0.01")


def canonical_value(value: Any) -> Any:
    """One spelling per value, whichever database it was read from."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value.quantize(_CENT))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def fields_of(row: Any) -> dict[str, Any]:
    """The hashed fields of an ``Evidence`` (or any object/mapping with its attributes)."""
    get = row.get if isinstance(row, Mapping) else lambda f: getattr(row, f)
    return {f: canonical_value(get(f)) for f in HASHED_FIELDS}


def version_hash(*, evidence_id: uuid.UUID | str, version: int, fields: Mapping[str, Any],
                 blob_sha256: str, previous: str | None) -> str:
    body = {"format": FORMAT, "record": str(evidence_id), "version": version,
            "fields": {f: canonical_value(fields.get(f)) for f in HASHED_FIELDS},
            "sha256": blob_sha256, "previous": previous}
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def hash_of_row(row: Any, *, blob_sha256: str, previous: str | None) -> str:
    return version_hash(evidence_id=row.id, version=row.version, fields=fields_of(row),
                        blob_sha256=blob_sha256, previous=previous)
