"""What the two PDF/A benchmarks share: the corpus and its manifest, the bare pikepdf
open-and-walk they are both measured against, timing, and scoring the way veraPDF scores
its corpus (each file against its folder's flavour; pass agreement = share of ``pass``
files judged compliant, fail agreement = share of ``fail`` files judged non-compliant).

Light to import (no pikepdf until a file is walked): ``bench/pdfa_cli.py`` starts a bare
process per batch that imports this module, and that start is part of what it times.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ARCHIVE_CORPUS") or ROOT.parent / "shared" / "corpus")
VERAPDF = CORPUS / "verapdf"

T = TypeVar("T")


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    flavour: str   # the folder's flavour: 1a, 1b, 2b, ... 4f
    expected: str  # "pass" or "fail", as veraPDF grades the file
    clause: str
    test: str


def folder_flavour(folder: str) -> str:
    """``PDF_A-2b`` -> ``2b``."""
    return folder.split("-", 1)[1].lower()


def corpus_files(flavour: str | None = None) -> list[CorpusFile]:
    """The veraPDF corpus files of ``manifest.csv`` (all, or one folder flavour's); exits
    with a message when the corpus is not there."""
    manifest = VERAPDF / "manifest.csv"
    if not manifest.exists():
        sys.exit(f"corpus not found at {manifest} (set ARCHIVE_CORPUS)")
    with manifest.open(encoding="utf-8") as fh:
        rows = [CorpusFile(VERAPDF / r["path"], folder_flavour(r["flavour_folder"]),
                           r["expected"], r["clause"], r["test_number"])
                for r in csv.DictReader(fh)]
    return [r for r in rows if flavour is None or r.flavour == flavour]


def bare_walk(path: str | os.PathLike[str]) -> int:
    """Open with pikepdf and touch every object reachable from the trailer and every
    page's resources: the baseline both benchmarks are a ratio against."""
    import pikepdf

    count = 0
    with pikepdf.open(path) as pdf:
        seen: set[tuple[int, int]] = set()
        stack: list[Any] = [pdf.trailer]
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


def bare_walk_all(paths: Iterable[str | os.PathLike[str]]) -> int:
    """Walk every file; the number that pikepdf could not open (the checker reports those
    as errors, so both sides count them the same way)."""
    failed = 0
    for p in paths:
        try:
            bare_walk(p)
        except Exception:  # noqa: BLE001 - counted, as the checker counts errors
            failed += 1
    return failed


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Wall-clock seconds of ``fn()`` and its result."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


# As on a user's machine: compiled modules are cached (some shells here set
# PYTHONDONTWRITEBYTECODE, which would make every start compile the sources again).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed_process(cmd: list[str], tree: Path = ROOT) -> tuple[float, str]:
    """Wall-clock seconds of a fresh process (start-up included) and its output; exit
    codes 0 and 1 (compliant or not) are results, anything else stops the benchmark."""
    env = _ENV if tree == ROOT else {**_ENV, "PYTHONPATH": str(tree)}
    seconds, done = timed(lambda: subprocess.run(cmd, capture_output=True, text=True,
                                                 cwd=tree, check=False, env=env))
    if done.returncode not in (0, 1):
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(cmd[:6])} …\n"
                         f"{done.stderr[-2000:]}")
    return seconds, done.stdout


@dataclass
class Agreement:
    """Verdicts against the manifest, per flavour: ``pass_n``/``pass_ok`` and
    ``fail_n``/``fail_ok`` (files, and files where the checker agrees)."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, flavour: str, expected: str, compliant: bool) -> bool:
        """Count one verdict; whether it agrees with veraPDF."""
        agree = compliant == (expected == "pass")
        self.counts[flavour][f"{expected}_n"] += 1
        self.counts[flavour][f"{expected}_ok"] += agree
        return agree

    def total(self, flavour: str | None = None) -> Counter[str]:
        if flavour is not None:
            return self.counts[flavour]
        out: Counter[str] = Counter()
        for c in self.counts.values():
            out.update(c)
        return out

    def share(self, flavour: str | None = None) -> float:
        """Share of all files (pass and fail) where the checker agrees."""
        s = self.total(flavour)
        n = s["pass_n"] + s["fail_n"]
        return (s["pass_ok"] + s["fail_ok"]) / n if n else 1.0

    def table(self) -> list[str]:
        """Pass and fail agreement per flavour and overall, as printed lines."""
        lines = [f"{'flavour':<9}{'pass files':>11}{'pass agree':>12}{'fail files':>12}"
                 f"{'fail agree':>12}"]
        lines += [_row(f"PDF/A-{fl}", self.counts[fl]) for fl in sorted(self.counts)]
        lines.append(_row("overall", self.total()))
        return lines


def _row(name: str, s: Counter[str]) -> str:
    def pct(ok: int, n: int) -> str:
        return f"{100 * ok / n:.1f}%" if n else "-"

    return (f"{name:<9}{s['pass_n']:>11}{pct(s['pass_ok'], s['pass_n']):>12}"
            f"{s['fail_n']:>12}{pct(s['fail_ok'], s['fail_n']):>12}")
