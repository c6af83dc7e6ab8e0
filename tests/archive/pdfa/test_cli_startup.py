"""``archive pdfa`` starts without the application: a batch check or ``--help`` imports
the PDF/A checker's light part only (issue 19: the whole app took 1.4 s to import)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.archive.pdfa.fixtures import create_pdfa

ROOT = Path(__file__).resolve().parents[3]

_PROBE = """
import json, sys
sys.argv = ["archive", *sys.argv[1:]]
from cli.launch import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in ("sqlalchemy", "fastapi", "pyhanko", "cli.main", "typer",
                           "archive.inspection", "archive.pdfa.rules", "fontTools")
               if m in sys.modules)
print("PROBE" + json.dumps({"code": code, "heavy": heavy}))
"""


def _probe(*args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True,
                          text=True, cwd=ROOT, check=False, timeout=120)
    line = next(x for x in done.stdout.splitlines() if x.startswith("PROBE"))
    result: dict[str, object] = json.loads(line[5:])
    result["stdout"] = done.stdout
    return result


def test_pdfa_help_imports_no_application() -> None:
    out = _probe("pdfa", "check", "--help")
    assert out["code"] == 0
    assert "Check PDF files against PDF/A" in str(out["stdout"])
    assert out["heavy"] == []


def test_sandboxed_check_loads_no_rules_in_the_parent(tmp_path: Path) -> None:
    good = tmp_path / "good.pdf"
    good.write_bytes(create_pdfa(2))
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(create_pdfa(2, content=b"q " * 29 + b"Q " * 29))
    out = _probe("pdfa", "check", "--format", "json", str(good), str(bad))
    assert out["code"] == 1
    reports = [json.loads(x) for x in str(out["stdout"]).splitlines() if x.startswith("{")]
    assert [r["compliant"] for r in reports] == [True, False]
    assert {f"{f['clause']}-{f['test']}" for f in reports[1]["failures"]} == {"6.1.13-8"}
    # The children checked; the parent never needed the rules, fonts or the app.
    assert out["heavy"] == []


def test_other_commands_still_reach_the_application() -> None:
    out = _probe("--help")
    assert out["code"] == 0
    assert "pdfa" in str(out["stdout"]) and "cli.main" in out["heavy"]
