"""A deliberately bare upload endpoint, for calibration only (not part of the product).

It does what the issue describes as the floor of any archive on this stack: receive the
multipart body, spool + SHA-256 + sniff, one PUT to the bucket, one INSERT — no auth, no
validation, no audit, no jobs, no dedup. ``bench/ingest.py --bare`` measures it in the
same run as the real API, so the real API's ratio can be read against it.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import queue
from pathlib import Path

import psycopg
from fastapi import FastAPI, Request
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.retention import Retention
from starlette.concurrency import run_in_threadpool

from api.multipart import read_upload
from archive.evidence.intake import Spool, sniff

app = FastAPI()
client = Minio(os.environ["BARE_S3"], access_key=os.environ["BARE_KEY"],
               secret_key=os.environ["BARE_SECRET"], secure=False)
BUCKET = "bare-bench"
if not client.bucket_exists(BUCKET):
    client.make_bucket(BUCKET, object_lock=True)
pool: queue.Queue[psycopg.Connection] = queue.Queue()
for _ in range(16):
    pool.put(psycopg.connect(os.environ["BARE_DSN"]))
with psycopg.connect(os.environ["BARE_DSN"], autocommit=True) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS bare (sha256 text, size bigint, media text)")


def _store(spool: Spool) -> None:
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    client.put_object(BUCKET, f"sha256/{spool.sha256}", io.BytesIO(spool._mem.getbuffer()),
                      spool.size, retention=Retention(COMPLIANCE, until))
    conn = pool.get()
    try:
        conn.execute("INSERT INTO bare VALUES (%s, %s, %s)",
                     (spool.sha256, spool.size, sniff(spool.head)))
        conn.commit()
    finally:
        pool.put(conn)


@app.post("/upload", status_code=201)
async def upload(request: Request) -> dict[str, str]:
    form = await read_upload(request.stream(), request.headers.get("content-type"),
                             lambda: Spool(max_bytes=1 << 30, memory_limit=1 << 30,
                                           tmp_dir=Path("/tmp")))
    await run_in_threadpool(_store, form.spool)
    return {"sha256": form.spool.sha256 or ""}
