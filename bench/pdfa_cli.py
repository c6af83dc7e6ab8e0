"""Time ``archive pdfa check`` the way people run it, against a bare pikepdf walk.

The veraPDF corpus files (``../shared/corpus/verapdf/manifest.csv``) are grouped by their
folder's flavour; each group is one batch: ``archive pdfa check --flavour F --format json
FILE…`` started as a fresh process with the command's defaults (sandboxed, ``--jobs`` =
cores), start-up included. The baseline is a fresh Python process per batch that imports
pikepdf and opens and walks the same files (every object reachable from the trailer and
every page's resources), single-threaded. Batches alternate between the two so that a
busy machine slows both alike. Printed: seconds per batch, the totals, their ratio, and
the CLI's pass/fail agreement with the manifest (so a fast but wrong run shows).

    python bench/pdfa_cli.py [--flavour 1b] [--rounds 1] [--before OTHER_CHECKOUT]

``--before`` also times another checkout of the project (an older commit, say) the same
way in the same run, through its own entry point (``cli/launch.py``, or ``cli.main`` in
checkouts older than it) on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from pdfa_common import Agreement, bare_walk_all, corpus_files, timed_process


def _archive_command() -> list[str]:
    script = Path(sys.executable).parent / "archive"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "cli.launch"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flavour", help="only this folder flavour (1b, 2b, 4, ...)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat every batch N times")
    ap.add_argument("--before", type=Path, help="another checkout to time alongside")
    ap.add_argument("--bare", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare is not None:
        bare_walk_all(args.bare)
        return 0

    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for f in corpus_files(args.flavour):
        groups[f.flavour].append((str(f.path), f.expected))

    archive = _archive_command()
    # The other checkout through its own console-script entry point (cli/launch.py where
    # it has one, else the whole application's cli.main), as its users start it.
    entry = ("cli.launch" if args.before and (args.before / "cli" / "launch.py").exists()
             else "cli.main")
    before = [sys.executable, "-c", f"from {entry} import main; main()"]
    # One untimed start of each command, so that both find their caches written.
    timed_process([*archive, "pdfa", "check", "--help"])
    timed_process([sys.executable, __file__, "--bare"])
    if args.before:
        timed_process([*before, "pdfa", "check", "--help"], args.before)
    print(f"archive pdfa check over the veraPDF corpus in {len(groups)} batches of one "
          f"flavour ({sum(len(v) for v in groups.values())} files), each a fresh process; "
          f"baseline: a fresh process opening and walking the same files with pikepdf\n")
    print(f"{'batch':<10}{'files':>6}{'check s':>10}{'bare s':>9}{'ratio':>7}"
          f"{'agree':>9}" + (f"{'before s':>10}{'ratio':>7}" if args.before else ""))
    total_cli = total_bare = total_before = 0.0
    agreement = Agreement()
    for flavour in sorted(groups):
        rows = groups[flavour]
        paths = [p for p, _ in rows]
        expected = {p: e for p, e in rows}
        cli_s = bare_s = before_s = 0.0
        out = ""
        check = ["pdfa", "check", "--flavour", flavour, "--format", "json", *paths]
        for _ in range(args.rounds):
            s, _ = timed_process([sys.executable, __file__, "--bare", *paths])
            bare_s += s
            s, out = timed_process([*archive, *check])
            cli_s += s
            if args.before:
                s, _ = timed_process([*before, *check], args.before)
                before_s += s
        for line in out.splitlines():
            rep = json.loads(line)
            agreement.add(flavour, expected[rep["path"]],
                          bool(rep["compliant"]) and rep["error"] is None)
        total_cli += cli_s
        total_bare += bare_s
        total_before += before_s
        extra = (f"{before_s:>10.2f}{before_s / bare_s:>6.1f}x" if args.before else "")
        print(f"PDF/A-{flavour:<4}{len(rows):>6}{cli_s:>10.2f}{bare_s:>9.2f}"
              f"{cli_s / bare_s:>6.1f}x{100 * agreement.share(flavour):>8.1f}%{extra}")
    extra = (f"{total_before:>10.2f}{total_before / total_bare:>6.1f}x" if args.before
             else "")
    files = sum(len(v) for v in groups.values())
    print(f"{'total':<10}{files:>6}{total_cli:>10.2f}{total_bare:>9.2f}"
          f"{total_cli / total_bare:>6.1f}x{100 * agreement.share():>8.1f}%{extra}")
    print(f"\nratio archive pdfa check / bare pikepdf walk, start-up included: "
          f"{total_cli / total_bare:.1f}x (target <= 5x)")
    if args.before:
        print(f"the other checkout ({args.before}), same run: "
              f"{total_before / total_bare:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
