"""Alembic environment: migrations run on the engine the caller hands over."""

from __future__ import annotations

from alembic import context

import archive.models  # noqa: F401  (registers every table)
from archive.db import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` command line: build from the settings
    from archive.config import Settings
    from archive.db import make_engine

    engine = make_engine(Settings().db_url)

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
