"""Changing what the archive stores behind its back, as an attacker or a fault would.

* local folder: the object is a read-only file; whoever owns the folder chmods and
  rewrites (or removes) it;
* S3 (SeaweedFS): the S3 port refuses, but SeaweedFS's filer port is a side door that
  serves, overwrites and deletes locked versions without credentials
  (``/buckets/<bucket>/<key>.versions/v_<version id>``). The tests bind it to 127.0.0.1;
  this is why the README says SeaweedFS is for tests only.
"""

from __future__ import annotations

import os

import urllib3

from tests.conftest import Env

_http = urllib3.PoolManager()


def _filer_url(env: Env, key: str, version_id: str | None) -> str:
    assert env.weed is not None and version_id
    port = env.weed.ports["filer.port"]
    return (f"http://127.0.0.1:{port}/buckets/{env.settings.s3_bucket}/{key}.versions/"
            f"v_{version_id}")


def overwrite_object(env: Env, key: str, version_id: str | None, data: bytes) -> None:
    """Replace the stored bytes of one object version."""
    if env.weed is None:
        path = env.settings.objects_dir / key
        os.chmod(path, 0o644)
        path.write_bytes(data)
        os.chmod(path, 0o444)
        return
    r = _http.request("PUT", _filer_url(env, key, version_id), body=data)
    assert r.status in (200, 201), r.data


def flip_byte(env: Env, key: str, version_id: str | None, at: int = -20) -> bytes:
    """Change one byte of a stored object; returns the tampered bytes."""
    data = bytearray(env.store.read_all(key, version_id))
    data[at] ^= 0xFF
    overwrite_object(env, key, version_id, bytes(data))
    assert env.store.read_all(key, version_id) == bytes(data)
    return bytes(data)


def delete_object(env: Env, key: str, version_id: str | None) -> None:
    """Remove one object version despite its lock."""
    if env.weed is None:
        path = env.settings.objects_dir / key
        path.unlink()
        lock = path.with_name(path.name + ".lock")
        if lock.exists():
            lock.unlink()
        return
    r = _http.request("DELETE", _filer_url(env, key, version_id))
    assert r.status in (200, 202, 204), r.data
    assert env.store.stat(key, version_id) is None
