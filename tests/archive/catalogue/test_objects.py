"""Catalogue objects are written before the rows they describe commit: a store that
refuses, or no store at all, makes the commit fail and nothing is kept."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from archive.accounts.principal import system_principal
from archive.catalogue import objects
from archive.errors import StoreUnavailable
from archive.orgs import service as orgs
from archive.orgs.models import Organisation
from archive.storage.local import LocalStore
from archive.unit_of_work import make_session_factory, session_scope
from tests.conftest import Env


def _codes(env: Env) -> list[str]:
    with env.session() as s:
        return list(s.scalars(sa.select(Organisation.code)))


def test_an_organisation_is_in_the_store_before_its_row(env: Env) -> None:
    env.org("dla", type="dla-office", name="กรมส่งเสริมการปกครองท้องถิ่น")
    [info] = list(env.store.list_objects(objects.ORGS))
    doc = objects.read(env.store, info.key, info.version_id)
    assert (doc["format"], doc["code"], doc["parent"]) == \
        ("evidence-archive.organisation/1", "dla", None)
    assert env.store.stat(info.key, info.version_id).retain_until is not None


def test_a_store_that_refuses_keeps_the_row_out(env: Env, tmp_path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    sessions = make_session_factory(env.engine, LocalStore(blocked))
    with pytest.raises(StoreUnavailable), session_scope(sessions) as s:
        orgs.create(s, system_principal("test"), code="dla", name="DLA", type="dla-office")
    assert _codes(env) == []


def test_a_session_without_a_store_refuses_to_commit_what_it_staged(env: Env) -> None:
    with pytest.raises(RuntimeError, match="no store"), \
            session_scope(make_session_factory(env.engine)) as s:
        orgs.create(s, system_principal("test"), code="dla", name="DLA", type="dla-office")
    assert _codes(env) == []
