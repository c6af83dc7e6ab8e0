"""``archive pdfa``: PDF/A conformance checks (ISO 19005), the way people use veraPDF."""

from __future__ import annotations

import typer

app = typer.Typer(help="PDF/A conformance checks (ISO 19005-1/2/3/4).", no_args_is_help=True)
