"""What describing vouchers in the store costs a voucher write (issue 18): registering a
voucher, correcting it and recording a review through the service layer, with the
catalogue objects written at commit, against the same with the catalogue switched off
(the baseline), voucher by voucher alternately in the same run.

    python bench/catalogue_vouchers.py [--vouchers 300] [--rounds 3]
                                       [--s3 HOST:PORT --access-key … --secret-key …]

SQLite + the local folder by default; ``--s3`` points at an S3 server with Object Lock
(a SeaweedFS or MinIO on 127.0.0.1) for the store, still with SQLite. Reports the mean
milliseconds of each operation with and without, and the ratios (catalogue / baseline).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.catalogue_common import add_store_args, setup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vouchers", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    add_store_args(parser)
    args = parser.parse_args()

    from archive.disbursements import service
    from archive.disbursements.schemas import DisbursementCreate, DisbursementUpdate, ReviewIn
    from archive.unit_of_work import session_scope

    bench = setup(args, "bench-catalogue-vouchers-")
    store, sessions, actor = bench.store, bench.sessions, bench.actor
    counter = [0]
    timings: dict[str, list[float]] = {}

    def timed(name: str, fn: object) -> object:
        start = time.perf_counter()
        with session_scope(sessions) as s:
            out = fn(s)  # type: ignore[operator]
        timings.setdefault(name, []).append(time.perf_counter() - start)
        return out

    def one() -> None:
        counter[0] += 1
        data = DisbursementCreate(
            org_code="1234567", voucher_no=f"{counter[0]}/2568",
            voucher_date=dt.date(2025, 1, 1) + dt.timedelta(days=counter[0] % 300),
            kind="other", payee_name="ร้านวัสดุ", gross_amount=Decimal("1200.00"),
            net_amount=Decimal("1200.00"), payment_method="cash")
        vid = timed("create", lambda s: service.create(s, actor, data).id)
        timed("update", lambda s: service.update(s, actor, vid, DisbursementUpdate(
            payee_name="ร้านวัสดุ ก่อสร้าง", reason="bench")))
        timed("review", lambda s: service.add_review(s, actor, vid, ReviewIn(
            outcome="observation", note="bench")))

    def run() -> tuple[dict[str, float], dict[str, float]]:
        """Interleaved: each voucher alternately with and without (the box's load
        drifts during a run; pairs see the same load)."""
        sums: dict[bool, dict[str, list[float]]] = {True: {}, False: {}}
        for i in range(2 * args.vouchers):
            with_catalogue = bool(i % 2)
            bench.switch(with_catalogue)
            timings.clear()
            one()
            for op, v in timings.items():
                sums[with_catalogue].setdefault(op, []).extend(v)
        mean = {w: {op: statistics.mean(v) * 1000 for op, v in d.items()}
                for w, d in sums.items()}
        return mean[True], mean[False]

    bench.switch(True)
    for _ in range(20):      # warm-up
        one()
    ratios: dict[str, list[float]] = {}
    for n in range(args.rounds):
        cat, base = run()
        for op in base:
            ratios.setdefault(op, []).append(cat[op] / base[op])
        print(f"round {n + 1}: " + "; ".join(
            f"{op} {cat[op]:.2f} ms vs {base[op]:.2f} ms (×{cat[op] / base[op]:.2f})"
            for op in base))
    print("median ratios: " + ", ".join(f"{op} ×{statistics.median(r):.2f}"
                                        for op, r in ratios.items())
          + f" ({args.vouchers} vouchers per side and round, interleaved, "
            f"{store.describe()})")


if __name__ == "__main__":
    main()
