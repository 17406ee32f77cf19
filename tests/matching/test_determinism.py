"""The same input gives the same answer whatever the machine's load: work limits, not
the clock, bound every search; the wall-clock limit is a safety stop, reported."""

import itertools

import pytest

from app.matching import Policy, integer, lagrangian, solve
from app.matching import solver as solver_module
from app.matching.integer import LpResult
from tests.matching.factories import random_problem


class SlowClock:
    """A clock on which every reading is ``step`` seconds after the previous one: a
    machine so loaded that each step of the solve takes that long."""

    def __init__(self, step: float) -> None:
        self.ticks = itertools.count()
        self.step = step

    def __call__(self) -> float:
        return next(self.ticks) * self.step


def _lagrangian_path(monkeypatch):
    # No LP: components whose repair misses the relaxation go to the Lagrangian search,
    # whose 8 s budget used to decide how many iterations ran.
    monkeypatch.setattr(solver_module, "MIP_MAX_ARCS", 0)
    monkeypatch.setattr(solver_module, "colgen_lp", lambda *args: LpResult(None, None))


@pytest.mark.parametrize("seed", range(10))
def test_a_loaded_machine_gives_the_same_answer(seed, monkeypatch):
    _lagrangian_path(monkeypatch)
    policy = Policy(max_candidates_per_mentee=None)
    pb = random_problem(seed, n_mentees=30, n_mentors=12, policy=policy)
    idle = solve(pb).to_dict(with_timings=False)
    # 1 s per clock reading: far beyond the old 8 s budget within a few steps, while the
    # 60 s safety stop (a run far over its expected time, reported) is not reached.
    clock = SlowClock(1.0)
    for module in (solver_module, lagrangian, integer):
        monkeypatch.setattr(module.time, "perf_counter", clock)
    loaded = solve(pb).to_dict(with_timings=False)
    monkeypatch.undo()
    assert loaded == idle
    assert not loaded["stats"]["time_limit_hit"]


def test_the_safety_stop_is_reported(monkeypatch):
    _lagrangian_path(monkeypatch)
    hit = 0
    for seed in range(10):
        pb = random_problem(
            seed,
            n_mentees=30,
            n_mentors=12,
            policy=Policy(max_candidates_per_mentee=None, mip_time_limit_s=0.1),
        )
        clock = SlowClock(1.0)
        for module in (solver_module, lagrangian, integer):
            monkeypatch.setattr(module.time, "perf_counter", clock)
        result = solve(pb)
        hit += result.stats.time_limit_hit
        if result.stats.time_limit_hit and result.stats.status == "optimal":
            assert result.stats.gap == 0
    assert hit >= 1
