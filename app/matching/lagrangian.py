"""Lagrangian search on the programme rows of a large component: bounds and feasible
solutions from priced flows. See :func:`lagrangian` and :mod:`app.matching.solver`."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from app.matching.arrays import FloatArray, IntArray
from app.matching.candidates import CandidateArcs
from app.matching.flows import reassign, relaxation, residual_repair, subset
from app.matching.monitor import UNWATCHED, Monitor

LAGRANGE_ITERATIONS = 12
"""Subgradient iterations of the Lagrangian search on a component (each one flow)."""
CORE_MIN_ARCS = 400_000
"""Components from this size start their Lagrangian search on their core (measured on
the benchmark: it pays at 490k arcs, where a priced flow takes 2.5–3.5 s, not at
300k, where plain iterations reach a better bound within the same time; nor for
``quality_first``: 0.38 % gap nationally against 0.11 % without)."""
CORE_ARCS = 3
CORE_ITERATIONS = 6


@dataclasses.dataclass(frozen=True, slots=True)
class LagrangeResult:
    chosen: IntArray
    """Best feasible solution found (arc indices, ascending)."""
    proven: bool
    """True when it reaches the bound (then optimal)."""
    bound_matched: int
    bound_score: int
    prices: FloatArray
    """Programme prices of the best count bound (lexicographic), or of the last
    iteration (``quality_first``); ``big`` is the matching weight they go with."""
    big: int


def _lagrange_step(
    arcs: CandidateArcs,
    idx: IntArray,
    prices: IntArray,
    big: int,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
) -> tuple[IntArray, int]:
    """Solve the Lagrangian subproblem: programme rows priced out, weight of arc ``a``
    ``big + score − price[programme]``. Returns the chosen arcs (subset of ``idx``) and
    the subproblem's value (without the ``Σ price × capacity`` term)."""
    weight = big + arcs.score[idx] - prices[arcs.programme[idx]]
    # Best weight first within each mentee: the relaxation keeps the first arc of
    # each (mentee, mentor) pair.
    order = np.lexsort((idx, -weight, arcs.mentee[idx]))
    order = order[weight[order] > 0]
    if order.size == 0:
        return np.zeros(0, dtype=np.int64), 0
    sub = dataclasses.replace(subset(arcs, idx[order]), score=weight[order])
    # Bypass on (maximum total weight, whatever the count); single-programme mentors
    # keep their programme node, a valid constraint that only tightens the bound.
    part, _ = relaxation(sub, mentor_remaining, programme_remaining, True)
    return idx[order[part]], int(weight[order[part]].sum())


def _core_prices(
    arcs: CandidateArcs,
    idx: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    deadline: float,
    monitor: Monitor,
) -> LagrangeResult:
    """Lagrangian search on the core of a large component (each young person's
    ``CORE_ARCS`` best arcs), to start the search on the whole component from its
    prices: they transfer well (on the largest national component, five iterations on
    the core then one flow on the whole give the bound twelve whole iterations give),
    and core flows are several times cheaper."""
    mentee = arcs.mentee[idx]  # arcs are sorted by mentee, best score first
    starts = np.flatnonzero(np.r_[True, mentee[1:] != mentee[:-1]])
    rank = np.arange(idx.size) - np.repeat(starts, np.diff(np.r_[starts, idx.size]))
    core = idx[rank < CORE_ARCS]
    part, _ = relaxation(subset(arcs, core), mentor_remaining, programme_remaining, quality_first)
    relaxed = core[part]
    kept, _ = reassign(arcs, core, relaxed, programme_remaining)
    start = residual_repair(arcs, core, kept, mentor_remaining, programme_remaining, quality_first)
    return lagrangian(
        arcs,
        core,
        relaxed,
        start,
        mentor_remaining,
        programme_remaining,
        quality_first,
        deadline,
        CORE_ITERATIONS,
        use_core=False,
        monitor=monitor,
    )


def lagrangian(
    arcs: CandidateArcs,
    idx: IntArray,
    relaxed: IntArray,
    start: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    deadline: float,
    iterations: int = LAGRANGE_ITERATIONS,
    warm: FloatArray | None = None,
    use_core: bool = True,
    monitor: Monitor = UNWATCHED,
) -> LagrangeResult:
    """Lagrangian relaxation of the programme rows of one component, by subgradient.

    For prices ``λ ≥ 0`` on the programme rows and ``big ≥ 0``, every feasible ``x``
    satisfies ``big × count + score ≤ L(λ, big)``, the value of a bipartite b-matching
    (a min-cost flow, solved like the relaxation) with arc weights
    ``big + score − λ[programme]`` plus ``Σ λ_p cap_p``. Hence, with ``c`` the count of
    the best solution found (at most the optimal count): count ≤ ``floor(L / big)``
    and score ≤ ``L − big × c`` (lexicographic; ``big = 0`` and score ≤ ``L`` for
    ``quality_first``). Every subproblem solution, its programmes re-assigned and
    completed by the residual repair, is also a feasible solution: the search
    improves both sides and stops when they meet (proven optimal), after
    ``iterations`` or at ``deadline``. Polyak steps towards the best solution's value;
    ``big`` starts above any total score (bound on the count first), then moves as the
    multiplier of ``count ≥ c`` once the count is proven (bound on the score).
    ``relaxed``: the flow relaxation's solution on the component (the subproblem
    without prices); ``start``: a feasible solution; ``warm``: initial prices
    (components of ``CORE_MIN_ARCS`` arcs or more take them from their core, see
    :func:`_core_prices`, unless ``use_core`` is false). Deterministic: ``deadline``
    is a safety stop only (checked between iterations)."""
    if use_core and warm is None and not quality_first and idx.size >= CORE_MIN_ARCS:
        core_run = _core_prices(
            arcs,
            idx,
            mentor_remaining,
            programme_remaining,
            quality_first,
            deadline,
            monitor.part(0.0, 0.5),
        )
        warm = core_run.prices
        monitor = monitor.part(0.5, 1.0)  # the core's iterations were the first half
        if (int(core_run.chosen.size), int(arcs.score[core_run.chosen].sum())) > (
            int(start.size),
            int(arcs.score[start].sum()),
        ):
            start = core_run.chosen  # feasible for the whole component too
    scores = arcs.score
    local_progs = np.unique(arcs.programme[idx])
    caps = programme_remaining[local_progs]
    best_arc = np.zeros(int(arcs.mentee[idx].max()) + 1, dtype=np.int64)
    np.maximum.at(best_arc, arcs.mentee[idx], scores[idx])
    big = 0 if quality_first else int(best_arc.sum()) + 1
    best = start

    def value(sol: IntArray) -> tuple[int, int]:
        return (0 if quality_first else int(sol.size), int(scores[sol].sum()))

    # The relaxation is the subproblem without prices: its value is the first bound.
    relaxed_value = big * int(relaxed.size) + int(scores[relaxed].sum())
    bound_count: int | None = None if quality_first else relaxed_value // big
    bound_value: int | None = relaxed_value - big * value(best)[0]
    prices = np.zeros(programme_remaining.size, dtype=np.float64) if warm is None else warm
    kept_prices, kept_big, kept_value = prices.copy(), big, relaxed_value
    count_proven = quality_first
    theta = 1.0
    stall = 0
    for it in range(iterations):
        monitor.checkpoint(it / iterations)
        if it > 0 and time.perf_counter() >= deadline:
            break
        lam = np.round(prices).astype(np.int64)
        if it == 0 and warm is None:
            # No prices: the subproblem is the flow relaxation, already solved.
            sub_chosen, sub_value = relaxed, relaxed_value
        else:
            sub_chosen, sub_value = _lagrange_step(
                arcs, idx, lam, big, mentor_remaining, programme_remaining
            )
            kept, _ = reassign(arcs, idx, sub_chosen, programme_remaining)
            candidate = residual_repair(
                arcs, idx, kept, mentor_remaining, programme_remaining, quality_first
            )
            if value(candidate) > value(best):
                best = candidate
        lagrange = sub_value + int((lam[local_progs] * caps).sum())
        count, score = value(best)
        improved = False
        if not quality_first and big > 0:
            c_bound = lagrange // big
            if bound_count is None or c_bound < bound_count:
                bound_count, improved = c_bound, True
            if not count_proven and lagrange < kept_value:
                kept_prices, kept_value = prices.copy(), lagrange
        s_bound = lagrange - big * count
        if bound_value is None or s_bound < bound_value:
            bound_value, improved = s_bound, True
        if not count_proven and bound_count is not None and count >= bound_count:
            # Count proven: from now on ``big`` prices ``count ≥ c``, on the scale of
            # one arc's score; the programme prices follow.
            count_proven = True
            new_big = int(scores[idx].max()) + 1
            prices *= new_big / big
            big = new_big
            continue
        if count_proven and bound_value <= score:
            break  # optimal
        stall = 0 if improved else stall + 1
        if stall >= 2:
            theta, stall = theta / 2, 0
        load = np.bincount(arcs.programme[sub_chosen], minlength=programme_remaining.size)
        grad = np.zeros(programme_remaining.size, dtype=np.float64)
        grad[local_progs] = load[local_progs] - caps
        grad[(prices <= 0) & (grad < 0)] = 0.0
        grad_big = 0.0
        if count_proven and not quality_first:
            grad_big = float(count - int(sub_chosen.size))  # d L / d big, minimised
        norm = float((grad**2).sum()) + grad_big**2
        if norm == 0:
            break  # the subproblem solution is feasible: L is its value
        target = big * count + score
        step = theta * max(lagrange - target, 1) / norm
        prices = np.maximum(0.0, prices + step * grad)
        if grad_big:
            big = max(0, round(big + step * grad_big))
    count, score = value(best)
    if bound_value is None:  # pragma: no cover - at least one iteration runs
        raise RuntimeError("no Lagrangian iteration")
    b_score = max(score, bound_value)
    if quality_first:
        # The count is not optimised: report the relaxation's, as elsewhere.
        size = int(best.size)
        return LagrangeResult(
            np.sort(best), score >= b_score, max(size, relaxed.size), b_score, prices, big
        )
    b_count = max(count, int(bound_count if bound_count is not None else count))
    proven = count >= b_count and score >= b_score
    return LagrangeResult(np.sort(best), proven, b_count, b_score, kept_prices, kept_big)
