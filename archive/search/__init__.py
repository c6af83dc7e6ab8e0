"""Auditor search (metadata filters, Thai trigram full text) and verifiable evidence packs."""
