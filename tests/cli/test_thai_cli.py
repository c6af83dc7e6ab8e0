"""The CLI follows the same rules for typed numbers, dates and fiscal years as the API
(issue 20 items 1 and 11, issue 16 item 8)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from archive.evidence.models import Evidence
from tests.clirun import run
from tests.conftest import Env
from tests.factories import make_pdf


def _orgs(env: Env) -> None:
    env.org("dla", type="dla-office")
    env.org("p-cm", type="province", parent="dla")
    env.org("sao-1", parent="p-cm")


def test_ingest_takes_thai_digits_and_be_dates(env: Env, tmp_path: Path):
    _orgs(env)
    f = tmp_path / "a.pdf"
    f.write_bytes(make_pdf("cli-thai"))
    ok = run(env, "ingest", str(f), "--org", "sao-1", "--doc-type", "receipt",
             "--fiscal-year", "๒๕๖๘", "--issue-date", "๒๕๖๘-๐๓-๐๑", "--amount", "๑,๐๗๐.๐๐",
             "--issuer-tax-id", "๐๑๐๕๕๑๒๓๔๕๖๗๑", "--json")
    assert ok.returncode == 0, ok.stderr
    with env.session() as s:
        ev = s.scalar(sa.select(Evidence))
        assert ev is not None
        assert (ev.fiscal_year, ev.issue_date.isoformat(), str(ev.amount), ev.issuer_tax_id) \
            == (2568, "2025-03-01", "1070.00", "0105512345671")


def test_ingest_refuses_misplaced_separators_and_odd_fiscal_years(env: Env, tmp_path: Path):
    _orgs(env)
    f = tmp_path / "b.pdf"
    f.write_bytes(make_pdf("cli-bad"))
    commas = run(env, "ingest", str(f), "--org", "sao-1", "--doc-type", "receipt",
                 "--amount", "1,0,7,0")
    assert commas.returncode == 1 and "thousands separators" in commas.stderr
    odd = run(env, "ingest", str(f), "--org", "sao-1", "--doc-type", "receipt",
              "--fiscal-year", "2658", "--issue-date", "2025-03-01", "--json")
    assert odd.returncode == 1
    [row] = [json.loads(line) for line in odd.stdout.splitlines()]
    assert row["error"] == "implausible_fiscal_year"
    assert sum(1 for _ in env.store.list_objects("sha256/")) == 0
    confirmed = run(env, "ingest", str(f), "--org", "sao-1", "--doc-type", "receipt",
                    "--fiscal-year", "2658", "--issue-date", "2025-03-01",
                    "--confirm-fiscal-year")
    assert confirmed.returncode == 0, confirmed.stderr
