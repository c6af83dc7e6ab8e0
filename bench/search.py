"""Search latency at scale, against the natural limit (a sequential scan) in the same run.

Generates realistic evidence rows with PostgreSQL COPY (7,850 organisations: DLA → 76
provincial offices → 7,773 LAOs; 10 fiscal years; Thai vendor names and descriptions;
log-normal amounts; tax IDs with valid check digits; an extracted text per file), then
times each query type THROUGH THE SEARCH SERVICE as a provincial auditor and as a national
auditor (the call, the capped count and the audited commit), first with the indexes and
then with index scans disabled (``enable_indexscan/bitmapscan/indexonlyscan = off``).
The same data at a smaller size goes into SQLite (FTS5 trigram) for the embedded figures.

    python bench/search.py [--rows 1000000] [--sqlite-rows 100000] [--reps 30]
                           [--db NAME] [--write-docs docs/search.md]

``--db NAME`` keeps the PostgreSQL database and reuses it on later runs (same ``--rows``
and ``--seed``), bringing it to the head migration first: for iterating on indexes.
``--sqlite-db PATH`` does the same for the SQLite database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import math
import os
import random
import statistics
import string
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.accounts.principal import Principal  # noqa: E402
from archive.db import make_engine, upgrade  # noqa: E402
from archive.search import service as search  # noqa: E402
from archive.search.schemas import SearchParams  # noqa: E402
from archive.textnorm import thai_search_form  # noqa: E402
from archive.thai import fiscal_year_bounds, tax_id_check_digit  # noqa: E402
from archive.unit_of_work import make_session_factory  # noqa: E402
from tests import servers  # noqa: E402

# -- vocabulary ---------------------------------------------------------------------------

PROVINCES = [
    "กระบี่", "กาญจนบุรี", "กาฬสินธุ์", "กำแพงเพชร", "ขอนแก่น", "จันทบุรี", "ฉะเชิงเทรา", "ชลบุรี",
    "ชัยนาท", "ชัยภูมิ", "ชุมพร", "เชียงราย", "เชียงใหม่", "ตรัง", "ตราด", "ตาก", "นครนายก",
    "นครปฐม", "นครพนม", "นครราชสีมา", "นครศรีธรรมราช", "นครสวรรค์", "นนทบุรี", "นราธิวาส", "น่าน",
    "บึงกาฬ", "บุรีรัมย์", "ปทุมธานี", "ประจวบคีรีขันธ์", "ปราจีนบุรี", "ปัตตานี", "พระนครศรีอยุธยา",
    "พะเยา", "พังงา", "พัทลุง", "พิจิตร", "พิษณุโลก", "เพชรบุรี", "เพชรบูรณ์", "แพร่", "ภูเก็ต",
    "มหาสารคาม", "มุกดาหาร", "แม่ฮ่องสอน", "ยโสธร", "ยะลา", "ร้อยเอ็ด", "ระนอง", "ระยอง", "ราชบุรี",
    "ลพบุรี", "ลำปาง", "ลำพูน", "เลย", "ศรีสะเกษ", "สกลนคร", "สงขลา", "สตูล", "สมุทรปราการ",
    "สมุทรสงคราม", "สมุทรสาคร", "สระแก้ว", "สระบุรี", "สิงห์บุรี", "สุโขทัย", "สุพรรณบุรี",
    "สุราษฎร์ธานี", "สุรินทร์", "หนองคาย", "หนองบัวลำภู", "อ่างทอง", "อำนาจเจริญ", "อุดรธานี",
    "อุตรดิตถ์", "อุทัยธานี", "อุบลราชธานี",
]
PLACE_PARTS = ["บ้าน", "หนอง", "โนน", "ดอน", "ห้วย", "นา", "ท่า", "วัง", "บึง", "โคก", "แม่", "ป่า",
               "สัน", "ทุ่ง", "เขา", "คลอง", "บาง", "ไผ่", "ม่วง", "แก้ว", "ทอง", "ใหญ่", "น้อย", "เหนือ",
               "ใต้", "สวาง", "ศรี", "ชัย", "พัฒนา", "สามัคคี", "กลาง", "หลวง", "งาม", "เจริญ"]
VENDOR_STEMS = ["รุ่งเรือง", "เจริญ", "ทรัพย์", "สมบูรณ์", "ศรี", "ไทย", "พาณิชย์", "ก่อสร้าง",
                "วัสดุ", "การค้า", "ภัณฑ์", "ยนต์", "อิเล็กทรอนิกส์", "ปิโตรเลียม", "เครื่องเขียน",
                "การพิมพ์", "คอมพิวเตอร์", "ซัพพลาย", "เทรดดิ้ง", "โภคภัณฑ์", "มงคล", "ทวี", "สุข",
                "วัฒนา", "กิจ", "ธนา", "ชัย", "โชค", "มั่นคง", "เกษตร", "ค้าไม้", "ออยล์", "เซอร์วิส",
                "เอ็นจิเนียริ่ง", "คอนสตรัคชั่น", "ฟาร์มา", "มาร์ท", "โอสถ", "แก๊ส", "ค้าข้าว"]
VENDOR_FORMS = [("บริษัท ", " จำกัด"), ("ห้างหุ้นส่วนจำกัด ", ""), ("ร้าน", ""),
                ("บริษัท ", " จำกัด (มหาชน)"), ("สหกรณ์การเกษตร", " จำกัด"), ("หจก.", "")]
EXPENSES = [
    "ค่าวัสดุสำนักงาน", "ค่าน้ำมันเชื้อเพลิงและหล่อลื่น", "ค่าวัสดุงานบ้านงานครัว",
    "ค่าอาหารเสริม (นม) โรงเรียน", "ค่าอาหารกลางวันเด็กนักเรียน", "ค่าจ้างเหมาบริการ",
    "ค่าซ่อมแซมครุภัณฑ์", "ค่าก่อสร้างถนนคอนกรีตเสริมเหล็ก", "ค่าไฟฟ้า", "ค่าน้ำประปา",
    "ค่าบริการโทรศัพท์", "ค่าวัสดุคอมพิวเตอร์", "ค่าวัสดุก่อสร้าง", "ค่าวัสดุไฟฟ้าและวิทยุ",
    "ค่าวัสดุการเกษตร", "ค่าวัสดุวิทยาศาสตร์หรือการแพทย์", "ค่าใช้จ่ายในการเดินทางไปราชการ",
    "ค่าใช้จ่ายโครงการจัดงานประเพณีลอยกระทง", "ค่าขุดลอกคลองส่งน้ำ", "ค่าวัสดุยานพาหนะและขนส่ง",
    "ค่าเช่าเครื่องถ่ายเอกสาร", "ค่าบำรุงรักษาระบบประปาหมู่บ้าน", "ค่าวัสดุเครื่องแต่งกาย",
    "ค่าจัดทำป้ายประชาสัมพันธ์", "ค่าจ้างเหมาเก็บขนขยะมูลฝอย", "ค่าวัสดุกีฬา",
    "ค่าครุภัณฑ์สำนักงาน (โต๊ะทำงาน)", "ค่าจัดซื้อเครื่องคอมพิวเตอร์โน้ตบุ๊ก",
    "ค่าวัสดุโฆษณาและเผยแพร่", "ค่าใช้จ่ายโครงการป้องกันและลดอุบัติเหตุทางถนนช่วงเทศกาลสงกรานต์",
    "ค่าพ่นหมอกควันกำจัดยุงลาย", "ค่าวัคซีนป้องกันโรคพิษสุนัขบ้า", "ค่าซ่อมแซมถนนลูกรัง",
    "ค่าติดตั้งไฟฟ้าส่องสว่างสาธารณะ", "ค่าจ้างที่ปรึกษาออกแบบอาคาร", "ค่าถ่ายเอกสารและเข้าเล่ม",
]
MONTHS = ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
          "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"]
DOC_TYPES = [("receipt", 45), ("tax_invoice", 25), ("e_payment_report", 12),
             ("payment_acknowledgement", 8), ("invoice", 5), ("contract", 2), ("scan", 3)]
TEXT_HEAD = {"receipt": "ใบเสร็จรับเงิน", "tax_invoice": "ใบกำกับภาษี/ใบเสร็จรับเงิน",
             "e_payment_report": "รายงานการจ่ายเงิน KTB Corporate Online",
             "payment_acknowledgement": "ใบสำคัญรับเงิน", "invoice": "ใบแจ้งหนี้", "contract": "สัญญาจ้าง",
             "scan": "สำเนา"}
FISCAL_YEARS = list(range(2559, 2569))
N_LAOS = 7_773


def tax_id(rng: random.Random, first: str) -> str:
    body = first + "".join(rng.choice("0123456789") for _ in range(11))
    return body + str(tax_id_check_digit(body))


@dataclass
class World:
    org_ids: list[int]                         # LAO ids
    org_weights: list[float]
    province_of: dict[int, int]                # LAO id → province office id
    province_ids: list[int]
    vendors: list[tuple[str, str]]             # (name, tax id)
    samples: dict[str, list[Any]] = field(default_factory=dict)


def org_rows(rng: random.Random) -> tuple[list[tuple[Any, ...]], World]:
    rows: list[tuple[Any, ...]] = [(1, "dla", "กรมส่งเสริมการปกครองท้องถิ่น", "dla-office", None)]
    province_ids = []
    for i, name in enumerate(PROVINCES, start=1):
        pid = 1 + i
        province_ids.append(pid)
        rows.append((pid, f"p-{i:02d}", f"สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด{name}",
                     "province", 1))
    org_ids, weights, province_of = [], [], {}
    next_id = 2 + len(PROVINCES)
    for n in range(N_LAOS):
        prov_index = n % len(PROVINCES) if n < len(PROVINCES) else rng.randrange(len(PROVINCES))
        pid = province_ids[prov_index]
        place = "".join(rng.sample(PLACE_PARTS, 2))
        if n < len(PROVINCES):
            kind, name, weight = "pao", f"องค์การบริหารส่วนจังหวัด{PROVINCES[prov_index]}", 8.0
        elif n < len(PROVINCES) + 2_470:
            kind, name, weight = "municipality", f"เทศบาลตำบล{place}", rng.uniform(1.0, 3.0)
        else:
            kind, name, weight = "sao", f"องค์การบริหารส่วนตำบล{place}", rng.uniform(0.5, 1.5)
        rows.append((next_id, f"lao-{n:05d}", name, kind, pid))
        org_ids.append(next_id)
        weights.append(weight)
        province_of[next_id] = pid
        next_id += 1
    vendors = []
    for _ in range(20_000):
        prefix, suffix = rng.choice(VENDOR_FORMS)
        stem = "".join(rng.sample(VENDOR_STEMS, rng.choice((2, 2, 3))))
        vendors.append((f"{prefix}{stem}{suffix}",
                        tax_id(rng, "0" if prefix != "ร้าน" else rng.choice("13"))))
    return rows, World(org_ids, weights, province_of, province_ids, vendors)


def uuid7_at(ms: int, rng: random.Random) -> uuid.UUID:
    value = ((ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64
             | 0b10 << 62 | rng.getrandbits(62))
    return uuid.UUID(int=value)


@dataclass
class Row:
    evidence: tuple[Any, ...]
    blob: tuple[Any, ...]
    text: str


def generate(n: int, world: World, rng: random.Random) -> Iterator[Row]:
    orgs = rng.choices(world.org_ids, weights=world.org_weights, k=n)
    # Vendors by a Zipf-like law (s = 0.6): the largest supplies under 1% of all records.
    vendor_weights = list(itertools.accumulate(1 / (rank ** 0.6)
                                               for rank in range(1, len(world.vendors) + 1)))
    vendor_of = rng.choices(world.vendors, cum_weights=vendor_weights, k=n)
    doc_types = rng.choices([d for d, _ in DOC_TYPES], weights=[w for _, w in DOC_TYPES], k=n)
    voucher_seq: dict[tuple[int, int], int] = {}
    for i in range(n):
        org = orgs[i]
        fy = rng.choice(FISCAL_YEARS)
        start, _ = fiscal_year_bounds(fy)
        issue = start + dt.timedelta(days=rng.randrange(365))
        created = dt.datetime(issue.year, issue.month, issue.day, tzinfo=dt.UTC) + \
            dt.timedelta(days=rng.randrange(0, 30), seconds=rng.randrange(86_400))
        vendor, vendor_tax = vendor_of[i]
        expense = rng.choice(EXPENSES)
        month = MONTHS[issue.month - 1]
        description = f"{expense} ประจำเดือน{month} {fy}"
        amount = min(50_000_000.0, max(10.0, math.exp(rng.gauss(math.log(6_000), 1.5))))
        amount_s = f"{amount:.2f}"
        key = (org, fy)
        voucher_seq[key] = voucher_seq.get(key, 0) + 1
        voucher = f"ฎ {voucher_seq[key]}/{fy}"
        doc_type = doc_types[i]
        doc_number = f"{doc_type[:2].upper()}{fy % 100:02d}-{rng.randrange(1_000_000):06d}"
        sha = rng.getrandbits(256).to_bytes(32, "big").hex()
        media = "application/pdf" if doc_type != "scan" else "image/png"
        size = rng.randrange(20_000, 900_000)
        blob_id = i + 1
        ev_id = uuid7_at(int(created.timestamp() * 1000), rng)
        roll = rng.random()
        pdfa = "t" if roll < 0.6 else ("f" if roll < 0.7 else None)
        text = (f"{TEXT_HEAD[doc_type]} เลขที่ {doc_number} {vendor} เลขประจำตัวผู้เสียภาษี "
                f"{vendor_tax} รายการ {expense} จำนวนเงิน {amount_s} บาท")
        yield Row(
            (ev_id, org, blob_id, doc_type, fy, voucher, doc_number, issue, vendor, vendor_tax,
             "00000", amount_s, None, "THB", description, f"{doc_number}.pdf", None, "bench",
             "inspected", 1, created, created, pdfa, "t" if rng.random() < 0.01 else "f"),
            (blob_id, sha, size, media, f"sha256/{sha[:2]}/{sha[2:4]}/{sha}", None,
             created + dt.timedelta(days=3650), "f", created),
            text)
        if rng.random() < max(0.003, 3000 / n):
            world.samples.setdefault("rows", []).append(
                {"org": org, "sha": sha, "voucher": voucher, "tax": vendor_tax, "fy": fy})


def in_upload_order(rows: Iterator[Row]) -> list[Row]:
    """The rows in the order the archive would have received them: by upload time, blob
    ids numbered in that order. (The records are generated in random order; inserted that
    way, a table's pages would mix ten years of uploads, which no archive that receives
    its evidence as it is paid ever does, and the upload-ordered indexes would point all
    over the table.)"""
    ordered = sorted(rows, key=lambda r: r.evidence[20])
    out = []
    for blob_id, row in enumerate(ordered, start=1):
        ev, blob = list(row.evidence), list(row.blob)
        ev[2] = blob[0] = blob_id
        out.append(Row(tuple(ev), tuple(blob), row.text))
    return out


EVIDENCE_COLS = ("id", "org_id", "blob_id", "doc_type", "fiscal_year", "voucher_no", "doc_number",
                 "issue_date", "issuer_name", "issuer_tax_id", "issuer_branch", "amount",
                 "vat_amount", "currency", "description", "original_filename",
                 "client_media_type", "uploaded_by", "status", "version", "created_at",
                 "updated_at", "pdfa_compliant", "on_hold")
BLOB_COLS = ("id", "sha256", "size", "media_type", "store_key", "version_id", "retain_until",
             "legal_hold", "created_at")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _tsv(values: tuple[Any, ...]) -> str:
    return "\t".join("\\N" if v is None else str(v) for v in values)


# -- PostgreSQL ---------------------------------------------------------------------------

GIN_MAINTENANCE_MEM = "3GB"


def lower_priority(conn: Any) -> None:
    """Renice this connection's server process to 10 (when the server runs on this machine
    and we may): a long load or index build then yields the CPU to other work on it."""
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 10)
    except OSError:   # another machine's process id, or not ours to renice
        pass


def _drop_secondary_indexes(conn: Any) -> tuple[list[Any], list[Any]]:
    """Drop the secondary indexes (rebuilt after the load, much faster than maintained
    row by row) and switch the triggers off; returns what :func:`_restore_secondary_indexes`
    needs."""
    secondary = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
        "('evidence', 'blobs', 'blob_texts') AND indexname NOT LIKE 'pk_%' "
        "AND indexname NOT LIKE 'uq_%'").fetchall()
    # statistics targets set on index expressions (ALTER INDEX … SET STATISTICS) are not
    # part of the index definition: keep them to set them again
    targets = conn.execute(
        "SELECT c.relname, a.attnum, a.attstattarget FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_index i ON i.indexrelid = c.oid "
        "WHERE i.indrelid IN ('evidence'::regclass, 'blobs'::regclass, "
        "'blob_texts'::regclass) AND a.attstattarget > 0").fetchall()
    # kept in the database until they are built again: a run interrupted during the load
    # finds them there
    conn.execute("CREATE TABLE IF NOT EXISTS bench_dropped (name text, ddl text, "
                 "attnum int, target int)")
    for name, ddl in secondary:
        conn.execute("INSERT INTO bench_dropped VALUES (%s, %s, NULL, NULL)", (name, ddl))
    for name, column, target in targets:
        conn.execute("INSERT INTO bench_dropped VALUES (%s, NULL, %s, %s)",
                     (name, column, target))
    for name, _ in secondary:
        conn.execute(f'DROP INDEX "{name}"')
    for table in ("evidence", "blobs", "blob_texts"):
        conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    saved = conn.execute("SELECT DISTINCT name, ddl, attnum, target FROM bench_dropped "
                         "ORDER BY name").fetchall()
    return ([(name, ddl) for name, ddl, _, _ in saved if ddl is not None],
            [(name, col, tgt) for name, ddl, col, tgt in saved if ddl is None])


def _restore_secondary_indexes(conn: Any, secondary: list[Any], targets: list[Any]) -> None:
    for table in ("evidence", "blobs", "blob_texts"):
        conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")
    t1 = time.perf_counter()
    for name, ddl in secondary:
        conn.execute(ddl)
        print(f"  index {name} ({time.perf_counter() - t1:.0f} s)", file=sys.stderr)
    for name, column, target in targets:
        conn.execute(f'ALTER INDEX "{name}" ALTER COLUMN {column} SET STATISTICS {target}')
    conn.execute("DROP TABLE bench_dropped")
    conn.execute("VACUUM ANALYZE organisations, blobs, evidence, blob_texts")


def load_postgres(url: str, n: int, seed: int) -> World:
    rng = random.Random(seed)
    orgs, world = org_rows(rng)
    with servers.connect_autocommit(url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        secondary, targets = _drop_secondary_indexes(conn)
        t0 = time.perf_counter()
        copy_orgs = "COPY organisations (id, code, name, type, parent_id, created_at) FROM STDIN"
        with conn.cursor() as cur, cur.copy(copy_orgs) as cp:
            now = dt.datetime.now(dt.UTC)
            for row in orgs:
                cp.write_row((*row, now))
        conn.execute("SELECT setval(pg_get_serial_sequence('organisations', 'id'), 10000)")
        # statistics first: without them each organisation's walk up the tree is planned as
        # if the table were empty, ~20 s for the 7,850 of them instead of well under one
        conn.execute("ANALYZE organisations")
        # each record's area (migration 0101), what the evidence trigger would set
        area = dict(conn.execute("SELECT id, organisation_area(id) FROM organisations").fetchall())
        batch = 100_000
        rows = iter(in_upload_order(generate(n, world, rng)))
        done = 0
        now_s = dt.datetime.now(dt.UTC)
        while done < n:
            chunk = [next(rows) for _ in range(min(batch, n - done))]
            # search_text is what the blob_texts trigger would copy (triggers are off here)
            ev = io.StringIO("\n".join(_tsv((*r.evidence, r.text.translate(_ASCII_LOWER),
                                              area[r.evidence[1]]))
                                       for r in chunk) + "\n")
            bl = io.StringIO("\n".join(_tsv(r.blob) for r in chunk) + "\n")
            tx = io.StringIO("\n".join(_tsv((r.blob[0], r.text, len(r.text), "pdfium", None,
                                             now_s)) for r in chunk) + "\n")
            with conn.cursor() as cur:
                with cur.copy(f"COPY blobs ({', '.join(BLOB_COLS)}) FROM STDIN") as cp:
                    cp.write(bl.getvalue())
                with cur.copy(f"COPY evidence ({', '.join(EVIDENCE_COLS)}, search_text, "
                              "search_area) FROM STDIN") as cp:
                    cp.write(ev.getvalue())
                with cur.copy("COPY blob_texts (blob_id, text, chars, extractor, error, "
                              "extracted_at) FROM STDIN") as cp:
                    cp.write(tx.getvalue())
            done += len(chunk)
            print(f"  loaded {done:,} rows ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        conn.execute("SELECT setval(pg_get_serial_sequence('blobs', 'id'), %s)", (n + 1,))
        t1 = time.perf_counter()
        _restore_secondary_indexes(conn, secondary, targets)
        world.samples["load_seconds"] = [t1 - t0, time.perf_counter() - t1]
        save_world(conn, world, n, seed)
    return world


# -- PostgreSQL, generated in SQL (10 M and beyond) ---------------------------------------

def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _stage_sql(fy: int, count: int, base: int, seed: int, slots: int, vendors: int) -> str:
    """One fiscal year's records as an UNLOGGED staging table, every column computed in
    SQL from ``generate_series`` and ``random()``: the same distributions as
    :func:`generate` (LAO weights through a slot table, vendors by the inverse CDF of the
    same Zipf-like law, log-normal amounts by Box-Muller, voucher numbers counted per LAO
    in upload order), in upload order, blob ids from ``base + 1``."""
    start, _ = fiscal_year_bounds(fy)
    doc_case = "CASE " + " ".join(
        f"WHEN r_doc < {cum / 100:.2f} THEN '{name}'"
        for name, cum in zip([d for d, _ in DOC_TYPES],
                             itertools.accumulate(w for _, w in DOC_TYPES), strict=True)) + \
        " ELSE 'scan' END"
    head_case = "CASE doc_type " + " ".join(
        f"WHEN '{k}' THEN '{v}'" for k, v in TEXT_HEAD.items()) + " END"
    zipf = f"power({vendors + 1}, 0.4) - 1"
    return f"""
    CREATE UNLOGGED TABLE bench_stage AS
    WITH g AS (
        SELECT (random() * {slots - 1})::int AS slot,
               least({vendors}, greatest(1, floor(power(random() * ({zipf}) + 1, 2.5))))::int
                   AS vrank,
               DATE '{start.isoformat()}' + (random() * 364)::int AS issue,
               (random() * 29)::int AS lag_days, (random() * 86399)::int AS lag_s,
               random() AS r_doc, random() AS r_exp, 1 - random() AS r_a1, random() AS r_a2,
               random() AS r_pdfa, random() AS r_hold, (random() * 999999)::int AS docno,
               20000 + (random() * 880000)::int AS size
        FROM generate_series(1, {count})
    ), h AS (
        SELECT g.*, p.org_id, v.name AS vendor, v.tax AS vendor_tax,
               (g.issue + g.lag_days)::timestamp AT TIME ZONE 'UTC'
                   + g.lag_s * interval '1 second' AS created,
               {doc_case} AS doc_type,
               ({_sql_array(EXPENSES)})[1 + floor(g.r_exp * {len(EXPENSES)})::int] AS expense,
               round(least(50000000, greatest(10, exp(ln(6000) + 1.5 * sqrt(-2 * ln(g.r_a1))
                     * cos(2 * pi() * g.r_a2))))::numeric, 2) AS amount
        FROM g JOIN bench_org_pick p ON p.slot = g.slot JOIN bench_vendor v ON v.rank = g.vrank
    ), o AS (
        SELECT h.*, {base} + row_number() OVER (ORDER BY created) AS blob_id,
               row_number() OVER (PARTITION BY org_id ORDER BY created) AS vseq,
               upper(left(doc_type, 2)) || '{fy % 100:02d}-' || lpad(docno::text, 6, '0')
                   AS doc_number
        FROM h
    )
    SELECT o.*,
           (lpad(to_hex((extract(epoch FROM created) * 1000)::bigint), 12, '0') || '7'
            || substr(r.hex, 1, 3) || '8' || substr(r.hex, 4, 15))::uuid AS id,
           encode(sha256(convert_to('{seed}:' || blob_id, 'UTF8')), 'hex') AS sha,
           'ฎ ' || vseq || '/{fy}' AS voucher,
           expense || ' ประจำเดือน' || ({_sql_array(MONTHS)})[extract(month FROM issue)::int]
               || ' {fy}' AS description,
           {head_case} || ' เลขที่ ' || doc_number || ' ' || vendor
               || ' เลขประจำตัวผู้เสียภาษี ' || vendor_tax || ' รายการ ' || expense
               || ' จำนวนเงิน ' || amount || ' บาท' AS body
    FROM o, LATERAL (SELECT md5(o.blob_id || ':' || random()) AS hex) r
    ORDER BY created
    """


def load_postgres_sql(url: str, n: int, seed: int, workers: int = 3) -> World:
    """The records generated inside PostgreSQL, one fiscal year per statement batch
    (INSERT … SELECT from ``generate_series``), ``workers`` years at a time on as many
    connections, then the secondary indexes built ``workers`` at a time: no Python loop
    per row and no row in Python memory, so 10 M records take minutes, not the hours and
    tens of GB of :func:`load_postgres`. Sample rows for the queries are drawn from the
    staging tables. A year already loaded by an interrupted run (its last blob text is
    there) is kept, and its samples are drawn from the tables."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(seed)
    orgs, world = org_rows(rng)
    per_year = [n // len(FISCAL_YEARS)] * len(FISCAL_YEARS)
    per_year[-1] += n - sum(per_year)
    bases = [sum(per_year[:i]) for i in range(len(per_year))]
    sample_p = max(0.003, 3000 / n)
    lock = threading.Lock()

    def connect(maintenance: str = "768MB") -> Any:
        conn = servers.connect_autocommit(url)
        lower_priority(conn)
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        # a GIN build collects its entries in maintenance_work_mem and merges far less
        # (minutes instead of an hour for the trigram index at 10 M) when that is large
        conn.execute(f"SET maintenance_work_mem = '{maintenance}'")
        conn.execute("SET max_parallel_maintenance_workers = 0")
        return conn

    with connect() as conn:
        secondary, targets = _drop_secondary_indexes(conn)
        t0 = time.perf_counter()
        now = dt.datetime.now(dt.UTC)
        if not conn.execute("SELECT EXISTS (SELECT 1 FROM organisations)").fetchone()[0]:
            with conn.cursor() as cur, cur.copy(
                    "COPY organisations (id, code, name, type, parent_id, created_at) "
                    "FROM STDIN") as cp:
                for row in orgs:
                    cp.write_row((*row, now))
            conn.execute("SELECT setval(pg_get_serial_sequence('organisations', 'id'), 10000)")
            conn.execute("ANALYZE organisations")   # see load_postgres
        conn.execute("DROP TABLE IF EXISTS bench_org_pick, bench_vendor")
        conn.execute("CREATE UNLOGGED TABLE bench_org_pick (slot int PRIMARY KEY, org_id int)")
        conn.execute("CREATE UNLOGGED TABLE bench_vendor (rank int PRIMARY KEY, name text, "
                     "tax text)")
        slot = 0
        with conn.cursor() as cur, cur.copy("COPY bench_org_pick FROM STDIN") as cp:
            for org, weight in zip(world.org_ids, world.org_weights, strict=True):
                for _ in range(max(1, round(weight * 10))):
                    cp.write_row((slot, org))
                    slot += 1
        with conn.cursor() as cur, cur.copy("COPY bench_vendor FROM STDIN") as cp:
            for rank, (name, tax) in enumerate(world.vendors, start=1):
                cp.write_row((rank, name, tax))
        conn.execute("ANALYZE bench_org_pick, bench_vendor")

    def load_year(fy: int, count: int, base: int) -> None:
        stage = f"bench_stage_{fy}"
        with connect() as conn:
            conn.execute(f"SELECT setseed({((seed + fy) % 1000) / 1000})")
            done = conn.execute("SELECT EXISTS (SELECT 1 FROM blob_texts WHERE blob_id = %s)",
                                (base + count,)).fetchone()[0]
            if done:
                rows = conn.execute(
                    "SELECT e.org_id, b.sha256, e.voucher_no, e.issuer_tax_id FROM blobs b "
                    "JOIN evidence e ON e.blob_id = b.id WHERE b.id BETWEEN %s AND %s "
                    "AND random() < %s", (base + 1, base + count, sample_p)).fetchall()
            else:
                for table in ("blob_texts", "evidence", "blobs"):   # a half-loaded year
                    conn.execute(f"DELETE FROM {table} WHERE "
                                 f"{'id' if table == 'blobs' else 'blob_id'} BETWEEN %s AND %s",
                                 (base + 1, base + count))
                conn.execute(f"DROP TABLE IF EXISTS {stage}")
                conn.execute(_stage_sql(fy, count, base, seed, slot, len(world.vendors))
                             .replace("bench_stage", stage))
                conn.execute(
                    "INSERT INTO blobs (id, sha256, size, media_type, store_key, version_id, "
                    "retain_until, legal_hold, created_at) "
                    "SELECT blob_id, sha, size, CASE WHEN doc_type = 'scan' THEN 'image/png' "
                    "ELSE 'application/pdf' END, 'sha256/' || substr(sha, 1, 2) || '/' || "
                    "substr(sha, 3, 2) || '/' || sha, NULL, created + interval '3650 days', "
                    f"false, created FROM {stage} ORDER BY blob_id")
                conn.execute(
                    f"INSERT INTO evidence ({', '.join(EVIDENCE_COLS)}, search_text, "
                    "search_area) "
                    "SELECT id, org_id, blob_id, doc_type, %s, voucher, doc_number, issue, "
                    "vendor, vendor_tax, '00000', amount, NULL, 'THB', description, "
                    "doc_number || '.pdf', NULL, 'bench', 'inspected', 1, created, created, "
                    "CASE WHEN r_pdfa < 0.6 THEN true WHEN r_pdfa < 0.7 THEN false END, "
                    "r_hold < 0.01, "
                    # = search_text and search_area (the evidence triggers are off); the
                    # area of each organisation once (per record: ~1 ms each, hours at 10 M;
                    # OFFSET 0 keeps the call from being pulled up to each joined row)
                    f"translate(body, %s, %s), a.area FROM {stage} JOIN (SELECT id AS area_org, "
                    "organisation_area(id) AS area FROM organisations OFFSET 0) a "
                    "ON a.area_org = org_id "
                    "ORDER BY blob_id",
                    (fy, string.ascii_uppercase, string.ascii_lowercase))
                conn.execute(
                    "INSERT INTO blob_texts (blob_id, text, chars, extractor, error, "
                    f"extracted_at) SELECT blob_id, body, char_length(body), 'pdfium', NULL, %s "
                    f"FROM {stage} ORDER BY blob_id", (now,))
                rows = conn.execute(
                    f"SELECT org_id, sha, voucher, vendor_tax FROM {stage} WHERE random() < %s",
                    (sample_p,)).fetchall()
                conn.execute(f"DROP TABLE {stage}")
        with lock:
            for org, sha, voucher, tax in rows:
                world.samples.setdefault("rows", []).append(
                    {"org": org, "sha": sha, "voucher": voucher, "tax": tax, "fy": fy})
            print(f"  FY {fy}: {count:,} rows{' (kept)' if done else ''} "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(load_year, FISCAL_YEARS, per_year, bases))
    world.samples["rows"].sort(key=lambda r: (r["fy"], r["sha"]))   # same order every run
    with connect() as conn:
        conn.execute("DROP TABLE bench_org_pick, bench_vendor")
        conn.execute("SELECT setval(pg_get_serial_sequence('blobs', 'id'), %s)", (n + 1,))
        for table in ("evidence", "blobs", "blob_texts"):
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")
    t1 = time.perf_counter()

    def build(name: str, ddl: str) -> None:
        with connect(GIN_MAINTENANCE_MEM if " gin " in ddl.lower() else "768MB") as conn:
            conn.execute(ddl)
        print(f"  index {name} ({time.perf_counter() - t1:.0f} s)", file=sys.stderr)

    # the biggest first, so that the small ones fill in around it
    order = sorted(secondary, key=lambda item: ("gin" not in item[1], item[0]))
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda item: build(*item), order))
    with connect() as conn:
        for name, column, target in targets:
            conn.execute(f'ALTER INDEX "{name}" ALTER COLUMN {column} SET STATISTICS {target}')
        conn.execute("DROP TABLE bench_dropped")
        conn.execute("VACUUM ANALYZE organisations, blobs, evidence, blob_texts")
        world.samples["load_seconds"] = [t1 - t0, time.perf_counter() - t1]
        save_world(conn, world, n, seed)
    return world


# A kept database remembers what the queries need (sample rows, province map) in a table of
# its own, so that later runs with ``--db NAME`` skip the 1M-row load.
_WORLD_TABLE = "bench_search_world"


def world_json(world: World, n: int, seed: int) -> str:
    import json

    return json.dumps({"rows": n, "seed": seed, "org_ids": world.org_ids,
                       "province_of": {str(k): v for k, v in world.province_of.items()},
                       "province_ids": world.province_ids, "samples": world.samples})


def world_from_json(text: str | dict[str, Any], n: int, seed: int) -> World | None:
    import json

    body = json.loads(text) if isinstance(text, str) else text
    if body["rows"] != n or body["seed"] != seed:
        return None
    return World(body["org_ids"], [], {int(k): v for k, v in body["province_of"].items()},
                 body["province_ids"], [], body["samples"])


def save_world(conn: Any, world: World, n: int, seed: int) -> None:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {_WORLD_TABLE} (body jsonb NOT NULL)")
    conn.execute(f"DELETE FROM {_WORLD_TABLE}")
    conn.execute(f"INSERT INTO {_WORLD_TABLE} (body) VALUES (%s)", (world_json(world, n, seed),))


def load_world(url: str, n: int, seed: int) -> World | None:
    """The world of a database built earlier with the same size and seed, else None."""
    with servers.connect_autocommit(url) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (_WORLD_TABLE,)).fetchone()
        if not exists or exists[0] is None:
            return None
        row = conn.execute(f"SELECT body FROM {_WORLD_TABLE}").fetchone()
    return None if row is None else world_from_json(row[0], n, seed)


def analyse(url: str) -> None:
    with servers.connect_autocommit(url) as conn:
        conn.execute("VACUUM ANALYZE organisations, blobs, evidence, blob_texts")


def database_exists(pg: Any, name: str) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(pg.admin_url)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": name}).scalar()
    engine.dispose()
    return bool(found)


def create_named_database(pg: Any, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(pg.admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def storage_report(url: str, n: int, target: int = 400_000_000) -> str:
    """Bytes on disk per table (heap + TOAST) and per index, per record, and multiplied
    out to ``target`` records (linear: every structure here grows with the records)."""
    with servers.connect_autocommit(url) as conn:
        rows = conn.execute(
            "SELECT c.relname, CASE WHEN c.relkind = 'i' THEN 'index' ELSE 'table' END, "
            "CASE WHEN c.relkind = 'i' THEN pg_relation_size(c.oid) "
            "ELSE pg_table_size(c.oid) END, t.relname "
            "FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid "
            "LEFT JOIN pg_class t ON t.oid = coalesce(i.indrelid, c.oid) "
            "WHERE t.relname IN ('evidence', 'blobs', 'blob_texts') "
            "AND c.relkind IN ('r', 'i') ORDER BY 4, 2 DESC, 3 DESC").fetchall()
    total = sum(size for _, _, size, _ in rows)

    def gb(size: float) -> str:
        return f"{size / 1e9:,.2f} GB" if size < 1e12 else f"{size / 1e12:,.2f} TB"

    lines = [f"#### Storage at {n:,} records (PostgreSQL, after VACUUM ANALYZE)", "",
             f"| relation | kind | on disk | bytes per record | × {target / 1e6:,.0f} M records |",
             "|---|---|---:|---:|---:|"]
    for name, kind, size, _ in rows:
        lines.append(f"| {name} | {kind} | {gb(size)} | {size / n:,.0f} | "
                     f"{gb(size / n * target)} |")
    lines.append(f"| **all three tables** | | **{gb(total)}** | **{total / n:,.0f}** | "
                 f"**{gb(total / n * target)}** |")
    return "\n".join(lines) + "\n"


# -- queries ------------------------------------------------------------------------------

TEXT_QUERIES = ["วัสดุสำนักงาน", "เชื้อเพลิง", "คอนกรีต", "ลอยกระทง", "พิษสุนัขบ้า", "ทรัพย์ทวี",
                "เจริญก่อสร้าง", "โน้ตบุ๊ก", "ขุดลอกคลอง", "ไฟฟ้าส่องสว่าง"]


def query_makers(world: World, rng: random.Random,
                 province: int | None) -> dict[str, Callable[[], dict[str, Any]]]:
    rows = [r for r in world.samples["rows"]
            if province is None or world.province_of[r["org"]] == province]

    def pick() -> dict[str, Any]:
        return rng.choice(rows)

    def tax_year() -> dict[str, Any]:
        row = pick()
        return {"issuer_tax_id": row["tax"], "fiscal_year": row["fy"]}

    def amount_date() -> dict[str, Any]:
        fy = rng.choice(FISCAL_YEARS)
        start, end = fiscal_year_bounds(fy)
        low = rng.choice([10_000, 50_000, 100_000])
        return {"amount_min": str(low), "amount_max": str(low * 5),
                "issue_date_from": start.isoformat(),
                "issue_date_to": (start + dt.timedelta(days=90)).isoformat()}

    return {
        "SHA-256": lambda: {"sha256": pick()["sha"]},
        "voucher number": lambda: {"voucher_no": pick()["voucher"]},
        "tax ID + fiscal year": tax_year,
        "amount + date range": amount_date,
        "Thai substring q": lambda: {"q": rng.choice(TEXT_QUERIES)},
        "combination": lambda: {"q": rng.choice(TEXT_QUERIES), "fiscal_year": rng.choice(
            FISCAL_YEARS), "amount_min": "5000", "doc_type": "receipt", "sort": "-amount"},
    }


# Query types to measure (--only); empty: all.
ONLY: tuple[str, ...] = ()


def measure(sessions: Any, principal: Principal, makers: dict[str, Callable[[], dict[str, Any]]],
            reps: int) -> dict[str, tuple[float, float, float, bool]]:
    out = {}
    for name, make in makers.items():
        if ONLY and name not in ONLY:
            continue
        times, totals, estimates = [], [], 0
        for i in range(reps + 2):
            params = SearchParams(**make())
            session = sessions()
            start = time.perf_counter()
            page = search.search(session, principal, params)
            session.commit()   # the audit event is part of every search
            elapsed = (time.perf_counter() - start) * 1000
            session.close()
            if i >= 2:  # two warm-up calls
                times.append(elapsed)
                totals.append(page.total)
                estimates += page.total_is_estimate
        times.sort()
        p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
        out[name] = (statistics.median(times), p95, statistics.median(totals),
                     estimates > len(totals) / 2)
    return out


def principals(world: World) -> dict[str, Principal]:
    province = world.province_ids[12]   # เชียงใหม่
    return {"provincial auditor": Principal(name="bench-aud-p", role="auditor",
                                            org_ids=(province,)),
            "national auditor": Principal(name="bench-aud-n", role="auditor", org_ids=(1,))}


def run_queries(url: str, world: World, reps: int, seq_reps: int, *,
                sqlite: bool = False) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    seq_engine = None
    if not sqlite and seq_reps > 0:
        seq_engine = make_engine(url, connect_args={"options": "-c enable_indexscan=off "
                                                    "-c enable_bitmapscan=off "
                                                    "-c enable_indexonlyscan=off"})
    for who, principal in principals(world).items():
        province = None if principal.org_ids == (1,) else principal.org_ids[0]
        fresh = Principal(name=principal.name, role=principal.role, org_ids=principal.org_ids)
        indexed = measure(sessions, fresh, query_makers(world, random.Random(7), province), reps)
        seq = None
        if seq_engine is not None:
            fresh = Principal(name=principal.name, role=principal.role, org_ids=principal.org_ids)
            seq = measure(make_session_factory(seq_engine), fresh,
                          query_makers(world, random.Random(7), province), seq_reps)
        results[who] = {"indexed": indexed, "seq": seq}
    engine.dispose()
    if seq_engine is not None:
        seq_engine.dispose()
    return results


# -- SQLite -------------------------------------------------------------------------------

def load_sqlite(path: Path, n: int, seed: int) -> World:
    import sqlite3

    rng = random.Random(seed)
    orgs, world = org_rows(rng)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    # what archive.db registers on its own connections: the search triggers call it
    conn.create_function("archive_thai_search_form", 1,
                         lambda v: thai_search_form(v) if isinstance(v, str) else v,
                         deterministic=True)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    t0 = time.perf_counter()
    conn.executemany("INSERT INTO organisations (id, code, name, type, parent_id, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", [(*r, now) for r in orgs])

    def ts(value: dt.datetime) -> str:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    rows = in_upload_order(generate(n, world, rng))
    conn.executemany(f"INSERT INTO blobs ({', '.join(BLOB_COLS)}) VALUES "
                     f"({', '.join('?' * len(BLOB_COLS))})",
                     [(b[0], b[1], b[2], b[3], b[4], b[5], ts(b[6]), 0, ts(b[8]))
                      for b in (r.blob for r in rows)])
    conn.executemany(
        f"INSERT INTO evidence ({', '.join(EVIDENCE_COLS)}) VALUES "
        f"({', '.join('?' * len(EVIDENCE_COLS))})",
        [(e[0].hex, e[1], e[2], e[3], e[4], e[5], e[6], e[7].isoformat(), e[8], e[9], e[10],
          int(round(float(e[11]) * 100)), None, e[13], e[14], e[15], None, e[17], e[18], e[19],
          ts(e[20]), ts(e[21]), None if e[22] is None else int(e[22] == "t"), int(e[23] == "t"))
         for e in (r.evidence for r in rows)])
    conn.executemany("INSERT INTO blob_texts (blob_id, text, chars, extractor, error, "
                     "extracted_at) VALUES (?, ?, ?, 'pdfium', NULL, ?)",
                     [(r.blob[0], r.text, len(r.text), now) for r in rows])
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    world.samples["load_seconds"] = [time.perf_counter() - t0, 0.0]
    return world


# -- report -------------------------------------------------------------------------------

def server_memory(url: str) -> str:
    """The server's memory settings, part of every figure's title: a search's p95 at 10 M
    depends on whether the pages it reads are in PostgreSQL's own cache (docs/scale.md,
    "PostgreSQL settings")."""
    with servers.connect_autocommit(url) as conn:
        row = conn.execute("SELECT current_setting('shared_buffers'), "
                           "current_setting('effective_cache_size')").fetchone()
    assert row is not None
    return f"shared_buffers {row[0]}, effective_cache_size {row[1]}"


def table(title: str, results: dict[str, dict[str, Any]]) -> str:
    lines = [f"#### {title}", "",
             "| caller | query | matches (median) | p50 ms | p95 ms | seq-scan p50 ms | "
             "seq-scan p95 ms | speed-up (p50) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for who, res in results.items():
        for name, (p50, p95, total, estimated) in res["indexed"].items():
            if res["seq"]:
                s50, s95, _, _ = res["seq"][name]
                extra = f"{s50:.1f} | {s95:.1f} | {s50 / p50:.0f}×"
            else:
                extra = "– | – | –"
            shown = f"~{total:,.0f}" if estimated else f"{total:,.0f}"
            lines.append(f"| {who} | {name} | {shown} | {p50:.1f} | {p95:.1f} | {extra} |")
    note = "~ an estimate (`total_is_estimate`: the planner's on PostgreSQL), not a count."
    return "\n".join(lines) + "\n\n" + note + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--sqlite-rows", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--seq-reps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2568)
    ap.add_argument("--generate", choices=("auto", "python", "sql"), default="auto",
                    help="Where PostgreSQL rows are generated: in Python and COPYed (the "
                         "1 M figures), or in SQL from generate_series (auto: above "
                         "2,000,000 rows).")
    ap.add_argument("--keep", action="store_true", help="Keep the PostgreSQL database.")
    ap.add_argument("--db", metavar="NAME", default=None,
                    help="Use (and keep) the PostgreSQL database NAME: built on the first run, "
                         "reused by later runs with the same --rows and --seed (migrated to "
                         "head and analysed first).")
    ap.add_argument("--sqlite-db", type=Path, default=None, metavar="PATH",
                    help="Keep the SQLite database at PATH and reuse it on later runs.")
    ap.add_argument("--write-docs", type=Path, default=None)
    ap.add_argument("--only", action="append", metavar="QUERY",
                    help="Measure only this query type (e.g. 'Thai substring q'); repeatable.")
    ap.add_argument("--no-area-grams", action="store_true",
                    help="Search text in a scope through the trigram index of all the text, "
                         "as before migration 0099 (the baseline of the same database).")
    ap.add_argument("--no-year-grams", action="store_true",
                    help="Search text with a fiscal year nation-wide through the trigram index "
                         "of all the text, as before migration 0102 (the baseline of the same "
                         "database).")
    args = ap.parse_args()
    if args.no_area_grams:
        search.AREA_GRAMS_MAX_AREAS = 0
    if args.no_year_grams:
        search.YEAR_GRAMS = False
    global ONLY
    ONLY = tuple(args.only or ())

    report = []
    if args.rows:
        pg = servers.start_postgres()
        keep = args.keep or args.db is not None
        world: World | None = None
        if args.db is not None:
            dbname = args.db
            if not database_exists(pg, dbname):
                create_named_database(pg, dbname)
        else:
            dbname = pg.create_database("archive_bench_search")
        url = pg.url(dbname)
        try:
            if args.db is not None:
                world = load_world(url, args.rows, args.seed)
            # a reused database gets new migrations (and their indexes: built with more
            # memory than the server's default)
            engine = make_engine(url, connect_args={"options": "-c maintenance_work_mem=1GB"})
            t0 = time.perf_counter()
            upgrade(engine)
            engine.dispose()
            if world is None:
                print(f"PostgreSQL: generating {args.rows:,} rows …", file=sys.stderr)
                in_sql = args.generate == "sql" or (args.generate == "auto"
                                                    and args.rows > 2_000_000)
                world = (load_postgres_sql if in_sql else load_postgres)(url, args.rows,
                                                                         args.seed)
            else:
                print(f"PostgreSQL: reusing {dbname} (migrated in "
                      f"{time.perf_counter() - t0:.0f} s)", file=sys.stderr)
                analyse(url)
            load, index = world.samples["load_seconds"]
            print(f"loaded in {load:.0f} s, indexed in {index:.0f} s", file=sys.stderr)
            report.append(storage_report(url, args.rows))
            print(report[-1])
            results = run_queries(url, world, args.reps, args.seq_reps)
            report.append(table(f"PostgreSQL, {args.rows:,} records (load {load:.0f} s + "
                                f"indexes {index:.0f} s; {server_memory(url)})", results))
            print(report[-1])
        finally:
            if not keep:
                pg.drop_database(dbname)
            pg.stop()
    if args.sqlite_rows:
        with tempfile.TemporaryDirectory() as tmp:
            path = args.sqlite_db or Path(tmp) / "bench.db"
            saved = path.with_name(path.name + ".world.json")
            sqlite_world = None
            if args.sqlite_db and path.exists() and saved.exists():
                sqlite_world = world_from_json(saved.read_text(), args.sqlite_rows, args.seed)
            if sqlite_world is None:
                path.unlink(missing_ok=True)
                print(f"SQLite: generating {args.sqlite_rows:,} rows …", file=sys.stderr)
                sqlite_world = load_sqlite(path, args.sqlite_rows, args.seed)
                saved.write_text(world_json(sqlite_world, args.sqlite_rows, args.seed))
            else:
                print(f"SQLite: reusing {path}", file=sys.stderr)
                engine = make_engine(f"sqlite:///{path}")
                upgrade(engine)
                engine.dispose()
            world = sqlite_world
            load = world.samples["load_seconds"][0]
            results = run_queries(f"sqlite:///{path}", world, args.reps, 0, sqlite=True)
            report.append(table(f"SQLite, {args.sqlite_rows:,} records (load with FTS5 "
                                f"triggers {load:.0f} s)", results))
            print(report[-1])
    if args.write_docs:
        marker = "<!-- bench:search -->"
        body = (f"{marker}\nMeasured by `python bench/search.py` on {os.cpu_count()} cores, "
                f"{dt.date.today().isoformat()}.\n\n" + "\n".join(report) + marker)
        doc = args.write_docs.read_text() if args.write_docs.exists() else ""
        if doc.count(marker) == 2:
            head, _, rest = doc.partition(marker)
            _, _, tail = rest.partition(marker)
            doc = head + body + tail
        else:
            doc += "\n" + body + "\n"
        args.write_docs.write_text(doc)


if __name__ == "__main__":
    main()
