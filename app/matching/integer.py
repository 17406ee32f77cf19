"""The integer programme of one component: its LP relaxation (GLOP: the reference of
the column generation of :mod:`app.matching.colgen`, which the solver uses) and, when
the LP optimum is fractional, the exact MIP (SCIP).

Both are built at once from sparse arrays (OR-Tools' model builder). The lexicographic
objective is scalarised as ``big × count + score``, with ``big`` above any total score
of the component (maximising it maximises the count, then the score), while its values
stay below ``EXACT_OBJECTIVE``; on larger components the count is maximised first, then
the score at that count, so that the solvers' relative tolerances never hide a unit.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, vstack

from app.matching.arrays import BoolArray, FloatArray, IntArray
from app.matching.candidates import CandidateArcs
from app.matching.flows import score_cap

MIP_MAX_ARCS = 40_000
"""Largest component handed to SCIP when its LP optimum is fractional and the solution
rounded from it misses the LP's bound (beyond, that solution is kept, with the LP's
bounds)."""
MIP_NODE_LIMIT = 20_000
"""Work limit of one SCIP solve (branch-and-bound nodes): deterministic, unlike time."""

# Loaded dynamically: its bundled type stub is partial (wrong array types) and, once
# seen by mypy, hides the untyped rest of ``ortools.linear_solver``.
mbh: Any = importlib.import_module("ortools.linear_solver.python.model_builder_helper")


def constraint_rows(
    arcs: CandidateArcs,
    idx: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
) -> tuple[csr_matrix, FloatArray]:
    """Rows ``A x <= b`` of the component's programme, built from arrays at once.

    One row per mentee, mentor and programme that has more arcs than its capacity (the
    others can never bind); column ``j`` is arc ``idx[j]``."""
    blocks: list[csr_matrix] = []
    rhs: list[IntArray] = []
    n = idx.size
    for column, limits in (
        (arcs.mentee[idx], None),
        (arcs.mentor[idx], mentor_remaining),
        (arcs.programme[idx], programme_remaining),
    ):
        groups, group_of, counts = np.unique(column, return_inverse=True, return_counts=True)
        cap = np.ones(groups.size, dtype=np.int64) if limits is None else limits[groups]
        binding = counts > cap
        row_of = np.cumsum(binding) - 1
        cols = np.flatnonzero(binding[group_of])
        blocks.append(
            csr_matrix(
                (np.ones(cols.size), (row_of[group_of[cols]], cols)),
                shape=(int(binding.sum()), n),
            )
        )
        rhs.append(cap[binding])
    return vstack(blocks, format="csr"), np.concatenate(rhs).astype(np.float64)


def programme_rows(arcs: CandidateArcs, idx: IntArray, programme_remaining: IntArray) -> IntArray:
    """Programmes of the last rows of :func:`constraint_rows`, in order."""
    groups, counts = np.unique(arcs.programme[idx], return_counts=True)
    return np.asarray(groups[counts > programme_remaining[groups]], dtype=np.int64)


EXACT_OBJECTIVE = 1e8
"""Largest objective value solved in one scalarised solve. SCIP stops once the relative
gap is within its epsilon (1e-9), and GLOP's optimality tolerances are relative too:
beyond 1e9 an ``optimal`` answer could be a unit of score short. Ten times below that,
one unit stays visible; above, the count and the score are solved one after the other,
each on values far below it."""


def _count_weight(arcs: CandidateArcs, idx: IntArray, quality_first: bool) -> int:
    """``big``: one more match outweighs any score (the sum of each young person's best
    arc, plus one); 0 for ``quality_first``."""
    if quality_first:
        return 0
    best = np.zeros(int(arcs.mentee[idx].max()) + 1, dtype=np.int64)
    np.maximum.at(best, arcs.mentee[idx], arcs.score[idx])
    return int(best.sum()) + 1


def _scalarised(big: int, count_bound: int) -> bool:
    """Whether ``big × count + score`` stays small enough to be solved in one go."""
    return big * (count_bound + 1) < EXACT_OBJECTIVE


def _model(
    arcs: CandidateArcs,
    idx: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    weights: FloatArray,
    *,
    integral: bool = False,
    at_least: int | None = None,
) -> Any:
    """The component's LP (``0 ≤ x ≤ 1``; binary with ``integral``) maximising
    ``weights · x``, with ``count ≥ at_least`` when given."""
    matrix, rhs = constraint_rows(arcs, idx, mentor_remaining, programme_remaining)
    lower = np.full(rhs.size, -np.inf)
    if at_least is not None:
        matrix = vstack([matrix, csr_matrix(np.ones((1, idx.size)))], format="csr")
        rhs, lower = np.r_[rhs, np.inf], np.r_[lower, float(at_least)]
    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        np.zeros(idx.size), np.ones(idx.size), weights, lower, rhs, matrix
    )
    model.set_maximize(True)
    if integral:
        for j in range(idx.size):
            model.set_var_integrality(j, True)
    return model


@dataclasses.dataclass(frozen=True, slots=True)
class _Answer:
    values: FloatArray
    proven: bool
    bound: float
    duals: FloatArray


def _ask(kind: str, model: Any, deadline: float, hint: BoolArray | None = None) -> _Answer | None:
    """Solve ``model`` with GLOP or SCIP within ``deadline``; None without a solution."""
    if deadline <= time.perf_counter():
        return None
    if hint is not None:
        for j, value in enumerate(hint.astype(np.float64).tolist()):
            model.add_hint(j, value)
    solver = mbh.ModelSolverHelper(kind)
    solver.set_time_limit_in_seconds(max(0.001, deadline - time.perf_counter()))
    if kind == "scip":
        # OPTIMAL must mean optimal: no relative gap tolerance (the default is 1e-4).
        # A node limit, not the clock, bounds the search (same answer whatever the
        # load); the time limit is only a safety stop far above it.
        solver.set_solver_specific_parameters(f"limits/gap = 0\nlimits/nodes = {MIP_NODE_LIMIT}")
    solver.solve(model)
    status = solver.status()
    if status not in (mbh.SolveStatus.OPTIMAL, mbh.SolveStatus.FEASIBLE):
        return None
    proven = status == mbh.SolveStatus.OPTIMAL
    bound = solver.objective_value() if kind == "glop" else solver.best_objective_bound()
    duals = np.asarray(solver.dual_values()) if kind == "glop" else np.zeros(0)
    return _Answer(np.asarray(solver.variable_values()), proven, float(bound), duals)


def _floor(bound: float) -> int:
    """A solver's bound, rounded down with a margin for its floating-point tolerance."""
    return int(np.floor(bound + 1e-9 * abs(bound) + 1e-6))


@dataclasses.dataclass(frozen=True, slots=True)
class LpResult:
    chosen: IntArray | None
    """The LP optimum when it is integral (then optimal for the integer programme)."""
    bound_matched: int | None
    """Upper bound on the count (lexicographic) from the LP value, when solved."""
    programmes: IntArray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    count_prices: FloatArray = dataclasses.field(default_factory=lambda: np.zeros(0))
    """Duals of the programme rows ``programmes`` per unit of the count weight ``big``."""
    score_prices: FloatArray = dataclasses.field(default_factory=lambda: np.zeros(0))
    """Duals of the programme rows in score points (beyond ``count_prices × big``)."""
    incumbent: IntArray | None = None
    """With a fractional LP optimum (column generation only), a feasible solution
    rounded from it, short of ``bound_score``."""
    bound_score: int | None = None
    """With ``incumbent``: upper bound on the score at the count ``bound_matched``."""


def lp_relaxation(
    arcs: CandidateArcs,
    idx: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    deadline: float,
) -> LpResult:
    """Solve the LP relaxation with GLOP.

    The constraint matrix is a network plus a few programme rows, so the LP optimum is
    usually integral: it is then optimal for the integer programme, with the LP as
    proof. When it is fractional, the LP's count still bounds the count."""
    rows = (arcs, idx, mentor_remaining, programme_remaining)
    scores = arcs.score[idx].astype(np.float64)
    big = _count_weight(arcs, idx, quality_first)
    progs = programme_rows(arcs, idx, programme_remaining)
    n_rows = constraint_rows(*rows)[1].size
    at = slice(n_rows - progs.size, n_rows)
    bound: int | None = None

    def priced(chosen: IntArray | None, count_d: FloatArray, score_d: FloatArray) -> LpResult:
        return LpResult(chosen, bound, progs, np.maximum(0, count_d), np.maximum(0, score_d))

    if quality_first or _scalarised(big, int(np.unique(arcs.mentee[idx]).size)):
        answer = _ask("glop", _model(*rows, big + scores), deadline)
        if answer is None or not answer.proven:
            return LpResult(None, None)
        duals = answer.duals[at]
        # Split the duals of ``big + score`` into a count part and a score part.
        count_d = np.floor(duals / big + 1e-9) if big else np.zeros(progs.size)
        score_d = duals - count_d * big
        if not quality_first:
            bound = int(np.floor(answer.bound / big + 1e-9))
    else:
        count = _ask("glop", _model(*rows, np.ones(idx.size)), deadline)
        if count is None or not count.proven:
            return LpResult(None, None)
        bound = _floor(count.bound)
        count_d = count.duals[at]
        if abs(count.bound - round(count.bound)) > 1e-6:
            # fractional count: no integral optimum here
            return priced(None, count_d, np.zeros(progs.size))
        answer = _ask("glop", _model(*rows, scores, at_least=bound), deadline)
        if answer is None or not answer.proven:
            return priced(None, count_d, np.zeros(progs.size))
        score_d = answer.duals[at]
    values = answer.values
    if np.any(np.abs(values - np.round(values)) > 1e-6):
        return priced(None, count_d, score_d)
    return priced(np.sort(idx[values > 0.5]), count_d, score_d)


@dataclasses.dataclass(frozen=True, slots=True)
class MipResult:
    chosen: IntArray
    proven: bool
    bound_matched: int
    bound_score: int


def solve_mip(
    arcs: CandidateArcs,
    idx: IntArray,
    hint: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    relaxed: tuple[int, int],
    deadline: float,
) -> MipResult:
    """Exact integer programme of one component (SCIP), hinted with the feasible
    solution ``hint`` and kept when SCIP finds nothing better in time.

    One solve of the scalarised objective when it stays below ``EXACT_OBJECTIVE``
    (measured on a 2,630-arc component of the 10k benchmark: 0.09 s, where two phases —
    most matches, then best score at that count — took 0.3 s), else two phases.
    ``relaxed``: the bounds (count, score) known before."""
    relaxed_count, relaxed_score = relaxed
    rows = (arcs, idx, mentor_remaining, programme_remaining)
    scores = arcs.score[idx].astype(np.float64)
    current = np.isin(idx, hint)
    big = _count_weight(arcs, idx, quality_first)

    def value(mask: BoolArray, weights: FloatArray) -> float:
        return float(weights[mask].sum())

    if quality_first or _scalarised(big, relaxed_count):
        weights = big + scores
        answer = _ask("scip", _model(*rows, weights, integral=True), deadline, current)
        proven = answer is not None and answer.proven
        bound: int | None = None
        if answer is not None:
            found = answer.values > 0.5
            if value(found, weights) >= value(current, weights):
                current = found
            # A proven optimum bounds itself; otherwise SCIP's bound.
            bound = int(value(current, weights)) if proven else _floor(answer.bound)
        count, score = int(current.sum()), int(value(current, scores))
        if quality_first:
            b_score = relaxed_score if bound is None else min(relaxed_score, bound)
            return MipResult(np.sort(idx[current]), proven, relaxed_count, max(score, b_score))
        bound_count = relaxed_count if bound is None else min(relaxed_count, bound // big)
        at_count = None if bound is None else bound - big * count
    else:
        ones = np.ones(idx.size)
        answer = _ask("scip", _model(*rows, ones, integral=True), deadline, current)
        bound_count, proven = relaxed_count, False
        if answer is not None:
            found = answer.values > 0.5
            if found.sum() >= current.sum():
                current = found
            proven = answer.proven
            bound_count = min(relaxed_count, int(current.sum()) if proven else _floor(answer.bound))
        count, at_count = int(current.sum()), None
        if proven:
            model = _model(*rows, scores, integral=True, at_least=count)
            answer = _ask("scip", model, deadline, current)
            proven = answer is not None and answer.proven
            if answer is not None:
                found = answer.values > 0.5
                if value(found, scores) >= value(current, scores):
                    current = found
                at_count = int(value(current, scores)) if proven else _floor(answer.bound)
        score = int(value(current, scores))
    if count >= bound_count and at_count is not None:
        # No solution matches more: the bound caps the score at this count.
        b_score = at_count if count < relaxed_count else min(at_count, relaxed_score)
    elif count >= relaxed_count:
        b_score = relaxed_score
    else:
        # The relaxation's score is its best at *its* count: it bounds solutions of
        # that count only. Below it (the optimum may match fewer), the best score
        # whatever the count is the valid bound.
        b_score = score_cap(arcs, idx, mentor_remaining, programme_remaining)
    return MipResult(np.sort(idx[current]), proven, max(count, bound_count), max(score, b_score))
