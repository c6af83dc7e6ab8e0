"""Builders for search tests: PDFs with a (Thai) text layer, records inserted directly."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import os
from decimal import Decimal
from typing import Any

import pikepdf
from sqlalchemy.orm import Session

from archive import clock
from archive.accounts import service as accounts
from archive.accounts.principal import Principal
from archive.evidence.models import Blob, Evidence
from archive.orgs import service as orgs
from archive.search import service as search
from tests.conftest import Env

_seq = itertools.count()


def make_text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer reads ``lines`` (Thai included).

    No Thai font is needed: the glyphs come from Helvetica, and a ToUnicode CMap maps each
    one-byte code to the Thai character, which is all a text extractor reads.
    """
    chars = sorted(set("".join(lines)))
    assert len(chars) < 250, "one-byte codes only"
    code = {c: i + 1 for i, c in enumerate(chars)}
    entries = "\n".join(f"<{code[c]:02X}> <{ord(c):04X}>" for c in chars)
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            "/CMapName /ArchiveTest def /CMapType 2 def\n"
            "1 begincodespacerange <00> <FF> endcodespacerange\n"
            f"{len(chars)} beginbfchar\n{entries}\nendbfchar\n"
            "endcmap CMapName currentdict /CMap defineresource pop end end\n")
    pdf = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica,
                              ToUnicode=pdf.make_stream(cmap.encode()))
    ops = ["BT", "/F1 12 Tf", "14 TL", "50 750 Td"]
    ops += ["<" + "".join(f"{code[c]:02X}" for c in line) + "> Tj T*" for line in lines]
    ops.append("ET")
    pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream("\n".join(ops).encode()))))
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def principal(env: Env, name: str) -> Principal:
    with env.session() as s:
        return accounts.authenticate(s, env.tokens[name])


def add_record(session: Session, org_code: str, *, text: str | None = None,
               created_at: dt.datetime | None = None, **fields: Any) -> Evidence:
    """GIVEN a record (and its blob row, with extracted ``text``) written directly; the
    store is not involved, so this is for search tests only."""
    n = next(_seq)
    sha = hashlib.sha256(os.urandom(16) + str(n).encode()).hexdigest()
    blob = Blob(sha256=sha, size=100 + n, media_type="application/pdf",
                store_key=f"sha256/{sha[:2]}/{sha[2:4]}/{sha}", retain_until=clock.now(),
                legal_hold=False)
    session.add(blob)
    session.flush()
    org = orgs.get_by_code(session, org_code)
    values: dict[str, Any] = {"doc_type": "receipt", "fiscal_year": 2568,
                              "original_filename": f"doc-{n}.pdf", "uploaded_by": "test"}
    values.update(fields)
    if isinstance(values.get("amount"), str):
        values["amount"] = Decimal(values["amount"])
    ev = Evidence(org_id=org.id, blob_id=blob.id, created_at=created_at or clock.now(), **values)
    session.add(ev)
    session.flush()
    if text is not None:
        search.store_text(session, blob.id, text=text, extractor="test")
    return ev
