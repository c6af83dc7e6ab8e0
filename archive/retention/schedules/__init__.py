"""Retention schedules as core data: every record gets one at ingest (see ``models``)."""
