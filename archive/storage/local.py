"""A folder that behaves like a write-once bucket (the embedded default).

Each object is one read-only file; its lock (retain-until, legal hold) is a small JSON
file beside it, ``<key>.lock``. Writes go to a temporary file, are fsynced and renamed
into place, so a crash leaves either the whole object or nothing under its key. Deletes,
overwrites and shorter retention are refused in code while the lock holds.

File permissions are defence in depth, not the enforcement: whoever has write access to
the folder (root, say) can still remove files. Production uses S3 Object Lock, where the
server enforces the rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from archive import clock
from archive.errors import RetentionLocked, StoreIntegrityError, StoreUnavailable
from archive.failpoints import failpoint
from archive.storage import CHUNK, ObjectInfo, ObjectMissing, ObjectStore, sha256_from_key
from archive.tempfiles import lock_fd

LOCK_SUFFIX = ".lock"


class LocalStore(ObjectStore):
    kind = "local"

    def __init__(self, root: Path, *, enforce_lock: bool = True) -> None:
        # ``enforce_lock=False`` exists only so the WORM probe can be shown to catch a store
        # that accepts deletes; nothing in production constructs it that way.
        self.root = Path(root)
        self.enforce_lock = enforce_lock
        self._tmp = self.root / ".tmp"

    def prepare(self) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)

    # -- paths -------------------------------------------------------------------------
    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            raise ValueError(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    def _lock_path(self, key: str) -> Path:
        path = self._path(key)
        return path.with_name(path.name + LOCK_SUFFIX)

    def _read_lock(self, key: str) -> tuple[dt.datetime | None, bool]:
        try:
            data = json.loads(self._lock_path(key).read_text())
        except FileNotFoundError:
            return None, False
        raw = data.get("retain_until")
        until = dt.datetime.fromisoformat(raw) if raw else None
        return until, bool(data.get("legal_hold"))

    def _write_lock(self, key: str, until: dt.datetime | None, legal_hold: bool) -> None:
        body = json.dumps({"retain_until": until.isoformat() if until else None,
                           "legal_hold": legal_hold}).encode()
        self._atomic_write(self._lock_path(key), body)

    def _atomic_write(self, target: Path, body: bytes) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._tmp)
        lock_fd(fd)             # in use while open: not a crash leftover
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except BaseException:
            _unlink_quietly(Path(tmp))
            raise

    # -- interface ---------------------------------------------------------------------
    def put(self, key: str, source: Path | BinaryIO, size: int, *,
            retain_until: dt.datetime, content_type: str = "application/octet-stream",
            legal_hold: bool = False) -> ObjectInfo:
        target = self._path(key)
        if target.exists():
            return self._put_existing(key, target, size, retain_until, legal_hold)
        tmp: Path | None = None
        keep: int | None = None
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
            tmp = Path(tmp_name)
            # In use until renamed into place, not a crash leftover: the duplicate keeps
            # the lock after the writing descriptor is closed.
            lock_fd(fd)
            keep = os.dup(fd)
            with os.fdopen(fd, "wb") as out:
                if isinstance(source, Path):
                    with open(source, "rb") as src:
                        shutil.copyfileobj(src, out, CHUNK)
                else:
                    shutil.copyfileobj(source, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            written = tmp.stat().st_size
            if written != size:
                raise StoreIntegrityError(f"wrote {written} bytes for {key}, expected {size}")
            os.chmod(tmp, 0o444)
            # The lock goes first: an object is never visible without its lock.
            target.parent.mkdir(parents=True, exist_ok=True)
            self._write_lock(key, retain_until, legal_hold)
            failpoint("store.local.before_rename")
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            if tmp is not None:
                _unlink_quietly(tmp)
            raise StoreUnavailable(f"local store write failed: {exc}") from exc
        except BaseException:
            if tmp is not None:
                _unlink_quietly(tmp)
            raise
        finally:
            if keep is not None:
                os.close(keep)
        return ObjectInfo(key, size, None, retain_until, legal_hold)

    def _put_existing(self, key: str, target: Path, size: int, retain_until: dt.datetime,
                      legal_hold: bool) -> ObjectInfo:
        # A content-addressed key that already exists (an orphan of an interrupted upload,
        # say) is reused only if its bytes really are the ones the key names.
        expected = sha256_from_key(key)
        if target.stat().st_size != size or (expected and _sha256_file(target) != expected):
            raise StoreIntegrityError(f"{key} exists with different content; refusing to overwrite")
        info = self.extend_retention(key, None, retain_until)
        if legal_hold:
            self.set_legal_hold(key, None, True)
        assert info is not None
        return ObjectInfo(key, size, None, info.retain_until, legal_hold or info.legal_hold)

    def open(self, key: str, version_id: str | None = None, *, offset: int = 0,
             length: int | None = None) -> Iterator[bytes]:
        path = self._path(key)
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed by the chunk generator
        except FileNotFoundError:
            raise ObjectMissing(f"{key} is not in the store") from None
        except OSError as exc:
            raise StoreUnavailable(f"local store read failed: {exc}") from exc
        return _read_chunks(fh, offset, length)

    def stat(self, key: str, version_id: str | None = None) -> ObjectInfo | None:
        path = self._path(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        until, hold = self._read_lock(key)
        return ObjectInfo(key, size, None, until, hold)

    def versions(self, key: str) -> list[ObjectInfo]:
        """The folder keeps one version per key; asked directly (listing would walk the
        whole folder)."""
        info = self.stat(key)
        return [info] if info else []

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self.root
        # Walk only the folder the prefix names (a record's manifests, say), not the store,
        # and in it only the subfolders the prefix's last part begins (records whose ids
        # begin with it).
        folder, _, partial = prefix.rpartition("/")
        start = self._path(folder) if folder else base
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and
                                 (dirpath != str(start) or d.startswith(partial)))
            for name in sorted(filenames):
                if name.endswith(LOCK_SUFFIX):
                    continue
                key = Path(dirpath, name).relative_to(base).as_posix()
                if key.startswith(prefix):
                    info = self.stat(key)
                    if info is not None:
                        yield info

    def set_retention(self, key: str, version_id: str | None, until: dt.datetime) -> None:
        if not self._path(key).exists():
            raise ObjectMissing(f"{key} is not in the store")
        current, hold = self._read_lock(key)
        if self.enforce_lock and current is not None and until < current:
            raise RetentionLocked(f"{key} is locked until {current.isoformat()}; "
                                  "retention can only be extended")
        self._write_lock(key, until, hold)

    def set_legal_hold(self, key: str, version_id: str | None, on: bool) -> None:
        if not self._path(key).exists():
            raise ObjectMissing(f"{key} is not in the store")
        until, _ = self._read_lock(key)
        self._write_lock(key, until, on)

    def delete_version(self, key: str, version_id: str | None) -> None:
        path = self._path(key)
        if not path.exists():
            return
        until, hold = self._read_lock(key)
        now = clock.system_now()
        if self.enforce_lock and (hold or (until is not None and now < until)):
            raise RetentionLocked(
                f"{key} is under legal hold" if hold else
                f"{key} is locked until {until.isoformat() if until else '?'}")
        path.unlink()
        _unlink_quietly(self._lock_path(key))
        _fsync_dir(path.parent)

    def ping(self) -> None:
        # Really write: permission bits say little when running as root.
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self._tmp):
                pass
        except OSError as exc:
            raise StoreUnavailable(f"local store {self.root} is not writable: {exc}") from exc

    def describe(self) -> str:
        return f"local folder {self.root.resolve()}"


def _read_chunks(fh: BinaryIO, offset: int, length: int | None) -> Iterator[bytes]:
    with fh:
        if offset:
            fh.seek(offset)
        remaining = length
        while remaining is None or remaining > 0:
            chunk = fh.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
