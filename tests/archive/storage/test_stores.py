"""Both stores keep the same write-once rules; on S3 the server itself enforces them."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time

import pytest
from minio import Minio
from minio.error import S3Error

from archive.errors import RetentionLocked
from archive.storage import blob_key
from archive.storage.local import LocalStore
from tests import servers
from tests.conftest import Env, make_s3_store


def _put(env: Env, data: bytes, *, seconds: float = 3600, hold: bool = False):
    key = blob_key(hashlib.sha256(data).hexdigest())
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return key, env.store.put(key, io.BytesIO(data), len(data), retain_until=until,
                              legal_hold=hold)


def test_put_stat_and_read_back(env: Env):
    data = b"%PDF-1.4 evidence " * 1000
    key, info = _put(env, data)
    assert info.size == len(data)
    stat = env.store.stat(key, info.version_id)
    assert stat is not None and stat.size == len(data)
    assert stat.retain_until is not None and stat.retain_until > dt.datetime.now(dt.UTC)
    assert env.store.read_all(key, info.version_id) == data
    assert b"".join(env.store.open(key, info.version_id, offset=5, length=10)) == data[5:15]
    assert env.store.stat("sha256/00/00/" + "0" * 64) is None


def test_locked_version_cannot_be_deleted_or_shortened_but_can_be_extended(env: Env):
    key, info = _put(env, b"locked evidence")
    with pytest.raises(RetentionLocked):
        env.store.delete_version(key, info.version_id)
    stat = env.store.stat(key, info.version_id)
    assert stat is not None
    with pytest.raises(RetentionLocked):
        env.store.set_retention(key, info.version_id, stat.retain_until - dt.timedelta(minutes=5))
    later = stat.retain_until + dt.timedelta(days=30)
    extended = env.store.extend_retention(key, info.version_id, later)
    assert extended is not None and abs((extended.retain_until - later).total_seconds()) < 1
    # extend never shortens
    same = env.store.extend_retention(key, info.version_id, later - dt.timedelta(days=60))
    assert same is not None and abs((same.retain_until - later).total_seconds()) < 1
    assert env.store.read_all(key, info.version_id) == b"locked evidence"


def test_expired_lock_allows_delete_but_legal_hold_does_not(env: Env):
    key, info = _put(env, b"short-lived canary", seconds=2)
    held_key, held = _put(env, b"held canary", seconds=2, hold=True)
    time.sleep(2.5)
    with pytest.raises(RetentionLocked):
        env.store.delete_version(held_key, held.version_id)
    env.store.delete_version(key, info.version_id)
    assert env.store.stat(key, info.version_id) is None
    env.store.set_legal_hold(held_key, held.version_id, False)
    env.store.delete_version(held_key, held.version_id)


def test_content_addressed_put_is_idempotent_locally(tmp_path):
    store = LocalStore(tmp_path)
    data = b"same bytes"
    key = blob_key(hashlib.sha256(data).hexdigest())
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    store.put(key, io.BytesIO(data), len(data), retain_until=until)
    again = store.put(key, io.BytesIO(data), len(data), retain_until=until)
    assert again.size == len(data)
    assert [o.key for o in store.list_objects()] == [key]
    assert (tmp_path / key).stat().st_mode & 0o222 == 0     # read-only on disk


def test_s3_server_itself_refuses_to_delete_a_locked_version(env: Env):
    """The refusal comes from the S3 server, not from our code: delete through the raw SDK."""
    if env.weed is None:
        pytest.skip("S3 stack only")
    key, info = _put(env, b"evidence the server must protect")
    raw = Minio(env.weed.endpoint, access_key=servers.ACCESS_KEY,
                secret_key=servers.SECRET_KEY, secure=False)
    with pytest.raises(S3Error) as refused:
        raw.remove_object(env.settings.s3_bucket, key, version_id=info.version_id)
    assert refused.value.code == "AccessDenied"
    assert env.store.read_all(key, info.version_id) == b"evidence the server must protect"


def test_bucket_without_object_lock_is_refused(env: Env):
    if env.weed is None:
        pytest.skip("S3 stack only")
    from archive.storage.s3 import StoreMisconfigured

    raw = Minio(env.weed.endpoint, access_key=servers.ACCESS_KEY,
                secret_key=servers.SECRET_KEY, secure=False)
    raw.make_bucket("plain-" + env.settings.s3_bucket)
    store = make_s3_store(env.weed, "plain-" + env.settings.s3_bucket)
    with pytest.raises(StoreMisconfigured):
        store.prepare()


def test_versions_of_a_key_on_either_store(env: Env):
    """The store answers "every version of this key" itself (retention's purge asks it,
    whatever the store's kind): one on the folder, every PUT on a versioned bucket; a key
    that shares a prefix is not a version."""
    data = b"%PDF-1.4 versions " * 100
    key, info = _put(env, data)
    env.store.put(key + "-other", io.BytesIO(b"x"), 1,
                  retain_until=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60))
    versions = env.store.versions(key)
    assert [v.key for v in versions] == [key]
    assert versions[0].version_id == info.version_id
    assert env.store.versions(blob_key("0" * 64)) == []
