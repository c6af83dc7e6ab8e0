"""The ``archive`` console script: start only what the command needs.

``archive pdfa …`` imports the PDF/A command (plain argparse) and the light part of the
checker, nothing else (no Typer, database, store, web application or the other
inspections), so a batch check or ``--help`` starts in a fraction of the time the whole
application takes to import. Every other command goes to :mod:`cli.main`, which wires the
whole application (and lists ``pdfa`` in its help).
"""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    try:
        if args and args[0] == "pdfa":
            from cli.pdfa import main as pdfa

            sys.exit(pdfa(args[1:], prog="archive pdfa"))
        from cli.main import main as whole

        whole()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
