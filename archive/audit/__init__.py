"""The audit trail: ``record`` appends a hash-chained event in the caller's transaction."""

from archive.audit.service import record

__all__ = ["record"]
