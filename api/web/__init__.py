"""Server-rendered pages (Jinja2 + a little vendored htmx) on top of the same services as
the API: sign-in with a session cookie, upload for officers, search and records for
auditors, retention and disposition for records managers, administration and system
health for administrators. Thai by default, English with ``?lang=en``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web import pages
from api.web.pages import HERE


def install(app: FastAPI) -> None:
    """Add the pages and their static files to the application."""
    from api.web.routers import admin, auditor, auth, officer, retention

    pages.install(app)
    for module in (auth, officer, auditor, retention, admin):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
