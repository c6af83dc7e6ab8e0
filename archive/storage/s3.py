"""S3 with Object Lock (MinIO in production, SeaweedFS in tests) through the minio SDK.

The bucket is created with Object Lock (which also turns on versioning). Every object is
written with COMPLIANCE retention: until its retain-until date nobody — not even the
account that wrote it — can delete that version or shorten the date; the server refuses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import MinioException, S3Error
from minio.retention import Retention

from archive.errors import RetentionLocked, StoreIntegrityError, StoreUnavailable
from archive.storage import ObjectInfo, ObjectMissing, ObjectStore

_MISSING = {"NoSuchKey", "NoSuchVersion", "NoSuchObject", "ResourceNotFound"}
_REFUSED = {"AccessDenied", "InvalidRequest", "ObjectLocked", "InvalidArgument"}
_NOT_CONFIGURED = {"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError",
                   "NoSuchObjectLegalHold", "NoSuchObjectRetention"}
PART_SIZE = 16 * 1024 * 1024
# Requests without credentials (the WORM probe's anonymous attempts); certificates are not
# the point there, only whether the endpoint serves anyone.
_PLAIN = urllib3.PoolManager(num_pools=2, maxsize=2, cert_reqs="CERT_NONE")


class _Md5Reader:
    """A readable stream that hashes (MD5, the S3 ETag of a single-part PUT) what is read."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.md5.update(data)
        self.read_bytes += len(data)
        return data


class StoreMisconfigured(StoreUnavailable):
    """The bucket exists but cannot keep evidence write-once."""
    code = "store_misconfigured"


class S3Store(ObjectStore):
    kind = "s3"

    def __init__(self, *, endpoint: str, access_key: str, secret_key: str, bucket: str,
                 secure: bool = False, region: str | None = None,
                 require_object_lock: bool = True) -> None:
        # Few retries and short connect timeouts: an unreachable store must turn into a
        # clear 503 quickly, not a request that hangs for minutes.
        http = urllib3.PoolManager(
            num_pools=4, maxsize=32,
            timeout=urllib3.Timeout(connect=3.0, read=120.0),
            retries=urllib3.Retry(total=2, backoff_factor=0.2,
                                  status_forcelist=(500, 502, 503, 504)),
        )
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key,
                            secure=secure, region=region, http_client=http)
        self.secure = secure
        self.bucket = bucket
        self.endpoint = endpoint
        self.require_object_lock = require_object_lock
        self._prepared = False

    # -- setup ---------------------------------------------------------------------------
    def prepare(self) -> None:
        """Create the bucket with Object Lock if missing; refuse a bucket without it."""
        if self._prepared:
            return
        with _translate():
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket, object_lock=True)
            elif self.require_object_lock:
                try:
                    self.client.get_object_lock_config(self.bucket)
                except S3Error as exc:
                    if exc.code == "ObjectLockConfigurationNotFoundError":
                        raise StoreMisconfigured(
                            f"bucket {self.bucket!r} was created without Object Lock; evidence "
                            "cannot be kept write-once there. Create a new bucket with Object "
                            "Lock enabled.") from exc
                    raise
        self._prepared = True

    # -- interface -----------------------------------------------------------------------
    def put(self, key: str, source: Path | BinaryIO, size: int, *,
            retain_until: dt.datetime, content_type: str = "application/octet-stream",
            legal_hold: bool = False) -> ObjectInfo:
        self.prepare()
        with _translate():
            if isinstance(source, Path):
                with open(source, "rb") as fh:
                    sent = _Md5Reader(fh)
                    result = self._put(key, cast(BinaryIO, sent), size, retain_until, content_type,
                                     legal_hold)
            else:
                sent = _Md5Reader(source)
                result = self._put(key, cast(BinaryIO, sent), size, retain_until, content_type,
                                     legal_hold)
            # A single-part PUT's ETag is the MD5 of the bytes the store received: when it
            # is the MD5 of what was sent, the store holds exactly those bytes, and a second
            # request (HEAD, half the requests of a small upload) adds nothing. Otherwise
            # (multipart, or a store whose ETags are not MD5s) the size is read back.
            if size <= PART_SIZE and sent.read_bytes == size and \
                    (result.etag or "").strip('"') == sent.md5.hexdigest():
                return ObjectInfo(key, size, result.version_id, retain_until, legal_hold)
            head = self.client.stat_object(self.bucket, key, version_id=result.version_id)
        if head.size != size:
            raise StoreIntegrityError(
                f"store holds {head.size} bytes for {key} version {result.version_id}, "
                f"wrote {size}")
        return ObjectInfo(key, size, result.version_id, retain_until, legal_hold)

    def _put(self, key: str, data: BinaryIO, size: int, retain_until: dt.datetime,
             content_type: str, legal_hold: bool) -> Any:
        return self.client.put_object(
            self.bucket, key, data, size, content_type=content_type,
            retention=Retention(COMPLIANCE, retain_until.astimezone(dt.UTC)),
            legal_hold=legal_hold, part_size=PART_SIZE)

    def open(self, key: str, version_id: str | None = None, *, offset: int = 0,
             length: int | None = None) -> Iterator[bytes]:
        with _translate(key):
            response = self.client.get_object(self.bucket, key, offset=offset,
                                              length=length or 0, version_id=version_id)
        return _stream(response)

    def stat(self, key: str, version_id: str | None = None) -> ObjectInfo | None:
        try:
            with _translate(key):
                head = self.client.stat_object(self.bucket, key, version_id=version_id)
                vid = head.version_id or version_id
                until = self._optional(lambda: self.client.get_object_retention(
                    self.bucket, key, version_id=vid))
                hold = self._optional(lambda: self.client.is_object_legal_hold_enabled(
                    self.bucket, key, version_id=vid))
        except ObjectMissing:
            return None
        return ObjectInfo(key, head.size or 0, vid,
                          until.retain_until_date if until else None, bool(hold))

    @staticmethod
    def _optional(call: Any) -> Any:
        """A lock attribute the object may simply not have (no retention, no hold)."""
        try:
            return call()
        except S3Error as exc:
            if exc.code in _NOT_CONFIGURED:
                return None
            raise

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        with _translate():
            for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True,
                                                include_version=True):
                if obj.is_delete_marker or obj.object_name is None:
                    continue
                yield ObjectInfo(obj.object_name, obj.size or 0, obj.version_id)

    def set_retention(self, key: str, version_id: str | None, until: dt.datetime) -> None:
        with _translate(key, refused=f"the store refused to change the retention of {key}"):
            self.client.set_object_retention(
                self.bucket, key, Retention(COMPLIANCE, until.astimezone(dt.UTC)),
                version_id=version_id)

    def set_legal_hold(self, key: str, version_id: str | None, on: bool) -> None:
        with _translate(key):
            if on:
                self.client.enable_object_legal_hold(self.bucket, key, version_id=version_id)
            else:
                self.client.disable_object_legal_hold(self.bucket, key, version_id=version_id)

    def delete_version(self, key: str, version_id: str | None) -> None:
        if version_id is None:
            # Without a version id S3 only adds a delete marker; destroying evidence always
            # names the version.
            raise ValueError("delete_version needs a version id on S3")
        with _translate(key, refused=f"the store refused to delete {key} version {version_id}"):
            self.client.remove_object(self.bucket, key, version_id=version_id)

    def ping(self) -> None:
        with _translate():
            self.client.bucket_exists(self.bucket)

    def anonymous_attempts(self, key: str, version_id: str | None) -> dict[str, str]:
        """Unsigned requests, as anyone who can reach the endpoint could send them. Only a
        401/403 answer counts as refused; a 2xx is ACCEPTED; anything else is no proof."""
        scheme = "https" if self.secure else "http"
        base = f"{scheme}://{self.endpoint}/{self.bucket}"
        path = f"{base}/{urllib.parse.quote(key)}"
        versioned = f"{path}?versionId={urllib.parse.quote(version_id)}" if version_id else path
        attempts = {
            "anonymous_get": self._anonymous("GET", versioned),
            "anonymous_put": self._anonymous("PUT", f"{path}-anonymous", body=b"anonymous"),
            "anonymous_delete": self._anonymous("DELETE", versioned),
            "anonymous_list": self._anonymous("GET", f"{base}?list-type=2"),
        }
        if self.secure:
            # The archive talks TLS to the store: a plain-HTTP listener on the same
            # endpoint would let anyone on the path read and alter traffic.
            plain = self._anonymous("GET", f"http://{self.endpoint}/{self.bucket}")
            attempts["plain_http"] = "refused" if plain.startswith("unclear") else plain
        return attempts

    def _anonymous(self, method: str, url: str, body: bytes | None = None) -> str:
        try:
            answer = _PLAIN.request(method, url, body=body, redirect=False, retries=False,
                                    timeout=urllib3.Timeout(connect=3.0, read=10.0))
        except urllib3.exceptions.HTTPError as exc:
            return f"unclear (no answer: {type(exc).__name__})"
        if answer.status in (401, 403):
            return "refused"
        if 200 <= answer.status < 400:
            return "ACCEPTED"
        return f"unclear (HTTP {answer.status})"

    def describe(self) -> str:
        return f"s3 bucket {self.bucket} at {self.endpoint}"


def _stream(response: Any) -> Iterator[bytes]:
    try:
        yield from response.stream(1024 * 1024)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise StoreUnavailable(f"object store read failed: {exc}") from exc
    finally:
        response.close()
        response.release_conn()


class _translate:
    """Turn SDK and network errors into core errors."""

    def __init__(self, key: str | None = None, refused: str | None = None) -> None:
        self.key = key
        self.refused = refused

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if exc is None or isinstance(exc, (StoreUnavailable, StoreIntegrityError,
                                           RetentionLocked)):
            return False
        if isinstance(exc, S3Error):
            if exc.code in _MISSING:
                raise ObjectMissing(f"{self.key} is not in the store") from exc
            if self.refused and exc.code in _REFUSED:
                raise RetentionLocked(f"{self.refused} ({exc.code})") from exc
            raise StoreUnavailable(f"object store error: {exc.code}: {exc.message}") from exc
        if isinstance(exc, (MinioException, urllib3.exceptions.HTTPError, OSError)):
            raise StoreUnavailable(f"object store unreachable: {exc}") from exc
        return False
