"""Small builders for test data: files of each accepted type and an organisation tree."""

from __future__ import annotations

import io
import os
from typing import Any

import pikepdf
from PIL import Image

from tests.conftest import Env


def make_pdf(text: str = "receipt", pages: int = 1, pad: int = 0) -> bytes:
    """A small valid PDF whose bytes depend on ``text`` (so each call can be unique)."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    pdf.docinfo["/Title"] = text
    if pad:
        pdf.Root.Padding = pikepdf.Stream(pdf, os.urandom(pad))
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def make_png(dpi: int = 300) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def make_xml(doc_id: str = "INV-1") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Invoice><ID>{doc_id}</ID>'
            f'<Note>ค่าวัสดุสำนักงาน</Note></Invoice>\n').encode()


def world(env: Env) -> dict[str, str]:
    """GIVEN the DLA → Chiang Mai province → two SAOs tree, and one user per role."""
    env.org("dla", type="dla-office", name="กรมส่งเสริมการปกครองท้องถิ่น")
    env.org("p-cm", type="province", parent="dla", name="สถ.จังหวัดเชียงใหม่")
    env.org("sao-1", parent="p-cm", name="อบต.แม่เหียะ")
    env.org("sao-2", parent="p-cm", name="อบต.สุเทพ")
    env.org("p-cr", type="province", parent="dla", name="สถ.จังหวัดเชียงราย")
    env.org("sao-3", parent="p-cr", name="อบต.ริมกก")
    return {
        "off1": env.user("off1", "officer", ["sao-1"]),
        "off2": env.user("off2", "officer", ["sao-2"]),
        "aud1": env.user("aud1", "auditor", ["p-cm"]),
        "aud3": env.user("aud3", "auditor", ["p-cr"]),
        "rm1": env.user("rm1", "records_manager", ["sao-1"]),
        "admin": env.user("admin", "admin"),
    }


def upload(client: Any, content: bytes, filename: str = "receipt.pdf", **fields: Any) -> Any:
    data = {"org_code": "sao-1", "doc_type": "receipt"}
    data.update({k: str(v) for k, v in fields.items() if v is not None})
    return client.post("/api/v1/evidence", data=data,
                       files={"file": (filename, content, "application/octet-stream")})
