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
way in the same run, through its own ``cli.main`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ARCHIVE_CORPUS") or ROOT.parent / "shared" / "corpus")


def bare_walk(path: str) -> int:
    """Open with pikepdf and touch every reachable object and every page's resources."""
    import pikepdf

    count = 0
    with pikepdf.open(path) as pdf:
        seen: set[tuple[int, int]] = set()
        stack = [pdf.trailer]
        while stack:
            obj = stack.pop()
            count += 1
            if not isinstance(obj, pikepdf.Object):
                continue
            t = obj._type_code
            if t in (pikepdf.ObjectType.dictionary, pikepdf.ObjectType.stream,
                     pikepdf.ObjectType.array):
                og = obj.objgen
                if og[0]:
                    if og in seen:
                        continue
                    seen.add(og)
                stack.extend(obj if t == pikepdf.ObjectType.array else obj.values())
        for page in pdf.pages:
            res = page.obj.get("/Resources")
            if res is not None:
                count += len(res.keys())
    return count


def _bare_main(paths: list[str]) -> int:
    for p in paths:
        try:
            bare_walk(p)
        except Exception:  # noqa: BLE001 - counted as the checker counts errors
            pass
    return 0


def _archive_command() -> list[str]:
    script = Path(sys.executable).parent / "archive"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "cli.launch"]


# As on a user's machine: compiled modules are cached (some shells here set
# PYTHONDONTWRITEBYTECODE, which would make every start compile the sources again).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _timed(cmd: list[str], tree: Path = ROOT) -> tuple[float, str]:
    env = _ENV if tree == ROOT else {**_ENV, "PYTHONPATH": str(tree)}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tree, check=False,
                          env=env)
    elapsed = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(cmd[:6])} …\n"
                         f"{done.stderr[-2000:]}")
    return elapsed, done.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flavour", help="only this folder flavour (1b, 2b, 4, ...)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat every batch N times")
    ap.add_argument("--before", type=Path, help="another checkout to time alongside")
    ap.add_argument("--bare", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare is not None:
        return _bare_main(args.bare)

    base = CORPUS / "verapdf"
    manifest = base / "manifest.csv"
    if not manifest.exists():
        print(f"corpus not found at {manifest} (set ARCHIVE_CORPUS)", file=sys.stderr)
        return 2
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in csv.DictReader(manifest.open(encoding="utf-8")):
        flavour = r["flavour_folder"].split("-", 1)[1].lower()
        if args.flavour and flavour != args.flavour:
            continue
        groups[flavour].append((str(base / r["path"]), r["expected"]))

    archive = _archive_command()
    before = [sys.executable, "-c", "from cli.main import main; main()"]
    # One untimed start of each command, so that both find their caches written.
    _timed([*archive, "pdfa", "check", "--help"])
    _timed([sys.executable, __file__, "--bare"])
    if args.before:
        _timed([*before, "pdfa", "check", "--help"], args.before)
    print(f"archive pdfa check over the veraPDF corpus in {len(groups)} batches of one "
          f"flavour ({sum(len(v) for v in groups.values())} files), each a fresh process; "
          f"baseline: a fresh process opening and walking the same files with pikepdf\n")
    print(f"{'batch':<10}{'files':>6}{'check s':>10}{'bare s':>9}{'ratio':>7}"
          f"{'agree':>9}" + (f"{'before s':>10}{'ratio':>7}" if args.before else ""))
    total_cli = total_bare = total_before = 0.0
    agree = files = 0
    for flavour in sorted(groups):
        rows = groups[flavour]
        paths = [p for p, _ in rows]
        expected = {p: e for p, e in rows}
        cli_s = bare_s = before_s = 0.0
        out = ""
        check = ["pdfa", "check", "--flavour", flavour, "--format", "json", *paths]
        for _ in range(args.rounds):
            s, _ = _timed([sys.executable, __file__, "--bare", *paths])
            bare_s += s
            s, out = _timed([*archive, *check])
            cli_s += s
            if args.before:
                s, _ = _timed([*before, *check], args.before)
                before_s += s
        ok = 0
        for line in out.splitlines():
            rep = json.loads(line)
            verdict = bool(rep["compliant"]) and rep["error"] is None
            ok += verdict == (expected.get(rep["path"]) == "pass")
        total_cli += cli_s
        total_bare += bare_s
        total_before += before_s
        agree += ok
        files += len(rows)
        extra = (f"{before_s:>10.2f}{before_s / bare_s:>6.1f}x" if args.before else "")
        print(f"PDF/A-{flavour:<4}{len(rows):>6}{cli_s:>10.2f}{bare_s:>9.2f}"
              f"{cli_s / bare_s:>6.1f}x{100 * ok / len(rows):>8.1f}%{extra}")
    extra = (f"{total_before:>10.2f}{total_before / total_bare:>6.1f}x" if args.before
             else "")
    print(f"{'total':<10}{files:>6}{total_cli:>10.2f}{total_bare:>9.2f}"
          f"{total_cli / total_bare:>6.1f}x{100 * agree / files:>8.1f}%{extra}")
    print(f"\nratio archive pdfa check / bare pikepdf walk, start-up included: "
          f"{total_cli / total_bare:.1f}x (target <= 5x)")
    if args.before:
        print(f"the other checkout ({args.before}), same run: "
              f"{total_before / total_bare:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
