"""Reading an object only as the bytes it was stored as: hashed against its SHA-256.

The store is trusted to keep evidence write-once, but a store is not proof: a disk, an
operator with a side door or a bug can change bytes under a locked key. A download
therefore re-hashes the whole object and never hands out a complete body that does not
match:

* objects up to ``verify_limit`` bytes are read and hashed before anything is sent, and a
  mismatch raises :class:`IntegrityFailure` (the API answers 502 ``integrity_failure``);
* larger objects are hashed while streaming and the last piece of the body is held back
  until the hash is known; on a mismatch the stream raises instead of yielding it, so the
  response ends short of its ``Content-Length`` and no client can take it as complete.

A range is served from the same read (the hash covers the whole object, so the whole
object is read; the bytes outside the range are hashed, not sent).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from archive.errors import IntegrityFailure
from archive.storage import ObjectStore


def read_verified(store: ObjectStore, key: str, version_id: str | None, *, sha256: str,
                  size: int, offset: int = 0, length: int | None = None,
                  verify_limit: int,
                  on_mismatch: Callable[[str], None]) -> Iterator[bytes]:
    """The bytes ``offset .. offset+length`` of the object, only if the whole object
    hashes to ``sha256`` (``on_mismatch(detail)`` is called before the failure is raised).

    Small objects are checked here, before returning; larger ones lazily, as the returned
    iterator is consumed."""
    if length is None:
        length = size - offset
    if size <= verify_limit:
        data = b"".join(store.open(key, version_id))
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256 or len(data) != size:
            detail = _detail(key, digest, len(data), sha256, size)
            on_mismatch(detail)
            raise IntegrityFailure(detail)
        return iter([data[offset:offset + length]]) if length else iter(())
    return _stream(store, key, version_id, sha256=sha256, size=size, offset=offset,
                   length=length, on_mismatch=on_mismatch)


def _stream(store: ObjectStore, key: str, version_id: str | None, *, sha256: str, size: int,
            offset: int, length: int, on_mismatch: Callable[[str], None]) -> Iterator[bytes]:
    digest = hashlib.sha256()
    end = offset + length
    pos = 0
    held: bytes | None = None
    for chunk in store.open(key, version_id):
        digest.update(chunk)
        start, pos = pos, pos + len(chunk)
        lo, hi = max(offset, start), min(end, pos)
        if lo < hi:
            if held is not None:
                yield held
            held = chunk[lo - start:hi - start]
    hexdigest = digest.hexdigest()
    if hexdigest != sha256 or pos != size:
        detail = _detail(key, hexdigest, pos, sha256, size)
        on_mismatch(detail)
        raise IntegrityFailure(detail)
    if held is not None:
        yield held


def _detail(key: str, digest: str, read: int, sha256: str, size: int) -> str:
    return (f"the stored bytes of {key} hash to {digest} ({read} bytes), not to the "
            f"archive's SHA-256 {sha256} ({size} bytes): they were not served; the "
            "incident is recorded (run `archive verify`)")
