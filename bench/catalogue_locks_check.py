"""What `archive verify`'s check of catalogue objects' locks costs (locks.check_catalogue):
listings and objects' locks read, and time, against the rest of `archive verify
--no-rehash` (the baseline) on the same archive in the same run.

    python bench/catalogue_locks_check.py [--records 300] [--rounds 3]
                                          [--s3 HOST:PORT --access-key … --secret-key …]

The archive: ``--records`` records ingested through the service layer, a third of them
linked each to its own voucher (reviewed once), a hold on 20 of them and an audit closure
of their year. SQLite + the local folder by default; ``--s3`` points at an S3 server with
Object Lock (SeaweedFS or MinIO) for the store. On S3 a listing is one request per 1,000
keys and reading an object's lock (``store.stat``) three (HEAD, retention, legal hold).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.catalogue_common import add_store_args, setup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    add_store_args(parser)
    args = parser.parse_args()

    from archive.disbursements import service as vouchers
    from archive.disbursements.schemas import DisbursementCreate, ReviewIn
    from archive.evidence import service
    from archive.evidence.intake import Spool
    from archive.evidence.schemas import EvidenceMetadata
    from archive.integrity.verify import verify
    from archive.retention import holds, locks
    from archive.retention.schemas import ClosureIn, HoldIn
    from archive.unit_of_work import session_scope

    bench = setup(args, "bench-catalogue-locks-")
    tmp, store, sessions, actor = bench.tmp, bench.store, bench.sessions, bench.actor
    policy = service.IngestPolicy(allowed_media_types=("application/pdf",),
                                  retention_years=10)
    meta = EvidenceMetadata(org_code="1234567", doc_type="receipt", fiscal_year=2568)
    ids = []
    for n in range(args.records):
        body = b"%PDF-1.4\n" + n.to_bytes(8, "big") + os.urandom(2000)
        spool = Spool(max_bytes=4096, memory_limit=4096, tmp_dir=tmp)
        spool.write(body)
        spool.finish()
        with session_scope(sessions) as s:
            ids.append(service.ingest(s, store, actor, spool=spool, meta=meta,
                                      filename="r.pdf", client_media_type=None,
                                      policy=policy).evidence.id)
        if n % 3 == 0:
            with session_scope(sessions) as s:
                data = DisbursementCreate(
                    org_code="1234567", voucher_no=f"{n}/2568",
                    voucher_date=dt.date(2025, 1, 1) + dt.timedelta(days=n % 300),
                    kind="other", payee_name="ร้านวัสดุ", gross_amount=Decimal("1200.00"),
                    net_amount=Decimal("1200.00"), payment_method="cash")
                vid = vouchers.create(s, actor, data).id
                vouchers.link(s, actor, vid, evidence_id=ids[-1], role="receipt")
                vouchers.add_review(s, actor, vid, ReviewIn(outcome="observation",
                                                            note="bench"))
    with session_scope(sessions) as s:
        holds.create_hold(s, actor, HoldIn(reason="bench", record_ids=ids[:20]))
        holds.record_closure(s, actor, ClosureIn(org_code="1234567", fiscal_year=2568,
                                                 result="no_objection",
                                                 closed_on=dt.date(2026, 1, 10)))

    calls = {"list_objects": 0, "stat": 0}
    for name in calls:
        original = getattr(store, name)

        def counted(*a: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            calls[_name] += 1
            return _original(*a, **kw)

        setattr(store, name, counted)

    def timed(fn: Any) -> tuple[float, dict[str, int], Any]:
        for name in calls:
            calls[name] = 0
        start = time.perf_counter()
        with session_scope(sessions) as s:
            out = fn(s)
        return time.perf_counter() - start, dict(calls), out

    runs: dict[str, list[float]] = {}
    for n in range(args.rounds):
        base, base_calls, _ = timed(lambda s: verify(s, store, rehash=False))
        line = [f"verify --no-rehash {base * 1000:.0f} ms ({base_calls})"]
        for label, sample in (("sample 200", 200), ("all", None)):
            took, used, (records, report) = timed(
                lambda s, k=sample: locks.check_catalogue(s, store, sample=k))
            assert not report.short, report.short[:3]
            runs.setdefault(label, []).append(took / base)
            line.append(f"{label}: {records} records, {took * 1000:.0f} ms "
                        f"(×{took / base:.1f}), {used['list_objects']} listings, "
                        f"{used['stat']} locks read, "
                        f"{(used['stat'] / records) if records else 0:.1f} a record")
        print(f"round {n + 1}: " + "; ".join(line))
    print("median ratios to verify --no-rehash: " + ", ".join(
        f"{label} ×{statistics.median(r):.1f}" for label, r in runs.items())
          + f" ({args.records} records, {store.describe()})")


if __name__ == "__main__":
    main()
