"""Ingest throughput against its natural limit, measured in the same run.

Starts PostgreSQL (or uses the local one) and SeaweedFS, runs ``archive serve`` on them,
then for each file size:

  (a) uploads N generated PDFs through the HTTP API with C concurrent clients;
  (b) PUTs the same bytes straight into a bucket with the minio SDK, same concurrency
      (with the same COMPLIANCE retention an archive object gets);
  (d) uploads the same number of files through POST /api/v1/evidence/batch, B files per
      request, a few requests at once (the bulk path for migrating a backlog).

and prints documents/s, MB/s and the ratio (a)/(b). Usage:

    python bench/ingest.py [--n-small 3000] [--n-large 60] [--concurrency 8] [--rounds 3]
                           [--server-workers 2] [--bare]
                           [--batch-size 50] [--batch-concurrency 4]

``--bare`` also measures, in the same run, a deliberately bare endpoint (spool + SHA-256
+ sniff + one PUT + one INSERT, nothing else: bench/bare_app.py) as a calibration of
what this machine allows any Python endpoint.

``--cpu`` also prints, for each path and round, the CPU time (user + system, from
``/proc/<pid>/stat``) per file of each process group: the API server (its processes),
SeaweedFS, this database's PostgreSQL backends, and this client. On a machine whose
cores are all busy the throughput ratio tends to the ratio of these totals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import procstat  # noqa: E402
from tests import servers  # noqa: E402

BENCH_ORG = "5500101"   # an LAO code of the default 7-digit pattern


def make_docs(n: int, size: int) -> list[bytes]:
    """N distinct PDF-looking files of about ``size`` bytes (distinct, so no dedup)."""
    docs = []
    for i in range(n):
        head = f"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Bench {i}>> endobj\n".encode("latin-1")
        docs.append(head + os.urandom(max(0, size - len(head) - 6)) + b"\n%%EOF")
    return docs


def run_pool(concurrency: int, items: list[Any], fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in pool.map(fn, items):
            pass
    return time.perf_counter() - start


class Clients:
    """One HTTP client per pool thread, all made before the clock starts (an httpx client
    costs ~20 ms of CPU to make, its TLS context: inside a round that was a few per cent
    of the API paths' time, which the raw path's single minio client did not pay)."""

    def __init__(self, url: str, token: str, n: int, timeout: float) -> None:
        import queue
        import threading

        self._free: queue.SimpleQueue[httpx.Client] = queue.SimpleQueue()
        self._all = [httpx.Client(base_url=url, timeout=timeout,
                                  headers={"Authorization": f"Bearer {token}"})
                     for _ in range(n)]
        for client in self._all:
            self._free.put(client)
        self._mine = threading.local()

    def get(self) -> httpx.Client:
        client = getattr(self._mine, "client", None)
        if client is None:
            client = self._mine.client = self._free.get_nowait()
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()


def bench_api(url: str, token: str, docs: list[bytes], concurrency: int,
              path: str = "/api/v1/evidence") -> float:
    clients = Clients(url, token, concurrency, 120)

    def upload(doc: bytes) -> None:
        r = clients.get().post(path, data={"org_code": BENCH_ORG, "doc_type": "receipt"},
                               files={"file": ("doc.pdf", doc, "application/pdf")})
        if r.status_code != 201:
            raise RuntimeError(f"upload failed: {r.status_code} {r.text}")

    try:
        return run_pool(concurrency, docs, upload)
    finally:
        clients.close()


def bench_batch(url: str, token: str, docs: list[bytes], concurrency: int,
                batch_size: int) -> float:
    """The same files through POST /api/v1/evidence/batch, ``batch_size`` per request,
    ``concurrency`` requests at once (each must be archived: status 201)."""
    import json

    clients = Clients(url, token, concurrency, 300)
    meta = json.dumps({"org_code": BENCH_ORG, "doc_type": "receipt"})
    batches = [docs[i:i + batch_size] for i in range(0, len(docs), batch_size)]

    def send(batch: list[bytes]) -> None:
        parts: list[tuple[str, Any]] = []
        for doc in batch:
            parts += [("meta", (None, meta)), ("file", ("doc.pdf", doc, "application/pdf"))]
        r = clients.get().post("/api/v1/evidence/batch", files=parts)
        if r.status_code != 200 or r.json()["created"] != len(batch):
            raise RuntimeError(f"batch failed: {r.status_code} {r.text[:500]}")

    try:
        return run_pool(concurrency, batches, send)
    finally:
        clients.close()


def bench_raw(endpoint: str, bucket: str, docs: list[bytes], concurrency: int) -> float:
    import hashlib

    from minio import Minio
    from minio.commonconfig import COMPLIANCE
    from minio.retention import Retention

    client = Minio(endpoint, access_key=servers.ACCESS_KEY, secret_key=servers.SECRET_KEY,
                   secure=False)
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket, object_lock=True)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)

    def put(doc: bytes) -> None:
        key = hashlib.sha256(doc).hexdigest()
        client.put_object(bucket, f"raw/{key}", io.BytesIO(doc), len(doc),
                          retention=Retention(COMPLIANCE, until))

    return run_pool(concurrency, docs, put)


def _cpu_seconds(pid: int) -> float:
    stat = procstat.read(pid)
    return stat.cpu if stat is not None else 0.0


def _tree(pid: int) -> list[int]:
    """``pid`` and its children (an API server's workers, SeaweedFS's)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            found += [int(c) for c in children.read_text().split()]
    return found


def _backends(dbname: str) -> list[int]:
    """The PostgreSQL backends serving ``dbname`` (their command line names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if dbname.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class CpuMeter:
    """CPU seconds of each process group over one path's run."""

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups

    def read(self) -> dict[str, float]:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        out = {name: sum(_cpu_seconds(p) for p in pids()) for name, pids in self.groups.items()}
        return {**out, "client": usage.ru_utime + usage.ru_stime}

    @staticmethod
    def line(before: dict[str, float], after: dict[str, float], n: int) -> str:
        per = {k: 1000 * (after[k] - before[k]) / n for k in before}
        return " ".join(f"{k} {v:.2f}" for k, v in per.items()) + \
            f", total {sum(per.values()):.2f} ms CPU/file"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n-small", type=int, default=3000,
                    help="number of 50 KB files (600 until session 35: 12 batch requests a "
                         "round, whose ramp-down weighed on the batch path)")
    ap.add_argument("--n-large", type=int, default=60, help="number of 2 MB files (0: none)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; best is kept")
    ap.add_argument("--server-workers", type=int, default=2,
                    help="API processes (production runs about one per core)")
    ap.add_argument("--bare", action="store_true", help="also measure the bare endpoint")
    ap.add_argument("--cpu", action="store_true",
                    help="also print CPU time per file of each process group")
    ap.add_argument("--batch-size", type=int, default=50,
                    help="files per request of the batch path (d); 0 leaves it out")
    ap.add_argument("--batch-concurrency", type=int, default=4,
                    help="batch requests at once (at most ARCHIVE_UPLOADS_PER_ACCOUNT)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    pg = servers.start_postgres()
    dbname = pg.create_database("archive_bench")
    weed = servers.start_seaweed(work / "weed", small_volumes=False)
    port = servers.free_port()
    env = {**os.environ, "ARCHIVE_DATA_DIR": str(work / "var"),
           "ARCHIVE_DATABASE_URL": pg.url(dbname), "ARCHIVE_S3_ENDPOINT": weed.endpoint,
           "ARCHIVE_S3_ACCESS_KEY": servers.ACCESS_KEY,
           "ARCHIVE_S3_SECRET_KEY": servers.SECRET_KEY, "ARCHIVE_S3_BUCKET": "evidence-bench"}
    archive = [sys.executable, "-m", "cli"]
    server = bare = None
    try:
        subprocess.run([*archive, "db", "upgrade"], env=env, check=True, capture_output=True)
        # the bucket (with Object Lock): adding an organisation writes its catalogue snapshot
        subprocess.run([*archive, "init"], env=env, check=True, capture_output=True)
        for org in (["dla", "--name", "กรมส่งเสริมการปกครองท้องถิ่น", "--type", "dla-office"],
                    ["p-bench", "--name", "สถ.จังหวัดทดสอบ", "--type", "province",
                     "--parent", "dla"],
                    [BENCH_ORG, "--name", "อบต.ทดสอบ", "--parent", "p-bench"]):
            subprocess.run([*archive, "orgs", "add", *org], env=env, check=True,
                           capture_output=True)
        made = subprocess.run([*archive, "users", "add", "bench", "--role", "officer",
                               "--org", BENCH_ORG], env=env, check=True, capture_output=True,
                              text=True)
        token = made.stdout.strip().splitlines()[-1]
        log = open(work / "server.log", "wb")  # noqa: SIM115
        server = subprocess.Popen([*archive, "serve", "--port", str(port), "--workers",
                                   str(args.server_workers)],
                                  # one bench account sends C uploads at once (the cap
                                  # per account of issue 15 is for people, not this)
                                  env={**env, "ARCHIVE_EMBEDDED_WORKER": "false",
                                       "ARCHIVE_UPLOADS_PER_ACCOUNT": str(max(
                                           args.concurrency, args.batch_concurrency))},
                                  stdout=log, stderr=log)
        servers.wait_for_port(port, 60, server)
        url = f"http://127.0.0.1:{port}"
        httpx.get(f"{url}/readyz", timeout=30).raise_for_status()
        bare_url = None
        if args.bare:
            bare_port = servers.free_port()
            bare = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(bare_port),
                 "--workers", str(args.server_workers), "--log-level", "warning"],
                cwd=ROOT, stdout=log, stderr=log,
                env={**env, "BARE_S3": weed.endpoint, "BARE_KEY": servers.ACCESS_KEY,
                     "BARE_SECRET": servers.SECRET_KEY,
                     "BARE_DSN": pg.url(dbname).replace("postgresql+psycopg", "postgresql")})
            servers.wait_for_port(bare_port, 60, bare)
            bare_url = f"http://127.0.0.1:{bare_port}"
        print(f"server: archive serve --workers {args.server_workers}; clients: "
              f"{args.concurrency} concurrent")

        print(f"{'size':>6} {'path':<16} {'docs/s':>9} {'MB/s':>8}")
        for label, size, n in (("50KB", 50 * 1024, args.n_small),
                               ("2MB", 2 * 1024 * 1024, args.n_large)):
            if n == 0:      # --n-large 0: the 50 KB files only
                continue
            paths = {"(a) API": lambda d: bench_api(url, token, d, args.concurrency),
                     "(b) raw PUT": lambda d: bench_raw(weed.endpoint, "raw-bench", d,
                                                        args.concurrency)}
            if args.batch_size:
                paths["(d) API batch"] = lambda d: bench_batch(
                    url, token, d, args.batch_concurrency, args.batch_size)
            if bare_url:
                paths["(c) bare endpoint"] = lambda d: bench_api(bare_url, token, d,
                                                                 args.concurrency, "/upload")
            times: dict[str, list[float]] = {name: [] for name in paths}
            meter = CpuMeter({"api": lambda: _tree(server.pid),
                              "seaweedfs": lambda: _tree(weed.proc.pid),
                              "postgres": lambda: _backends(dbname)}) if args.cpu else None
            for rnd in range(args.rounds):
                order = list(paths) if rnd % 2 == 0 else list(reversed(paths))
                for name in order:
                    paths[name](make_docs(8, size))                  # warm up
                    docs = make_docs(n, size)
                    before = meter.read() if meter else {}
                    times[name].append(paths[name](docs))
                    if meter:
                        print(f"{label:>6} {name:<16} round {rnd + 1}: "
                              f"{meter.line(before, meter.read(), n)} "
                              f"(load {os.getloadavg()[0]:.1f})", flush=True)
            mb = n * size / 1e6
            best = {name: min(t) for name, t in times.items()}
            for name, t in best.items():
                print(f"{label:>6} {name:<16} {n / t:9.1f} {mb / t:8.1f}")
            raw = best["(b) raw PUT"]
            median = (statistics.median(times["(b) raw PUT"]) /
                      statistics.median(times["(a) API"]))
            print(f"{label:>6} {'ratio (a)/(b)':<16} {raw / best['(a) API']:9.2f}   "
                  f"(median of rounds {median:.2f})")
            if args.batch_size:
                median = (statistics.median(times["(b) raw PUT"]) /
                          statistics.median(times["(d) API batch"]))
                print(f"{label:>6} {'ratio (d)/(b)':<16} {raw / best['(d) API batch']:9.2f}   "
                      f"(median of rounds {median:.2f})")
            if bare_url:
                print(f"{label:>6} {'ratio (c)/(b)':<16} {raw / best['(c) bare endpoint']:9.2f}"
                      "   (calibration: the bare endpoint on this machine)")
    finally:
        for proc in (server, bare):
            if proc is not None:
                proc.terminate()
                proc.wait(20)
        weed.stop()
        pg.drop_database(dbname)
        pg.stop()


if __name__ == "__main__":
    main()
