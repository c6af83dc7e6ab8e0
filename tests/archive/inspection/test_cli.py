"""``archive inspect FILE... [--format text|json]``: output and exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.archive.inspection.helpers import etda_invoice_xml

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.xml"
    good.write_bytes(etda_invoice_xml())
    bad = tmp_path / "bad.xml"
    bad.write_bytes(etda_invoice_xml(issue="15-01-2025"))
    broken = tmp_path / "broken.xml"
    broken.write_bytes(etda_invoice_xml()[:-40])
    return {"good": good, "bad": bad, "broken": broken}


def test_json_is_one_object_per_line_and_exit_0(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["inspect", "--format", "json", str(files["good"]),
                                 str(files["good"])])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["path"] == str(files["good"])
    assert first["invoice"]["validation"]["verdict"] == "valid"
    assert first["report_version"] >= 1


@pytest.mark.parametrize("name", ["bad", "broken"])
def test_invalid_xml_exits_1(files: dict[str, Path], name: str) -> None:
    result = runner.invoke(app, ["inspect", str(files["good"]), str(files[name])])
    assert result.exit_code == 1
    assert "PROBLEMS" in result.stdout and "invalid" in result.stdout


def test_text_output_names_the_fields(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["inspect", str(files["good"])])
    assert result.exit_code == 0
    assert "INV-2568-0001" in result.stdout and "10700.00 THB" in result.stdout
    assert "0105538025143" in result.stdout


@pytest.mark.parametrize("args", [[], ["/no/such/file.xml"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert runner.invoke(app, ["inspect", *args]).exit_code == 2


def test_unknown_format_exits_2(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["inspect", "--format", "yaml", str(files["good"])])
    assert result.exit_code == 2
