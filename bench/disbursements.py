"""Disbursements at national scale: the auditor's list by finding, one LAO's recompute and
the national duplicate/split detection, in PostgreSQL.

Generates, with COPY, 7,850 organisations (DLA → 76 provincial offices → 7,773 LAOs, the
organisations and vendors of ``bench/search.py``), 200,000 vouchers (× ``--scale``) of
three fiscal years and 1,000,000 linked files (× ``--scale``): every required role of the
default profile, plus withholding certificates and other attachments. Planted anomalies,
counted as they are planted: a missing role, a receipt that does not add up, a receipt
from another seller, an invoice paid twice by two LAOs, purchases split below the
threshold, payment before acceptance, a payee tax ID with a wrong check digit.

Then, through the services (as the API calls them):

1. **national detection** — ``recompute_all`` (link keys, then every voucher's findings,
   organisation by organisation, committing per batch): wall time and vouchers/s and
   links/s; baseline: reading the same vouchers and links once (``SELECT`` of every row);
2. **the auditor's list filtered by finding** — p50/p95 over ``--reps`` calls per finding
   code, as a provincial and as a national auditor, with the indexes and with index scans
   disabled (the natural limit, a sequential scan);
3. **one LAO's fiscal year recomputed** — ``recompute_org_year`` for the busiest LAOs and
   median ones: p50/max; baseline: reading that organisation-year's rows once.

    python bench/disbursements.py [--scale 1.0] [--reps 30] [--db NAME] [--write-docs FILE]

``--db NAME`` keeps the database and reuses it on later runs with the same ``--scale`` and
``--seed`` (the national job is then run again on the loaded data).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from archive.accounts.principal import Principal  # noqa: E402
from archive.db import make_engine, upgrade  # noqa: E402
from archive.disbursements.rules import doc_key  # noqa: E402
from archive.thai import fiscal_year_bounds, tax_id_check_digit  # noqa: E402
from archive.unit_of_work import make_session_factory, units_of  # noqa: E402
from bench.search import (  # noqa: E402
    EXPENSES,
    create_named_database,
    database_exists,
    org_rows,
    tax_id,
    uuid7_at,
)
from tests import servers  # noqa: E402

VOUCHERS = 200_000
FILES = 1_000_000
FISCAL_YEARS = (2566, 2567, 2568)
KINDS = [("procurement", 50), ("travel", 12), ("payroll", 10), ("utilities", 18),
         ("other", 10)]
METHODS = [("e_payment", 80), ("cheque", 15), ("cash", 5)]
# The default profile (DISBURSEMENT.md): one role of each group; e-payment adds its report.
REQUIRED = {
    "procurement": [["request_report"], ["purchase_order", "contract"], ["inspection_report"],
                    ["receipt", "tax_invoice", "payment_acknowledgement"]],
    "travel": [["travel_order"], ["travel_report"], ["receipt", "payment_certificate"]],
    "payroll": [["payroll"]],
    "utilities": [["invoice", "receipt", "tax_invoice"]],
    "other": [["receipt", "payment_acknowledgement", "payment_certificate"]],
}
EXTRA_ROLES = ["withholding_certificate", "other", "invoice", "other"]
DOC_TYPE = {"receipt": "receipt", "tax_invoice": "tax_invoice", "invoice": "invoice",
            "e_payment_report": "e_payment_report", "contract": "contract",
            "purchase_order": "purchase_order", "inspection_report": "inspection_report",
            "payment_acknowledgement": "payment_acknowledgement"}
PAYMENT_ROLES = ("receipt", "tax_invoice", "payment_acknowledgement")
ANOMALIES = {  # share of vouchers
    "missing_evidence": 0.02, "amount_mismatch": 0.01, "payee_mismatch": 0.01,
    "duplicate_invoice": 0.005, "paid_before_acceptance": 0.01,
    "invalid_payee_tax_id": 0.005, "split_purchase": 0.003,
}
FIRST_NAMES = ["สมชาย", "สมหญิง", "วิชัย", "สุดา", "ประเสริฐ", "มาลี", "บุญมี", "อรุณี", "สมศักดิ์",
               "กาญจนา", "ชาตรี", "นงลักษณ์", "ธีระ", "วันเพ็ญ", "อำนาจ", "ศิริพร"]
LAST_NAMES = ["ใจดี", "ศรีสุข", "แก้วมณี", "บุญเรือง", "ทองดี", "สายสุวรรณ", "พรหมมา", "จันทร์เพ็ญ",
              "มีสุข", "รักไทย", "คำแก้ว", "อินทร์แก้ว"]


@dataclass
class Plan:
    vouchers: list[tuple[Any, ...]] = field(default_factory=list)
    evidence: list[tuple[Any, ...]] = field(default_factory=list)
    blobs: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[tuple[Any, ...]] = field(default_factory=list)
    planted: Counter[str] = field(default_factory=Counter)
    org_year: Counter[tuple[int, int]] = field(default_factory=Counter)


VOUCHER_COLS = ("id", "org_id", "fiscal_year", "voucher_no", "voucher_date", "kind",
                "payee_name", "payee_tax_id", "gross_amount", "withholding_tax", "net_amount",
                "payment_method", "payment_date", "budget_code", "expenditure_category",
                "procurement_method", "egp_project_no", "contract_no", "description",
                "complete", "missing", "version", "created_by", "created_at", "updated_at")
EVIDENCE_COLS = ("id", "org_id", "blob_id", "doc_type", "fiscal_year", "voucher_no",
                 "doc_number", "issue_date", "issuer_name", "issuer_tax_id", "issuer_branch",
                 "amount", "vat_amount", "currency", "description", "original_filename",
                 "client_media_type", "uploaded_by", "status", "version", "created_at",
                 "updated_at", "pdfa_compliant", "on_hold", "search_text")
BLOB_COLS = ("id", "sha256", "size", "media_type", "store_key", "version_id", "retain_until",
             "legal_hold", "created_at")
# The keys the service stores on a link when it is made (issuer tax ID + number, blob):
# filled here as the service would have, so the national job finds them current.
LINK_COLS = ("disbursement_id", "evidence_id", "role", "linked_by", "linked_at", "blob_id",
             "doc_key", "file_doc_key")


def person(rng: random.Random) -> tuple[str, str]:
    return (f"นาย{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            tax_id(rng, rng.choice("13")))


def bad_check_digit(value: str) -> str:
    good = tax_id_check_digit(value[:12])
    return value[:12] + str((good + 1 + int(value[0]) % 8) % 10)


class Generator:
    def __init__(self, n_vouchers: int, n_files: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.orgs, self.world = org_rows(self.rng)
        self.n_vouchers, self.n_files = n_vouchers, n_files
        self.plan = Plan()
        self.blob_id = 0
        self.doc_counter = 0
        self.seq: Counter[tuple[int, int]] = Counter()
        self.receipts: list[tuple[str, str, str]] = []   # (issuer tax, name, doc number)
        today = dt.date.today()
        self.latest = today - dt.timedelta(days=10)

    # -- files ---------------------------------------------------------------------------
    def _file(self, voucher: tuple[Any, ...], role: str, *, issuer: tuple[str, str] | None,
              amount: Any, issue: dt.date, number: str | None = None) -> uuid.UUID:
        rng = self.rng
        self.blob_id += 1
        created = dt.datetime(issue.year, issue.month, issue.day, 9, tzinfo=dt.UTC) + \
            dt.timedelta(seconds=rng.randrange(30 * 86_400))
        ev_id = uuid7_at(int(created.timestamp() * 1000), rng)
        sha = rng.getrandbits(256).to_bytes(32, "big").hex()
        doc_type = DOC_TYPE.get(role, "other")
        if number is None:
            self.doc_counter += 1
            number = f"{doc_type[:3].upper()}{voucher[2] % 100:02d}-{self.doc_counter:07d}"
        name, tax = issuer if issuer else (None, None)
        self.plan.blobs.append((self.blob_id, sha, rng.randrange(20_000, 900_000),
                                "application/pdf", f"sha256/{sha[:2]}/{sha[2:4]}/{sha}", None,
                                created + dt.timedelta(days=3650), "f", created))
        self.plan.evidence.append((
            ev_id, voucher[1], self.blob_id, doc_type, voucher[2], voucher[3], number, issue,
            name, tax, "00000" if tax else None, amount, None, "THB", None,
            f"{number}.pdf", None, "bench", "inspected", 1, created, created, "t", "f", ""))
        self.plan.links.append((voucher[0], ev_id, role, "bench", created, self.blob_id,
                                doc_key(tax, number), None))
        return ev_id

    # -- vouchers ------------------------------------------------------------------------
    def _voucher(self, org: int, kind: str, *, payee: tuple[str, str] | None = None,
                 day: dt.date | None = None, gross: float | None = None,
                 category: str | None = None) -> tuple[Any, ...]:
        rng = self.rng
        fy = rng.choice(FISCAL_YEARS)
        start, end = fiscal_year_bounds(fy)
        end = min(end, self.latest)
        if day is None:
            day = start + dt.timedelta(days=rng.randrange(max(1, (end - start).days)))
        fy = day.year + 543 + (1 if day.month >= 10 else 0)
        self.seq[(org, fy)] += 1
        if payee is None:
            payee = person(rng) if kind in ("travel", "payroll") else \
                rng.choice(self.world.vendors)
        if gross is None:
            median = {"procurement": 25_000, "travel": 4_000, "payroll": 60_000,
                      "utilities": 6_000, "other": 3_000}[kind]
            gross = min(5_000_000.0, max(50.0, math.exp(rng.gauss(math.log(median), 1.1))))
        gross_s = f"{gross:.2f}"
        wht = f"{gross * 0.01:.2f}" if kind == "procurement" and gross > 10_000 else None
        net = f"{gross - (float(wht) if wht else 0):.2f}"
        method = rng.choices([m for m, _ in METHODS], [w for _, w in METHODS])[0]
        paid = day + dt.timedelta(days=rng.randrange(0, 8))
        now = dt.datetime.now(dt.UTC)
        v = (uuid7_at(int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
                          .timestamp() * 1000), rng),
             org, fy, f"{self.seq[(org, fy)]}/{fy}", day, kind, payee[0], payee[1], gross_s,
             wht, net, method, paid, f"00{rng.randrange(100, 400)}", category or
             rng.choice(EXPENSES), "เฉพาะเจาะจง" if kind == "procurement" else None,
             None, None, None, "f", "[]", 1, "bench", now, now)
        self.plan.vouchers.append(v)
        self.plan.org_year[(org, fy)] += 1
        return v

    def _evidence_for(self, v: tuple[Any, ...], *, extras: int,
                      anomaly: str | None = None) -> None:
        rng = self.rng
        kind, day, paid, gross = v[5], v[4], v[12], v[8]
        payee = (v[6], v[7])
        groups = [list(g) for g in REQUIRED[kind]]
        if v[11] == "e_payment":
            groups.append(["e_payment_report"])
        if anomaly == "missing_evidence":
            groups.pop(rng.randrange(len(groups)))
        for group in groups:
            role = group[0] if rng.random() < 0.7 else rng.choice(group)
            issuer: tuple[str, str] | None = None
            amount: Any = None
            issue = day - dt.timedelta(days=rng.randrange(0, 5))
            number = None
            if role in PAYMENT_ROLES or role == "invoice":
                issuer, amount = payee, gross
                if role in PAYMENT_ROLES and anomaly == "amount_mismatch":
                    amount = f"{float(gross) + 500:.2f}"
                if role in PAYMENT_ROLES and anomaly == "payee_mismatch":
                    issuer = rng.choice(self.world.vendors)
                if role in PAYMENT_ROLES and anomaly == "duplicate_invoice" and self.receipts:
                    tax, name, number = rng.choice(self.receipts)
                    issuer = (name, tax)
                    amount = gross
            if role == "inspection_report":
                issue = paid + dt.timedelta(days=5) if anomaly == "paid_before_acceptance" \
                    else paid - dt.timedelta(days=rng.randrange(0, 3))
            if role == "e_payment_report":
                amount, issue = v[10], paid
            self._file(v, role, issuer=issuer, amount=amount, issue=issue, number=number)
            if role in PAYMENT_ROLES and issuer is not None and anomaly is None and \
                    rng.random() < 0.02 and len(self.receipts) < 50_000:
                self.receipts.append((issuer[1], issuer[0], self.plan.evidence[-1][6]))
        for _ in range(extras):
            role = rng.choice(EXTRA_ROLES)
            self._file(v, role, issuer=payee if role == "withholding_certificate" else None,
                       amount=v[9] if role == "withholding_certificate" else None,
                       issue=paid)

    def run(self) -> Plan:
        rng = self.rng
        orgs = rng.choices(self.world.org_ids, weights=self.world.org_weights,
                           k=self.n_vouchers)
        kinds = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS], k=self.n_vouchers)
        # Extras so that the files come to n_files: mean required ≈ 3.5 per voucher.
        made = 0
        i = 0
        while made < self.n_vouchers:
            org, kind = orgs[i % len(orgs)], kinds[i % len(kinds)]
            i += 1
            roll = rng.random()
            anomaly, acc = None, 0.0
            for code, share in ANOMALIES.items():
                acc += share
                if roll < acc:
                    anomaly = code
                    break
            remaining_v = self.n_vouchers - made
            remaining_f = self.n_files - len(self.plan.links)
            mean_extra = max(0.0, remaining_f / remaining_v - 3.6)
            extras = int(mean_extra) + (rng.random() < mean_extra - int(mean_extra))
            if anomaly == "split_purchase" and remaining_v > 8:
                vendor = rng.choice(self.world.vendors)
                start = dt.date(2024, 11, 1) + dt.timedelta(days=rng.randrange(250))
                category = rng.choice(EXPENSES)
                for k in range(6):
                    v = self._voucher(org, "procurement", payee=vendor,
                                      day=start + dt.timedelta(days=4 * k),
                                      gross=rng.uniform(85_000, 99_000), category=category)
                    self._evidence_for(v, extras=extras)
                self.plan.planted["split_purchase"] += 6
                made += 6
                continue
            if anomaly == "invalid_payee_tax_id" and kind in ("travel", "payroll"):
                anomaly = None
            payee = None
            if anomaly == "invalid_payee_tax_id":
                name, good = rng.choice(self.world.vendors)
                payee = (name, bad_check_digit(good))
            v = self._voucher(org, kind, payee=payee)
            if anomaly in ("amount_mismatch", "payee_mismatch", "duplicate_invoice") and \
                    kind == "payroll":
                anomaly = None
            if anomaly == "paid_before_acceptance" and kind != "procurement":
                anomaly = None
            self._evidence_for(v, extras=extras, anomaly=anomaly)
            if anomaly:
                self.plan.planted[anomaly] += 1
            made += 1
        return self.plan


def _tsv(values: tuple[Any, ...]) -> str:
    return "\t".join("\\N" if v is None else str(v) for v in values)


def _copy(conn: Any, table: str, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    for start in range(0, len(rows), 100_000):
        body = "\n".join(_tsv(r) for r in rows[start:start + 100_000]) + "\n"
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
            cp.write(body)


def load(url: str, scale: float, seed: int) -> dict[str, Any]:
    gen = Generator(int(VOUCHERS * scale), int(FILES * scale), seed)
    t0 = time.perf_counter()
    plan = gen.run()
    generated = time.perf_counter() - t0
    print(f"  generated {len(plan.vouchers):,} vouchers, {len(plan.links):,} files in "
          f"{generated:.0f} s", file=sys.stderr)
    tables = ("evidence", "blobs", "disbursements", "disbursement_evidence")
    with servers.connect_autocommit(url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        secondary = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT LIKE 'pk_%%' AND indexname NOT LIKE 'uq_%%'",
            (list(tables),)).fetchall()
        for name, _ in secondary:
            conn.execute(f'DROP INDEX "{name}"')
        for table in tables:
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        t1 = time.perf_counter()
        now = dt.datetime.now(dt.UTC)
        with conn.cursor() as cur, cur.copy(
                "COPY organisations (id, code, name, type, parent_id, created_at) "
                "FROM STDIN") as cp:
            for row in gen.orgs:
                cp.write_row((*row, now))
        conn.execute("SELECT setval(pg_get_serial_sequence('organisations', 'id'), 10000)")
        _copy(conn, "blobs", BLOB_COLS, plan.blobs)
        _copy(conn, "evidence", EVIDENCE_COLS, plan.evidence)
        _copy(conn, "disbursements", VOUCHER_COLS, plan.vouchers)
        _copy(conn, "disbursement_evidence", LINK_COLS, plan.links)
        conn.execute("SELECT setval(pg_get_serial_sequence('blobs', 'id'), %s)",
                     (gen.blob_id + 1,))
        for table in tables:
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")
        loaded = time.perf_counter() - t1
        t2 = time.perf_counter()
        for _name, ddl in secondary:
            conn.execute(ddl)
        conn.execute("VACUUM ANALYZE organisations, blobs, evidence, disbursements, "
                     "disbursement_evidence")
        indexed = time.perf_counter() - t2
    busiest = [k for k, _ in plan.org_year.most_common(5)]
    counts = sorted(plan.org_year.items(), key=lambda kv: kv[1])
    median = [k for k, _ in counts[len(counts) // 2: len(counts) // 2 + 5]]
    return {"vouchers": len(plan.vouchers), "files": len(plan.links),
            "planted": dict(plan.planted), "generated_s": generated, "load_s": loaded,
            "index_s": indexed, "busiest": busiest, "median": median,
            "busiest_n": [plan.org_year[k] for k in busiest],
            "median_n": [plan.org_year[k] for k in median],
            "province_ids": gen.world.province_ids,
            "province_of": {str(k): v for k, v in gen.world.province_of.items()}}


# -- measurements -----------------------------------------------------------------------

def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)]


def national_job(sessions: Any) -> dict[str, Any]:
    from archive.disbursements import recompute

    session = sessions()
    t0 = time.perf_counter()
    rows = session.execute(sa.text(
        "SELECT count(*), count(DISTINCT d.id) FROM disbursements d "
        "JOIN disbursement_evidence l ON l.disbursement_id = d.id "
        "JOIN evidence e ON e.id = l.evidence_id")).one()
    baseline = time.perf_counter() - t0
    session.rollback()
    t0 = time.perf_counter()
    out = recompute.recompute_all(units_of(sessions))
    wall = time.perf_counter() - t0
    by_code = dict(session.execute(sa.text(
        "SELECT code, count(DISTINCT disbursement_id) FROM disbursement_findings "
        "GROUP BY code ORDER BY code")).all())
    session.close()
    return {"seconds": wall, "vouchers": out.vouchers, "findings": out.findings,
            "links": rows[0], "vouchers_per_s": out.vouchers / wall,
            "links_per_s": rows[0] / wall, "baseline_s": baseline, "found": by_code}


def skipped_job(sessions: Any) -> dict[str, Any]:
    """No national job in this run: what the database holds (from an earlier run)."""
    session = sessions()
    done = session.execute(sa.text(
        "SELECT count(*) FILTER (WHERE computed_at IS NOT NULL), count(*), "
        "extract(epoch FROM max(computed_at) - min(computed_at)) FROM disbursements")).one()
    by_code = dict(session.execute(sa.text(
        "SELECT code, count(DISTINCT disbursement_id) FROM disbursement_findings "
        "GROUP BY code ORDER BY code")).all())
    session.close()
    return {"skipped": True, "computed": done[0], "vouchers_total": done[1],
            "findings_phase_s": float(done[2] or 0), "found": by_code}


def list_latency(engine_url: str, principal: Principal, reps: int, codes: list[str],
                 *, seq: bool) -> dict[str, tuple[float, float, int]]:
    from archive.disbursements import listing
    from archive.disbursements.schemas import ListParams

    options = {"options": "-c enable_indexscan=off -c enable_bitmapscan=off "
                          "-c enable_indexonlyscan=off"} if seq else {}
    engine = make_engine(engine_url, connect_args=options) if options else \
        make_engine(engine_url)
    sessions = make_session_factory(engine)
    out = {}
    for code in codes:
        times, totals = [], []
        for i in range(reps + 2):
            session = sessions()
            start = time.perf_counter()
            page = listing.list_page(session, principal, ListParams(finding=code, limit=50))
            session.commit()
            elapsed = (time.perf_counter() - start) * 1000
            session.close()
            if i >= 2:
                times.append(elapsed)
                totals.append(page.total)
        out[code] = (statistics.median(times), p(times, 0.95), int(statistics.median(totals)))
    engine.dispose()
    return out


def org_year_recompute(sessions: Any, pairs: list[tuple[int, int]]) -> list[dict[str, Any]]:
    from archive.disbursements import recompute

    out = []
    for org_id, fy in pairs:
        session = sessions()
        t0 = time.perf_counter()
        n = session.execute(sa.text(
            "SELECT count(*) FROM disbursements d JOIN disbursement_evidence l "
            "ON l.disbursement_id = d.id JOIN evidence e ON e.id = l.evidence_id "
            "WHERE d.org_id = :o AND d.fiscal_year = :f"), {"o": org_id, "f": fy}).scalar()
        baseline = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = recompute.recompute_org_year(session, org_id, fy)
        session.commit()
        out.append({"org_id": org_id, "fiscal_year": fy, "vouchers": res.vouchers,
                    "links": n, "seconds": time.perf_counter() - t0, "baseline_s": baseline})
        session.close()
    return out


def report(meta: dict[str, Any], job: dict[str, Any], lists: dict[str, Any],
           recomputes: dict[str, list[dict[str, Any]]], scale: float) -> str:
    lines = [f"#### PostgreSQL, {meta['vouchers']:,} vouchers and {meta['files']:,} linked "
             f"files over 7,850 organisations (scale {scale:g}; generated in "
             f"{meta['generated_s']:.0f} s, COPY {meta['load_s']:.0f} s, indexes "
             f"{meta['index_s']:.0f} s)", ""]
    if job.get("skipped"):
        rate = job["computed"] / job["findings_phase_s"] if job["findings_phase_s"] else 0
        lines += [f"**National job interrupted for time**: an earlier run of `recompute_all` "
                  f"computed the findings of {job['computed']:,} of {job['vouchers_total']:,} "
                  f"vouchers in {job['findings_phase_s']:.0f} s of its findings phase "
                  f"(**{rate:,.0f} vouchers/s**, after its link-keys phase); the lists below "
                  "are measured on those findings.", ""]
    else:
        lines += ["**National duplicate/split detection as a job** (`recompute_all`: link "
                  "keys, then every voucher's findings, committing per batch):", "",
                  f"- {job['seconds']:.0f} s for {job['vouchers']:,} vouchers and "
                  f"{job['links']:,} links: **{job['vouchers_per_s']:,.0f} vouchers/s, "
                  f"{job['links_per_s']:,.0f} links/s**; reading every voucher and link once "
                  f"(baseline) took {job['baseline_s']:.1f} s (the job is "
                  f"{job['seconds'] / job['baseline_s']:.0f}× that).", ""]
    lines += ["| finding | planted (vouchers) | found (vouchers) |", "|---|---:|---:|"]
    for code in sorted(set(meta["planted"]) | set(job["found"])):
        lines.append(f"| `{code}` | {meta['planted'].get(code, 0):,} | "
                     f"{job['found'].get(code, 0):,} |")
    lines += ["", "(Planted and found differ where the profile says so: the amount and "
              "payee checks do not apply to travel and payroll vouchers by default; a role "
              "dropped from an `other` voucher paid by e-payment may be the transfer report, "
              "which that kind does not require; a planted double payment marks both "
              "vouchers.)", "",
              "**The auditor's list filtered by finding** (`GET /api/v1/disbursements?"
              "finding=…` through the service, 50 per page, with the total):", "",
              "| caller | finding | matches | p50 ms | p95 ms | seq-scan p50 ms | "
              "seq-scan p95 ms |", "|---|---|---:|---:|---:|---:|---:|"]
    for who, res in lists.items():
        for code, (p50, p95, total) in res["indexed"].items():
            s = res["seq"].get(code) if res["seq"] else None
            extra = f"{s[0]:.1f} | {s[1]:.1f}" if s else "– | –"
            lines.append(f"| {who} | `{code}` | {total:,} | {p50:.1f} | {p95:.1f} | {extra} |")
    lines += ["", "**One LAO's fiscal year recomputed** (`recompute_org_year`, with its "
              "neighbours):", "",
              "| LAO-year | vouchers | links | recompute s | read-once baseline s |",
              "|---|---:|---:|---:|---:|"]
    for label, rows in recomputes.items():
        for r in rows:
            lines.append(f"| {label} (org {r['org_id']}, FY {r['fiscal_year']}) | "
                         f"{r['vouchers']:,} | {r['links']:,} | {r['seconds']:.3f} | "
                         f"{r['baseline_s']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--seq-reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2568)
    ap.add_argument("--db", default=None, help="Keep (and reuse) the database NAME.")
    ap.add_argument("--write-docs", type=Path, default=None)
    ap.add_argument("--no-job", action="store_true",
                    help="With --db: skip the national job; measure the lists on the findings "
                         "the database holds (say so when reporting).")
    args = ap.parse_args()

    import json

    pg = servers.start_postgres()
    if args.db:
        dbname = args.db
        if not database_exists(pg, dbname):
            create_named_database(pg, dbname)
    else:
        dbname = pg.create_database("archive_bench_disb")
    url = pg.url(dbname)
    try:
        engine = make_engine(url)
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_disb_meta (body jsonb)"))
            row = conn.execute(sa.text("SELECT body FROM bench_disb_meta")).first()
        meta = row[0] if row else None
        if meta is None or meta.get("scale") != args.scale or meta.get("seed") != args.seed:
            print(f"generating scale {args.scale:g} …", file=sys.stderr)
            meta = load(url, args.scale, args.seed)
            meta.update(scale=args.scale, seed=args.seed)
            with engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM bench_disb_meta"))
                conn.execute(sa.text("INSERT INTO bench_disb_meta VALUES (CAST(:b AS jsonb))"),
                             {"b": json.dumps(meta, default=str)})
        sessions = make_session_factory(engine)
        if args.no_job:
            job = skipped_job(sessions)
        else:
            print("national job …", file=sys.stderr)
            job = national_job(sessions)
        print(json.dumps(job, default=str), file=sys.stderr)
        _analyse(url)
        codes = sorted(job["found"]) or ["missing_evidence"]
        province = meta["province_ids"][12]
        callers = {"provincial auditor": Principal(name="bench-p", role="auditor",
                                                   org_ids=(province,)),
                   "national auditor": Principal(name="bench-n", role="auditor",
                                                 org_ids=(1,))}
        lists = {}
        for who, principal in callers.items():
            print(f"lists as {who} …", file=sys.stderr)
            indexed = list_latency(url, principal, args.reps, codes, seq=False)
            seq = list_latency(url, principal, args.seq_reps, codes, seq=True) \
                if args.seq_reps else None
            lists[who] = {"indexed": indexed, "seq": seq}
        print("org-year recomputes …", file=sys.stderr)
        recomputes = {"busiest": org_year_recompute(sessions, [tuple(x) for x in
                                                               meta["busiest"][:3]]),
                      "median": org_year_recompute(sessions, [tuple(x) for x in
                                                              meta["median"][:3]])}
        text = report(meta, job, lists, recomputes, args.scale)
        print(text)
        if args.write_docs:
            marker = "<!-- bench:disbursements -->"
            body = (f"{marker}\nMeasured by `python bench/disbursements.py --scale "
                    f"{args.scale:g}` on {os.cpu_count()} cores, {dt.date.today()}.\n\n"
                    f"{text}{marker}")
            doc = args.write_docs.read_text() if args.write_docs.exists() else ""
            if doc.count(marker) == 2:
                head, _, rest = doc.partition(marker)
                _, _, tail = rest.partition(marker)
                doc = head + body + tail
            else:
                doc += "\n" + body + "\n"
            args.write_docs.write_text(doc)
        engine.dispose()
    finally:
        if not args.db:
            pg.drop_database(dbname)
        pg.stop()


def _analyse(url: str) -> None:
    with servers.connect_autocommit(url) as conn:
        conn.execute("VACUUM ANALYZE disbursements, disbursement_findings, "
                     "disbursement_evidence")


if __name__ == "__main__":
    main()
