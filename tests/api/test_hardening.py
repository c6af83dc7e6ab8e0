"""Issue 15: what an attacker found through the API, each closed with a regression test
(organisation-code oracle, audit flooding, /metrics, bad input that answered 500)."""

from __future__ import annotations

import uuid

from tests.conftest import Env
from tests.factories import make_pdf, upload, world


# -- item 9: out of scope and unknown give one answer -----------------------------------

def test_an_out_of_scope_org_code_answers_exactly_like_an_unknown_one(env: Env):
    """GIVEN sao-2 (exists, outside off1's and rm1's scope) and zz-none (does not exist),
    THEN uploads, search, the retention survey and audit closures answer the same bytes."""
    tokens = world(env)
    off1, rm1 = env.client(tokens["off1"]), env.client(tokens["rm1"])
    calls = {
        "upload": lambda code: upload(off1, make_pdf("oracle"), org_code=code),
        "search": lambda code: off1.get("/api/v1/evidence", params={"org_code": code}),
        "survey": lambda code: rm1.post("/api/v1/retention/survey",
                                        json={"org_code": code, "dry_run": True}),
        "closure": lambda code: rm1.post("/api/v1/audit-closures", json={
            "org_code": code, "fiscal_year": 2566, "result": "no_objection",
            "closed_on": "2024-01-10"}),
    }
    for name, call in calls.items():
        theirs, missing = call("sao-2"), call("zz-none")
        assert theirs.status_code == missing.status_code == 404, (name, theirs.text)
        assert theirs.content == missing.content, (name, theirs.text, missing.text)
        assert dict(theirs.headers) == dict(missing.headers), name


def test_a_record_page_out_of_scope_reads_like_a_missing_record(env: Env):
    """GIVEN off1's record, THEN an auditor of another province gets the same page (API
    and HTML) for it as for an id that does not exist (the id itself aside)."""
    tokens = world(env)
    record = upload(env.client(tokens["off1"]), make_pdf("oracle-page")).json()["id"]
    absent = str(uuid.uuid4())
    aud3 = env.client(tokens["aud3"])
    for path in ("/api/v1/evidence/{}", "/api/v1/evidence/{}/content",
                 "/api/v1/evidence/{}/inspection", "/api/v1/retention/records/{}",
                 "/records/{}"):
        theirs, missing = aud3.get(path.format(record)), aud3.get(path.format(absent))
        assert theirs.status_code == missing.status_code == 404, (path, theirs.text[:200])
        assert theirs.content.replace(record.encode(), b"ID") == \
            missing.content.replace(absent.encode(), b"ID"), path
