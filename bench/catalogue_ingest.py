"""What writing the catalogue costs an upload: ingest through the service layer with the
record manifest written at commit, against the same ingest with the catalogue switched off
(the baseline), in alternating rounds of the same run.

    python bench/catalogue_ingest.py [--files 200] [--rounds 3] [--size 51200]
                                     [--s3 HOST:PORT --access-key … --secret-key …]

SQLite + the local folder by default; ``--s3`` points at an S3 server with Object Lock
(a SeaweedFS or MinIO on 127.0.0.1) for the store, still with SQLite. Reports docs/s of
each and the ratio (catalogue / baseline).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.catalogue_common import add_store_args, setup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=50 * 1024)
    add_store_args(parser)
    args = parser.parse_args()

    from archive.evidence import service
    from archive.evidence.intake import Spool
    from archive.evidence.schemas import EvidenceMetadata
    from archive.unit_of_work import session_scope

    bench = setup(args, "bench-catalogue-")
    tmp, store, sessions, actor = bench.tmp, bench.store, bench.sessions, bench.actor
    policy = service.IngestPolicy(allowed_media_types=("application/pdf",),
                                  retention_years=10)
    meta = EvidenceMetadata(org_code="1234567", doc_type="receipt", fiscal_year=2568)
    counter = [0]

    def upload() -> None:
        counter[0] += 1
        body = b"%PDF-1.4\n" + counter[0].to_bytes(8, "big") + os.urandom(args.size - 17)
        spool = Spool(max_bytes=args.size * 2, memory_limit=args.size * 2, tmp_dir=tmp)
        spool.write(body)
        spool.finish()
        with session_scope(sessions) as s:
            service.ingest(s, store, actor, spool=spool, meta=meta, filename="r.pdf",
                           client_media_type=None, policy=policy)

    def rate(with_catalogue: bool) -> float:
        bench.switch(with_catalogue)
        start = time.perf_counter()
        for _ in range(args.files):
            upload()
        return args.files / (time.perf_counter() - start)

    rate(True)     # warm-up
    ratios = []
    for n in range(args.rounds):
        base = rate(False)
        cat = rate(True)
        ratios.append(cat / base)
        print(f"round {n + 1}: catalogue {cat:.1f} docs/s, baseline {base:.1f} docs/s, "
              f"ratio {cat / base:.2f}")
    print(f"median ratio {statistics.median(ratios):.2f} ({args.files} files of "
          f"{args.size} bytes per side and round, {store.describe()})")


if __name__ == "__main__":
    main()
