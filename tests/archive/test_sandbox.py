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


def test_each_call_of_a_batch_answers_in_order_and_fails_alone():
    """run_limited_each: one result per call in order; a crash, a timeout or an exception
    is that call's error only, and the calls after it are served by a fresh child."""
    calls = [(), (), (t.boom,), (), (t.spin,), ()]
    limits = Limits(cpu_seconds=1, wall_seconds=20, memory_bytes=512 << 20)
    results = list(sandbox.run_limited_each(t.pid_or_run, calls, limits=limits))
    assert len(results) == len(calls)
    pids = [r for r in results if isinstance(r, int)]
    errors = [r for r in results if isinstance(r, SandboxError)]
    assert [type(r) for r in results] == [int, int, SandboxError, int, SandboxError, int]
    assert [e.kind for e in errors] == ["crashed", "timeout"]
    # One child for the first two calls, a new one after each failure.
    assert pids[0] == pids[1] and len(set(pids)) == 3


def test_each_call_of_a_batch_gets_its_own_cpu_budget():
    # 2.4 s of CPU in all, more than one call's budget (1 s, rounded up to at most 2).
    limits = Limits(cpu_seconds=1, wall_seconds=20, memory_bytes=512 << 20)
    assert list(sandbox.run_limited_each(t.burn, [(0.8,)] * 3, limits=limits)) == [0.8] * 3


def test_batches_respect_calls_per_child():
    sandbox.shutdown()
    limits = Limits(cpu_seconds=2, wall_seconds=20, memory_bytes=512 << 20, calls_per_child=3)
    pids = list(sandbox.run_limited_each(t.pid, [()] * 7, limits=limits))
    assert len(set(pids)) == 3        # 3 + 3 + 1 calls
