"""Every route × every role × own scope / other scope / no token.

A route missing from MATRIX fails the test: new routes must declare who may use them.
Expected answers: 401 without a valid token, 403 for a role that may not act, 404 for a
record outside the caller's scope (never revealing that it exists), and the success code
otherwise. For lists, "other scope" must answer but never contain the record.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.conftest import Env
from tests.factories import make_pdf, upload, world

ROLES = ("officer", "auditor", "records_manager", "admin")
_counter = itertools.count()


@dataclass
class Case:
    """How to call a route, and what each role gets in its own and in another scope."""

    call: Callable[[Any, dict[str, Any]], Any]
    expect: dict[str, tuple[int, int]]            # role → (own scope, other scope)
    public: bool = False
    hides: Callable[[Any, dict[str, Any]], bool] | None = None   # other-scope list check
    unscoped: tuple[str, ...] = ()      # roles that see everything here (admin: orgs)
    # Without credentials: None = 200 if public else 401; pages send browsers to /login.
    anonymous: int | None = None


def _only(role: str, ok: int, other: int | None = None, deny: int = 403) -> dict[str, tuple]:
    return {r: ((ok, other if other is not None else ok) if r == role else (deny, deny))
            for r in ROLES}


def _roles(ok: int, roles: tuple[str, ...], other: int = 404) -> dict[str, tuple]:
    return {r: ((ok, other) if r in roles else (403, 403)) for r in ROLES}


def _new_pdf_upload(c: Any, w: dict[str, Any]) -> Any:
    return upload(c, make_pdf(f"matrix-{next(_counter)}"), org_code="sao-1")


class _ItemStatus:
    """A batch response seen as its single item's status (scope is refused per item)."""

    def __init__(self, resp: Any) -> None:
        self.resp = resp
        self.status_code = resp.json()["items"][0]["status"] if resp.status_code == 200 \
            else resp.status_code

    def __getattr__(self, name: str) -> Any:
        return getattr(self.resp, name)


def _new_pdf_batch(c: Any, w: dict[str, Any]) -> Any:
    return _ItemStatus(c.post("/api/v1/evidence/batch", files=[
        ("meta", (None, '{"org_code": "sao-1", "doc_type": "receipt"}')),
        ("file", ("b.pdf", make_pdf(f"matrix-{next(_counter)}"), "application/pdf"))]))


def _no_record(resp: Any, w: dict[str, Any]) -> bool:
    return w["record"]["id"] not in resp.text and w["record"]["sha256"] not in resp.text


def _no_sao1(resp: Any, w: dict[str, Any]) -> bool:
    return '"sao-1"' not in resp.text


READ_ROLES = ("officer", "auditor", "records_manager")

MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/healthz"): Case(lambda c, w: c.get("/healthz"),
                              {r: (200, 200) for r in ROLES}, public=True),
    ("GET", "/readyz"): Case(lambda c, w: c.get("/readyz"),
                             {r: (200, 200) for r in ROLES}, public=True),
    ("GET", "/docs"): Case(lambda c, w: c.get("/docs"),
                           {r: (200, 200) for r in ROLES}, public=True),
    ("POST", "/api/v1/evidence"): Case(_new_pdf_upload, _only("officer", 201, 404)),
    ("POST", "/api/v1/evidence/batch"): Case(_new_pdf_batch, _only("officer", 201, 404)),
    ("GET", "/api/v1/evidence/by-hash/{sha256}"): Case(
        lambda c, w: c.get(f"/api/v1/evidence/by-hash/{w['record']['sha256']}"),
        _roles(200, READ_ROLES)),
    ("GET", "/api/v1/evidence/{evidence_id}"): Case(
        lambda c, w: c.get(f"/api/v1/evidence/{w['record']['id']}"), _roles(200, READ_ROLES)),
    ("PATCH", "/api/v1/evidence/{evidence_id}"): Case(
        lambda c, w: c.patch(f"/api/v1/evidence/{w['record']['id']}",
                             json={"description": f"note {next(_counter)}"},
                             headers={"If-Match": "*"}),
        _only("officer", 200, 404)),
    ("GET", "/api/v1/evidence/{evidence_id}/content"): Case(
        lambda c, w: c.get(f"/api/v1/evidence/{w['record']['id']}/content"),
        _roles(200, READ_ROLES)),
    ("GET", "/api/v1/audit/events"): Case(
        lambda c, w: c.get("/api/v1/audit/events", params={"target_id": w["record"]["id"]}),
        _roles(200, ("auditor", "records_manager"), other=200), hides=_no_record),
    ("GET", "/api/v1/audit/verify"): Case(
        lambda c, w: c.get("/api/v1/audit/verify"),
        _roles(200, ("auditor", "records_manager", "admin"), other=200)),
    ("GET", "/api/v1/orgs"): Case(lambda c, w: c.get("/api/v1/orgs"),
                                  {r: (200, 200) for r in ROLES}, hides=_no_sao1,
                                  unscoped=("admin",)),
    ("POST", "/api/v1/orgs"): Case(
        lambda c, w: c.post("/api/v1/orgs", json={"code": f"new-{next(_counter)}",
                                                  "name": "อบต.ใหม่", "parent_code": "p-cm"}),
        _only("admin", 201)),
    ("POST", "/api/v1/orgs/import"): Case(
        lambda c, w: c.post("/api/v1/orgs/import", headers={"Content-Type": "text/csv"},
                            content="code,name,type,parent_code\nimp-1,อบต.นำเข้า,sao,p-cm\n"
                            .encode()),
        _only("admin", 200)),
    ("GET", "/metrics"): Case(lambda c, w: c.get("/metrics"),     # issue 15 item 11
                              _only("admin", 200)),
    ("GET", "/api/v1/evidence/{evidence_id}/inspection"): Case(
        lambda c, w: c.get(f"/api/v1/evidence/{w['record']['id']}/inspection"),
        _roles(200, READ_ROLES)),
    ("GET", "/api/v1/evidence/{evidence_id}/renditions"): Case(
        lambda c, w: c.get(f"/api/v1/evidence/{w['record']['id']}/renditions"),
        _roles(200, READ_ROLES)),
    # The matrix's record has no rendition (OCR is slow; tests/workers/test_ocr.py serves
    # one): the readers reach the lookup (404 in either scope), the others are refused.
    ("GET", "/api/v1/evidence/{evidence_id}/renditions/{rendition_id}/content"): Case(
        lambda c, w: c.get(f"/api/v1/evidence/{w['record']['id']}/renditions/"
                           "00000000-0000-7000-8000-000000000000/content"),
        _roles(404, READ_ROLES)),
    ("GET", "/api/v1/jobs"): Case(lambda c, w: c.get("/api/v1/jobs"), _only("admin", 200)),
    ("POST", "/api/v1/jobs/{job_id}/retry"): Case(
        lambda c, w: c.post(f"/api/v1/jobs/{w['failed_job']()}/retry"), _only("admin", 200)),
    ("GET", "/api/v1/evidence"): Case(
        lambda c, w: c.get("/api/v1/evidence", params={"q": "matrix"}),
        _roles(200, READ_ROLES, other=200), hides=_no_record),
    ("GET", "/api/v1/evidence.csv"): Case(
        lambda c, w: c.get("/api/v1/evidence.csv"),
        _roles(200, READ_ROLES, other=200), hides=_no_record),
    ("POST", "/api/v1/exports"): Case(
        lambda c, w: c.post("/api/v1/exports", json={"ids": [w["record"]["id"]]}),
        _roles(202, ("auditor", "records_manager"))),
    ("GET", "/api/v1/exports/{export_id}"): Case(
        lambda c, w: c.get(f"/api/v1/exports/{w['export_id']}"),
        _roles(200, ("auditor", "records_manager"))),
    ("GET", "/api/v1/exports/{export_id}/download"): Case(
        lambda c, w: c.get(f"/api/v1/exports/{w['export_id']}/download"),
        _roles(200, ("auditor", "records_manager"))),
    ("GET", "/api/v1/users"): Case(lambda c, w: c.get("/api/v1/users"), _only("admin", 200)),
    ("POST", "/api/v1/users"): Case(
        lambda c, w: c.post("/api/v1/users", json={"name": f"u{next(_counter)}",
                                                   "role": "officer", "org_codes": ["sao-1"]}),
        _only("admin", 201)),
    # Nobody mints a token for someone else, administrators included (issue 15 item 8).
    ("POST", "/api/v1/users/{name}/tokens"): Case(
        lambda c, w: c.post("/api/v1/users/spare/tokens", json={"label": "x"}),
        {r: (403, 403) for r in ROLES}),
    ("POST", "/api/v1/users/{name}/password/reset"): Case(
        lambda c, w: c.post("/api/v1/users/spare/password/reset"), _only("admin", 200)),
    ("POST", "/api/v1/users/{name}/tokens/revoke"): Case(
        lambda c, w: c.post("/api/v1/users/spare/tokens/revoke", json={}),
        _only("admin", 200)),
}


# -- retention (issue 8) ----------------------------------------------------------------
# State for these routes is made on first use with rm1's token: a draft disposition list
# for sao-1 (surveyed with the clock in 2100, when the record is due) and legal holds.
# Workflow steps on a draft list answer 409 (wrong step) in the caller's own scope and 404
# in another; committee appointment with an unknown member answers 422.

def _rm_client(c: Any, w: dict[str, Any]) -> Any:
    from fastapi.testclient import TestClient

    return TestClient(c.app, raise_server_exceptions=False, headers={
        "Authorization": f"Bearer {w['own']['records_manager']}"})


def _ret_list(c: Any, w: dict[str, Any]) -> str:
    if "retention_list" not in w:
        from archive import clock

        with clock.frozen("2100-01-15"):
            r = _rm_client(c, w).post("/api/v1/retention/survey", json={})
        w["retention_list"] = r.json()["lists"][0]["id"]
    return str(w["retention_list"])


def _ret_hold(c: Any, w: dict[str, Any], key: str = "retention_hold") -> str:
    _ret_list(c, w)       # list the record before a hold keeps it off any list
    if key not in w:
        r = _rm_client(c, w).post("/api/v1/holds", json={
            "reason": f"matrix {key}", "record_ids": [w["record"]["id"]]})
        w[key] = r.json()["id"]
    return str(w[key])


def _ret_step(step: str, body: dict[str, Any] | None = None) -> Callable[[Any, Any], Any]:
    return lambda c, w: c.post(f"/api/v1/retention/lists/{_ret_list(c, w)}/{step}",
                               json=body if body is not None else {})


_RET_READ = ("auditor", "records_manager")
_NOBODY = {r: (403, 403) for r in ROLES}
_RM_STEP = {**{r: (403, 403) for r in ROLES}, "records_manager": (409, 404)}

RETENTION_MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/retention/schedules"): Case(
        lambda c, w: c.get("/api/v1/retention/schedules"), _roles(200, _RET_READ, other=200)),
    ("POST", "/api/v1/retention/schedules"): Case(   # national: no LAO records manager
        lambda c, w: c.post("/api/v1/retention/schedules", json={
            "code": f"m-{next(_counter)}", "title_th": "ก", "title_en": "a",
            "trigger": "fiscal_year_end", "keep_years": 12, "action": "destroy",
            "legal_basis_th": "ข", "legal_basis_en": "b"}), _NOBODY),
    ("GET", "/api/v1/retention/schedules/{code}"): Case(
        lambda c, w: c.get("/api/v1/retention/schedules/voucher-evidence"),
        _roles(200, _RET_READ, other=200)),
    ("PATCH", "/api/v1/retention/schedules/{code}"): Case(
        lambda c, w: c.patch("/api/v1/retention/schedules/correspondence", json={
            "keep_years": 11, "reason": "matrix"}), _NOBODY),
    ("GET", "/api/v1/retention/doc-types"): Case(
        lambda c, w: c.get("/api/v1/retention/doc-types"), _roles(200, _RET_READ, other=200)),
    ("PUT", "/api/v1/retention/doc-types/{doc_type}"): Case(
        lambda c, w: c.put("/api/v1/retention/doc-types/other", json={
            "schedule_code": "voucher-evidence", "reason": "matrix"}), _NOBODY),
    ("GET", "/api/v1/retention/records/{evidence_id}"): Case(
        lambda c, w: c.get(f"/api/v1/retention/records/{w['record']['id']}"),
        _roles(200, _RET_READ)),
    ("GET", "/api/v1/retention/forecast"): Case(
        lambda c, w: c.get("/api/v1/retention/forecast", params={"until": "2100-01-01"}),
        _roles(200, _RET_READ, other=200), hides=_no_sao1),
    ("POST", "/api/v1/retention/survey"): Case(
        lambda c, w: c.post("/api/v1/retention/survey", json={"as_of": "2101-01-01"}),
        _roles(200, ("records_manager",), other=200), hides=_no_record),
    ("GET", "/api/v1/retention/lists"): Case(
        lambda c, w: (_ret_list(c, w), c.get("/api/v1/retention/lists"))[1],
        _roles(200, _RET_READ, other=200), hides=_no_sao1),
    ("GET", "/api/v1/retention/lists/{list_id}"): Case(
        lambda c, w: c.get(f"/api/v1/retention/lists/{_ret_list(c, w)}"),
        _roles(200, _RET_READ)),
    ("PUT", "/api/v1/retention/lists/{list_id}/committee"): Case(   # the head appoints
        lambda c, w: c.put(f"/api/v1/retention/lists/{_ret_list(c, w)}/committee", json={
            "chair": "nobody-1", "members": ["nobody-2", "nobody-3"],
            "order_ref": "คำสั่ง 1/2643", "order_date": "2020-01-01"}),
        # rm1 is sao-1's head by now (PUT …/heads sorts first): unknown members, 422.
        {**_RM_STEP, "records_manager": (422, 404)}),
    ("POST", "/api/v1/retention/lists/{list_id}/destruction-record"): Case(
        _ret_step("destruction-record"), _RM_STEP),
    ("GET", "/api/v1/retention/rules"): Case(
        lambda c, w: c.get("/api/v1/retention/rules"), _roles(200, _RET_READ, other=200)),
    ("PUT", "/api/v1/retention/rules/{code}"): Case(    # national: no LAO records manager
        lambda c, w: c.put("/api/v1/retention/rules/archives_review_days", json={
            "value": 60, "basis_th": "ข้อ 70", "basis_en": "clause 70", "reason": "matrix"}),
        _NOBODY),
    ("POST", "/api/v1/retention/lists/{list_id}/votes"): Case(
        _ret_step("votes", {"votes": [{"item": 1, "vote": "approve"}]}), _RM_STEP),
    ("POST", "/api/v1/retention/lists/{list_id}/committee-approval"): Case(
        _ret_step("committee-approval"), _RM_STEP),
    ("POST", "/api/v1/retention/lists/{list_id}/head-decision"): Case(
        _ret_step("head-decision", {"decision": "approve"}), _RM_STEP),
    ("POST", "/api/v1/retention/lists/{list_id}/archives-sent"): Case(
        _ret_step("archives-sent", {"sent_on": "2020-01-01"}), _RM_STEP),
    ("POST", "/api/v1/retention/lists/{list_id}/archives-response"): Case(
        _ret_step("archives-response", {"result": "consent", "responded_on": "2020-01-01"}),
        _RM_STEP),
    ("POST", "/api/v1/retention/lists/{list_id}/execute"): Case(
        _ret_step("execute"), _RM_STEP),
    ("POST", "/api/v1/retention/lists/{list_id}/items/{seq}/withdraw"): Case(
        _ret_step("items/1/withdraw", {"reason": "matrix"}),
        {**_RM_STEP, "records_manager": (200, 404)}),
    ("GET", "/api/v1/retention/lists/{list_id}/certificate"): Case(   # none before execution
        lambda c, w: c.get(f"/api/v1/retention/lists/{_ret_list(c, w)}/certificate"),
        _roles(404, _RET_READ)),
    ("PUT", "/api/v1/retention/heads/{org_code}"): Case(
        lambda c, w: c.put("/api/v1/retention/heads/sao-1", json={"user": "rm1"}),
        _only("admin", 200)),
    ("POST", "/api/v1/holds"): Case(
        lambda c, w: c.post("/api/v1/holds", json={"reason": "matrix",
                                                    "record_ids": [w["record"]["id"]]}),
        _roles(201, ("records_manager",))),
    ("GET", "/api/v1/holds"): Case(
        lambda c, w: (_ret_hold(c, w), c.get("/api/v1/holds"))[1],
        _roles(200, _RET_READ, other=200), hides=_no_sao1),
    ("GET", "/api/v1/holds/{hold_id}"): Case(
        lambda c, w: c.get(f"/api/v1/holds/{_ret_hold(c, w)}"), _roles(200, _RET_READ)),
    ("POST", "/api/v1/holds/{hold_id}/release"): Case(
        lambda c, w: c.post(f"/api/v1/holds/{_ret_hold(c, w, 'release_hold')}/release",
                            json={"reason": "matrix"}),
        _roles(200, ("records_manager",))),
    ("POST", "/api/v1/audit-closures"): Case(
        lambda c, w: c.post("/api/v1/audit-closures", json={
            "org_code": "sao-1", "fiscal_year": 2560, "result": "no_objection",
            "closed_on": "2018-01-10"}), _roles(201, ("records_manager",))),
    ("GET", "/api/v1/audit-closures"): Case(
        lambda c, w: c.get("/api/v1/audit-closures"), _roles(200, _RET_READ, other=200),
        hides=_no_sao1),
}
MATRIX.update(RETENTION_MATRIX)


# -- disbursements (issue 13) -----------------------------------------------------------
# One voucher of sao-1, registered on first use with off1's token; the record of the
# matrix world is linked to it as a receipt (the DELETE case unlinks it).

def _off_client(c: Any, w: dict[str, Any]) -> Any:
    from fastapi.testclient import TestClient

    return TestClient(c.app, raise_server_exceptions=False, headers={
        "Authorization": f"Bearer {w['own']['officer']}"})


def _voucher_body(org: str = "sao-1") -> dict[str, Any]:
    return {"org_code": org, "fiscal_year": 2568, "voucher_no": f"m{next(_counter)}/2568",
            "voucher_date": "2025-01-10", "kind": "other", "payee_name": "ร้านทดสอบ",
            "gross_amount": "100.00", "net_amount": "100.00", "payment_method": "cash"}


def _voucher(c: Any, w: dict[str, Any]) -> str:
    if "voucher" not in w:
        r = _off_client(c, w).post("/api/v1/disbursements", json=_voucher_body())
        w["voucher"] = r.json()["id"]
    return str(w["voucher"])


def _linked(c: Any, w: dict[str, Any]) -> str:
    vid = _voucher(c, w)
    if "voucher_link" not in w:
        _off_client(c, w).post(f"/api/v1/disbursements/{vid}/evidence",
                               json={"evidence_id": w["record"]["id"], "role": "receipt"})
        w["voucher_link"] = True
    return vid


def _no_voucher(resp: Any, w: dict[str, Any]) -> bool:
    return "voucher" not in w or w["voucher"] not in resp.text


_D = "/api/v1/disbursements"

DISBURSEMENT_MATRIX: dict[tuple[str, str], Case] = {
    ("POST", _D): Case(lambda c, w: c.post(_D, json=_voucher_body()),
                       _only("officer", 201, 404)),
    ("GET", _D): Case(lambda c, w: (_voucher(c, w), c.get(_D))[1],
                      _roles(200, READ_ROLES, other=200), hides=_no_voucher),
    ("GET", _D + ".csv"): Case(lambda c, w: (_voucher(c, w), c.get(_D + ".csv"))[1],
                               _roles(200, READ_ROLES, other=200), hides=_no_voucher),
    ("GET", _D + "/summary"): Case(lambda c, w: (_voucher(c, w), c.get(_D + "/summary"))[1],
                                   _roles(200, READ_ROLES, other=200), hides=_no_sao1),
    ("GET", _D + "/summary.csv"): Case(
        lambda c, w: (_voucher(c, w), c.get(_D + "/summary.csv"))[1],
        _roles(200, READ_ROLES, other=200), hides=lambda r, w: "sao-1," not in r.text),
    ("GET", _D + "/profile"): Case(lambda c, w: c.get(_D + "/profile"),
                                   _roles(200, READ_ROLES, other=200)),
    ("PUT", _D + "/profile"): Case(   # national: no LAO records manager
        lambda c, w: c.put(_D + "/profile", json={"data": {}, "reason": "matrix"}), _NOBODY),
    ("GET", _D + "/{disbursement_id}"): Case(
        lambda c, w: c.get(f"{_D}/{_voucher(c, w)}"), _roles(200, READ_ROLES)),
    ("PATCH", _D + "/{disbursement_id}"): Case(
        lambda c, w: c.patch(f"{_D}/{_voucher(c, w)}", headers={"If-Match": "*"},
                             json={"description": f"matrix {next(_counter)}"}),
        _only("officer", 200, 404)),
    ("POST", _D + "/{disbursement_id}/evidence"): Case(
        lambda c, w: c.post(f"{_D}/{_voucher(c, w)}/evidence",
                            json={"evidence_id": w["record"]["id"], "role": "other"}),
        _only("officer", 201, 404)),
    ("DELETE", _D + "/{disbursement_id}/evidence/{evidence_id}"): Case(
        lambda c, w: c.delete(f"{_D}/{_linked(c, w)}/evidence/{w['record']['id']}",
                              params={"role": "receipt"}),
        _only("officer", 200, 404)),
    ("POST", _D + "/{disbursement_id}/reviews"): Case(
        lambda c, w: c.post(f"{_D}/{_voucher(c, w)}/reviews",
                            json={"outcome": "no_observation"}),
        _roles(201, ("auditor",))),
}
MATRIX.update(DISBURSEMENT_MATRIX)


# -- web pages (issue 9) ---------------------------------------------------------------
# Pages take the same bearer tokens as the API (browsers use the session cookie, see
# tests/web/); without credentials they answer 303 to /login. Redirects are not followed.

def _page(method: str, path: Callable[[dict[str, Any]], str] | str,
          data: Callable[[dict[str, Any]], dict[str, Any]] | dict[str, Any] | None = None,
          before: Callable[[Any, dict[str, Any]], Any] | None = None
          ) -> Callable[[Any, dict[str, Any]], Any]:
    def call(c: Any, w: dict[str, Any]) -> Any:
        if before is not None:
            before(c, w)
        url = path(w) if callable(path) else path
        body = data(w) if callable(data) else data
        return c.request(method, url, data=body, follow_redirects=False)
    return call


def _web_export(c: Any, w: dict[str, Any]) -> str:
    if "web_export" not in w:
        r = _rm_client(c, w).post("/api/v1/exports", json={"filters": {"org_code": "sao-1"}})
        w["web_export"] = r.json()["id"]
    return str(w["web_export"])


def _page_upload(c: Any, w: dict[str, Any]) -> Any:
    return c.post("/upload/file", data={"org_code": "sao-1", "doc_type": "receipt"},
                  files={"file": (f"m{next(_counter)}.pdf",
                                  make_pdf(f"page-{next(_counter)}"), "")},
                  follow_redirects=False)


def _all(code: int) -> dict[str, tuple[int, int]]:
    return {r: (code, code) for r in ROLES}


_REC = lambda w: f"/records/{w['record']['id']}"  # noqa: E731
_LIST = lambda step: (lambda w: f"/retention/lists/{w['retention_list']}/{step}")  # noqa: E731
_RM_PAGE_STEP = {**{r: (403, 403) for r in ROLES}, "records_manager": (409, 404)}

WEB_MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/"): Case(_page("GET", "/"), _all(303), anonymous=303),
    ("GET", "/login"): Case(_page("GET", "/login"), _all(200), public=True),
    ("POST", "/login"): Case(_page("POST", "/login", {"username": "off1", "password": "x"}),
                             _all(403), anonymous=403),      # no sign-in form token
    ("POST", "/logout"): Case(_page("POST", "/logout", {}), _all(303), anonymous=303),
    ("GET", "/account"): Case(_page("GET", "/account"), _all(200), anonymous=303),
    ("POST", "/account/password"): Case(   # token users without one set their first password
        _page("POST", "/account/password", {"current": "x", "new": "y" * 12,
                                            "again": "y" * 12}), _all(303), anonymous=303),
    ("GET", "/upload"): Case(_page("GET", "/upload"), _only("officer", 200), anonymous=303),
    ("GET", "/upload/recent"): Case(_page("GET", "/upload/recent"), _only("officer", 200),
                                    anonymous=303, hides=_no_record),
    ("POST", "/upload/file"): Case(_page_upload, _only("officer", 201, 404), anonymous=303),
    ("GET", "/upload/result/{evidence_id}"): Case(
        _page("GET", lambda w: f"/upload/result/{w['record']['id']}"),
        _roles(200, READ_ROLES), anonymous=303),
    ("GET", "/search"): Case(_page("GET", "/search?run=1"), _roles(200, READ_ROLES, other=200),
                             anonymous=303, hides=_no_record),
    ("GET", "/records/{evidence_id}"): Case(_page("GET", _REC), _roles(200, READ_ROLES),
                                            anonymous=303),
    ("POST", "/records/{evidence_id}"): Case(
        _page("POST", _REC, lambda w: {"description": f"page {next(_counter)}",
                                       "reason": "matrix"}),
        _only("officer", 303, 404), anonymous=303),
    ("GET", "/audit/verify"): Case(_page("GET", "/audit/verify"),
                                   _roles(200, ("auditor", "records_manager", "admin"), 200),
                                   anonymous=303),
    ("POST", "/exports"): Case(_page("POST", "/exports", {"org_code": "sao-1"}),
                               _roles(303, ("auditor", "records_manager"), other=404),
                               anonymous=303),
    ("GET", "/exports/{export_id}"): Case(
        _page("GET", lambda w: f"/exports/{w['web_export']}", before=_web_export),
        {"officer": (403, 403), "auditor": (200, 404), "records_manager": (200, 404),
         "admin": (403, 403)}, anonymous=303),
    ("GET", "/retention"): Case(_page("GET", "/retention"), _roles(200, _RET_READ, 200),
                                anonymous=303),
    ("GET", "/retention/forecast"): Case(
        _page("GET", "/retention/forecast?until=2100-01-01"), _roles(200, _RET_READ, 200),
        anonymous=303, hides=lambda r, w: "(sao-1)" not in r.text),
    ("GET", "/retention/holds"): Case(
        _page("GET", "/retention/holds", before=_ret_hold), _roles(200, _RET_READ, 200),
        anonymous=303, hides=lambda r, w: w["retention_hold"] not in r.text),
    ("POST", "/retention/holds"): Case(
        _page("POST", "/retention/holds", lambda w: {"reason": "page matrix",
                                                     "record_ids": w["record"]["id"]},
              before=_ret_list),
        _roles(303, ("records_manager",)), anonymous=303),
    ("GET", "/retention/holds/{hold_id}"): Case(
        _page("GET", lambda w: f"/retention/holds/{w['retention_hold']}", before=_ret_hold),
        _roles(200, _RET_READ), anonymous=303),
    ("POST", "/retention/holds/{hold_id}/release"): Case(
        _page("POST", lambda w: f"/retention/holds/{w['web_release_hold']}/release",
              {"reason": "page matrix"},
              before=lambda c, w: _ret_hold(c, w, "web_release_hold")),
        _roles(303, ("records_manager",)), anonymous=303),
    ("GET", "/retention/closures"): Case(_page("GET", "/retention/closures"),
                                         _roles(200, _RET_READ, 200), anonymous=303),
    ("POST", "/retention/closures"): Case(
        _page("POST", "/retention/closures", {"org_code": "sao-1", "fiscal_year": "2561",
                                              "result": "no_objection",
                                              "closed_on": "2019-01-10"}),
        _roles(303, ("records_manager",)), anonymous=303),
    ("GET", "/retention/lists"): Case(
        _page("GET", "/retention/lists", before=_ret_list), _roles(200, _RET_READ, 200),
        anonymous=303, hides=lambda r, w: w["retention_list"] not in r.text),
    ("POST", "/retention/survey"): Case(_page("POST", "/retention/survey", {}),
                                        _roles(200, ("records_manager",), 200),
                                        anonymous=303),
    ("GET", "/retention/lists/{list_id}"): Case(
        _page("GET", lambda w: f"/retention/lists/{w['retention_list']}", before=_ret_list),
        _roles(200, _RET_READ), anonymous=303),
    ("POST", "/retention/lists/{list_id}/committee"): Case(
        _page("POST", _LIST("committee"), {"chair": "nobody-1",
                                           "member": ["nobody-2", "nobody-3"],
                                           "order_ref": "คำสั่ง 1/2643",
                                           "order_date": "2020-01-01"},
              before=_ret_list),       # rm1 is not the head of agency (yet): 403
        {**_RM_PAGE_STEP, "records_manager": (403, 404)}, anonymous=303),
    ("POST", "/retention/lists/{list_id}/votes"): Case(
        _page("POST", _LIST("votes"), {"vote-1": "approve"}, before=_ret_list),
        _RM_PAGE_STEP, anonymous=303),
    ("POST", "/retention/lists/{list_id}/committee-approval"): Case(
        _page("POST", _LIST("committee-approval"), {}, before=_ret_list), _RM_PAGE_STEP,
        anonymous=303),
    ("POST", "/retention/lists/{list_id}/head-decision"): Case(
        _page("POST", _LIST("head-decision"), {"decision": "approve"}, before=_ret_list),
        _RM_PAGE_STEP, anonymous=303),
    ("POST", "/retention/lists/{list_id}/archives-sent"): Case(
        _page("POST", _LIST("archives-sent"), {"sent_on": "2020-01-01"}, before=_ret_list),
        _RM_PAGE_STEP, anonymous=303),
    ("POST", "/retention/lists/{list_id}/archives-response"): Case(
        _page("POST", _LIST("archives-response"), {"result": "consent",
                                                    "responded_on": "2020-01-01"},
              before=_ret_list), _RM_PAGE_STEP, anonymous=303),
    ("POST", "/retention/lists/{list_id}/destruction-record"): Case(
        _page("POST", _LIST("destruction-record"), {}, before=_ret_list), _RM_PAGE_STEP,
        anonymous=303),
    ("POST", "/retention/lists/{list_id}/execute"): Case(
        _page("POST", _LIST("execute"), {}, before=_ret_list), _RM_PAGE_STEP, anonymous=303),
    ("POST", "/retention/lists/{list_id}/items/{seq}/withdraw"): Case(
        _page("POST", _LIST("items/1/withdraw"), {"reason": "page matrix"},
              before=_ret_list),      # item 1 is withdrawn already by the API's case: 409
        _RM_PAGE_STEP, anonymous=303),
    ("GET", "/admin/orgs"): Case(_page("GET", "/admin/orgs"), _only("admin", 200),
                                 anonymous=303),
    ("POST", "/admin/orgs"): Case(
        _page("POST", "/admin/orgs", lambda w: {"code": f"pg-{next(_counter)}",
                                                "name": "อบต.หน้าเว็บ", "parent_code": "p-cm"}),
        _only("admin", 303), anonymous=303),
    ("POST", "/admin/orgs/{code}/head"): Case(
        _page("POST", "/admin/orgs/sao-3/head", {"user": "rm3"}), _only("admin", 303),
        anonymous=303),
    ("GET", "/admin/users"): Case(_page("GET", "/admin/users"), _only("admin", 200),
                                  anonymous=303),
    ("POST", "/admin/users"): Case(
        _page("POST", "/admin/users", lambda w: {"name": f"pg{next(_counter)}",
                                                 "role": "auditor", "org_codes": "p-cm"}),
        _only("admin", 201), anonymous=303),
    ("GET", "/admin/users/{name}"): Case(_page("GET", "/admin/users/spare"),
                                         _only("admin", 200), anonymous=303),
    ("POST", "/admin/users/{name}"): Case(
        _page("POST", "/admin/users/spare", {"role": "officer", "org_codes": "sao-2"}),
        _only("admin", 303), anonymous=303),
    ("POST", "/admin/users/{name}/password"): Case(     # a reset, never a chosen password
        _page("POST", "/admin/users/spare/password", {}), _only("admin", 200), anonymous=303),
    ("POST", "/admin/users/{name}/tokens"): Case(
        _page("POST", "/admin/users/spare/tokens", {"label": "page"}), _all(403),
        anonymous=303),
    ("POST", "/admin/users/{name}/tokens/revoke"): Case(
        _page("POST", "/admin/users/spare/tokens/revoke", {}), _only("admin", 200),
        anonymous=303),
    ("GET", "/admin/health"): Case(_page("GET", "/admin/health"), _only("admin", 200),
                                   anonymous=303),
    ("POST", "/admin/jobs/{job_id}/retry"): Case(
        _page("POST", lambda w: f"/admin/jobs/{w['failed_job']()}/retry", {}),
        _only("admin", 303), anonymous=303),
}
MATRIX.update(WEB_MATRIX)


# -- disbursement register import (issue 13, h13b) ------------------------------------

def _register_import(c: Any, w: dict[str, Any]) -> Any:
    n = next(_counter)
    text = ("voucher_no,voucher_date,payee_name,gross_amount,kind,payment_method\n"
            f"m{n}/2568,2025-01-15,ร้านทดสอบ,100.00,other,cash\n")
    return c.post("/api/v1/disbursements/import", data={"org_code": "sao-1"},
                  files={"file": ("register.csv", text.encode(), "text/csv")})


def _voucher_form(w: dict[str, Any]) -> dict[str, Any]:
    return {"org_code": "sao-1", "voucher_no": f"p{next(_counter)}/2568",
            "voucher_date": "2025-01-10", "kind": "other", "payee_name": "ร้านทดสอบ",
            "gross_amount": "100.00", "payment_method": "cash"}


_VPAGE = lambda tail: (lambda w: f"/vouchers/{w['voucher']}{tail}")  # noqa: E731

MATRIX.update({
    ("POST", "/api/v1/disbursements/import"): Case(_register_import,
                                                   _only("officer", 200, 404)),
    # the voucher pages (h13b)
    ("GET", "/vouchers"): Case(_page("GET", "/vouchers", before=_voucher),
                               _roles(200, READ_ROLES, other=200), anonymous=303,
                               hides=_no_voucher),
    ("GET", "/vouchers/summary"): Case(_page("GET", "/vouchers/summary"),
                                       _roles(200, READ_ROLES, other=200), anonymous=303),
    ("GET", "/vouchers/new"): Case(_page("GET", "/vouchers/new"), _only("officer", 200),
                                   anonymous=303),
    ("POST", "/vouchers/new"): Case(_page("POST", "/vouchers/new", _voucher_form),
                                    _only("officer", 303, 404), anonymous=303),
    ("GET", "/vouchers/{disbursement_id}"): Case(
        _page("GET", _VPAGE(""), before=_voucher), _roles(200, READ_ROLES), anonymous=303),
    ("POST", "/vouchers/{disbursement_id}/reviews"): Case(
        _page("POST", _VPAGE("/reviews"), {"outcome": "no_observation"}, before=_voucher),
        _roles(303, ("auditor",)), anonymous=303),
    ("POST", "/vouchers/{disbursement_id}/export"): Case(
        _page("POST", _VPAGE("/export"), {}, before=_linked),
        _roles(303, ("auditor", "records_manager")), anonymous=303),
})


def _routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every API route, including those of included routers."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                path = route.path if route.path.startswith(prefix) else prefix + route.path
                found.update((m, path) for m in route.methods - {"HEAD", "OPTIONS"})
            elif hasattr(route, "original_router"):   # FastAPI's included router
                walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif hasattr(route, "routes") and hasattr(route, "path"):   # a mount
                walk(route.routes, prefix + route.path)

    walk(app.routes, "")
    return found


def test_every_route_is_in_the_matrix(env: Env):
    routes = _routes(env.app())
    missing = routes - set(MATRIX)
    stale = set(MATRIX) - routes
    assert not missing, f"routes without an access rule in MATRIX: {sorted(missing)}"
    assert not stale, f"MATRIX names routes that no longer exist: {sorted(stale)}"


@pytest.fixture
def matrix_world(env: Env) -> dict[str, Any]:
    """Own scope = sao-1 (and p-cm above it); other scope = elsewhere in the tree."""
    tokens = world(env)
    env.org("sao-9", parent="p-cr")
    extra = {
        "rm3": env.user("rm3", "records_manager", ["sao-3"]),
        "admin2": env.user("admin2", "admin"),
        "spare": env.user("spare", "officer", ["sao-2"]),
    }
    record = upload(env.client(tokens["off1"]), make_pdf("matrix-record")).json()
    from workers.runner import Worker

    export = env.client(tokens["aud1"]).post("/api/v1/exports",
                                             json={"ids": [record["id"]]}).json()
    worker = Worker(env.settings, engine=env.engine, store=env.store,
                    kinds=["inspect", "extract_text", "export"])
    while worker.run_once():
        pass

    def failed_job() -> int:
        from archive.queue.models import Job

        with env.session() as s:
            job = Job(kind="noop", payload={}, status="failed", attempts=8)
            s.add(job)
            s.flush()
            return job.id

    return {
        "record": record,
        "export_id": export["id"],
        "failed_job": failed_job,
        "own": {"officer": tokens["off1"], "auditor": tokens["aud1"],
                "records_manager": tokens["rm1"], "admin": tokens["admin"]},
        "other": {"officer": tokens["off2"], "auditor": tokens["aud3"],
                  "records_manager": extra["rm3"], "admin": extra["admin2"]},
    }


def test_access_matrix(env: Env, matrix_world: dict[str, Any]):
    app = env.app()
    from fastapi.testclient import TestClient

    failures = []
    for (method, path), case in sorted(MATRIX.items()):
        anon = TestClient(app, raise_server_exceptions=False)
        got = case.call(anon, matrix_world).status_code
        want_anon = case.anonymous if case.anonymous is not None else \
            (200 if case.public else 401)
        if got != want_anon:
            failures.append(f"{method} {path} no token: {got}, expected {want_anon}")
        for role in ROLES:
            for scope, index in (("own", 0), ("other", 1)):
                client = TestClient(app, raise_server_exceptions=False, headers={
                    "Authorization": f"Bearer {matrix_world[scope][role]}"})
                resp = case.call(client, matrix_world)
                want = case.expect[role][index]
                if resp.status_code != want:
                    failures.append(f"{method} {path} {role}/{scope}: {resp.status_code}, "
                                    f"expected {want} ({resp.text[:120]})")
                elif scope == "other" and want == 200 and case.hides and \
                        role not in case.unscoped and not case.hides(resp, matrix_world):
                    failures.append(f"{method} {path} {role}/other shows the other scope's "
                                    "record")
    assert not failures, "\n".join(failures)


def test_expired_and_revoked_tokens_are_401(env: Env):
    import datetime as dt

    world(env)
    from archive import clock

    # the archive's today (Thai time): from 17:00 UTC it is already tomorrow's date
    tomorrow = clock.today() + dt.timedelta(days=1)
    token = env.user("temp-auditor", "auditor", ["p-cm"], expires_on=tomorrow)
    client = env.client(token)
    assert client.get("/api/v1/orgs").status_code == 200
    from archive.accounts import service as accounts

    with env.session() as s:
        principal_later = None
        try:
            accounts.authenticate(s, token, today=tomorrow + dt.timedelta(days=1))
        except Exception as exc:  # noqa: BLE001
            principal_later = exc
    assert principal_later is not None and getattr(principal_later, "code", "") == \
        "account_expired"
    admin = env.client(env.tokens["admin"])
    assert admin.post("/api/v1/users/temp-auditor/tokens/revoke", json={}).status_code == 200
    revoked = client.get("/api/v1/orgs")
    assert revoked.status_code == 401 and revoked.json()["error"] == "token_revoked"


def test_a_national_account_sees_every_organisation_without_a_tree_walk(env: Env):
    """GIVEN an auditor attached to the single root (DLA) and one attached to a province,
    THEN the first's scope is "everything" and the second's is its subtree."""
    from archive.accounts import service as accounts

    world(env)
    national = env.user("aud-national", "auditor", ["dla"])
    with env.session() as s:
        assert accounts.scope_ids(s, accounts.authenticate(s, national)) is None
        provincial = accounts.authenticate(s, env.tokens["aud1"])
        scope = accounts.scope_ids(s, provincial)
        assert scope is not None and len(scope) == 3          # p-cm, sao-1, sao-2
    env.org("other-root", type="dla-office")                  # a second root appears
    with env.session() as s:
        assert accounts.scope_ids(s, accounts.authenticate(s, national)) is not None


def test_an_administrator_never_obtains_another_users_credential(env: Env):
    """Issue 15 item 8. GIVEN an administrator, THEN minting a token for an officer is
    refused on the API and the pages, creating a user hands over no token, setting another
    user's password is refused (a reset clears it instead); the officer still creates
    their own tokens, and the administrator revokes them."""
    from tests.web.helpers import people, sign_in, signed_in

    people(env, "admin", "off1")
    admin = env.client(env.tokens["admin"])
    minted = admin.post("/api/v1/users/off1/tokens", json={"label": "x"})
    assert minted.status_code == 403 and minted.json()["error"] == "own_tokens_only"
    assert "ea_" not in minted.text
    created = admin.post("/api/v1/users", json={"name": "newbie", "role": "officer",
                                                "org_codes": ["sao-1"]})
    assert created.status_code == 201 and "ea_" not in created.text
    page, csrf = signed_in(env, "admin")
    on_page = page.post("/admin/users/off1/tokens", data={"csrf_token": csrf, "label": "p"})
    assert on_page.status_code == 403 and "ea_" not in on_page.text
    new_user = page.post("/admin/users", data={"csrf_token": csrf, "name": "newbie2",
                                               "role": "auditor", "org_codes": ["p-cm"]})
    assert new_user.status_code == 201 and "ea_" not in new_user.text
    reset = page.post("/admin/users/off1/password",
                      data={"csrf_token": csrf, "password": "chosen-by-admin-1",
                            "again": "chosen-by-admin-1"})
    assert reset.status_code == 200
    assert sign_in(env.client(), "off1", "chosen-by-admin-1").status_code != 303
    from tests.web.helpers import PASSWORD

    assert sign_in(env.client(), "off1", PASSWORD).status_code != 303   # cleared
    from archive.accounts import web_sessions
    from archive.accounts.principal import Principal
    from archive.errors import PermissionDenied

    with env.session() as s, pytest.raises(PermissionDenied):
        web_sessions.set_password(s, Principal(name="admin", role="admin"),
                                  user_name="off1", password="chosen-by-admin-2")
    own = env.client(env.tokens["off1"]).post("/api/v1/users/off1/tokens",
                                              json={"label": "mine"})
    assert own.status_code == 201
    second = own.json()["token"]
    assert env.client(second).get("/api/v1/orgs").status_code == 200
    # the officer (signed in with their own token) sets their first password after a reset
    chosen = env.client(second).post("/account/password", data={
        "current": "", "new": "mein-eigenes-2568",
        "again": "mein-eigenes-2568"}, follow_redirects=False)
    assert chosen.status_code == 303, chosen.text[:300]
    assert sign_in(env.client(), "off1", "mein-eigenes-2568").status_code == 303
    assert admin.post("/api/v1/users/off1/tokens/revoke", json={}).status_code == 200
    assert env.client(second).get("/api/v1/orgs").status_code == 401
