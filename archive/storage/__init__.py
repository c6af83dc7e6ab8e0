"""The write-once object store, behind one small interface.

Two implementations keep the same rules:

* :class:`~archive.storage.s3.S3Store` — any S3 server with Object Lock (MinIO in
  production, SeaweedFS in tests). Every object is written with COMPLIANCE retention;
  the server itself refuses deletes, overwrites of a version and shortened retention.
* :class:`~archive.storage.local.LocalStore` — a folder, for the embedded default. The
  same refusals are enforced in code, files are read-only, writes are atomic.

Keys are content addressed: ``sha256/ab/cd/<hex>`` for the bytes whose SHA-256 is
``abcd…``. Nothing outside this package imports the S3 SDK.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from archive.config import Settings

from archive.errors import StoreIntegrityError

CHUNK = 1024 * 1024


class ObjectMissing(StoreIntegrityError):
    """The store holds nothing under a key the database points at."""
    code = "object_missing"


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    version_id: str | None
    retain_until: dt.datetime | None = None
    legal_hold: bool = False


def blob_key(sha256_hex: str) -> str:
    return f"sha256/{sha256_hex[0:2]}/{sha256_hex[2:4]}/{sha256_hex}"


def sha256_from_key(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == "sha256" and len(parts[3]) == 64:
        return parts[3]
    return None


class ObjectStore(ABC):
    """Write-once object storage. All methods raise ``StoreUnavailable`` when unreachable."""

    kind: str

    def prepare(self) -> None:
        """Create what the store needs (bucket, folders) and check it is write-once."""

    @abstractmethod
    def put(self, key: str, source: Path | BinaryIO, size: int, *,
            retain_until: dt.datetime, content_type: str = "application/octet-stream",
            legal_hold: bool = False) -> ObjectInfo:
        """Store ``size`` bytes from ``source`` (a file path or a stream at position 0)
        under ``key``, locked until ``retain_until``; then check what was stored."""

    @abstractmethod
    def open(self, key: str, version_id: str | None = None, *, offset: int = 0,
             length: int | None = None) -> Iterator[bytes]:
        """The object's bytes (or the range ``offset`` .. ``offset+length``) in chunks."""

    @abstractmethod
    def stat(self, key: str, version_id: str | None = None) -> ObjectInfo | None:
        """What the store holds under ``key`` (``None`` when it holds nothing)."""

    @abstractmethod
    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every stored version under ``prefix``."""

    @abstractmethod
    def set_retention(self, key: str, version_id: str | None, until: dt.datetime) -> None:
        """Ask the store to set the retain-until date. A compliant store refuses to move it
        earlier (``RetentionLocked``); use :meth:`extend_retention` in normal code."""

    @abstractmethod
    def set_legal_hold(self, key: str, version_id: str | None, on: bool) -> None:
        """Place or lift the store's legal hold on one version."""

    @abstractmethod
    def delete_version(self, key: str, version_id: str | None) -> None:
        """Delete one version; the store refuses (``RetentionLocked``) while it is locked."""

    @abstractmethod
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers."""

    @abstractmethod
    def describe(self) -> str:
        """Where the objects live, for logs and ``/readyz``."""

    def anonymous_attempts(self, key: str, version_id: str | None) -> dict[str, str]:
        """Try to read, write, delete and list ``key`` without credentials (and, for a TLS
        endpoint, over plain HTTP); ``{attempt: "refused" | "ACCEPTED" | …}``. A store
        with no network interface (the local folder) has nothing to try."""
        return {}

    def extend_retention(self, key: str, version_id: str | None,
                         until: dt.datetime) -> ObjectInfo | None:
        """Move the lock later, never earlier. Returns the new state (``None`` if missing)."""
        info = self.stat(key, version_id)
        if info is None:
            return None
        if info.retain_until is not None and info.retain_until >= until:
            return info
        self.set_retention(key, version_id, until)
        return self.stat(key, version_id)

    def read_all(self, key: str, version_id: str | None = None) -> bytes:
        return b"".join(self.open(key, version_id))

    def versions(self, key: str) -> list[ObjectInfo]:
        """Every stored version of ``key`` (none when it is missing)."""
        return [o for o in self.list_objects(key) if o.key == key]


def make_store(settings: Settings) -> ObjectStore:
    """The store the settings describe: S3 when ``ARCHIVE_S3_ENDPOINT`` is set, else local."""
    if settings.s3_endpoint:
        from archive.storage.s3 import S3Store

        return S3Store(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key or "",
            secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else "",
            bucket=settings.s3_bucket,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
    from archive.storage.local import LocalStore

    return LocalStore(settings.objects_dir)
