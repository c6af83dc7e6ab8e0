"""The self-describing store: the catalogue written into the write-once store as well.

The database is the archive's index; the store holds, beside the bytes, everything needed
to rebuild that index (``archive rebuild --from-store``). Every object is canonical JSON
(sorted keys, UTF-8) with a ``format`` field naming its kind and version, locked like the
bytes it describes, and written before the rows it mirrors are committed (the write-order
rule): a crash in between leaves an object the database does not know, never a row the
store cannot describe.

Layout (``catalogue/`` prefix; the bytes stay under ``sha256/``, the audit trail's
checkpoints and segments under ``audit/``, certificates under ``disposition/``)::

    catalogue/records/<evidence id>/<version:06d>-<meta hash>.json   one per metadata version
    catalogue/batches/<batch uuid>.json          a batch upload's version-1 manifests (many)
    catalogue/inspections/<evidence id>/<sha256 of the document>.json
    catalogue/links/<evidence id>/<time>-<sha256>.json               voucher links (kind: …)
    catalogue/tombstones/<evidence id>.json
    catalogue/orgs/<org id:09d>/<time>-<sha256>.json                 each organisation's state
    catalogue/schedules/<time>-<sha256>.json                         every schedule + doc types

``<time>`` is ``YYYYMMDDTHHMMSSffffff`` (UTC), so the latest snapshot is the last key in
listing order. Readers ignore formats and link kinds they do not know (a ``rendition`` link
can be added without changing the record manifests).
"""
