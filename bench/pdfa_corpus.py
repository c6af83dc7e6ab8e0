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
import gc
import sys
import time
from collections import Counter

from pdfa_common import CORPUS, ROOT, Agreement, bare_walk_all, corpus_files, timed

sys.path.insert(0, str(ROOT))

from archive.pdfa import check_pdfa, check_pdfa_isolated  # noqa: E402


def run_corpus(args: argparse.Namespace) -> int:
    files = corpus_files(args.flavour)
    if args.limit:
        files = files[: args.limit]

    agreement = Agreement()
    missed_clause: Counter[str] = Counter()
    false_alarm_rule: Counter[str] = Counter()
    misses: list[str] = []
    errors = 0
    check = check_pdfa_isolated if args.sandbox else check_pdfa

    def check_all() -> None:
        nonlocal errors
        for f in files:
            report = check(f.path, f.flavour)
            errors += report.error is not None
            if agreement.add(f.flavour, f.expected, report.compliant and report.error is None):
                continue
            if f.expected == "fail":
                missed_clause[f"{f.flavour} {f.clause}-{f.test}"] += 1
            else:
                for label in sorted({f"{x.clause}-{x.test}" for x in report.failures}):
                    false_alarm_rule[f"{f.flavour} {label}"] += 1
                if report.error:
                    false_alarm_rule[f"{f.flavour} error"] += 1
            if args.show_misses:
                why = report.error or "; ".join(
                    f"{x.clause}-{x.test}: {x.message[:90]}" for x in report.failures[:3])
                name = f.path.relative_to(CORPUS / "verapdf")
                misses.append(f"{f.expected.upper():4} {name}\n       -> {why or 'compliant'}")

    gc.collect()
    checker_s, _ = timed(check_all)
    gc.collect()
    bare_s, bare_errors = timed(lambda: bare_walk_all(f.path for f in files))

    print(f"veraPDF corpus: {len(files)} files, each checked against its folder's flavour "
          f"({'sandboxed' if args.sandbox else 'in-process, no sandbox'})\n")
    print("\n".join(agreement.table()))
    if missed_clause:
        print("\nmissed defects (fail files judged compliant), by manifest clause:")
        for k, v in missed_clause.most_common(args.top):
            print(f"  {v:4}  {k}")
    if false_alarm_rule:
        print("\nfalse alarms (pass files judged non-compliant), by rule that fired:")
        for k, v in false_alarm_rule.most_common(args.top):
            print(f"  {v:4}  {k}")
    n = len(files)
    print(f"\nchecker: {checker_s:.2f} s, {n / checker_s:.1f} files/s "
          f"({errors} files with an error)")
    print(f"bare pikepdf open-and-walk: {bare_s:.2f} s, {n / bare_s:.1f} files/s "
          f"({bare_errors} failed to open)")
    print(f"ratio checker / bare: {checker_s / bare_s:.1f}x")
    if misses:
        print("\nmisses:")
        print("\n".join(misses))
    return 0


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
