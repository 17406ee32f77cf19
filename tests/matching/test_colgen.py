"""The LP of a large component by column generation: the optimum of the LP over every
arc, although it starts from a few arcs per young person; exact when integral."""

import random

import numpy as np
import pytest
from ortools.sat.python import cp_model

from app.matching import Interrupted, Policy, colgen, integer
from app.matching.arrays import build_arrays
from app.matching.candidates import CandidateArcs, generate
from app.matching.context import build_context
from app.matching.monitor import Monitor
from tests.matching.factories import random_problem
from tests.matching.reference import exact_optimum
from tests.matching.test_optimality import _feasible as feasible

SEEDS = range(30)


def _component(seed, quality_first=False):
    policy = Policy(
        objective="quality_first" if quality_first else "lexicographic",
        max_candidates_per_mentee=None,
    )
    pb = random_problem(seed, n_mentees=30, n_mentors=12, n_programmes=3, policy=policy)
    arrs = build_arrays(pb, build_context(pb))
    return pb, arrs, generate(arrs, pb.policy, pb.run_date)


@pytest.fixture
def from_one_arc(monkeypatch):
    """Start from each young person's best arc only, one arc joining per young person
    and round: the restricted LP must grow over several rounds to reach the optimum."""
    monkeypatch.setattr(colgen, "SEED_ARCS", 1)
    monkeypatch.setattr(colgen, "PER_MENTEE", 1)
    solves = []
    solve = colgen._Master.solve

    def counted(self):
        solves.append(self.columns.size)
        return solve(self)

    monkeypatch.setattr(colgen._Master, "solve", counted)
    return solves


def _lp(arcs, arrs, quality_first, seed_arcs=np.zeros(0, dtype=np.int64)):
    idx = np.arange(len(arcs))
    rows = (arrs.mentor_remaining, arrs.programme_remaining)
    full = integer.lp_relaxation(arcs, idx, *rows, quality_first, float("inf"))
    grown = colgen.colgen_lp(arcs, idx, seed_arcs, *rows, quality_first, float("inf"))
    return full, grown


def _feasible(arcs, chosen, arrs):
    return feasible(arcs, chosen, arrs.mentor_remaining, arrs.programme_remaining)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("quality_first", [False, True])
def test_the_generated_lp_has_the_optimum_of_the_lp_over_every_arc(
    seed, quality_first, from_one_arc
):
    pb, arrs, arcs = _component(seed, quality_first)
    if len(arcs) == 0:
        return
    full, grown = _lp(arcs, arrs, quality_first)
    best_count, best_score = exact_optimum(pb)
    if not quality_first:
        assert grown.bound_matched == full.bound_matched
        assert grown.bound_matched is not None
        assert grown.bound_matched >= best_count
    if grown.chosen is not None:
        # Integral: the optimum of the integer programme, as the reference finds it.
        chosen = grown.chosen
        assert _feasible(arcs, chosen, arrs)
        assert int(arcs.score[chosen].sum()) == best_score
        assert quality_first or chosen.size == best_count
    if grown.incumbent is not None:
        # Fractional: a feasible solution rounded from it, within the LP's bounds.
        inc = grown.incumbent
        assert _feasible(arcs, inc, arrs)
        assert grown.bound_score is not None
        assert int(arcs.score[inc].sum()) < grown.bound_score
        if quality_first:
            assert int(arcs.score[inc].sum()) <= best_score <= grown.bound_score
        else:
            assert (inc.size, int(arcs.score[inc].sum())) <= (best_count, best_score)
            assert best_count < grown.bound_matched or best_score <= grown.bound_score
    if full.chosen is not None and grown.chosen is not None:
        assert int(arcs.score[full.chosen].sum()) == int(arcs.score[grown.chosen].sum())


def test_columns_join_over_several_rounds_and_not_all_of_them(from_one_arc):
    grew = partial = 0
    for seed in SEEDS:
        _, arrs, arcs = _component(seed)
        if len(arcs) == 0:
            continue
        from_one_arc.clear()
        _, grown = _lp(arcs, arrs, False)
        if grown.chosen is None:
            continue
        grew += len(from_one_arc) > 2  # both phases, at least one of them repeated
        partial += from_one_arc[-1] < len(arcs)
    assert grew >= 5
    assert partial >= 5


def test_a_phase_stopped_by_its_round_limit_claims_no_bound(from_one_arc, monkeypatch):
    monkeypatch.setattr(colgen, "ROUNDS", 1)
    stopped = 0
    for seed in SEEDS:
        _, arrs, arcs = _component(seed)
        if len(arcs) == 0:
            continue
        from_one_arc.clear()
        _, grown = _lp(arcs, arrs, False)
        if grown.bound_matched is None:
            stopped += 1
            assert grown.chosen is None
    assert stopped >= 3


def test_a_stop_is_honoured_before_each_lp_solve():
    _, arrs, arcs = _component(0)
    idx = np.arange(len(arcs))
    with pytest.raises(Interrupted):
        colgen.colgen_lp(
            arcs,
            idx,
            idx[:0],
            arrs.mentor_remaining,
            arrs.programme_remaining,
            False,
            float("inf"),
            Monitor(stop=lambda: True),
        )


def _arcs_of(rows):
    """Candidate arcs from (mentee, mentor, programme, score) rows, in the engine's
    order (by mentee, best score first)."""
    rows = sorted(rows, key=lambda r: (r[0], -r[3]))
    e, m, p, score = (np.array(c, dtype=np.int64) for c in zip(*rows, strict=True))
    zeros = np.zeros(e.size, dtype=np.int64)
    return CandidateArcs(
        e,
        m,
        p,
        zeros,
        zeros.astype(bool),
        zeros.astype(float),
        zeros,
        score,
        considered=e.size,
        capped_mentees=0,
        eligible_by_programme=(),
        saturated=np.zeros(int(e.max()) + 1, dtype=bool),
    )


# Young person 0 may meet mentor 0 in programme 0 or mentor 1 in programme 1; young
# person 1, mentor 0 in programme 1 or mentor 2 in programme 2; every capacity is 1.
# Both can be matched, but then not by the arc (1, 0, 1), which conflicts with both
# arcs of young person 0: the LP at count 2 takes it at 1/2.
def _odd_cycle(strong: int):
    arcs = _arcs_of([(0, 0, 0, 10), (0, 1, 1, 10), (1, 0, 1, strong), (1, 2, 2, 0)])
    return arcs, np.ones(3, dtype=np.int64), np.ones(3, dtype=np.int64)


def test_a_fractional_optimum_is_rounded_to_a_feasible_solution_within_its_bounds():
    arcs, mr, pr = _odd_cycle(strong=100)
    idx = np.arange(len(arcs))
    grown = colgen.colgen_lp(arcs, idx, idx[:0], mr, pr, False, float("inf"))
    assert grown.chosen is None
    assert grown.incumbent is not None
    assert grown.bound_matched == 2
    # LP at count 2: (10 + 10 + 100 + 0) / 2; best at count 2: 10 + 0.
    assert grown.bound_score == 60
    assert (grown.incumbent.size, int(arcs.score[grown.incumbent].sum())) == (2, 10)


def test_a_fractional_optimum_rounded_up_to_its_bound_is_proven():
    # With a strong arc of 1 point, the LP at count 2 is (10 + 10 + 1 + 0) / 2 = 10.5:
    # the rounded 10 + 0 reaches its floor, so it is the optimum.
    arcs, mr, pr = _odd_cycle(strong=1)
    idx = np.arange(len(arcs))
    grown = colgen.colgen_lp(arcs, idx, idx[:0], mr, pr, False, float("inf"))
    assert grown.incumbent is None
    assert grown.chosen is not None
    assert (grown.chosen.size, int(arcs.score[grown.chosen].sum())) == (2, 10)


def _random_arcs(seed: int):
    """Arc-level instance: 12 young people with 2–4 options each among 6 mentors (1–2
    places) and 3 programmes (1–4 places); its LP is fractional about one time in six."""
    rng = random.Random(seed)
    options = {(e, rng.randrange(6), rng.randrange(3)) for e in range(12) for _ in range(4)}
    rows = [(e, m, p, rng.randint(0, 100)) for e, m, p in sorted(options) if rng.random() < 0.8]
    mentors = np.array([rng.randint(1, 2) for _ in range(6)], dtype=np.int64)
    programmes = np.array([rng.randint(1, 4) for _ in range(3)], dtype=np.int64)
    return _arcs_of(rows), mentors, programmes


def _at_most_matches(arcs, mentor_remaining, programme_remaining, worst: bool):
    """Among the solutions matching the most young people, the best-scoring one (an
    independent reference, CP-SAT) or the worst-scoring one (a poor rounding)."""
    idx = np.arange(len(arcs))
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{a}") for a in idx.tolist()]
    for column, bound in (
        (arcs.mentee, np.ones(int(arcs.mentee.max()) + 1, dtype=np.int64)),
        (arcs.mentor, mentor_remaining),
        (arcs.programme, programme_remaining),
    ):
        for key in np.unique(column).tolist():
            model.add(sum(x[j] for j in np.flatnonzero(column == key).tolist()) <= bound[key])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    model.maximize(sum(x))
    assert solver.solve(model) == cp_model.OPTIMAL
    model.add(sum(x) >= round(solver.objective_value))
    score = sum(int(s) * v for s, v in zip(arcs.score.tolist(), x, strict=True))
    model.minimize(score) if worst else model.maximize(score)
    assert solver.solve(model) == cp_model.OPTIMAL
    return np.flatnonzero([solver.value(v) for v in x])


def test_a_poor_rounding_is_lifted_to_the_optimum_by_the_lp_optimal_face(monkeypatch):
    """Reduced-cost fixing: from a rounded solution far below the LP, the integer
    optimum on the LP's optimal face is the optimum over every arc when it reaches the
    LP's floor; whatever it finds is feasible and never claimed optimal wrongly."""
    poor: list[int] = []

    def rounded(arcs, idx, master, values, rows, count_bound, score_bound, deadline):
        chosen = _at_most_matches(arcs, *rows, worst=True)
        poor.append(int(arcs.score[chosen].sum()))
        return chosen

    monkeypatch.setattr(colgen, "_rounded", rounded)
    lifted = fractional = 0
    for seed in range(200):
        arcs, mr, pr = _random_arcs(seed)
        poor.clear()
        idx = np.arange(len(arcs))
        grown = colgen.colgen_lp(arcs, idx, idx[:0], mr, pr, False, float("inf"))
        if not poor:
            continue  # an integral LP: nothing rounded
        fractional += 1
        best_chosen = _at_most_matches(arcs, mr, pr, worst=False)
        best = (best_chosen.size, int(arcs.score[best_chosen].sum()))
        if grown.chosen is not None:
            assert feasible(arcs, grown.chosen, mr, pr)
            assert (grown.chosen.size, int(arcs.score[grown.chosen].sum())) == best
            lifted += int(arcs.score[grown.chosen].sum()) > poor[0]
        else:
            assert grown.incumbent is not None
            assert feasible(arcs, grown.incumbent, mr, pr)
            reached = (grown.incumbent.size, int(arcs.score[grown.incumbent].sum()))
            assert reached <= best
            assert grown.bound_score is not None
            assert best[1] <= grown.bound_score
    assert fractional >= 10
    assert lifted >= 5
