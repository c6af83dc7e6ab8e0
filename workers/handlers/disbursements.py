"""Job handlers of the disbursement domain: the national recompute of findings (double
payments across every organisation, split purchases, completeness after a profile change).
"""

from __future__ import annotations

import time
from typing import Any

from archive.disbursements import recompute
from archive.disbursements import service as _service  # noqa: F401 - subscribes to evidence events
from workers.registry import JobContext, handler


@handler("disbursements_recompute")
def disbursements_recompute(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Recompute every voucher's findings (``{"scope": "national"}``) or those of some
    organisations (``{"org_ids": [...]}``), committing batch by batch. Safe to run twice:
    a recompute replaces the findings it computes."""
    org_ids = payload.get("org_ids")
    started = time.monotonic()
    def progress(state: dict[str, Any]) -> None:
        ctx.progress(state)
        ctx.check_cancelled()

    out = recompute.recompute_all(ctx.session, org_ids=org_ids, progress=progress)
    seconds = time.monotonic() - started
    return {"vouchers": out.vouchers, "findings": out.findings, "seconds": round(seconds, 3),
            "vouchers_per_second": round(out.vouchers / seconds, 1) if seconds else None}
