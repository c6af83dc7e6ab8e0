"""Partitioning by fiscal year, tried on a copy: does PostgreSQL prune, and what does it cost?

Takes a database built by ``bench/search.py --db NAME`` and builds next to its
``evidence`` table a copy declared ``PARTITION BY RANGE (fiscal_year)``, one partition per
fiscal year (optionally a sample of the rows: ``--percent``), with the same indexes
declared once on the parent. Then prints, for the query shapes of the search service, the
``EXPLAIN`` of each on the copy (which partitions are scanned) and the sizes per
partition, and drops the copy (``--keep`` keeps it).

    python bench/partitions.py --db NAME [--percent 100] [--keep]

The archive's own table is not partitioned (see README, "Hundreds of millions of
records"): this is the evidence for that design, measured on the benchmark's data.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import servers  # noqa: E402

COPY = "evidence_by_year"


def next_year_partition_sql(table: str, fiscal_year: int) -> str:
    """The statement a yearly migration (or the scheduler, before 1 October) runs: the
    partition of the coming fiscal year, empty, so that creating it takes a moment and
    inherits every index declared on the parent."""
    return (f"CREATE TABLE IF NOT EXISTS {table}_fy{fiscal_year} PARTITION OF {table} "
            f"FOR VALUES FROM ({fiscal_year}) TO ({fiscal_year + 1})")


def build_copy(conn: Any, percent: float) -> list[int]:
    years = [r[0] for r in conn.execute(
        "SELECT DISTINCT fiscal_year FROM evidence ORDER BY 1").fetchall()]
    conn.execute(f"DROP TABLE IF EXISTS {COPY}")
    # the generated column and the defaults come with LIKE; the primary key must include
    # the partition key (id stays unique: UUIDv7)
    conn.execute(f"CREATE TABLE {COPY} (LIKE evidence INCLUDING DEFAULTS INCLUDING GENERATED) "
                 "PARTITION BY RANGE (fiscal_year)")
    conn.execute(f"ALTER TABLE {COPY} ADD PRIMARY KEY (id, fiscal_year)")
    for fy in [*years, years[-1] + 1]:
        conn.execute(next_year_partition_sql(COPY, fy))
    sample = "" if percent >= 100 else f" TABLESAMPLE SYSTEM ({percent})"
    cols = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'evidence' "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position").fetchall()]
    t0 = time.perf_counter()
    conn.execute(f"INSERT INTO {COPY} ({', '.join(cols)}) SELECT {', '.join(cols)} "
                 f"FROM evidence{sample} ORDER BY created_at")
    print(f"copied in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    t0 = time.perf_counter()
    for name, ddl in conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'evidence' "
            "AND indexname NOT LIKE 'pk_%'").fetchall():
        conn.execute(re.sub(r" ON public\.evidence ", f" ON {COPY} ", ddl)
                     .replace(f'INDEX {name} ', f'INDEX {name.replace("evidence", COPY)} '))
    conn.execute(f"ANALYZE {COPY}")
    print(f"indexed in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return years


QUERIES = {
    "one fiscal year (voucher list, FY filter)":
        "SELECT id FROM {t} WHERE fiscal_year = {fy} AND org_id = {org} "
        "ORDER BY created_at DESC LIMIT 50",
    "tax ID + fiscal year":
        "SELECT id FROM {t} WHERE issuer_tax_id = '{tax}' AND fiscal_year = {fy} "
        "ORDER BY created_at DESC LIMIT 50",
    "audit period as fiscal years (issue dates + the years they fall in)":
        "SELECT id FROM {t} WHERE issue_date BETWEEN '{start}' AND '{end}' "
        "AND fiscal_year BETWEEN {fy} AND {fy} AND amount BETWEEN 10000 AND 50000 "
        "ORDER BY created_at DESC LIMIT 50",
    "no fiscal year (newest first, all years)":
        "SELECT id FROM {t} WHERE org_id = {org} ORDER BY created_at DESC LIMIT 50",
}


def explain(conn: Any, sql: str) -> tuple[list[str], float]:
    plan = [r[0] for r in conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) "
                                       f"{sql}").fetchall()]
    ms = next((float(line.split(":")[1].split()[0]) for line in plan
               if line.startswith("Execution Time")), 0.0)
    return plan, ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True)
    ap.add_argument("--percent", type=float, default=100.0)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    pg = servers.start_postgres()
    with servers.connect_autocommit(pg.url(args.db)) as conn:
        conn.execute("SET maintenance_work_mem = '768MB'")
        try:
            years = build_copy(conn, args.percent)
            fy = years[-2]
            org, tax = conn.execute(
                f"SELECT org_id, issuer_tax_id FROM {COPY} WHERE fiscal_year = %s LIMIT 1",
                (fy,)).fetchone()
            start = f"{fy - 544}-10-01"
            end = f"{fy - 544}-12-31"
            print(f"### Partitioned copy: {COPY}, {len(years) + 1} partitions "
                  f"(FY {years[0]}–{years[-1] + 1}, the last one empty)\n")
            for name, template in QUERIES.items():
                sql = template.format(t=COPY, fy=fy, org=org, tax=tax, start=start, end=end)
                plan, ms = explain(conn, sql)
                _, flat_ms = explain(conn, sql.replace(COPY, "evidence"))
                scanned = sorted({m for line in plan
                                  for m in re.findall(rf"{COPY}_fy(\d+)", line)})
                print(f"#### {name}\n\n    {sql}\n\npartitions scanned: "
                      f"{', '.join(scanned) or 'none'} of {len(years) + 1}; "
                      f"{ms:.1f} ms partitioned, {flat_ms:.1f} ms on the single table\n")
                print("```\n" + "\n".join(plan) + "\n```\n")
            print("#### Sizes per partition\n\n| partition | rows | table + TOAST | indexes |\n"
                  "|---|---:|---:|---:|")
            for part, rows, heap, idx in conn.execute(
                    "SELECT c.relname, c.reltuples::bigint, "
                    "pg_size_pretty(pg_table_size(c.oid)), "
                    "pg_size_pretty(pg_indexes_size(c.oid)) FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid "
                    f"WHERE i.inhparent = '{COPY}'::regclass ORDER BY 1").fetchall():
                print(f"| {part} | {max(rows, 0):,} | {heap} | {idx} |")
        finally:
            if not args.keep:
                conn.execute(f"DROP TABLE IF EXISTS {COPY}")
    pg.stop()


if __name__ == "__main__":
    main()
