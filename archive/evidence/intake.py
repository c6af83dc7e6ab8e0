"""Receiving bytes: one pass that spools, hashes, counts and keeps the head for sniffing.

A :class:`Spool` is fed chunks as they arrive (from a multipart stream or a local file).
Small files stay in memory; beyond ``memory_limit`` the spool rolls over to a temporary
file under the data directory. The whole file is never held in memory, and nothing reads
the bytes a second time until they are sent to the store.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import magic

from archive.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from archive.inspection.safexml import starts_xml_document
from archive.messages import Items, message
from archive.tempfiles import lock_fd

HEAD_BYTES = 64 * 1024

# Name extensions we can check against the sniffed type.
_EXT_TYPES = {
    ".pdf": "application/pdf",
    ".xml": "application/xml",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff", ".tiff": "image/tiff",
}
_ALIASES = {"text/xml": "application/xml", "application/x-pdf": "application/pdf"}


class Spool:
    def __init__(self, *, max_bytes: int, memory_limit: int, tmp_dir: Path) -> None:
        self.max_bytes = max_bytes
        self.memory_limit = memory_limit
        self.tmp_dir = tmp_dir
        self.size = 0
        self._sha = hashlib.sha256()
        self._head = bytearray()
        self._mem: io.BytesIO | None = io.BytesIO()
        self._file: BinaryIO | None = None
        self.path: Path | None = None
        self.sha256: str | None = None

    def write(self, chunk: bytes | memoryview) -> None:
        n = len(chunk)
        if not n:
            return
        self.size += n
        if self.size > self.max_bytes:
            raise PayloadTooLarge(message("upload.too_large", "file is larger than the limit of "
                                          "{n} bytes", n=self.max_bytes))
        self._sha.update(chunk)
        if len(self._head) < HEAD_BYTES:
            self._head += bytes(chunk[: HEAD_BYTES - len(self._head)])
        if self._mem is not None:
            if self.size <= self.memory_limit:
                self._mem.write(chunk)
                return
            self._roll_over()
        assert self._file is not None
        self._file.write(chunk)

    def _roll_over(self) -> None:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
        self.path = Path(name)
        lock_fd(fd)             # in use while open: not a crash leftover
        self._file = os.fdopen(fd, "w+b")
        assert self._mem is not None
        self._file.write(self._mem.getbuffer())
        self._mem = None

    def finish(self) -> str:
        """Close the input side; returns the SHA-256 (hex)."""
        if self._file is not None:
            self._file.flush()
        self.sha256 = self._sha.hexdigest()
        return self.sha256

    @property
    def head(self) -> bytes:
        return bytes(self._head)

    def source(self) -> Path | BinaryIO:
        """What the store reads from: the spool file, or the in-memory buffer at offset 0."""
        if self.path is not None:
            return self.path
        assert self._mem is not None
        return io.BytesIO(self._mem.getbuffer())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.path is not None:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            self.path = None
        self._mem = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def spool_file(path: Path, *, max_bytes: int, memory_limit: int, tmp_dir: Path,
               chunk_size: int = 1024 * 1024) -> Spool:
    """A spool filled from a local file (the CLI's ingest)."""
    spool = Spool(max_bytes=max_bytes, memory_limit=memory_limit, tmp_dir=tmp_dir)
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(chunk_size):
                spool.write(chunk)
        spool.finish()
    except BaseException:
        spool.close()
        raise
    return spool


def sniff(head: bytes) -> str:
    """The media type the bytes say they are (python-magic), with common aliases folded.

    libmagic knows XML only by its declaration, which XML makes optional: e-Tax Invoice
    XML as ETDA publishes it (signed samples included) starts with the root element and
    is "text/plain" to libmagic. Text that an XML parser reads as the start of a
    document is XML."""
    detected = magic.from_buffer(head, mime=True) if head else "application/x-empty"
    detected = _ALIASES.get(detected, detected)
    if detected == "text/plain" and starts_xml_document(head):
        return "application/xml"
    return detected


def check_media_type(head: bytes, size: int, filename: str,
                     allowed: tuple[str, ...]) -> str:
    """Sniff and enforce the allowlist; the client's name and Content-Type are not trusted,
    but a name whose extension promises another type than the bytes is refused."""
    if size == 0:
        raise InvalidInput(message("upload.empty", "the file is empty"), code="empty_file")
    detected = sniff(head)
    if detected not in allowed:
        raise UnsupportedMediaType(
            message("upload.type", "the bytes are {detected}; accepted types are {allowed}",
                    detected=detected, allowed=Items(allowed)))
    ext = os.path.splitext(filename)[1].lower()
    promised = _EXT_TYPES.get(ext)
    if promised and promised != detected:
        raise UnsupportedMediaType(
            message("upload.mismatch", "the file name says {ext} ({promised}) but the bytes "
                    "are {detected}", ext=ext, promised=promised, detected=detected),
            code="media_type_mismatch")
    return detected
