"""The retention domain's scheduled jobs, for the scheduler to enqueue.

Each entry: ``kind`` (a job handler in ``workers/handlers/retention.py``), ``cron`` (keyword
arguments of APScheduler's ``CronTrigger``, Thai time) and ``payload``. Every handler is
idempotent, so a run enqueued twice (two scheduler replicas, a restart) does no harm.
"""

from __future__ import annotations

from typing import Any

TZ = "Asia/Bangkok"

SCHEDULE: list[dict[str, Any]] = [
    # ข้อ 66: survey within 60 days after the calendar year ends — 15 January, with a
    # second pass on 15 February for anything that became eligible or was missed.
    # It only drafts lists; nothing is destroyed without the approvals.
    {"kind": "retention_survey", "cron": {"month": "1,2", "day": "15", "hour": "2",
                                          "minute": "0", "timezone": TZ}, "payload": {}},
    # The store's lock follows the records (extend-only) and mirrors holds: daily.
    {"kind": "retention_sync_locks", "cron": {"hour": "3", "minute": "30", "timezone": TZ},
     "payload": {}},
    # Records whose retention is not computed yet, or provisional dates that became final.
    {"kind": "retention_recompute", "cron": {"day_of_week": "sun", "hour": "4",
                                             "minute": "0", "timezone": TZ},
     "payload": {"stale": True}},
    # Deletes the store refused earlier (its lock had not ended) and their certificates;
    # executions whose job gave up (attempts used up) finished and certified.
    {"kind": "disposition_purge", "cron": {"hour": "4", "minute": "30", "timezone": TZ},
     "payload": {}},
]
