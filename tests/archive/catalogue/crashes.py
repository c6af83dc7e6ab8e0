"""A rebuild that dies at given points, one after the other (shared by the rebuild tests
that resume an interrupted rebuild)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import pytest
from typer.testing import CliRunner

from archive.catalogue import rebuild as rebuild_module
from archive.failpoints import run_at
from cli.main import app as cli_app


class Crash(Exception):
    """The rebuild's process dying at a point: what it committed stays, nothing else."""


def crash_at_each(points: Sequence[str], command: list[str], variables: dict[str, str],
                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``archive <command>`` once per point, each run dying at the next point (records
    commit in units of three, so the rebuild's batch points are reached); every run must
    die there. What each run committed stays for the next."""
    monkeypatch.setattr(rebuild_module, "BATCH", 3)
    runner = CliRunner()

    def crash() -> None:
        raise Crash

    with contextlib.ExitStack() as armed:
        for point in points:
            armed.enter_context(run_at(point, crash))
        for point in points:
            run = runner.invoke(cli_app, command, env=variables)
            assert isinstance(run.exception, Crash), (point, run.output)
