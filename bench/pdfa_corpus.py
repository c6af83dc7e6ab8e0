"""Score the PDF/A checker on the veraPDF corpus the way veraPDF does, and time it.

Each file of ``../shared/corpus/verapdf/manifest.csv`` is checked against its *folder's*
flavour; the verdict (compliant or not) is compared with the pass/fail the manifest
gives. Printed per flavour and overall: pass agreement (share of ``pass`` files judged
compliant), fail agreement (share of ``fail`` files judged non-compliant), the clauses
with the most misses, files/s, and in the same run the time of a bare pikepdf
open-and-walk of the same files (open, walk every object reachable from the trailer and
every page's resources), both single-process, as a ratio.

By default the checker runs in-process (no sandbox) so the speed figure compares like
with like; ``--sandbox`` runs every file through ``check_pdfa_isolated`` instead. The
malformed set (``../shared/corpus/malformed``) is always run through the sandbox.

    python bench/pdfa_corpus.py [--flavour 2b] [--sandbox] [--show-misses]
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pikepdf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.pdfa import check_pdfa, check_pdfa_isolated  # noqa: E402

CORPUS = Path(os.environ.get("ARCHIVE_CORPUS") or ROOT.parent / "shared" / "corpus")
TARGET_FLAVOURS = ("1b", "2b", "4")


def folder_flavour(folder: str) -> str:
    return folder.split("-", 1)[1].lower()


def bare_walk(path: Path) -> int:
    """Open with pikepdf and touch every reachable object and every page's resources."""
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


def run_corpus(args: argparse.Namespace) -> int:
    base = CORPUS / "verapdf"
    manifest = base / "manifest.csv"
    if not manifest.exists():
        print(f"corpus not found at {manifest} (set ARCHIVE_CORPUS)", file=sys.stderr)
        return 2
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    if args.flavour:
        rows = [r for r in rows if folder_flavour(r["flavour_folder"]) == args.flavour]
    if args.limit:
        rows = rows[: args.limit]

    stats: dict[str, Counter[str]] = defaultdict(Counter)
    missed_clause: Counter[str] = Counter()
    false_alarm_rule: Counter[str] = Counter()
    misses: list[str] = []
    errors = 0
    gc.collect()
    t0 = time.perf_counter()
    for r in rows:
        flavour = folder_flavour(r["flavour_folder"])
        path = base / r["path"]
        check = check_pdfa_isolated if args.sandbox else check_pdfa
        report = check(path, flavour)
        verdict = report.compliant and report.error is None
        errors += report.error is not None
        expected = r["expected"]
        agree = verdict == (expected == "pass")
        stats[flavour][f"{expected}_n"] += 1
        stats[flavour][f"{expected}_ok"] += agree
        if not agree:
            if expected == "fail":
                missed_clause[f"{flavour} {r['clause']}-{r['test_number']}"] += 1
            else:
                for label in sorted({f"{f.clause}-{f.test}" for f in report.failures}):
                    false_alarm_rule[f"{flavour} {label}"] += 1
                if report.error:
                    false_alarm_rule[f"{flavour} error"] += 1
            if args.show_misses:
                why = report.error or "; ".join(
                    f"{f.clause}-{f.test}: {f.message[:90]}" for f in report.failures[:3])
                misses.append(f"{expected.upper():4} {r['path']}\n       -> {why or 'compliant'}")
    checker_s = time.perf_counter() - t0

    gc.collect()
    t0 = time.perf_counter()
    bare_errors = 0
    for r in rows:
        try:
            bare_walk(base / r["path"])
        except Exception:  # noqa: BLE001 - count, as the checker does
            bare_errors += 1
    bare_s = time.perf_counter() - t0

    print(f"veraPDF corpus: {len(rows)} files, each checked against its folder's flavour "
          f"({'sandboxed' if args.sandbox else 'in-process, no sandbox'})\n")
    print(f"{'flavour':<9}{'pass files':>11}{'pass agree':>12}{'fail files':>12}"
          f"{'fail agree':>12}")
    total: Counter[str] = Counter()
    for flavour in sorted(stats):
        s = stats[flavour]
        total.update(s)
        print(_row(f"PDF/A-{flavour}", s))
    print(_row("overall", total))
    if missed_clause:
        print("\nmissed defects (fail files judged compliant), by manifest clause:")
        for k, v in missed_clause.most_common(args.top):
            print(f"  {v:4}  {k}")
    if false_alarm_rule:
        print("\nfalse alarms (pass files judged non-compliant), by rule that fired:")
        for k, v in false_alarm_rule.most_common(args.top):
            print(f"  {v:4}  {k}")
    n = len(rows)
    print(f"\nchecker: {checker_s:.2f} s, {n / checker_s:.1f} files/s "
          f"({errors} files with an error)")
    print(f"bare pikepdf open-and-walk: {bare_s:.2f} s, {n / bare_s:.1f} files/s "
          f"({bare_errors} failed to open)")
    print(f"ratio checker / bare: {checker_s / bare_s:.1f}x")
    if misses:
        print("\nmisses:")
        print("\n".join(misses))
    return 0


def _row(name: str, s: Counter[str]) -> str:
    def pct(ok: int, n: int) -> str:
        return f"{100 * ok / n:.1f}%" if n else "-"

    return (f"{name:<9}{s['pass_n']:>11}{pct(s['pass_ok'], s['pass_n']):>12}"
            f"{s['fail_n']:>12}{pct(s['fail_ok'], s['fail_n']):>12}")


def run_malformed() -> None:
    folder = CORPUS / "malformed"
    if not folder.exists():
        print("\nmalformed set not found; skipped")
        return
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    kinds: Counter[str] = Counter()
    slowest = 0.0
    t0 = time.perf_counter()
    for p in files:
        t = time.perf_counter()
        try:
            report = check_pdfa_isolated(p, "2b")
        except BaseException as exc:  # noqa: BLE001 - must never happen; counted
            kinds[f"caller exception {type(exc).__name__}"] += 1
            continue
        slowest = max(slowest, time.perf_counter() - t)
        if report.error is None:
            kinds["report"] += 1
        else:
            kinds["error: " + report.error.split(" (")[0]] += 1
    print(f"\nmalformed set: {len(files)} files in {time.perf_counter() - t0:.1f} s "
          f"(sandboxed), slowest {slowest:.1f} s")
    for k, v in kinds.most_common():
        print(f"  {v:4}  {k}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flavour", help="only this folder flavour (1b, 2b, 4, ...)")
    ap.add_argument("--sandbox", action="store_true", help="check through the sandbox")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--no-malformed", action="store_true")
    args = ap.parse_args()
    rc = run_corpus(args)
    if not args.no_malformed and rc == 0:
        run_malformed()
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
