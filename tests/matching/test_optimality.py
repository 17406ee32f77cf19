"""Random instances: valid by the independent validator, optimal by an exact reference."""

import time

import numpy as np
import pytest

from app.matching import Policy, colgen, flows, integer, lagrangian, solve, validate
from app.matching import candidates as cand
from app.matching import solver as solver_module
from app.matching.arrays import build_arrays
from app.matching.context import build_context
from app.matching.integer import LpResult, solve_mip
from tests.matching.factories import random_problem
from tests.matching.reference import exact_optimum, feasible_quads

SEEDS = range(40)


@pytest.fixture(params=["one solve", "two phases"])
def phases(request, monkeypatch):
    """The integer programmes solved scalarised (small objectives) or count first, then
    score (large ones): forced here on small instances."""
    if request.param == "two phases":
        monkeypatch.setattr(integer, "EXACT_OBJECTIVE", 0.0)
    return request.param


@pytest.mark.parametrize("seed", SEEDS)
def test_lexicographic_optimum_matches_cp_sat_on_the_full_model(seed, phases):
    pb = random_problem(seed, n_mentees=14, n_mentors=8)
    result = solve(pb)
    assert validate(pb, result) == []
    assert (result.stats.matched, result.stats.total_score) == exact_optimum(pb)
    assert result.stats.status == "optimal"
    assert result.stats.gap == 0
    assert (result.stats.bound_matched, result.stats.bound_score) == (
        result.stats.matched,
        result.stats.total_score,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_quality_first_optimum_matches_cp_sat(seed, phases):
    pb = random_problem(
        seed,
        n_mentees=14,
        n_mentors=8,
        policy=Policy(objective="quality_first", max_candidates_per_mentee=None),
    )
    result = solve(pb)
    assert validate(pb, result) == []
    assert result.stats.total_score == exact_optimum(pb)[1]


def test_the_mip_path_is_exercised_by_these_instances():
    mip = [
        s for s in SEEDS if solve(random_problem(s, n_mentees=14, n_mentors=8)).stats.mip_components
    ]
    assert len(mip) >= 3


@pytest.mark.parametrize("seed", range(10))
def test_vectorised_candidates_equal_the_scalar_rules(seed):
    pb = random_problem(seed, n_mentees=25, n_mentors=12)
    arrs = build_arrays(pb, build_context(pb))
    arcs = cand.generate(arrs, pb.policy, pb.run_date)
    got = {
        (arrs.mentees[e].id, arrs.mentors[m].id, arrs.programmes[p].id)
        for e, m, p in zip(
            arcs.mentee.tolist(), arcs.mentor.tolist(), arcs.programme.tolist(), strict=True
        )
    }
    # Zero remaining capacity removes arcs from the solver, not from the rules.
    ctx = build_context(pb)
    expected = {
        (e, m, p)
        for e, m, p, _, _ in feasible_quads(pb)
        if ctx.mentor_remaining[m] > 0 and ctx.programme_remaining[p] > 0
    }
    assert got == expected


@pytest.mark.parametrize("seed", range(10))
def test_candidates_come_in_the_documented_order(seed):
    # (mentee, score desc, distance, mentor, programme): what the cap and every
    # tie-break rely on.
    pb = random_problem(seed, n_mentees=40, n_mentors=15)
    arcs = cand.generate(build_arrays(pb, build_context(pb)), pb.policy, pb.run_date)
    rows = list(
        zip(
            arcs.mentee.tolist(),
            (-arcs.score).tolist(),
            arcs.distance_km.tolist(),
            arcs.mentor.tolist(),
            arcs.programme.tolist(),
            strict=True,
        )
    )
    assert len(rows) > 20
    assert rows == sorted(rows)


@pytest.mark.parametrize("seed", range(15))
def test_capped_runs_stay_valid_and_close(seed):
    pb = random_problem(
        seed, n_mentees=60, n_mentors=25, policy=Policy(max_candidates_per_mentee=3)
    )
    result = solve(pb)
    assert validate(pb, result) == []
    assert result.stats.candidates_kept <= 3 * 60
    uncapped = solve(random_problem(seed, n_mentees=60, n_mentors=25))
    assert result.stats.matched <= uncapped.stats.matched


def test_mip_out_of_time_returns_the_hint_and_no_proof(phases):
    pb = random_problem(3, n_mentees=14, n_mentors=8)
    arrs = build_arrays(pb, build_context(pb))
    arcs = cand.generate(arrs, pb.policy, pb.run_date)
    idx = np.arange(len(arcs))
    hint = idx[:1]
    out = solve_mip(
        arcs, idx, hint, arrs.mentor_remaining, arrs.programme_remaining, False, (5, 9999), 0.0
    )
    assert not out.proven
    assert out.chosen.tolist() == hint.tolist()
    assert out.bound_matched == 5


@pytest.mark.parametrize("seed", SEEDS)
def test_scip_path_is_optimal_when_the_lp_is_fractional(seed, monkeypatch, phases):
    # Force the fallback used when the LP relaxation has a fractional optimum.
    monkeypatch.setattr(solver_module, "colgen_lp", lambda *args: LpResult(None, None))
    pb = random_problem(seed, n_mentees=14, n_mentors=8)
    result = solve(pb)
    assert validate(pb, result) == []
    assert (result.stats.matched, result.stats.total_score) == exact_optimum(pb)
    assert result.stats.status == "optimal"


def _arcs(seed):
    pb = random_problem(seed, n_mentees=14, n_mentors=8)
    arrs = build_arrays(pb, build_context(pb))
    return pb, arrs, cand.generate(arrs, pb.policy, pb.run_date)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("quality_first", [False, True])
def test_relaxation_by_component_has_the_optimum_of_the_single_flow(seed, quality_first):
    _, arrs, arcs = _arcs(seed)
    if len(arcs) == 0:
        return
    mr, pr = arrs.mentor_remaining, arrs.programme_remaining
    labels = flows.components(arcs, int(arcs.mentee.max()) + 1, mr.size, pr.size)
    whole, _ = flows.relaxation(arcs, mr, pr, quality_first)
    # Batches of one component each, and everything pooled in one batch.
    for batch in (1, 10**9):
        batches = flows.batches(labels, batch)
        assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(len(arcs)))
    parts, _ = flows.relaxation_by_component(arcs, labels, mr, pr, quality_first)
    if not quality_first:
        assert parts.size == whole.size
    assert arcs.score[parts].sum() == arcs.score[whole].sum()


@pytest.mark.parametrize("seed", range(20))
def test_lp_count_bound_is_valid_and_integral_optima_are_exact(seed, phases):
    pb, arrs, arcs = _arcs(seed)
    if len(arcs) == 0:
        return
    idx = np.arange(len(arcs))
    lp = integer.lp_relaxation(
        arcs, idx, arrs.mentor_remaining, arrs.programme_remaining, False, float("inf")
    )
    best_count, best_score = exact_optimum(pb)
    assert lp.bound_matched is not None
    assert lp.bound_matched >= best_count
    if lp.chosen is not None:
        assert lp.chosen.size == best_count
        assert arcs.score[lp.chosen].sum() == best_score


def _rows_one_by_one(arcs, idx, mentor_remaining, programme_remaining):
    """The rows that can bind, listed group by group in plain Python."""
    rows = []
    for column, limits in (
        (arcs.mentee[idx], None),
        (arcs.mentor[idx], mentor_remaining),
        (arcs.programme[idx], programme_remaining),
    ):
        groups: dict[int, list[int]] = {}
        for j, g in enumerate(column.tolist()):
            groups.setdefault(g, []).append(j)
        for g, members in groups.items():
            cap = 1 if limits is None else int(limits[g])
            if len(members) > cap:
                rows.append((tuple(members), float(cap)))
    return sorted(rows)


@pytest.mark.parametrize("seed", range(5))
def test_sparse_rows_match_the_rows_listed_one_by_one(seed):
    _, arrs, arcs = _arcs(seed)
    idx = np.arange(len(arcs))
    matrix, rhs = integer.constraint_rows(
        arcs, idx, arrs.mentor_remaining, arrs.programme_remaining
    )
    rows = sorted(
        (tuple(np.flatnonzero(matrix[r].toarray()[0]).tolist()), rhs[r])
        for r in range(matrix.shape[0])
    )
    assert rows
    assert rows == _rows_one_by_one(arcs, idx, arrs.mentor_remaining, arrs.programme_remaining)


def _lagrangian_case(seed, quality_first):
    policy = Policy(
        objective="quality_first" if quality_first else "lexicographic",
        max_candidates_per_mentee=None,
    )
    pb = random_problem(seed, n_mentees=30, n_mentors=12, n_programmes=3, policy=policy)
    arrs = build_arrays(pb, build_context(pb))
    arcs = cand.generate(arrs, pb.policy, pb.run_date)
    return pb, arrs, arcs


def _feasible(arcs, chosen, mr, pr):
    return (
        np.unique(arcs.mentee[chosen]).size == chosen.size
        and np.all(np.bincount(arcs.mentor[chosen], minlength=mr.size) <= mr)
        and np.all(np.bincount(arcs.programme[chosen], minlength=pr.size) <= pr)
    )


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("quality_first", [False, True])
@pytest.mark.parametrize("core", [False, True])
def test_lagrangian_bounds_are_valid_and_its_solutions_feasible(
    seed, quality_first, core, monkeypatch
):
    # With ``core``, the search starts from the prices found on each young person's
    # best arcs (the path of the largest components).
    monkeypatch.setattr(lagrangian, "CORE_MIN_ARCS", 0 if core else 10**9)
    monkeypatch.setattr(lagrangian, "CORE_ARCS", 2)
    pb, arrs, arcs = _lagrangian_case(seed, quality_first)
    if len(arcs) == 0:
        return
    mr, pr = arrs.mentor_remaining, arrs.programme_remaining
    idx = np.arange(len(arcs))
    relaxed, _ = flows.relaxation(arcs, mr, pr, quality_first)
    kept, _ = flows.reassign(arcs, idx, relaxed, pr)
    start = flows.residual_repair(arcs, idx, kept, mr, pr, quality_first)
    out = lagrangian.lagrangian(arcs, idx, relaxed, start, mr, pr, quality_first, float("inf"))
    best_count, best_score = exact_optimum(pb)
    got = (int(out.chosen.size), int(arcs.score[out.chosen].sum()))
    assert _feasible(arcs, out.chosen, mr, pr)
    if quality_first:
        assert got[1] >= int(arcs.score[start].sum())
        assert best_score <= out.bound_score
        assert not out.proven or got[1] == best_score
    else:
        assert got >= (int(start.size), int(arcs.score[start].sum()))
        assert best_count <= out.bound_matched
        if out.bound_matched == best_count:
            assert best_score <= out.bound_score
        assert not out.proven or got == (best_count, best_score)


def test_the_lagrangian_proves_and_improves_on_some_of_these_instances():
    proven = improved = 0
    for seed in range(30):
        _, arrs, arcs = _lagrangian_case(seed, False)
        if len(arcs) == 0:
            continue
        mr, pr = arrs.mentor_remaining, arrs.programme_remaining
        idx = np.arange(len(arcs))
        relaxed, _ = flows.relaxation(arcs, mr, pr, False)
        kept, _ = flows.reassign(arcs, idx, relaxed, pr)
        start = flows.residual_repair(arcs, idx, kept, mr, pr, False)
        if start.size == relaxed.size and arcs.score[start].sum() == arcs.score[relaxed].sum():
            continue  # the repair already reaches the relaxation
        out = lagrangian.lagrangian(arcs, idx, relaxed, start, mr, pr, False, float("inf"))
        proven += out.proven
        improved += (out.chosen.size, arcs.score[out.chosen].sum()) > (
            start.size,
            arcs.score[start].sum(),
        )
    assert proven >= 3
    assert improved >= 3


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("objective", ["lexicographic", "quality_first"])
@pytest.mark.parametrize("path", ["lagrangian", "lagrangian from the core", "column generation"])
def test_engine_through_the_large_component_paths_is_valid_with_valid_bounds(
    seed, objective, path, monkeypatch
):
    # No full LP: every component whose repair misses the relaxation goes the way of
    # the largest ones: the LP by column generation (from each young person's best arc,
    # a column at a time), or without it the Lagrangian (started on the core of each
    # component or not).
    monkeypatch.setattr(lagrangian, "CORE_MIN_ARCS", 0 if path.endswith("core") else 10**9)
    monkeypatch.setattr(solver_module, "MIP_MAX_ARCS", 0)
    if path == "column generation":
        monkeypatch.setattr(colgen, "SEED_ARCS", 1)
        monkeypatch.setattr(colgen, "PER_MENTEE", 1)
    else:
        monkeypatch.setattr(solver_module, "colgen_lp", lambda *args: LpResult(None, None))
    policy = Policy(objective=objective, max_candidates_per_mentee=None)
    pb = random_problem(seed, n_mentees=30, n_mentors=12, n_programmes=3, policy=policy)
    result = solve(pb)
    assert validate(pb, result) == []
    best_count, best_score = exact_optimum(pb)
    stats = result.stats
    if objective == "quality_first":
        assert stats.total_score <= best_score <= stats.bound_score
    else:
        assert (stats.matched, stats.total_score) <= (best_count, best_score)
        assert best_count <= stats.bound_matched
        if stats.matched == stats.bound_matched:
            assert best_score <= stats.bound_score
    if stats.status == "optimal":
        assert stats.gap == 0
        assert stats.total_score == best_score
        assert objective == "quality_first" or stats.matched == best_count


@pytest.mark.parametrize("seed", range(10))
def test_mip_score_bound_stays_valid_when_the_optimum_matches_fewer_than_the_relaxation(
    seed, phases
):
    # A relaxation claiming one more match than possible, with a low score at that
    # count: its score does not bound solutions that match fewer.
    pb, arrs, arcs = _arcs(seed)
    if len(arcs) == 0:
        return
    best_count, best_score = exact_optimum(pb)
    idx = np.arange(len(arcs))
    out = solve_mip(
        arcs,
        idx,
        idx[:0],
        arrs.mentor_remaining,
        arrs.programme_remaining,
        False,
        (best_count + 1, 0),
        time.perf_counter() + 600,  # a limit never reached on these instances
    )
    assert out.proven
    assert out.bound_matched == best_count
    assert out.bound_score >= best_score
