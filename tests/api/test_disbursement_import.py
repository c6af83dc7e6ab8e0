"""The register import over HTTP and from the command line, on both stacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests import clirun
from tests.archive.disbursements.test_importing import ROWS, register
from tests.conftest import Env
from tests.factories import world


def _post(client, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/disbursements/import", data={"org_code": "sao-1", **fields},
                       files={"file": ("ทะเบียนฎีกา.csv", data, "text/csv")})


def test_import_over_http_reports_each_row_and_is_idempotent(env: Env) -> None:
    tokens = world(env)
    off1 = env.client(tokens["off1"])
    text = register(*ROWS, '9,9/2568,31/02/2568,ร้าน,,"100.00",,อื่น ๆ,เงินสด,,\r\n')
    dry = _post(off1, text.encode("cp874"), dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["counts"] == {"created": 3, "updated": 0, "unchanged": 0, "error": 1}
    assert off1.get("/api/v1/disbursements").json()["total"] == 0
    first = _post(off1, text.encode("cp874"))
    body = first.json()
    assert body["encoding"] == "cp874" and body["dry_run"] is False
    assert body["counts"] == {"created": 3, "updated": 0, "unchanged": 0, "error": 1}
    bad = [r for r in body["rows"] if r["status"] == "error"]
    assert bad[0]["line"] == 5 and "วันที่ฎีกา" in bad[0]["errors"][0]
    created = {r["voucher_no"]: r["id"] for r in body["rows"] if r["status"] == "created"}
    voucher = off1.get(f"/api/v1/disbursements/{created['1/2568']}").json()
    assert voucher["voucher"]["gross_amount"] in ("9469.50", 9469.5)
    again = _post(off1, (b"\xef\xbb\xbf" + text.encode()))
    assert again.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 3, "error": 1}
    assert off1.get("/api/v1/disbursements").json()["total"] == 3


def test_import_refuses_bad_requests_and_other_scopes(env: Env) -> None:
    tokens = world(env)
    off1, text = env.client(tokens["off1"]), register(*ROWS).encode()
    r = _post(off1, "ผู้รับเงิน\nก\n".encode())
    assert r.status_code == 422 and r.json()["error"] == "invalid_register"
    r = off1.post("/api/v1/disbursements/import", data={"org_code": "sao-1"})
    assert r.status_code == 400 and r.json()["error"] == "malformed_multipart"
    r = off1.post("/api/v1/disbursements/import", data={"org_code": "sao-1"},
                  files={"other": ("x.csv", text, "text/csv")})
    assert r.status_code == 422
    assert _post(off1, text, dry_run="maybe").status_code == 422
    assert _post(env.client(tokens["off2"]), text).status_code == 404   # sao-1 not theirs
    assert _post(env.client(tokens["aud1"]), text).status_code == 403
    assert _post(env.client(), text).status_code == 401
    assert off1.get("/api/v1/disbursements").json()["total"] == 0


def test_import_from_the_cli(env: Env, tmp_path: Path) -> None:
    world(env)
    path = tmp_path / "register.csv"
    path.write_bytes(register(*ROWS).encode("cp874"))
    def run(*args: str, process: bool = False) -> Any:
        return clirun.run(env, "disbursements", "import", *args, process=process)

    proc = run(str(path), "--org", "sao-1", "--dry-run", process=True)
    assert proc.returncode == 0, proc.stderr
    assert "dry run" in proc.stdout and "3 created" in proc.stdout
    proc = run(str(path), "--org", "sao-1", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["counts"]["created"] == 3 and report["encoding"] == "cp874"
    proc = run(str(path), "--org", "sao-1")
    assert proc.returncode == 0 and "3 unchanged" in proc.stdout
    path.write_bytes(register(ROWS[0].replace('"9,469.50"', '"9,4690.50"')).encode())
    proc = run(str(path), "--org", "sao-1")
    assert proc.returncode == 1 and "group three" in proc.stdout
    proc = run(str(path), "--org", "no-such-org")
    assert proc.returncode == 1 and "org" in proc.stderr
    proc = run(str(tmp_path / "missing.csv"), "--org", "sao-1")
    assert proc.returncode == 2
