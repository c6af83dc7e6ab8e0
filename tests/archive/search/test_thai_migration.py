"""Migration 0080 normalises what was indexed before it (issue 20 item 10): metadata and
extracted text written with Thai variants are found by the canonical query after the
upgrade, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from archive.db import alembic_config
from tests.conftest import Env
from tests.factories import make_pdf, upload, world


def _found(env: Env, token: str, q: str) -> list[str]:
    r = env.client(token).get("/api/v1/evidence", params={"q": q})
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


def test_upgrade_normalises_old_rows(env: Env):
    tokens = world(env)
    rec = upload(env.client(tokens["off1"]), make_pdf("old-row")).json()
    config = alembic_config(env.engine)
    try:
        command.downgrade(config, "0080-1")   # to the revision before 0080
        with env.engine.begin() as conn:
            # written the way the archive stored them before: not normalised
            conn.execute(sa.text("UPDATE evidence SET description = :d"),
                         {"d": "ค่าน\u0e4d\u0e49\u0e32 ท\u0e48\u0e35ดิน"})
            blob_id = conn.execute(sa.text("SELECT blob_id FROM evidence")).scalar_one()
            conn.execute(sa.text("INSERT INTO blob_texts (blob_id, text, chars, extractor, "
                                 "extracted_at) VALUES (:b, :t, 5, 'pdfium', :now)"),
                         {"b": blob_id, "t": "ใบเสร็จ เลขที่ ๑๒๕๐๐ จ\u0e4d\u0e32นวน",
                          "now": "2025-01-01 00:00:00"})
    finally:
        command.upgrade(config, "head")
    aud = tokens["aud1"]
    assert _found(env, aud, "น้ำ") == [rec["id"]]        # metadata, sara am with tone
    assert _found(env, aud, "ที่ดิน") == [rec["id"]]      # metadata, mark order
    assert _found(env, aud, "12500") == [rec["id"]]       # extracted text, Thai digits
    assert _found(env, aud, "จำนวน") == [rec["id"]]       # extracted text, sara am
