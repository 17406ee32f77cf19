"""Exact selection of proposals among candidate arcs.

Formulation, and why
--------------------
Choosing arcs so that each young person gets at most one, each mentor at most their
remaining capacity and each programme at most its remaining capacity is an integer
programme with three families of "at most" constraints. Without the programme family
it is a bipartite b-matching, i.e. a min-cost flow

    source -1-> mentee -(1, −score)-> mentor -(remaining)-> sink

whose ``solve_max_flow_with_min_cost`` gives exactly the lexicographic objective
(maximum flow = most young people matched, then minimum cost = maximum total score);
integer scores keep it exact, and network simplex/cost scaling solves millions of arcs
in seconds where a generic MIP or CP-SAT does not prove optimality in a minute.

Programme capacity keeps the network structure when a mentor's arcs all belong to one
programme: the mentor then routes through a programme node (``mentor -> programme ->
sink``). A mentor active in several programmes routes straight to the sink, so the
flow is a *relaxation*: its optimum is a valid bound. Then:

1. if no programme capacity is exceeded, the relaxation is feasible, hence optimal;
2. otherwise, in each affected connected component, the chosen (mentee, mentor) pairs
   are re-assigned to programmes by a second small flow that prefers equal-score
   options; if every pair fits at no loss, the bound is reached: optimal again;
3. otherwise, that component only is solved as an integer programme: first its LP
   relaxation, by column generation (:mod:`app.matching.colgen`: solved on a few arcs
   per young person, priced by its duals over every arc of the component, grown until
   no arc of positive reduced cost is left, each round warm-started by HiGHS). The
   constraint matrix is a network plus a few programme rows, so the LP optimum is
   almost always integral: it is then optimal (measured: 0.3 s where SCIP took 3 s and
   CP-SAT did not prove optimality in 30 s on an 18k-arc component, with the full LP;
   the column generation is faster still). A fractional optimum is rounded (its arcs
   at 1 kept, the young people of its fractional arcs matched exactly by SCIP), proven
   when that reaches the LP's bound, or lifted to it by the integer optimum on the
   LP's optimal face (reduced-cost fixing); else SCIP solves the component up to
   ``MIP_MAX_ARCS`` (maximising ``big × count + score``, in one solve or, on large
   values, count then score: see :mod:`app.matching.integer`), hinted with the
   rounded solution; beyond, the rounded solution is kept with the LP's bounds. SCIP
   stops at ``MIP_NODE_LIMIT`` nodes (a work limit); every solver stops at the safety
   limit ``Policy.mip_time_limit_s``; the best solution is then kept and the proven gap
   reported;
4. components beyond ``MIP_MAX_ARCS`` the column generation could not finish (work
   limit, time limit) get a
   Lagrangian search on their programme rows (:mod:`app.matching.lagrangian`): each
   iteration is one flow, like the relaxation, with programme prices on the arcs; its
   value bounds the component (much tighter than the flow: multi-programme mentors no
   longer pass units to a programme the young person is not eligible for, once
   priced), and its solution, re-assigned and repaired, is a feasible one. It stops
   when both sides meet (optimal) or after ``LAGRANGE_ITERATIONS`` (a work limit: the
   answer does not depend on the machine's load; the policy's time limit is only a
   safety stop).
   With the lexicographic objective, the largest components start from the prices
   of a few cheap iterations on their core (each young person's three best arcs).

Components (mentees, mentors and programmes linked by candidate arcs; in practice
territories) are independent problems. The relaxation is solved component by component
(small ones pooled into one call): the same optimum as one flow over their union, and
several times faster at national scale, since cost scaling is superlinear in the graph
size. Repair, LP and MIP work only on the components that need it, smallest first.

``quality_first`` adds a zero-cost ``source -> sink`` bypass and solves a balanced
min-cost flow, i.e. maximises the total score whatever the count.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from app.matching.arrays import BoolArray, FloatArray, IntArray
from app.matching.candidates import CandidateArcs
from app.matching.colgen import colgen_lp
from app.matching.flows import (
    components,
    greedy_fill,
    reassign,
    relaxation_by_component,
    residual_repair,
    score_cap,
)
from app.matching.integer import MIP_MAX_ARCS, LpResult, solve_mip
from app.matching.lagrangian import lagrangian
from app.matching.monitor import UNWATCHED, Monitor

OPTIMAL = "optimal"
FEASIBLE = "feasible"


@dataclasses.dataclass(frozen=True, slots=True)
class SolveOutcome:
    chosen: IntArray
    """Indices of the selected arcs, ascending."""
    status: str
    """``optimal`` when proven optimal on the candidate graph, else ``feasible``."""
    bound_matched: int
    bound_score: int
    components: int
    relaxation_exact: bool
    """True when the flow relaxation was feasible as is (no programme capacity binding)."""
    mip_components: int
    seconds_build: float
    seconds_solve: float
    relaxed: IntArray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    """The flow relaxation's solution (optimal for ``big + score`` weights, no prices)."""
    count_prices: FloatArray = dataclasses.field(default_factory=lambda: np.zeros(0))
    """Programme prices found by the LP or Lagrangian search, per unit of count weight
    (0 where none was needed); used for the dual certificate (:mod:`app.matching.duals`)."""
    score_prices: FloatArray = dataclasses.field(default_factory=lambda: np.zeros(0))
    """Programme prices in score points, beyond ``count_prices``."""
    time_limit_hit: bool = False
    """The safety time limit (``Policy.mip_time_limit_s``) stopped a search: the answer
    may then depend on the machine's load."""
    labels: IntArray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    """Component of each arc; the three arrays below are indexed by component."""
    component_matched: IntArray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    """Bound on the count of each component."""
    component_score: IntArray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    """Bound on the score of each component (at its count bound)."""
    component_proven: BoolArray = dataclasses.field(default_factory=lambda: np.zeros(0, np.bool_))


def solve_arcs(
    arcs: CandidateArcs,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    mip_time_limit_s: float,
    monitor: Monitor = UNWATCHED,
) -> SolveOutcome:
    """Select arcs; see the module docstring for the method."""
    if len(arcs) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return SolveOutcome(empty, OPTIMAL, 0, 0, 0, True, 0, 0.0, 0.0)
    t0 = time.perf_counter()
    labels = components(
        arcs, int(arcs.mentee.max()) + 1, mentor_remaining.size, programme_remaining.size
    )
    n_components = int(np.unique(labels).size)
    n_labels = int(labels.max()) + 1
    chosen, build_s = relaxation_by_component(
        arcs, labels, mentor_remaining, programme_remaining, quality_first, monitor.part(0, 0.5)
    )
    relax_count = int(chosen.size)
    relax_score = int(arcs.score[chosen].sum())
    load = np.bincount(arcs.programme[chosen], minlength=programme_remaining.size)
    over = np.flatnonzero(load > programme_remaining)
    count_prices = np.zeros(programme_remaining.size)
    score_prices = np.zeros(programme_remaining.size)
    comp_bc = np.bincount(labels[chosen], minlength=n_labels).astype(np.int64)
    comp_bs = np.bincount(
        labels[chosen], weights=arcs.score[chosen].astype(np.float64), minlength=n_labels
    ).astype(np.int64)
    comp_proven = np.ones(n_labels, dtype=np.bool_)
    if over.size == 0:
        solve_s = time.perf_counter() - t0 - build_s
        return SolveOutcome(
            chosen,
            OPTIMAL,
            relax_count,
            relax_score,
            n_components,
            True,
            0,
            build_s,
            solve_s,
            chosen,
            count_prices,
            score_prices,
            False,
            labels,
            comp_bc,
            comp_bs,
            comp_proven,
        )

    # A safety stop only: work limits (iterations, nodes) bound every search.
    deadline = time.perf_counter() + mip_time_limit_s
    affected = np.unique(labels[np.isin(arcs.programme, over)])
    in_affected: BoolArray = np.isin(labels, affected)
    result = [chosen[~in_affected[chosen]]]
    proven_all = True
    bound_count, bound_score = relax_count, relax_score
    mip_components = 0
    lagrange: list[tuple[int, IntArray, IntArray, IntArray, tuple[int, int], int | None]] = []
    # Smallest components first: within the time limit, prove as many as possible.
    sizes = np.bincount(labels)[affected]
    exact_part, lagrange_part = monitor.part(0.5, 0.7), monitor.part(0.7, 1.0)
    seen, total = 0, int(sizes.sum())
    for c in affected[np.lexsort((affected, sizes))].tolist():
        exact_part.checkpoint(seen / total)
        idx = np.flatnonzero(labels == c)
        this_part = exact_part.part(seen / total, (seen + idx.size) / total)
        seen += idx.size
        chosen_c = chosen[labels[chosen] == c]
        kept, exact = reassign(arcs, idx, chosen_c, programme_remaining)
        if exact:
            result.append(kept)
            continue
        mip_components += 1
        relaxed = (int(chosen_c.size), int(arcs.score[chosen_c].sum()))
        kept = residual_repair(
            arcs, idx, kept, mentor_remaining, programme_remaining, quality_first
        )
        reached = (int(kept.size), int(arcs.score[kept].sum()))
        if reached == relaxed or (quality_first and reached[1] == relaxed[1]):
            result.append(kept)  # the bound is reached: optimal
            continue
        tried = time.perf_counter() < deadline
        lp = (
            colgen_lp(
                arcs,
                idx,
                np.r_[chosen_c, kept],
                mentor_remaining,
                programme_remaining,
                quality_first,
                deadline,
                this_part,
            )
            if tried
            else LpResult(None, None)
        )
        if lp.programmes.size:
            count_prices[lp.programmes] = lp.count_prices
            score_prices[lp.programmes] = lp.score_prices
        exact_lp = lp.chosen
        if exact_lp is not None:
            result.append(exact_lp)
            bound_count -= relaxed[0] - int(exact_lp.size)
            comp_bc[c] -= relaxed[0] - int(exact_lp.size)
            bound_score -= relaxed[1] - int(arcs.score[exact_lp].sum())
            comp_bs[c] -= relaxed[1] - int(arcs.score[exact_lp].sum())
            continue
        mip_ok = idx.size <= MIP_MAX_ARCS
        if lp.incumbent is not None and lp.bound_score is not None and not mip_ok:
            # A fractional LP over every arc of a large component: its bounds are far
            # tighter than the Lagrangian's, and its rounded solution is kept.
            reached = (int(lp.incumbent.size), int(arcs.score[lp.incumbent].sum()))
            count_b = reached[0] if lp.bound_matched is None else lp.bound_matched
            score_b = lp.bound_score
            if reached[0] < count_b:  # the LP's score holds at its count only
                score_b = score_cap(arcs, idx, mentor_remaining, programme_remaining)
            result.append(lp.incumbent)
            proven_all = comp_proven[c] = False
            bound_count -= relaxed[0] - count_b
            comp_bc[c] -= relaxed[0] - count_b
            bound_score -= relaxed[1] - score_b
            comp_bs[c] -= relaxed[1] - score_b
            continue
        if not tried or not mip_ok or time.perf_counter() >= deadline:
            lagrange.append((c, idx, chosen_c, kept, relaxed, lp.bound_matched))
            continue
        if lp.bound_matched is not None and lp.bound_matched < relaxed[0]:
            # The LP bounds the count tighter than the flow (the score bound is then
            # recomputed by the MIP, see there).
            bound_count -= relaxed[0] - lp.bound_matched
            comp_bc[c] -= relaxed[0] - lp.bound_matched
            cap = score_cap(arcs, idx, mentor_remaining, programme_remaining)
            bound_score += cap - relaxed[1]
            comp_bs[c] += cap - relaxed[1]
            relaxed = (lp.bound_matched, cap)
        hint = (
            lp.incumbent
            if lp.incumbent is not None
            else greedy_fill(arcs, idx, kept, mentor_remaining, programme_remaining)
        )
        mip = solve_mip(
            arcs, idx, hint, mentor_remaining, programme_remaining, quality_first, relaxed, deadline
        )
        result.append(mip.chosen)
        proven_all &= mip.proven
        comp_proven[c] &= mip.proven
        bound_count -= relaxed[0] - mip.bound_matched
        comp_bc[c] -= relaxed[0] - mip.bound_matched
        bound_score -= relaxed[1] - mip.bound_score
        comp_bs[c] -= relaxed[1] - mip.bound_score
    # Components too large for the LP: Lagrangian search, a fixed number of iterations
    # each (a work limit: the answer does not depend on the machine's load).
    for done, item in enumerate(lagrange):
        c, idx, chosen_c, kept, relaxed, lp_count = item
        lag = lagrangian(
            arcs,
            idx,
            chosen_c,
            kept,
            mentor_remaining,
            programme_remaining,
            quality_first,
            deadline,
            monitor=lagrange_part.part(done / len(lagrange), (done + 1) / len(lagrange)),
        )
        local = np.unique(arcs.programme[idx])
        if lag.big:
            count_prices[local] = lag.prices[local] / lag.big
            score_prices[local] = 0.0
        else:
            score_prices[local] = lag.prices[local]
        reached = (int(lag.chosen.size), int(arcs.score[lag.chosen].sum()))
        lag_count = lag.bound_matched
        if lp_count is not None:
            lag_count = max(reached[0], min(lag_count, lp_count))
        result.append(lag.chosen)
        proven_all &= lag.proven or (reached[0] >= lag_count and reached[1] >= lag.bound_score)
        comp_proven[c] &= lag.proven or (reached[0] >= lag_count and reached[1] >= lag.bound_score)
        bound_count -= relaxed[0] - lag_count
        comp_bc[c] -= relaxed[0] - lag_count
        bound_score -= relaxed[1] - lag.bound_score
        comp_bs[c] -= relaxed[1] - lag.bound_score
    final = np.sort(np.concatenate(result))
    solve_s = time.perf_counter() - t0 - build_s
    return SolveOutcome(
        final,
        OPTIMAL if proven_all else FEASIBLE,
        bound_count,
        bound_score,
        n_components,
        False,
        mip_components,
        build_s,
        solve_s,
        chosen,
        count_prices,
        score_prices,
        time.perf_counter() >= deadline,
        labels,
        comp_bc,
        comp_bs,
        comp_proven,
    )
