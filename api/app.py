"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from api import errors, guards, openapi, web
from api.routers import admin, audit, disbursement_import, evidence, health, jobs, metrics
from api.routers import disbursements as disbursement_routes
from api.routers import exports as export_routes
from api.routers import retention as retention_routes
from api.routers import search as search_routes
from archive.config import Settings
from archive.db import make_engine
from archive.storage import ObjectStore, make_store
from archive.unit_of_work import make_session_factory

log = logging.getLogger("api")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               store: ObjectStore | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = engine or make_engine(settings.db_url)
    store = store or make_store(settings)
    app = FastAPI(title="Evidence Archive", version="0.1.0",
                  summary="Write-once archive of electronic disbursement evidence "
                          "for Thai local government.",
                  docs_url=None, redoc_url=None,   # /docs is served offline: api/openapi.py
                  lifespan=_lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    app.state.store = store
    errors.install(app)
    app.add_middleware(guards.RejectNul)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(evidence.router, prefix="/api/v1")
    app.include_router(audit.router, prefix="/api/v1")
    app.include_router(admin.router, prefix="/api/v1")
    app.include_router(jobs.router, prefix="/api/v1")
    app.include_router(search_routes.router, prefix="/api/v1")
    app.include_router(export_routes.router, prefix="/api/v1")
    app.include_router(retention_routes.router, prefix="/api/v1")
    app.include_router(disbursement_routes.router, prefix="/api/v1")
    app.include_router(disbursement_import.router, prefix="/api/v1")
    web.install(app)
    openapi.install(app)
    errors.document_errors(app)   # after openapi.install: it wraps the document built there
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    close_app(app)


def close_app(app: FastAPI) -> None:
    """What the application started in the background ends with it: the failed-login
    counter writes its open minutes to the trail and stops its flusher thread."""
    failures = getattr(app.state, "auth_failures", None)
    if failures is not None:
        failures.close()
