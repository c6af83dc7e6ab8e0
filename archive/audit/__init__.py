"""The audit trail: ``record`` appends a hash-chained event in the caller's transaction;
``audited_refusal`` has a refused attempt recorded by the unit of work."""

from archive.audit.service import audited_refusal, record

__all__ = ["audited_refusal", "record"]
