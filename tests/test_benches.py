"""Smoke tests of the benchmarks (bench/*.py): each runs as a process, the way people run
it, at its smallest meaningful size, and must exit 0 and print its result.

Nothing else runs the benchmarks, so without these they rot unseen (bench/disbursements.py
once stopped starting because an import had moved). The figures themselves are not
checked — at this size they mean nothing — only that the script still runs end to end and
prints the table or line it exists to print (a stable piece of it: a header, a "ratio").

* Every bench gets ``TMPDIR`` = the test's ``tmp_path``: what they create with
  ``tempfile`` (SQLite files, SeaweedFS folders, stores) goes there, never into the
  repository or a shared /tmp. None is given ``--write-docs``.
* The PostgreSQL benches use the tests' server (``postgres`` fixture, handed down through
  ``ARCHIVE_TEST_PG_ADMIN_URL``): each makes and drops a database of its own on it.
  SeaweedFS, where a bench needs it, the bench starts itself (tests/servers.py).
* The PDF/A benches run on the corpus subset kept in the repository (tests/data/corpus),
  so they run on any clone, on one file of PDF/A-4e.

Wall time of each, on 2 cores shared with other work (alone / in a serial run of this
file while the machine was busier): search + partitions 50 / 93 s, load 65 / 63 s,
ingest 34 / 65 s, ocr (two documents) 9 / 17 s, disbursements 5 / 16 s, the catalogue
benches 4 / 8 s each, the PDF/A benches 1-2 / 2-5 s. load and ingest cannot be made
smaller (their time is start-up of servers and workers, not the files they send): they
are marked ``slow`` so that ``-m "not slow"`` leaves them out.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import servers

ROOT = Path(__file__).resolve().parents[1]
SUBSET_CORPUS = ROOT / "tests" / "data" / "corpus"

# Imported by the benches, never run on their own; each is exercised by the test named.
HELPERS = {
    "bare_app.py": "test_ingest (--bare)",
    "catalogue_common.py": "test_catalogue_*",
    "pdfa_common.py": "test_pdfa_*",
    "procstat.py": "test_load",
}


def run_bench(script: str, *args: str, tmp_path: Path, env: dict[str, str] | None = None,
              timeout: float = 240) -> str:
    """Run ``bench/<script> args…`` from the repository root; its stdout, after checking
    it exited 0 (else the tail of its output in the failure)."""
    cmd = [sys.executable, f"bench/{script}", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "TMPDIR": str(tmp_path), **(env or {})})
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout (tail)\n{proc.stdout[-3000:]}"
        f"\n--- stderr (tail)\n{proc.stderr[-3000:]}")
    return proc.stdout


def pg_env(pg: servers.Postgres) -> dict[str, str]:
    return {"ARCHIVE_TEST_PG_ADMIN_URL": pg.admin_url}


def test_every_bench_has_a_smoke_test() -> None:
    """A new bench/*.py gets a test here (or is listed as a helper)."""
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    scripts = {p.name for p in (ROOT / "bench").glob("*.py") if p.name != "__init__.py"}
    untested = {s for s in scripts - HELPERS.keys() if s.removesuffix(".py") not in tested}
    assert not untested, f"bench scripts without a smoke test in {__file__}: {untested}"


# -- PostgreSQL ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def search_db(postgres: servers.Postgres, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[str, str]]:
    """bench/search.py run once with ``--db``: its stdout, and the database it built, which
    bench/partitions.py takes as its input. Dropped afterwards."""
    name = f"bench_smoke_search_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        out = run_bench("search.py", "--rows", "3000", "--sqlite-rows", "500", "--reps", "1",
                        "--seq-reps", "0", "--db", name,
                        tmp_path=tmp_path_factory.mktemp("bench-search"), env=pg_env(postgres))
        yield out, name
    finally:
        postgres.drop_database(name)


def test_search(search_db: tuple[str, str]) -> None:
    out, _ = search_db
    assert "#### Storage at 3,000 records (PostgreSQL" in out
    assert "#### PostgreSQL, 3,000 records" in out
    assert "#### SQLite, 500 records" in out
    assert out.count("| national auditor | Thai substring q |") == 2


def test_partitions(search_db: tuple[str, str], postgres: servers.Postgres,
                    tmp_path: Path) -> None:
    _, name = search_db
    out = run_bench("partitions.py", "--db", name, tmp_path=tmp_path, env=pg_env(postgres))
    assert "### Partitioned copy: evidence_by_year" in out
    assert "partitions scanned:" in out
    assert "#### Sizes per partition" in out


def test_disbursements(postgres: servers.Postgres, tmp_path: Path) -> None:
    out = run_bench("disbursements.py", "--scale", "0.002", "--reps", "1", "--seq-reps", "0",
                    tmp_path=tmp_path, env=pg_env(postgres))
    assert "**The auditor's list filtered by finding**" in out
    assert "| national auditor | `split_purchase` |" in out
    assert "**One LAO's fiscal year recomputed**" in out


# -- PostgreSQL + SeaweedFS + `archive serve` ---------------------------------------------

@pytest.mark.slow
def test_ingest(postgres: servers.Postgres, tmp_path: Path) -> None:
    # --bare: bench/bare_app.py is measured too, so it is started (and its imports checked)
    out = run_bench("ingest.py", "--n-small", "8", "--n-large", "0", "--rounds", "1",
                    "--concurrency", "2", "--batch-size", "4", "--batch-concurrency", "1",
                    "--server-workers", "1", "--bare",
                    tmp_path=tmp_path, env=pg_env(postgres))
    assert "(a) API" in out
    assert "ratio (a)/(b)" in out
    assert "ratio (d)/(b)" in out
    assert "ratio (c)/(b)" in out


@pytest.mark.slow
def test_load(postgres: servers.Postgres, tmp_path: Path) -> None:
    # Most of its ~65 s is fixed: accounts made with the CLI, two workers and a server
    # started, the seed records' jobs drained before and after the level.
    out = run_bench("load.py", "--users", "2", "--seconds", "1", "--apis", "1", "--seed", "2",
                    "--vouchers", "2", tmp_path=tmp_path, env=pg_env(postgres))
    assert "== 1 API process (archive serve --workers 1)" in out
    assert " solo search " in out
    assert "    2 upload " in out
    assert "(CPU seconds in the level: api" in out     # bench/procstat.py


# -- SQLite + local folder ----------------------------------------------------------------

def test_catalogue_ingest(tmp_path: Path) -> None:
    out = run_bench("catalogue_ingest.py", "--files", "5", "--rounds", "1", tmp_path=tmp_path)
    assert "round 1: catalogue" in out
    assert "median ratio" in out


def test_catalogue_vouchers(tmp_path: Path) -> None:
    out = run_bench("catalogue_vouchers.py", "--vouchers", "3", "--rounds", "1",
                    tmp_path=tmp_path)
    assert "median ratios: create" in out


def test_catalogue_locks_check(tmp_path: Path) -> None:
    out = run_bench("catalogue_locks_check.py", "--records", "3", "--rounds", "1",
                    tmp_path=tmp_path)
    assert "median ratios to verify --no-rehash" in out


def test_ocr(tmp_path: Path) -> None:
    # One document (at 150 dpi): the "200 dpi and above" figures have none and are null
    # (the median over none once crashed the bench).
    out = run_bench("ocr.py", "--docs", "1", "--json", str(tmp_path / "ocr.json"),
                    tmp_path=tmp_path)
    assert '"docs": 1,' in out
    assert '"median_cer":' in out
    assert '"median_cer_at_200dpi_plus": null' in out
    assert (tmp_path / "ocr.json").is_file()


# -- PDF/A, on the repository's corpus subset ---------------------------------------------

def test_pdfa_corpus(tmp_path: Path) -> None:
    out = run_bench("pdfa_corpus.py", "--flavour", "4e", tmp_path=tmp_path,
                    env={"ARCHIVE_CORPUS": str(SUBSET_CORPUS)})
    assert "veraPDF corpus: 1 files" in out
    assert "ratio checker / bare:" in out
    assert "malformed set:" in out and "(sandboxed)" in out


def test_pdfa_cli(tmp_path: Path) -> None:
    out = run_bench("pdfa_cli.py", "--flavour", "4e", tmp_path=tmp_path,
                    env={"ARCHIVE_CORPUS": str(SUBSET_CORPUS)})
    assert "PDF/A-4e       1" in out
    assert "ratio archive pdfa check / bare pikepdf walk" in out
