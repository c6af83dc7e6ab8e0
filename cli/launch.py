"""The ``archive`` console script: start only what the command needs.

``archive pdfa …`` imports the PDF/A checker and nothing else (no database, store, web
application or the other inspections), so a batch check or ``--help`` starts in a
fraction of the time the whole application takes to import. Every other command goes to
:mod:`cli.main`, which wires the whole application (and lists ``pdfa`` in its help).
"""

from __future__ import annotations

import sys

# Sub-commands whose Typer app imports only its own part of the archive.
_LIGHT = {"pdfa": ("cli.pdfa", "app")}


def main() -> None:
    args = sys.argv[1:]
    light = _LIGHT.get(args[0]) if args else None
    try:
        if light is None:
            from cli.main import main as whole

            whole()
        else:
            import importlib

            sub = getattr(importlib.import_module(light[0]), light[1])
            sub(args=args[1:], prog_name=f"archive {args[0]}")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
