"""Running the ``archive`` command in tests: as a real process, or in this process.

A real process costs a whole interpreter start and the application's imports (1.5–2 s
of CPU each on CI); a workflow test that runs the command 25 times on two stacks spends
most of its time there. ``run`` therefore calls the same entry point in this process by
default: the same dispatch as the console script (cli/launch.py), the same environment
(``os.environ`` replaced for the call, with the archive's settings), the same working
folder, standard input, output and error as separate pipes that are not terminals, and
the exit code that the process would have returned. ``process=True`` launches a real
``python -m cli``; every command family keeps at least one test that does, so the console
script itself (its imports, its exit codes through a real interpreter) stays covered.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.conftest import Env

ARCHIVE = [sys.executable, "-m", "cli"]


@dataclass
class Ran:
    """What a finished command left: the fields of ``subprocess.CompletedProcess`` that
    the tests read."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def run(env: Env, *args: str, cwd: Path | None = None,
        extra_env: dict[str, str] | None = None, input: str | None = None,
        process: bool = False) -> Ran | subprocess.CompletedProcess[str]:
    """``archive ARGS`` against ``env``'s archive (in this process unless ``process``)."""
    variables = {**env.env_vars(), **(extra_env or {}), "COLUMNS": "200"}
    return command(list(args), variables, cwd=cwd, input=input, process=process)


def command(args: list[str], variables: dict[str, str], *, cwd: Path | None = None,
            input: str | None = None, process: bool = False
            ) -> Ran | subprocess.CompletedProcess[str]:
    """``archive ARGS`` with exactly ``variables`` as its environment."""
    if process or args[:1] == ["pdfa"]:
        # ``archive pdfa`` is plain argparse, started light by cli/launch.py: always a
        # process (it starts in a fraction of a second).
        return subprocess.run([*ARCHIVE, *args], capture_output=True, text=True,
                              timeout=120, env=variables, cwd=cwd, input=input)
    return _in_process(args, variables, cwd, input)


def _in_process(args: list[str], variables: dict[str, str], cwd: Path | None,
                input: str | None) -> Ran:
    from click.testing import CliRunner

    import archive.db
    from cli.main import app

    prog, rest = "archive", args
    import typer.main

    # A process's engines die with it; here they are disposed of when the command
    # returns, so no connection or file handle outlives the call.
    engines: list[Any] = []
    make_engine = archive.db.make_engine

    def recording(url: str, **kw: Any) -> Any:
        engine = make_engine(url, **kw)
        engines.append(engine)
        return engine

    # The runner replaces os.environ for the call; variables absent from ``variables``
    # are removed, as in a process started with exactly that environment.
    unset = {k: None for k in os.environ if k not in variables}
    runner = CliRunner()
    archive.db.make_engine = recording  # type: ignore[assignment]
    try:
        with contextlib.chdir(cwd or Path.cwd()):
            result = runner.invoke(typer.main.get_command(app), rest, input=input,
                                   env={**unset, **variables}, prog_name=prog,
                                   catch_exceptions=True)
    finally:
        archive.db.make_engine = make_engine  # type: ignore[assignment]
        for engine in engines:
            engine.dispose()
    stderr = result.stderr
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # What the interpreter would print for an uncaught exception.
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
        code = 1
    return Ran([*ARCHIVE, *args], code, result.stdout, stderr)
