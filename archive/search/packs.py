"""Evidence packs: the records an auditor asked for, as a zipped BagIt bag (RFC 8493).

Layout of the zip (one top-level folder, the bag)::

    evidence-pack-<id>/
      bagit.txt  bag-info.txt  VERIFY.md
      manifest-sha256.txt  manifest-sha512.txt  tagmanifest-sha256.txt  tagmanifest-sha512.txt
      data/<org code>/<record id>-<file name>      the original bytes, as archived
      data/<org code>/<record id>.json             everything we know about the record

The per-record JSON holds the metadata, the file's SHA-256, the correction history,
stored inspection reports and the record's audit events with their chain hashes.
``bag-info.txt`` says who exported what, when, with which query, and which audit-chain
checkpoint covers the events in the pack. Every original is re-hashed while it is copied
out of the store and must match the archive's SHA-256, or no pack is made.

The bag is sealed by the ``bagit`` library in a child process: ``bagit.make_bag`` changes
the working directory, which must not happen inside a threaded server or worker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from archive import clock
from archive.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from archive.db import Base
from archive.errors import StoreIntegrityError
from archive.evidence.models import EvidenceHistory
from archive.sandbox import Limits, SandboxError, run_limited
from archive.search.models import BlobText
from archive.search.service import Hit, to_item
from archive.storage import ObjectStore

ALGORITHMS = ["sha256", "sha512"]
SEAL_LIMITS = Limits(cpu_seconds=6 * 3600, wall_seconds=6 * 3600.0, memory_bytes=2 << 30)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|%\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_MAX_NAME_BYTES = 120

Progress = Callable[[dict[str, Any]], None]


@dataclass
class PackRequest:
    """Who asked for the pack and how (written into ``bag-info.txt``)."""

    exported_by: str
    role: str
    query: dict[str, Any]
    export_id: str | None = None
    created_at: dt.datetime = field(default_factory=clock.now)


@dataclass
class PackResult:
    records: int
    org_ids: list[int]
    sha256: str
    size: int
    bag_name: str
    checkpoint: dict[str, Any]


def pack_filename(name: str) -> str:
    """A file name that is safe in a zip, on Windows and Linux, and in a manifest line
    (no separators, controls, ``%`` or reserved characters; at most 120 UTF-8 bytes)."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    ext_bytes = len(ext.encode()) + (1 if ext else 0)
    while stem and len(stem.encode()) + ext_bytes > _MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" .") or "file"
    return f"{stem}.{ext}" if ext else stem


def build_pack(session: Session, store: ObjectStore, hits: Iterable[Hit], *,
               request: PackRequest, out: Path, work_dir: Path,
               total: int | None = None, progress: Progress | None = None) -> PackResult:
    """Write the pack for ``hits`` as a zip at ``out`` (replaced atomically)."""
    report = progress or (lambda _state: None)
    name = f"evidence-pack-{request.export_id or request.created_at.strftime('%Y%m%dT%H%M%SZ')}"
    work = Path(work_dir) / f"{name}.build"
    shutil.rmtree(work, ignore_errors=True)
    bag_dir = work / name
    bag_dir.mkdir(parents=True)
    try:
        count, org_ids, org_codes, last_seq = 0, set(), set(), 0
        for hit in hits:
            last_seq = max(last_seq, _write_record(session, store, hit, bag_dir))
            count += 1
            org_ids.add(hit.org.id)
            org_codes.add(hit.org.code)
            report({"phase": "collecting", "done": count, "total": total})
        checkpoint = _checkpoint(session, last_seq)
        info = _bag_info(request, count, sorted(org_codes), checkpoint)
        report({"phase": "sealing", "done": count, "total": total})
        try:
            run_limited(seal_bag, str(bag_dir), info, VERIFY_MD, limits=SEAL_LIMITS)
        except SandboxError as exc:
            raise StoreIntegrityError(f"the bag could not be sealed: {exc}") from None
        report({"phase": "zipping", "done": count, "total": total})
        tmp_zip = out.with_name(out.name + ".part")
        digest, size = _zip(bag_dir, name, tmp_zip)
        os.replace(tmp_zip, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return PackResult(count, sorted(org_ids), digest, size, name, checkpoint)


def _write_record(session: Session, store: ObjectStore, hit: Hit, bag_dir: Path) -> int:
    """Copy one original out of the store (checking its hash) and write its JSON; returns
    the highest audit sequence number among the record's events."""
    ev, blob, org = hit.evidence, hit.blob, hit.org
    folder = bag_dir / org.code
    folder.mkdir(exist_ok=True)
    file_info: dict[str, Any] = {"sha256": blob.sha256, "size": blob.size,
                                 "media_type": blob.media_type}
    if blob.deleted_at is None and ev.status != "destroyed":
        filename = f"{ev.id}-{pack_filename(ev.original_filename)}"
        sha = hashlib.sha256()
        size = 0
        with open(folder / filename, "wb") as fh:
            for chunk in store.open(blob.store_key, blob.version_id):
                sha.update(chunk)
                size += len(chunk)
                fh.write(chunk)
        if sha.hexdigest() != blob.sha256 or size != blob.size:
            raise StoreIntegrityError(
                f"the stored bytes of record {ev.id} do not match the archive's SHA-256; "
                "no pack was made (run `archive verify`)")
        file_info["path"] = f"data/{org.code}/{filename}"
    else:
        file_info["path"] = None
        file_info["destroyed"] = True
    events = list(session.scalars(
        sa.select(AuditEvent).where(AuditEvent.target_type == "evidence",
                                    AuditEvent.target_id == str(ev.id))
        .order_by(AuditEvent.seq)))
    text = session.get(BlobText, blob.id)
    doc = {
        "format": "evidence-archive.record/1",
        "record": json.loads(to_item(hit).model_dump_json()),
        "file": file_info,
        "history": [{"version": h.version, "values": h.values, "changed": h.changed,
                     "changed_by": h.changed_by, "changed_at": h.changed_at.isoformat(),
                     "reason": h.reason}
                    for h in session.scalars(sa.select(EvidenceHistory)
                                             .where(EvidenceHistory.evidence_id == ev.id)
                                             .order_by(EvidenceHistory.version))],
        "inspection": _inspection_reports(session, ev.id),
        "extracted_text": None if text is None else {
            "extractor": text.extractor, "chars": text.chars, "error": text.error,
            "extracted_at": text.extracted_at.isoformat()},
        "audit_events": [_event(e) for e in events],
    }
    (folder / f"{ev.id}.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return events[-1].seq if events else 0


def _event(e: AuditEvent) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at.isoformat(timespec="microseconds"), "actor": e.actor,
            "role": e.role, "action": e.action, "target_type": e.target_type,
            "target_id": e.target_id, "org_id": e.org_id, "details": e.details,
            "client": e.client, "outcome": e.outcome, "prev_hash": e.prev_hash,
            "hash": e.hash}


def _inspection_reports(session: Session, evidence_id: Any) -> list[dict[str, Any]]:
    """Whatever inspection results are stored for the record: every mapped table whose
    name starts with ``inspection`` and that has an ``evidence_id`` column."""
    out: list[dict[str, Any]] = []
    for table in Base.metadata.sorted_tables:
        if not table.name.startswith("inspection") or "evidence_id" not in table.c:
            continue
        for row in session.execute(sa.select(table).where(table.c.evidence_id == evidence_id)):
            out.append({"table": table.name, **{k: v for k, v in row._mapping.items()}})
    return json.loads(json.dumps(out, default=str))


def _checkpoint(session: Session, last_seq: int) -> dict[str, Any]:
    """The audit-chain state the pack relies on: the latest checkpoint in the write-once
    store, whether it covers every event in the pack, and the current head."""
    head_seq, head_hash = session.execute(
        sa.select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    cp = session.scalar(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1))
    state: dict[str, Any] = {"head_seq": head_seq, "head_hash": head_hash,
                             "last_event_seq": last_seq}
    if cp is None:
        state["status"] = "unanchored"
        return state
    state.update(seq=cp.seq, hash=cp.hash, at=cp.at.isoformat(), key=cp.store_key,
                 timestamped=cp.timestamped,
                 status="anchored" if cp.seq >= last_seq else "partly anchored")
    return state


def _bag_info(request: PackRequest, count: int, org_codes: list[str],
              cp: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "Source-Organization": "Evidence Archive",
        "External-Identifier": request.export_id or "cli",
        "External-Description": f"Evidence pack of {count} record(s) exported by "
                                f"{request.exported_by} ({request.role})",
        "Contact-Name": request.exported_by,
        "Export-Requested-By": request.exported_by,
        "Export-Role": request.role,
        "Export-Created": request.created_at.isoformat(timespec="seconds"),
        "Export-Query": json.dumps(request.query, ensure_ascii=False, sort_keys=True),
        "Export-Record-Count": str(count),
        "Export-Organisations": ", ".join(org_codes) or "-",
        "Audit-Head-Seq": str(cp["head_seq"]),
        "Audit-Head-Hash": cp["head_hash"],
        "Audit-Last-Included-Seq": str(cp["last_event_seq"]),
        "Audit-Checkpoint-Status": cp["status"],
    }
    if "seq" in cp:
        info.update({"Audit-Checkpoint-Seq": str(cp["seq"]), "Audit-Checkpoint-Hash": cp["hash"],
                     "Audit-Checkpoint-At": cp["at"], "Audit-Checkpoint-Key": cp["key"],
                     "Audit-Checkpoint-Timestamped": "yes" if cp["timestamped"] else "no"})
    return info


VERIFY_MD = """\
# How to verify this evidence pack

This folder is a BagIt bag (RFC 8493). Nothing in it needs our software to be checked.

1. **The whole bag** — with the Library of Congress `bagit` tool (`pip install bagit`):

       bagit.py --validate .

   It checks `Payload-Oxum`, every payload file against `manifest-sha256.txt` and
   `manifest-sha512.txt`, and the tag files against the `tagmanifest-*.txt` files.

2. **Only standard tools** — from this folder:

       sha256sum -c manifest-sha256.txt
       sha512sum -c manifest-sha512.txt
       sha256sum -c tagmanifest-sha256.txt

   (On macOS: `shasum -a 256 -c manifest-sha256.txt`.) Every line must say `OK`.

3. **Each original against the archive's record** — `data/<org>/<id>.json` gives the
   `file.sha256` the archive computed when the file was received; it must equal the
   file's line in `manifest-sha256.txt`.

4. **The audit trail** — each record's JSON lists its audit events with `seq`,
   `prev_hash` and `hash`. `bag-info.txt` names the audit-chain checkpoint
   (`Audit-Checkpoint-*`) written to the archive's write-once store that covers them; the
   archive's auditors can confirm that checkpoint with `archive audit verify`.
"""


def seal_bag(bag_dir: str, info: dict[str, Any], verify_md: str) -> None:
    """Runs in a child process: make the bag (BagIt 1.0), add VERIFY.md, tag manifests."""
    import bagit

    bag = bagit.make_bag(bag_dir, dict(info), checksums=list(ALGORITHMS))
    Path(bag_dir, "bagit.txt").write_text(
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8")
    Path(bag_dir, "VERIFY.md").write_text(verify_md, encoding="utf-8")
    bag.save()  # rewrites bag-info.txt and the tag manifests (now covering VERIFY.md)


def _zip(bag_dir: Path, name: str, target: Path) -> tuple[str, int]:
    with zipfile.ZipFile(target, "w", allowZip64=True) as zf:
        for path in sorted(p for p in bag_dir.rglob("*") if p.is_file()):
            rel = path.relative_to(bag_dir).as_posix()
            packed = rel.endswith((".json", ".txt", ".md", ".xml"))
            zf.write(path, f"{name}/{rel}",
                     compress_type=zipfile.ZIP_DEFLATED if packed else zipfile.ZIP_STORED)
    sha = hashlib.sha256()
    with open(target, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest(), target.stat().st_size
