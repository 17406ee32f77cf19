"""The integer programme of one component: its LP relaxation (GLOP) and, when the LP
optimum is fractional, the exact MIP (SCIP).

Both are built at once from sparse arrays (OR-Tools' model builder), and both take the
lexicographic objective scalarised as ``big × count + score`` with ``big`` above any
total score of the component: maximising it maximises the count, then the score.
Integer scores keep every objective value an integer well below 2**53, so the
scalarisation stays exact in floating point.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, vstack

from app.matching.arrays import FloatArray, IntArray
from app.matching.candidates import CandidateArcs
from app.matching.flows import score_cap

LP_MAX_ARCS = 40_000
"""Largest component whose LP relaxation is attempted (GLOP: 1.5 s at 60k arcs, 5 s at
100k, 60 s at 500k on the national benchmark)."""
MIP_MAX_ARCS = 60_000
"""Largest component handed to SCIP when its LP optimum is fractional."""

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


def _count_weight(arcs: CandidateArcs, idx: IntArray, quality_first: bool) -> int:
    """``big``: one more match outweighs any score (the sum of each young person's best
    arc, plus one); 0 for ``quality_first``."""
    if quality_first:
        return 0
    best = np.zeros(int(arcs.mentee[idx].max()) + 1, dtype=np.int64)
    np.maximum.at(best, arcs.mentee[idx], arcs.score[idx])
    return int(best.sum()) + 1


def _model(
    arcs: CandidateArcs,
    idx: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    big: int,
) -> Any:
    """The component's LP (``0 ≤ x ≤ 1``), objective ``big × count + score``."""
    matrix, rhs = constraint_rows(arcs, idx, mentor_remaining, programme_remaining)
    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        np.zeros(idx.size),
        np.ones(idx.size),
        big + arcs.score[idx].astype(np.float64),
        np.full(rhs.size, -np.inf),
        rhs,
        matrix,
    )
    model.set_maximize(True)
    return model


def _solver(kind: str, deadline: float) -> Any:
    solver = mbh.ModelSolverHelper(kind)
    solver.set_time_limit_in_seconds(max(0.001, deadline - time.perf_counter()))
    return solver


@dataclasses.dataclass(frozen=True, slots=True)
class LpResult:
    chosen: IntArray | None
    """The LP optimum when it is integral (then optimal for the integer programme)."""
    bound_matched: int | None
    """Upper bound on the count (lexicographic) from the LP value, when solved."""


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
    proof. When it is fractional, ``floor(value / big)`` still bounds the count."""
    big = _count_weight(arcs, idx, quality_first)
    model = _model(arcs, idx, mentor_remaining, programme_remaining, big)
    solver = _solver("glop", deadline)
    solver.solve(model)
    if solver.status() != mbh.SolveStatus.OPTIMAL:
        return LpResult(None, None)
    bound = None
    if not quality_first:
        bound = int(np.floor(solver.objective_value() / big + 1e-9))
    values = np.asarray(solver.variable_values())
    if np.any(np.abs(values - np.round(values)) > 1e-6):
        return LpResult(None, bound)
    return LpResult(np.sort(idx[values > 0.5]), bound)


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

    One solve of the scalarised objective: measured on a 2,630-arc component of the
    10k benchmark, 0.09 s, where two phases (most matches, then best score at that
    count) took 0.3 s. ``relaxed``: the bounds (count, score) known before."""
    relaxed_count, relaxed_score = relaxed
    big = _count_weight(arcs, idx, quality_first)
    model = _model(arcs, idx, mentor_remaining, programme_remaining, big)
    for j in range(idx.size):
        model.set_var_integrality(j, True)
    hinted = np.isin(idx, hint)
    for j, value in enumerate(hinted.astype(np.float64).tolist()):
        model.add_hint(j, value)
    chosen = idx[hinted]
    scores = arcs.score
    proven = False
    bound: int | None = None
    if deadline > time.perf_counter():
        solver = _solver("scip", deadline)
        # OPTIMAL must mean optimal: no relative gap tolerance (the default is 1e-4).
        solver.set_solver_specific_parameters("limits/gap = 0")
        solver.solve(model)
        status = solver.status()
        if status in (mbh.SolveStatus.OPTIMAL, mbh.SolveStatus.FEASIBLE):
            found = idx[np.asarray(solver.variable_values()) > 0.5]
            if big * found.size + scores[found].sum() >= big * chosen.size + scores[chosen].sum():
                chosen = found
            proven = status == mbh.SolveStatus.OPTIMAL
            value = big * int(chosen.size) + int(scores[chosen].sum())
            # The bound of a proven optimum is its value; otherwise SCIP's, rounded
            # down with a margin for its floating-point tolerance.
            raw = solver.best_objective_bound()
            bound = value if proven else int(np.floor(raw + 1e-9 * abs(raw) + 1e-6))
    count, score = int(chosen.size), int(scores[chosen].sum())
    if quality_first:
        b_score = relaxed_score if bound is None else min(relaxed_score, bound)
        return MipResult(np.sort(chosen), proven, relaxed_count, max(score, b_score))
    bound_count = relaxed_count if bound is None else min(relaxed_count, bound // big)
    if count >= bound_count and bound is not None:
        # No solution matches more: the bound caps the score at this count.
        b_score = bound - big * count
        if count >= relaxed_count:
            b_score = min(b_score, relaxed_score)
    elif count >= relaxed_count:
        b_score = relaxed_score
    else:
        # The relaxation's score is its best at *its* count: it bounds solutions of
        # that count only. Below it (the optimum may match fewer), the best score
        # whatever the count is the valid bound.
        b_score = score_cap(arcs, idx, mentor_remaining, programme_remaining)
    return MipResult(np.sort(chosen), proven, max(count, bound_count), max(score, b_score))
