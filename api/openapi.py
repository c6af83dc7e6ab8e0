"""The API's own documentation: the OpenAPI document and the pages that show it.

FastAPI's default ``/docs`` loads Swagger UI from a CDN, a blank page on an office network
without internet; here the assets are served by the archive itself (vendored under
``api/web/static/vendor/swagger-ui``). The document declares the bearer scheme, so the
Authorize button works, and describes the multipart upload body, which the upload route
reads as a stream (so FastAPI cannot infer it).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse

from archive.evidence.schemas import EvidenceMetadata

BEARER = {"type": "http", "scheme": "bearer",
          "description": "An API token: `archive users add … ` or `archive tokens create` "
                         "prints it once; send `Authorization: Bearer <token>`."}

_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="/static/vendor/swagger-ui/favicon-32x32.png">
</head><body data-openapi="{openapi_url}"><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/docs-init.js"></script>
</body></html>"""


def upload_body() -> dict[str, Any]:
    """The multipart body of ``POST /api/v1/evidence``: the file and every metadata field
    of :class:`EvidenceMetadata`, as the form sends them (text)."""
    schema = EvidenceMetadata.model_json_schema()
    properties: dict[str, Any] = {
        "file": {"type": "string", "format": "binary",
                 "description": "The document itself (PDF, XML, JPEG, PNG, TIFF); its type "
                                "is sniffed from the bytes."}}
    examples = {"org_code": "sao-1", "doc_type": "receipt", "fiscal_year": "2568",
                "issue_date": "2025-01-15", "amount": "1234.50",
                "issuer_tax_id": "0105512345671", "currency": "THB"}
    for name, spec in schema.get("properties", {}).items():
        prop: dict[str, Any] = {"type": "string", "title": spec.get("title", name)}
        if spec.get("description"):
            prop["description"] = spec["description"]
        if name in examples:
            prop["example"] = examples[name]
        properties[name] = prop
    required = ["file", *[n for n in schema.get("required", []) if n in properties]]
    return {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "properties": properties, "required": required},
        "encoding": {"file": {"contentType": "application/octet-stream"}}}}}


def install(app: FastAPI) -> None:
    """Serve ``/docs`` from local assets and enrich the generated document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, summary=app.summary,
                              routes=app.routes)
            doc.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = \
                BEARER
            for path, operations in doc.get("paths", {}).items():
                for method, operation in operations.items():
                    if path.startswith("/api/") or path == "/metrics":
                        operation.setdefault("security", [{"bearer": []}])
                    if (method, path) == ("post", "/api/v1/evidence"):
                        operation["requestBody"] = upload_body()
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_PAGE.format(title=app.title, openapi_url=app.openapi_url))
