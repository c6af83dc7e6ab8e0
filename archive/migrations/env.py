"""Alembic environment: migrations run on the engine the caller hands over."""

from __future__ import annotations

import importlib
from typing import Any

from alembic import context

import archive.models  # noqa: F401  (registers every table of the core)
from archive.db import Base

# The retention workflow keeps its tables in the same metadata and the same migration
# history. The rest of the core never imports the workflow; this tooling file is the one
# place that needs every table, so it loads them by name.
importlib.import_module("archive.retention.models")

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` command line: build from the settings
    from archive.config import Settings
    from archive.db import make_engine

    engine = make_engine(Settings().db_url)



def include_name(name: str | None, type_: Any, parent_names: Any) -> bool:
    """Leave the search objects made by raw DDL (FTS5 tables, trigram indexes) alone, or
    autogenerate would propose dropping them."""
    from archive.search.models import is_unmapped

    return not is_unmapped(name)


with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()
