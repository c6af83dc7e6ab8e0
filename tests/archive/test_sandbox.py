"""The sandbox: limits hold, failures become clean errors, children are reused safely."""

from __future__ import annotations

import pytest

from archive import sandbox
from archive.sandbox import Limits, SandboxError, run_limited
from tests.archive import sandbox_targets as t

LIMITS = Limits(cpu_seconds=2, wall_seconds=20, memory_bytes=512 << 20)


@pytest.mark.parametrize("fn,kind", [(t.spin, "timeout"), (t.eat, "memory"),
                                     (t.boom, "crashed"), (t.segfault, "crashed")])
def test_failures_become_errors_with_a_kind(fn, kind):
    with pytest.raises(SandboxError) as err:
        run_limited(fn, limits=LIMITS)
    assert err.value.kind == kind


def test_wall_clock_limit():
    with pytest.raises(SandboxError) as err:
        run_limited(t.spin, limits=Limits(cpu_seconds=60, wall_seconds=0.5))
    assert err.value.kind == "timeout"


def test_children_are_reused_and_replaced_after_a_failure():
    first = run_limited(t.pid, limits=LIMITS)
    assert run_limited(t.pid, limits=LIMITS) == first           # reused
    with pytest.raises(SandboxError):
        run_limited(t.boom, limits=LIMITS)
    # the failed child is gone; whoever serves next is healthy
    assert isinstance(run_limited(t.pid, limits=LIMITS), int)


def test_each_call_gets_its_own_cpu_budget():
    """A child that already used most of a budget still gets a full one next time."""
    for _ in range(3):
        assert run_limited(t.burn, 1.2, limits=LIMITS) == 1.2


def test_children_are_recycled_after_max_calls(monkeypatch):
    sandbox.shutdown()
    monkeypatch.setattr(sandbox, "MAX_CALLS", 3)
    pids = [run_limited(t.pid, limits=LIMITS) for _ in range(7)]
    assert len(set(pids)) == 3        # 3 + 3 + 1 calls
