"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import importlib

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import archive.models  # noqa: F401
from archive.db import Base
from archive.search.models import is_unmapped
from tests.conftest import Env

importlib.import_module("archive.retention.models")


def test_schema_at_head_matches_the_models(env: Env):
    with env.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "include_name": lambda name, type_, parents: not is_unmapped(name),
            "compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], "models and migrations disagree; add a migration:\n" + \
        "\n".join(map(str, diff))
