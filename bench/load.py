"""A bounded load test against 127.0.0.1: officers uploading, auditors searching and
reading, background jobs running — with one API process and with two.

Starts PostgreSQL (or uses the local one) and SeaweedFS, two ``archive worker``
processes (the background jobs: inspection, text extraction, retention, the packs the
auditors ask for), seeds the archive through the API, then for each API shape
(``archive serve --workers 1`` and ``--workers 2``) and each load level runs that many
virtual users for a fixed time:

* a quarter are finance officers: each uploads a PDF (about 50 KB, Thai text) and waits;
* the rest are auditors: each searches (filters, Thai full text, an organisation), reads a
  record, downloads its bytes, lists the vouchers (ฎีกา) with a finding and reads one —
  what auditors come for most — and now and then asks for an evidence pack of a few
  records (a job for the workers), waiting between requests.

It prints p50/p95/p99 (ms), the count and the errors per request kind and level, the
requests per second, and the job backlog left when the level ends. It is bounded: every
level lasts ``--seconds``, users are threads of this process with their own
connections, and everything listens on 127.0.0.1 only. It is an equivalent of a locust
scenario (httpx + threads), kept here so that it needs nothing outside the test extra.

    python bench/load.py [--users 4,8,16,32] [--seconds 20] [--think 0.25]
                         [--apis 1,2] [--seed 300] [--vouchers 200] [--code DIR]

``--code DIR``: run the archive of another checkout (e.g. the commit before a change,
``git worktree add``) with this script, to compare two versions in the same period.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import procstat  # noqa: E402
from tests import servers  # noqa: E402
from tests.archive.search.helpers import make_text_pdf  # noqa: E402

WORDS = ["ค่าวัสดุสำนักงาน", "ค่าน้ำมันเชื้อเพลิง", "ค่าจ้างเหมา", "ค่าอาหารกลางวัน",
         "ค่าซ่อมแซม", "ค่าไฟฟ้า", "ครุภัณฑ์", "ค่าเช่า"]
ISSUERS = ["ร้านวัสดุภัณฑ์", "บริษัท ปตท. จำกัด", "หจก.เชียงใหม่ก่อสร้าง", "ร้านข้าวแกง"]
LAOS = ["5010101", "5010102", "5010103", "5010104"]
ARCHIVE = [sys.executable, "-m", "cli"]
SELLER = "0105538025143"          # a payee tax ID with a right check digit
BAD_TAX_ID = "0105538025144"      # a wrong one (the finding invalid_payee_tax_id)
FINDINGS = ["missing_evidence", "amount_mismatch", "invalid_payee_tax_id"]
KINDS = ("upload", "search", "read record", "download", "vouchers", "read voucher",
         "request pack")


def document(i: int) -> tuple[bytes, dict[str, str]]:
    """A PDF of about 50 KB with a Thai text layer, and its upload fields."""
    rnd = random.Random(i)
    word, issuer = rnd.choice(WORDS), rnd.choice(ISSUERS)
    pdf = make_text_pdf([f"ใบเสร็จรับเงิน {word}", f"{issuer} เลขที่ {i}"])
    pad = b"\n%" + os.urandom(24 * 1024).hex().encode()[:48 * 1024] + b"\n"
    body = pdf.replace(b"%%EOF", pad + b"%%EOF") if pdf.rstrip().endswith(b"%%EOF") else pdf
    issued = dt.date(2023, 10, 1) + dt.timedelta(days=rnd.randint(0, 1000))
    fiscal_year = issued.year + 543 + (1 if issued.month >= 10 else 0)   # from 1 October
    fields = {"org_code": LAOS[i % len(LAOS)], "doc_type": "receipt",
              "fiscal_year": str(fiscal_year),
              "amount": f"{rnd.randint(100, 90000)}.{rnd.randint(0, 99):02d}",
              "issuer_name": issuer, "description": word, "issue_date": issued.isoformat()}
    return body, fields


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def record(self, kind: str, started: float, response: httpx.Response | None,
               error: str | None = None) -> None:
        ms = (time.perf_counter() - started) * 1000
        with self.lock:
            if response is not None and response.status_code < 400:
                self.times[kind].append(ms)
            else:
                self.errors[kind].append(error or f"{response.status_code if response else '?'}"
                                         f" {response.text[:120] if response else ''}")


def timed(stats: Stats, kind: str, call: Any, *args: Any, **kwargs: Any
          ) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        r = call(*args, **kwargs)
    except httpx.HTTPError as exc:
        stats.record(kind, started, None, f"{type(exc).__name__}: {exc}")
        return None
    stats.record(kind, started, r)
    return r


def officer(url: str, token: str, stop: threading.Event, stats: Stats, think: float,
            counter: list[int], lock: threading.Lock) -> None:
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        while not stop.is_set():
            with lock:
                counter[0] += 1
                i = counter[0]
            body, fields = document(i)
            timed(stats, "upload", client.post, "/api/v1/evidence", data=fields,
                  files={"file": (f"receipt-{i}.pdf", body, "application/pdf")})
            stop.wait(random.uniform(0, 2 * think))


def auditor(url: str, token: str, stop: threading.Event, stats: Stats, think: float,
            ids: list[str], vouchers: list[str], seed: int) -> None:
    rnd = random.Random(seed)
    searches = [
        lambda: {"fiscal_year": rnd.choice([2566, 2567, 2568])},
        lambda: {"q": rnd.choice(WORDS)},
        lambda: {"q": rnd.choice(ISSUERS).split()[0], "fiscal_year": 2568},
        lambda: {"org_code": rnd.choice(LAOS), "sort": "-amount"},
        lambda: {"amount_min": 1000, "amount_max": 20000, "sort": "issue_date"},
        lambda: {"doc_type": "receipt", "sort": "-uploaded"},
    ]
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        while not stop.is_set():
            roll = rnd.random()
            if roll < 0.40:
                params = rnd.choice(searches)()
                timed(stats, "search", client.get, "/api/v1/evidence",
                      params={**params, "limit": 50})
            elif roll < 0.55:
                evidence_id = rnd.choice(ids)
                timed(stats, "read record", client.get, f"/api/v1/evidence/{evidence_id}")
            elif roll < 0.70:
                finding = {"finding": rnd.choice(FINDINGS), "limit": 50}
                if rnd.random() < 0.5:
                    finding["org_code"] = rnd.choice(LAOS)
                timed(stats, "vouchers", client.get, "/api/v1/disbursements", params=finding)
            elif roll < 0.82:
                timed(stats, "read voucher", client.get,
                      f"/api/v1/disbursements/{rnd.choice(vouchers)}")
            elif roll < 0.97:
                evidence_id = rnd.choice(ids)
                timed(stats, "download", client.get, f"/api/v1/evidence/{evidence_id}/content")
            else:
                chosen = rnd.sample(ids, 5)
                timed(stats, "request pack", client.post, "/api/v1/exports",
                      json={"ids": chosen})
            stop.wait(rnd.uniform(0, 2 * think))


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def backlog(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")).scalar() or 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", default="4,8,16,32", help="load levels (virtual users)")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each level")
    ap.add_argument("--think", type=float, default=0.25,
                    help="mean wait between a user's requests (s)")
    ap.add_argument("--apis", default="1,2", help="API processes to compare")
    ap.add_argument("--seed", type=int, default=300, help="records uploaded before the run")
    ap.add_argument("--vouchers", type=int, default=200,
                    help="vouchers registered before the run (half linked to a record)")
    ap.add_argument("--code", type=Path, default=ROOT,
                    help="the checkout whose archive runs (default: this one)")
    args = ap.parse_args()
    levels = [int(n) for n in args.users.split(",")]
    shapes = [int(n) for n in args.apis.split(",")]

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    pg = servers.start_postgres()
    dbname = pg.create_database("archive_load")
    weed = servers.start_seaweed(work / "weed", small_volumes=False)
    code = args.code.resolve()
    env = {**os.environ, "PYTHONPATH": str(code), "ARCHIVE_DATA_DIR": str(work / "var"),
           "ARCHIVE_DATABASE_URL": pg.url(dbname), "ARCHIVE_S3_ENDPOINT": weed.endpoint,
           "ARCHIVE_S3_ACCESS_KEY": servers.ACCESS_KEY,
           "ARCHIVE_S3_SECRET_KEY": servers.SECRET_KEY, "ARCHIVE_S3_BUCKET": "evidence-load",
           "ARCHIVE_EMBEDDED_WORKER": "false"}
    engine = sa.create_engine(pg.url(dbname))
    processes: list[subprocess.Popen[bytes]] = []
    log = open(work / "processes.log", "wb")  # noqa: SIM115
    try:
        # init, not only `db upgrade`: the store's bucket too (the accounts' organisations
        # write catalogue snapshots)
        subprocess.run([*ARCHIVE, "init"], env=env, check=True, capture_output=True, cwd=code)
        tokens = _accounts(env, code, officers=max(levels) // 4 + 1, auditors=max(levels))
        for _ in range(2):
            processes.append(subprocess.Popen([*ARCHIVE, "worker", "--concurrency", "2"],
                                              env=env, stdout=log, stderr=log, cwd=code))
        print(f"machine: {os.cpu_count()} cores, shared with other work while measured; "
              f"users think {args.think} s on average; {args.seconds:.0f} s per level; "
              f"2 worker processes throughout; archive from {code}")
        ids: list[str] = []
        vouchers: list[str] = []
        for apis in shapes:
            port = servers.free_port()
            server = subprocess.Popen([*ARCHIVE, "serve", "--port", str(port), "--workers",
                                       str(apis)], env=env, stdout=log, stderr=log, cwd=code)
            processes.append(server)
            servers.wait_for_port(port, 90, server)
            url = f"http://127.0.0.1:{port}"
            httpx.get(f"{url}/readyz", timeout=30).raise_for_status()
            if not ids:
                ids = _seed(url, tokens["officers"][0], args.seed)
                vouchers = _seed_vouchers(url, tokens["officers"][0], args.vouchers, ids)
                while backlog(engine):
                    time.sleep(1)
            print(f"\n== {apis} API process{'es' if apis > 1 else ''} "
                  f"(archive serve --workers {apis}); {len(ids)}+ records, "
                  f"{len(vouchers)} vouchers")
            print(f"{'users':>5} {'kind':<13} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} "
                  f"{'errors':>6} {'req/s':>6} {'backlog':>7}")
            # the baseline of this run: one auditor alone, nothing else asked of the archive
            roots = {"api": [server.pid], "workers": [p.pid for p in processes[:2]]}
            base = _level(url, tokens, ids, vouchers, 1, args, roots, solo=True)
            print(f"{'':>5} (machine load average: {os.getloadavg()[0]:.1f})")
            for users in levels:
                load = os.getloadavg()[0]
                p95 = _level(url, tokens, ids, vouchers, users, args, roots)
                print(f"{'':>5} (machine load average at the start of the level: {load:.1f}; "
                      f"search p95 / solo p95 = {p95['search'] / base['search']:.1f})")
                print(f"{'':>5} (jobs queued or running at the end: {backlog(engine)})")
                while backlog(engine):          # each level starts with an empty queue
                    time.sleep(0.5)
            server.terminate()
            server.wait(30)
    finally:
        for proc in processes:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)
        engine.dispose()
        weed.stop()
        pg.drop_database(dbname)
        pg.stop()
        log.close()


_COUNTER = [0]
_COUNTER_LOCK = threading.Lock()


def _level(url: str, tokens: dict[str, list[str]], ids: list[str], vouchers: list[str],
           users: int, args: argparse.Namespace, roots: dict[str, list[int]], *,
           solo: bool = False) -> dict[str, float]:
    """Run one level; returns the p95 of each request kind. ``solo``: one auditor alone
    (no uploads, no jobs): the baseline the loaded levels are compared with."""
    stats, stop = Stats(), threading.Event()
    n_officers = 0 if solo else max(1, users // 4)
    threads = [threading.Thread(target=officer, args=(url, tokens["officers"][i], stop, stats,
                                                      args.think, _COUNTER, _COUNTER_LOCK))
               for i in range(n_officers)]
    threads += [threading.Thread(target=auditor, args=(url, tokens["auditors"][i], stop,
                                                       stats, args.think, ids, vouchers,
                                                       1000 * users + i))
                for i in range(users - n_officers)]
    before = procstat.every_process()
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join(120)
    elapsed = time.perf_counter() - started
    after = procstat.every_process()
    total = sum(len(v) for v in stats.times.values()) + sum(len(v)
                                                             for v in stats.errors.values())
    label = "solo" if solo else str(users)
    p95: dict[str, float] = {}
    for kind in KINDS:
        times, errors = stats.times.get(kind, []), stats.errors.get(kind, [])
        if solo and not times and not errors:
            continue
        p95[kind] = percentile(times, 95)
        print(f"{label:>5} {kind:<13} {len(times) + len(errors):>6} "
              f"{percentile(times, 50):7.1f} {percentile(times, 95):7.1f} "
              f"{percentile(times, 99):7.1f} {len(errors):>6}"
              + (f" {total / elapsed:6.1f}" if kind == ("search" if solo else "upload")
                 else ""))
        for message in sorted(set(errors))[:3]:
            print(f"{'':>5}   error: {message}")
    used = cpu_used(before, after, roots)
    print(f"{'':>5} (CPU seconds in the level: "
          + ", ".join(f"{group} {used[group]:.1f}" for group in CPU_GROUPS)
          + f"; the machine had {os.cpu_count()} cores x {elapsed:.0f} s = "
            f"{(os.cpu_count() or 1) * elapsed:.0f})")
    return p95


CPU_GROUPS = ("api", "workers", "postgres", "weed", "load client", "other")


def cpu_used(before: dict[int, procstat.ProcStat], after: dict[int, procstat.ProcStat],
             roots: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used between two readings by each group: the API and worker processes
    with their descendants (and what their finished children used: OCR, Ghostscript),
    PostgreSQL's and SeaweedFS's processes, this load client, and everything else on the
    machine (other work disturbing the measurement). A process that ended between the
    readings is missed, unless its parent is a root (then it is in the reaped time)."""
    group_of_root = {pid: group for group, pids in roots.items() for pid in pids}
    totals = dict.fromkeys(CPU_GROUPS, 0.0)
    for pid, (_, comm, own, reaped) in after.items():
        _, _, own_before, reaped_before = before.get(pid, procstat.ProcStat(0, "", 0.0, 0.0))
        used = own - own_before
        group, up = None, pid
        while up in after and group is None:
            group = group_of_root.get(up)
            up = after[up][0]
        if group is not None:
            totals[group] += used + (reaped - reaped_before if pid in group_of_root else 0.0)
        elif comm in ("postgres", "weed"):
            totals[comm] += used
        elif pid == os.getpid():
            totals["load client"] += used
        else:
            totals["other"] += used
    return totals


def _accounts(env: dict[str, str], code: Path, *, officers: int, auditors: int
              ) -> dict[str, list[str]]:
    """Organisations (a province and its LAOs) and one account per virtual user."""
    script = (
        "import json, sys\n"
        "from archive.config import Settings\n"
        "from archive.db import make_engine\n"
        "from archive.accounts import service as accounts\n"
        "from archive.accounts.principal import system_principal\n"
        "from archive.orgs import service as orgs\n"
        "from archive.unit_of_work import make_session_factory, session_scope\n"
        "from archive.storage import make_store\n"
        "s = Settings()\n"
        "sessions = make_session_factory(make_engine(s.db_url), make_store(s))\n"
        "p = system_principal('bench'); out = {'officers': [], 'auditors': []}\n"
        "with session_scope(sessions) as x:\n"
        "    orgs.create(x, p, code='dla', name='กรมส่งเสริมการปกครองท้องถิ่น', "
        "type='dla-office', parent_code=None)\n"
        "    orgs.create(x, p, code='p-cm', name='สถ.จังหวัดเชียงใหม่', type='province', "
        "parent_code='dla')\n"
        f"    for c in {LAOS!r}:\n"
        "        orgs.create(x, p, code=c, name='อบต. ' + c, type='sao', parent_code='p-cm')\n"
        f"for i in range({officers}):\n"
        "    with session_scope(sessions) as x:\n"
        f"        out['officers'].append(accounts.create_user(x, p, name=f'off{{i}}', "
        f"role='officer', org_codes={LAOS!r})[1])\n"
        f"for i in range({auditors}):\n"
        "    with session_scope(sessions) as x:\n"
        "        out['auditors'].append(accounts.create_user(x, p, name=f'aud{i}', "
        "role='auditor', org_codes=['p-cm'])[1])\n"
        "print(json.dumps(out))\n")
    import json

    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, cwd=code)
    if done.returncode:
        raise SystemExit(f"creating the accounts failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _seed(url: str, token: str, n: int) -> list[str]:
    ids: list[str] = []
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        for i in range(n):
            body, fields = document(-1 - i)
            r = client.post("/api/v1/evidence", data=fields,
                            files={"file": (f"seed-{i}.pdf", body, "application/pdf")})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
    return ids


def _seed_vouchers(url: str, token: str, n: int, ids: list[str]) -> list[str]:
    """``n`` vouchers over the LAOs; every other one linked to a seeded record (a
    receipt of its organisation), a fifth with a payee tax ID failing its check digit,
    a third whose net amount is not gross minus withholding: the findings the auditors
    list by."""
    org_of: dict[str, list[str]] = defaultdict(list)
    vouchers: list[str] = []
    with httpx.Client(base_url=url, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        for evidence_id in ids[:40]:
            org_of[client.get(f"/api/v1/evidence/{evidence_id}").json()["org_code"]].append(
                evidence_id)
        for i in range(n):
            rnd = random.Random(10_000 + i)
            org = LAOS[i % len(LAOS)]
            gross = rnd.randint(1000, 90000)
            day = dt.date(2024, 10, 1) + dt.timedelta(days=rnd.randint(0, 360))
            body = {"org_code": org, "fiscal_year": 2568, "voucher_no": f"{i + 1}/2568",
                    "voucher_date": day.isoformat(), "kind": "procurement",
                    "payee_name": rnd.choice(ISSUERS),
                    "payee_tax_id": BAD_TAX_ID if i % 5 == 0 else SELLER,
                    "gross_amount": f"{gross}.00", "withholding_tax": "0.00",
                    "net_amount": f"{gross - (7 if i % 3 == 0 else 0)}.00",
                    "payment_method": "e_payment", "payment_date": day.isoformat(),
                    "budget_code": "00111", "expenditure_category": rnd.choice(WORDS),
                    "description": rnd.choice(WORDS)}
            r = client.post("/api/v1/disbursements", json=body)
            assert r.status_code == 201, r.text
            vouchers.append(r.json()["id"])
            if i % 2 == 0 and org_of[org]:
                r = client.post(f"/api/v1/disbursements/{vouchers[-1]}/evidence",
                                json={"evidence_id": rnd.choice(org_of[org]),
                                      "role": "receipt"})
                assert r.status_code == 201, r.text
    return vouchers


if __name__ == "__main__":
    main()
