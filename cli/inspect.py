"""``archive inspect``: what a file says about itself (e-invoice XML, signatures, images)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Inspect files: e-Tax/CII invoice XML, embedded files, signatures, scans.")
