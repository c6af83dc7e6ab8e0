"""The API's own documentation: offline assets, the bearer scheme, the upload body."""

from __future__ import annotations

import re

from tests.conftest import Env


def test_docs_page_loads_only_the_archives_own_assets(env: Env):
    client = env.client()
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_openapi_declares_bearer_auth_and_the_multipart_upload_body(env: Env):
    doc = env.client().get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    upload = doc["paths"]["/api/v1/evidence"]["post"]
    assert upload["security"] == [{"bearer": []}]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"]["format"] == "binary"
    assert {"file", "org_code", "doc_type"} <= set(form["required"])
    for field in ("fiscal_year", "issue_date", "amount", "issuer_tax_id", "description"):
        assert field in form["properties"], field
    assert form["properties"]["org_code"]["example"] == "sao-1"
    assert "security" not in doc["paths"]["/healthz"]["get"]
