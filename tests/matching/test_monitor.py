"""A solve reports its progress and stops at the first poll after ``stop()`` turns true
(a cancelled run)."""

import pytest

from app.matching import Interrupted, MatchingProblem, Policy, lagrangian, solve
from app.matching import solver as solver_module
from app.matching.integer import LpResult
from tests.matching.factories import random_problem


class Polls:
    """A ``stop`` that answers True from its ``fire_at``-th call on."""

    def __init__(self, fire_at: int | None = None) -> None:
        self.calls = 0
        self.fire_at = fire_at

    def __call__(self) -> bool:
        self.calls += 1
        return self.fire_at is not None and self.calls >= self.fire_at


def _through_the_lagrangian(monkeypatch: pytest.MonkeyPatch) -> MatchingProblem:
    monkeypatch.setattr(solver_module, "MIP_MAX_ARCS", 0)
    monkeypatch.setattr(solver_module, "colgen_lp", lambda *args: LpResult(None, None))
    policy = Policy(max_candidates_per_mentee=None)
    for seed in range(30):
        pb = random_problem(seed, n_mentees=30, n_mentors=12, n_programmes=3, policy=policy)
        if solve(pb).stats.mip_components:
            return pb
    raise AssertionError("no instance needs the Lagrangian search")


def test_a_stop_requested_before_the_solve_raises_interrupted() -> None:
    with pytest.raises(Interrupted):
        solve(random_problem(0), stop=lambda: True)


def test_stop_is_polled_inside_the_solver_and_honoured_at_each_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pb = _through_the_lagrangian(monkeypatch)
    polls = Polls()
    solve(pb, stop=polls)
    # After the candidates, per relaxation batch, per component, per iteration, at the end.
    assert polls.calls >= 5
    for fire_at in range(1, polls.calls + 1):
        stopping = Polls(fire_at)
        with pytest.raises(Interrupted):
            solve(pb, stop=stopping)
        assert stopping.calls == fire_at  # stopped at once, no further step


@pytest.mark.parametrize("core", [False, True])
def test_progress_rises_from_the_candidates_to_the_end(
    monkeypatch: pytest.MonkeyPatch, core: bool
) -> None:
    # With ``core``, the Lagrangian search starts from its core's prices (two searches).
    monkeypatch.setattr(lagrangian, "CORE_MIN_ARCS", 0 if core else 10**9)
    pb = _through_the_lagrangian(monkeypatch)
    reported: list[float] = []
    solve(pb, progress=reported.append)
    assert len(reported) >= 5
    assert reported == sorted(reported)
    assert 0 < reported[0] < 1
    assert reported[-1] == 1.0


def test_watching_does_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    pb = _through_the_lagrangian(monkeypatch)
    watched = solve(pb, stop=Polls(), progress=lambda _: None).to_dict(with_timings=False)
    assert watched == solve(pb).to_dict(with_timings=False)
