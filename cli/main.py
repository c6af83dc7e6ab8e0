"""The ``archive`` command: the composition root that wires core, API, workers and retention."""

from __future__ import annotations

import typer

from cli import inspect, pdfa

app = typer.Typer(help="Evidence Archive: write-once archive of disbursement evidence.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(pdfa.app, name="pdfa")
app.add_typer(inspect.app, name="inspect")


def main() -> None:
    app()
