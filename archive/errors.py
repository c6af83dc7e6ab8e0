"""Core errors: plain exceptions with a stable machine-readable code.

The API maps them to HTTP status codes in one place (``api/errors.py``); the CLI prints
``detail`` and exits non-zero. Nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import Any


class ArchiveError(Exception):
    code = "error"
    # Set by ``archive.audit.audited_refusal``: the refusal the unit of work records.
    refused_attempt: dict[str, Any] | None = None

    def __init__(self, detail: Any = None, *, code: str | None = None) -> None:
        self.detail = detail if detail is not None else self.__class__.__doc__
        if code:
            self.code = code
        super().__init__(str(self.detail))


class InvalidInput(ArchiveError):
    """The input is not acceptable."""
    code = "invalid_input"


class NotFound(ArchiveError):
    """No such thing (or not in your scope)."""
    code = "not_found"


class Conflict(ArchiveError):
    """The request conflicts with the current state."""
    code = "conflict"


class PayloadTooLarge(ArchiveError):
    """The upload is larger than allowed."""
    code = "payload_too_large"


class UnsupportedMediaType(ArchiveError):
    """The file's bytes are not of an accepted type."""
    code = "unsupported_media_type"


class Unauthenticated(ArchiveError):
    """No valid credentials."""
    code = "unauthenticated"


class PermissionDenied(ArchiveError):
    """Your role may not do this."""
    code = "forbidden"


class RetentionLocked(ArchiveError):
    """The object is under retention or legal hold and cannot be changed or deleted."""
    code = "retention_locked"


class Gone(ArchiveError):
    """The record was destroyed by an approved disposition."""
    code = "gone"


class StoreUnavailable(ArchiveError):
    """The object store cannot be reached."""
    code = "store_unavailable"


class StoreIntegrityError(ArchiveError):
    """The object store returned something other than what was written."""
    code = "store_integrity"


class DatabaseUnavailable(ArchiveError):
    """The database cannot be reached."""
    code = "database_unavailable"


class PreconditionFailed(Conflict):
    """The record changed since it was read (a stale ``If-Match``)."""
    code = "precondition_failed"


class PreconditionRequired(ArchiveError):
    """A conditional request is required (``If-Match``) so that concurrent edits cannot
    silently overwrite each other."""
    code = "precondition_required"


class IntegrityFailure(StoreIntegrityError):
    """The stored bytes no longer hash to the archive's SHA-256: they are not served."""
    code = "integrity_failure"
