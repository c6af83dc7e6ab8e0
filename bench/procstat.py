"""CPU time of processes, read from ``/proc/<pid>/stat`` (Linux; empty elsewhere): what
the benchmarks use to say which process spent a run's CPU."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class ProcStat(NamedTuple):
    parent: int
    name: str
    cpu: float        # seconds, user + system, of the process itself
    reaped: float     # seconds of its children that ended and were waited for


def read(pid: int | str) -> ProcStat | None:
    """One process's figures (None: it is gone, or there is no /proc)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return ProcStat(int(fields[1]), raw[raw.index("(") + 1:raw.rindex(")")],
                    (int(fields[11]) + int(fields[12])) / TICK,
                    (int(fields[13]) + int(fields[14])) / TICK)


def every_process() -> dict[int, ProcStat]:
    """Every process's figures."""
    found: dict[int, ProcStat] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit() and (stat := read(entry)) is not None:
            found[int(entry)] = stat
    return found
