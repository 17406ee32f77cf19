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
3. otherwise, that component only is solved as an integer programme. Up to
   ``LP_MAX_ARCS``: first its LP relaxation with GLOP (network rows plus a few
   programme rows: the LP optimum is almost always integral, and then it is optimal —
   measured: 0.3 s where SCIP took 3 s and CP-SAT did not prove optimality in 30 s on
   an 18k-arc component); if the LP optimum is fractional, SCIP up to ``MIP_MAX_ARCS``
   (two phases for the lexicographic objective: most matches, then best score at that
   count), hinted with the repaired solution and bounded by the relaxation. Both run
   under ``Policy.mip_time_limit_s``; when it is hit, the best solution is kept and
   the proven gap reported;
4. larger components (and those left when time ran out) get a Lagrangian search on
   their programme rows (see :func:`_lagrangian`): each iteration is one flow, like
   the relaxation, with programme prices on the arcs; its value bounds the component
   (much tighter than the flow: multi-programme mentors no longer pass units to a
   programme the young person is not eligible for, once priced), and its solution,
   re-assigned and repaired, is a feasible one. It stops when both sides meet
   (optimal), after ``LAGRANGE_ITERATIONS`` or at the end of ``LAGRANGE_BUDGET_S``,
   shared among components in proportion to what their repaired solution misses.
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
import importlib
import time
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.linear_solver import pywraplp
from scipy.sparse import coo_matrix, csr_matrix, vstack
from scipy.sparse.csgraph import connected_components

from app.matching.arrays import BoolArray, FloatArray, IntArray
from app.matching.candidates import CandidateArcs

LP_MAX_ARCS = 40_000
"""Largest component whose LP relaxation is attempted (GLOP: 1.5 s at 60k arcs, 5 s at
100k, 60 s at 500k on the national benchmark)."""
MIP_MAX_ARCS = 60_000
"""Largest component handed to SCIP when its LP optimum is fractional."""
LAGRANGE_ITERATIONS = 12
"""Subgradient iterations of the Lagrangian search on a component (each one flow)."""
CORE_MIN_ARCS = 400_000
"""Components from this size start their Lagrangian search on their core (measured on
the benchmark: it pays at 490k arcs, where a priced flow takes 2.5–3.5 s, not at
300k, where plain iterations reach a better bound within the same time; nor for
``quality_first``: 0.38 % gap nationally against 0.11 % without)."""
CORE_ARCS = 3
CORE_ITERATIONS = 6
LAGRANGE_BUDGET_S = 8.0
"""Wall-clock budget of the Lagrangian searches of one run (within the policy's time
limit), shared among the components in proportion to their size."""
RELAXATION_BATCH_ARCS = 20_000
"""Components smaller than this share one flow solve (fewer solver calls)."""

# Loaded dynamically: its bundled type stub is partial (wrong array types) and, once
# seen by mypy, hides the untyped rest of ``ortools.linear_solver``.
mbh: Any = importlib.import_module("ortools.linear_solver.python.model_builder_helper")

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


def _components(arcs: CandidateArcs, n_mentees: int, n_mentors: int, n_progs: int) -> IntArray:
    """Component label of every arc (mentees, mentors and programmes as nodes)."""
    n = n_mentees + n_mentors + n_progs
    rows = np.concatenate([arcs.mentee, arcs.mentee])
    cols = np.concatenate([n_mentees + arcs.mentor, n_mentees + n_mentors + arcs.programme])
    graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    del count
    return np.asarray(labels[arcs.mentee], dtype=np.int64)


def _single_programme_mentors(arcs: CandidateArcs, n_mentors: int) -> IntArray:
    """Programme of each mentor whose arcs all belong to one programme, else -1."""
    lo = np.full(n_mentors, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n_mentors, -1, dtype=np.int64)
    np.minimum.at(lo, arcs.mentor, arcs.programme)
    np.maximum.at(hi, arcs.mentor, arcs.programme)
    return np.where(lo == hi, hi, -1)


def _flow(
    tails: IntArray,
    heads: IntArray,
    caps: IntArray,
    costs: IntArray,
    n_nodes: int,
    supply: int,
    bypass: bool,
) -> tuple[min_cost_flow.SimpleMinCostFlow, IntArray]:
    """Min-cost flow from node 0 (source) to node 1 (sink); returns solver and arc ids."""
    smcf = min_cost_flow.SimpleMinCostFlow()
    if bypass:
        tails, heads = np.r_[tails, 0], np.r_[heads, 1]
        caps, costs = np.r_[caps, supply], np.r_[costs, 0]
    ids = np.asarray(smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs))
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[0], supplies[1] = supply, -supply
    smcf.set_nodes_supplies(np.arange(n_nodes), supplies)
    status = smcf.solve() if bypass else smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    return smcf, ids


def _relaxation(
    arcs: CandidateArcs,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
) -> tuple[IntArray, float]:
    """Arcs chosen by the flow relaxation, and the seconds spent building it.

    Nodes are numbered compactly (only the mentees, mentors and programmes that appear
    in ``arcs``), so a call on a small subset of the arcs costs in proportion to it."""
    t0 = time.perf_counter()
    n_m = mentor_remaining.size
    # Best arc per (mentee, mentor): arcs are sorted by mentee then score desc, so the
    # first occurrence of each pair is its best programme option.
    _, pair_arc = np.unique(arcs.mentee * n_m + arcs.mentor, return_index=True)
    pair_arc = np.sort(pair_arc)
    used_mentees, e_of = np.unique(arcs.mentee[pair_arc], return_inverse=True)
    used_mentors, m_of = np.unique(arcs.mentor[pair_arc], return_inverse=True)
    single = _single_programme_mentors(arcs, n_m)
    routed = single[used_mentors]
    via_p = routed >= 0
    used_progs, p_of = np.unique(routed[via_p], return_inverse=True)
    n_e, n_mm, n_pp = used_mentees.size, used_mentors.size, used_progs.size
    mentor_head = np.ones(n_mm, dtype=np.int64)
    mentor_head[via_p] = 2 + n_e + n_mm + p_of
    tails = np.concatenate(
        [
            np.zeros(n_e, dtype=np.int64),
            2 + e_of,
            2 + n_e + np.arange(n_mm),
            2 + n_e + n_mm + np.arange(n_pp),
        ]
    )
    heads = np.concatenate(
        [
            2 + np.arange(n_e),
            2 + n_e + m_of,
            mentor_head,
            np.ones(n_pp, dtype=np.int64),
        ]
    )
    caps = np.concatenate(
        [
            np.ones(n_e + pair_arc.size, dtype=np.int64),
            mentor_remaining[used_mentors],
            programme_remaining[used_progs],
        ]
    )
    costs = np.zeros(tails.size, dtype=np.int64)
    costs[n_e : n_e + pair_arc.size] = -arcs.score[pair_arc]
    t1 = time.perf_counter()
    smcf, ids = _flow(tails, heads, caps, costs, 2 + n_e + n_mm + n_pp, n_e, quality_first)
    flows = np.asarray(smcf.flows(ids[n_e : n_e + pair_arc.size]))
    return pair_arc[flows > 0], t1 - t0


def _batches(labels: IntArray, min_arcs: int = RELAXATION_BATCH_ARCS) -> list[IntArray]:
    """Arc indices grouped by component, small components pooled up to ``min_arcs``."""
    order = np.argsort(labels, kind="stable")
    starts = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1]])
    ends = np.r_[starts[1:], order.size]
    out: list[IntArray] = []
    pending: list[IntArray] = []
    size = 0
    for s, t in zip(starts.tolist(), ends.tolist(), strict=True):
        pending.append(order[s:t])
        size += t - s
        if size >= min_arcs:
            out.append(np.sort(np.concatenate(pending)))
            pending, size = [], 0
    if pending:
        out.append(np.sort(np.concatenate(pending)))
    return out


def _relaxation_by_component(
    arcs: CandidateArcs,
    labels: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
) -> tuple[IntArray, float]:
    """The flow relaxation solved component by component (same optimum as one flow over
    their union, several times faster: cost scaling is superlinear in the graph size)."""
    chosen: list[IntArray] = []
    build_s = 0.0
    for idx in _batches(labels):
        part, b = _relaxation(
            _subset(arcs, idx), mentor_remaining, programme_remaining, quality_first
        )
        chosen.append(idx[part])
        build_s += b
    return np.sort(np.concatenate(chosen)), build_s


def _reassign(
    arcs: CandidateArcs, idx: IntArray, chosen: IntArray, programme_remaining: IntArray
) -> tuple[IntArray, bool]:
    """Re-assign programmes of the chosen (mentee, mentor) pairs within capacities.

    ``idx``: the component's arcs; ``chosen``: relaxation arcs in it. Returns the arcs
    kept and whether all pairs fitted at no score loss (then the bound is reached)."""
    n_m = int(arcs.mentor.max()) + 1
    pair_key = arcs.mentee[chosen] * n_m + arcs.mentor[chosen]
    key = arcs.mentee[idx] * n_m + arcs.mentor[idx]
    options = idx[np.isin(key, pair_key)]
    opt_pair = np.searchsorted(np.sort(pair_key), arcs.mentee[options] * n_m + arcs.mentor[options])
    order = np.argsort(pair_key)
    best = arcs.score[chosen][order]
    progs, prog_node = np.unique(arcs.programme[options], return_inverse=True)
    n_pairs = chosen.size
    tails = np.concatenate(
        [np.zeros(n_pairs, dtype=np.int64), 2 + opt_pair, 2 + n_pairs + np.arange(progs.size)]
    )
    heads = np.concatenate(
        [2 + np.arange(n_pairs), 2 + n_pairs + prog_node, np.ones(progs.size, dtype=np.int64)]
    )
    caps = np.concatenate(
        [np.ones(n_pairs + options.size, dtype=np.int64), programme_remaining[progs]]
    )
    costs = np.concatenate(
        [
            np.zeros(n_pairs, dtype=np.int64),
            best[opt_pair] - arcs.score[options],
            np.zeros(progs.size, dtype=np.int64),
        ]
    )
    smcf, ids = _flow(tails, heads, caps, costs, 2 + n_pairs + progs.size, n_pairs, False)
    flows = np.asarray(smcf.flows(ids[n_pairs : n_pairs + options.size]))
    kept = np.sort(options[flows > 0])
    return kept, kept.size == n_pairs and smcf.optimal_cost() == 0


def _subset(arcs: CandidateArcs, sub: IntArray) -> CandidateArcs:
    return dataclasses.replace(
        arcs,
        mentee=arcs.mentee[sub],
        mentor=arcs.mentor[sub],
        programme=arcs.programme[sub],
        need=arcs.need[sub],
        remote=arcs.remote[sub],
        distance_km=arcs.distance_km[sub],
        shared_languages=arcs.shared_languages[sub],
        score=arcs.score[sub],
    )


def _residual_repair(
    arcs: CandidateArcs,
    idx: IntArray,
    kept: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    rounds: int = 4,
) -> IntArray:
    """Grow a feasible solution: solve the flow relaxation again on the capacity left
    for the young people still unmatched, re-assign programmes, repeat. Fast, and
    usually within a fraction of a percent of the bound."""
    current = kept
    n_e = int(arcs.mentee.max()) + 1
    for _ in range(rounds):
        mentor_left = mentor_remaining - np.bincount(
            arcs.mentor[current], minlength=mentor_remaining.size
        )
        prog_left = programme_remaining - np.bincount(
            arcs.programme[current], minlength=programme_remaining.size
        )
        matched = np.zeros(n_e, dtype=np.bool_)
        matched[arcs.mentee[current]] = True
        sub = idx[
            ~matched[arcs.mentee[idx]]
            & (mentor_left[arcs.mentor[idx]] > 0)
            & (prog_left[arcs.programme[idx]] > 0)
        ]
        if sub.size == 0:
            break
        part = _subset(arcs, sub)
        chosen, _ = _relaxation(part, mentor_left, prog_left, quality_first)
        if chosen.size == 0:
            break
        fitted, _ = _reassign(part, np.arange(sub.size), chosen, prog_left)
        if fitted.size == 0:
            break
        current = np.sort(np.concatenate([current, sub[fitted]]))
    return current


def _greedy_fill(
    arcs: CandidateArcs,
    idx: IntArray,
    kept: IntArray,
    mentor_left: IntArray,
    programme_left: IntArray,
) -> IntArray:
    """Add arcs of unmatched mentees while capacity remains (best score first)."""
    mentor_left = mentor_left.copy()
    programme_left = programme_left.copy()
    np.subtract.at(mentor_left, arcs.mentor[kept], 1)
    np.subtract.at(programme_left, arcs.programme[kept], 1)
    matched = set(arcs.mentee[kept].tolist())
    extra: list[int] = []
    order = idx[np.lexsort((idx, -arcs.score[idx]))]
    for a in order.tolist():
        e, m, p = int(arcs.mentee[a]), int(arcs.mentor[a]), int(arcs.programme[a])
        if e not in matched and mentor_left[m] > 0 and programme_left[p] > 0:
            matched.add(e)
            mentor_left[m] -= 1
            programme_left[p] -= 1
            extra.append(a)
    return np.sort(np.concatenate([kept, np.array(extra, dtype=np.int64)]))


@dataclasses.dataclass(frozen=True, slots=True)
class _LagrangeResult:
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
    sub = dataclasses.replace(_subset(arcs, idx[order]), score=weight[order])
    # Bypass on (maximum total weight, whatever the count); single-programme mentors
    # keep their programme node, a valid constraint that only tightens the bound.
    part, _ = _relaxation(sub, mentor_remaining, programme_remaining, True)
    return idx[order[part]], int(weight[order[part]].sum())


def _core_prices(
    arcs: CandidateArcs,
    idx: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    deadline: float,
) -> _LagrangeResult:
    """Lagrangian search on the core of a large component (each young person's
    ``CORE_ARCS`` best arcs), to start the search on the whole component from its
    prices: they transfer well (on the largest national component, five iterations on
    the core then one flow on the whole give the bound twelve whole iterations give),
    and core flows are several times cheaper."""
    mentee = arcs.mentee[idx]  # arcs are sorted by mentee, best score first
    starts = np.flatnonzero(np.r_[True, mentee[1:] != mentee[:-1]])
    rank = np.arange(idx.size) - np.repeat(starts, np.diff(np.r_[starts, idx.size]))
    core = idx[rank < CORE_ARCS]
    part, _ = _relaxation(_subset(arcs, core), mentor_remaining, programme_remaining, quality_first)
    relaxed = core[part]
    kept, _ = _reassign(arcs, core, relaxed, programme_remaining)
    start = _residual_repair(arcs, core, kept, mentor_remaining, programme_remaining, quality_first)
    return _lagrangian(
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
    )


def _lagrangian(
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
) -> _LagrangeResult:
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
    :func:`_core_prices`, unless ``use_core`` is false). Deterministic but for the
    deadline, checked between iterations."""
    if use_core and warm is None and not quality_first and idx.size >= CORE_MIN_ARCS:
        core_run = _core_prices(
            arcs, idx, mentor_remaining, programme_remaining, quality_first, deadline
        )
        warm = core_run.prices
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
            kept, _ = _reassign(arcs, idx, sub_chosen, programme_remaining)
            candidate = _residual_repair(
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
        return _LagrangeResult(
            np.sort(best), score >= b_score, max(size, relaxed.size), b_score, prices, big
        )
    b_count = max(count, int(bound_count if bound_count is not None else count))
    proven = count >= b_count and score >= b_score
    return _LagrangeResult(np.sort(best), proven, b_count, b_score, kept_prices, kept_big)


def _score_cap(
    arcs: CandidateArcs, idx: IntArray, mentor_remaining: IntArray, programme_remaining: IntArray
) -> int:
    """Best total score of the component whatever the count (flow relaxation with a
    bypass): a valid score bound for any objective."""
    part, _ = _relaxation(_subset(arcs, idx), mentor_remaining, programme_remaining, True)
    return int(arcs.score[idx[part]].sum())


@dataclasses.dataclass(frozen=True, slots=True)
class _MipResult:
    chosen: IntArray
    proven: bool
    bound_matched: int
    bound_score: int


def _model(
    kind: str,
    arcs: CandidateArcs,
    idx: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
) -> tuple[pywraplp.Solver, list[pywraplp.Variable]]:
    """The component's integer programme (``SCIP``) or its LP relaxation (``GLOP``)."""
    solver = pywraplp.Solver.CreateSolver(kind)
    if solver is None:  # pragma: no cover - both ship with OR-Tools wheels
        raise RuntimeError(f"{kind} is not available in this OR-Tools build")
    binary = kind != "GLOP"
    x = [solver.BoolVar("") if binary else solver.NumVar(0.0, 1.0, "") for _ in range(idx.size)]
    for column, limits in (
        (arcs.mentee[idx], None),
        (arcs.mentor[idx], mentor_remaining),
        (arcs.programme[idx], programme_remaining),
    ):
        order = np.argsort(column, kind="stable")
        groups, starts = np.unique(column[order], return_index=True)
        ends = np.r_[starts[1:], order.size]
        for g, s, t in zip(groups.tolist(), starts.tolist(), ends.tolist(), strict=True):
            cap = 1 if limits is None else int(limits[g])
            if t - s <= cap:
                continue  # never binding
            ct = solver.Constraint(0, cap)
            for j in order[s:t].tolist():
                ct.SetCoefficient(x[j], 1)
    return solver, x


def _constraint_rows(
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


@dataclasses.dataclass(frozen=True, slots=True)
class _LpResult:
    chosen: IntArray | None
    """The LP optimum when it is integral (then optimal for the integer programme)."""
    bound_matched: int | None
    """Upper bound on the count (lexicographic) from the LP value, when solved."""


def _lp(
    arcs: CandidateArcs,
    idx: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    deadline: float,
) -> _LpResult:
    """Solve the LP relaxation (GLOP, model built from sparse arrays).

    The constraint matrix is a network plus a few programme rows, so the LP optimum is
    usually integral: it is then optimal for the integer programme, with the LP as
    proof. The lexicographic objective is scalarised as ``big × count + score`` with
    ``big`` above any total score, which orders LP solutions lexicographically; when
    the optimum is fractional, ``floor(value / big)`` still bounds the count."""
    matrix, rhs = _constraint_rows(arcs, idx, mentor_remaining, programme_remaining)
    scores = arcs.score[idx]
    big = 0.0
    if not quality_first:
        best = np.zeros(int(arcs.mentee[idx].max()) + 1, dtype=np.int64)
        np.maximum.at(best, arcs.mentee[idx], scores)
        big = float(best.sum() + 1)
    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        np.zeros(idx.size),
        np.ones(idx.size),
        big + scores.astype(np.float64),
        np.full(rhs.size, -np.inf),
        rhs,
        matrix,
    )
    model.set_maximize(True)
    solver = mbh.ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(max(0.001, deadline - time.perf_counter()))
    solver.solve(model)
    if solver.status() != mbh.SolveStatus.OPTIMAL:
        return _LpResult(None, None)
    bound = None
    if not quality_first:
        bound = int(np.floor(solver.objective_value() / big + 1e-9))
    values = np.asarray(solver.variable_values())
    if np.any(np.abs(values - np.round(values)) > 1e-6):
        return _LpResult(None, bound)
    return _LpResult(np.sort(idx[values > 0.5]), bound)


def _mip(
    arcs: CandidateArcs,
    idx: IntArray,
    hint: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    relaxed: tuple[int, int],
    deadline: float,
) -> _MipResult:
    """Exact integer programme of one component (SCIP), hinted with ``hint``."""
    solver, x = _model("SCIP", arcs, idx, mentor_remaining, programme_remaining)
    hint_set = set(hint.tolist())
    values = [1.0 if a in hint_set else 0.0 for a in idx.tolist()]
    current = values
    relaxed_count, relaxed_score = relaxed
    bound_count = relaxed_count
    proven = True
    # OPTIMAL must mean optimal: no relative gap tolerance (the default is 1e-4).
    exact = pywraplp.MPSolverParameters()
    exact.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, 0.0)

    def run(coefficients: list[float]) -> tuple[bool, float, list[float]] | None:
        remaining_ms = int(max(0.0, deadline - time.perf_counter()) * 1000)
        if remaining_ms <= 0:
            return None
        objective = solver.Objective()
        for var, c in zip(x, coefficients, strict=True):
            objective.SetCoefficient(var, c)
        objective.SetMaximization()
        solver.SetHint(x, current)
        solver.SetTimeLimit(remaining_ms)
        status = solver.Solve(exact)
        if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            return None
        sol = [1.0 if v.solution_value() > 0.5 else 0.0 for v in x]
        return status == pywraplp.Solver.OPTIMAL, objective.BestBound(), sol

    scores = arcs.score[idx].astype(float).tolist()
    if not quality_first and sum(values) < relaxed_count:
        out = run([1.0] * len(x))
        if out is None:
            proven = False
        else:
            ok, bound, sol = out
            if sum(sol) >= sum(current):
                current = sol
            bound_count = min(relaxed_count, int(np.floor(bound + 1e-6)))
            proven = ok
    count = int(sum(current))
    # The relaxation's score is its best at *its* count: it bounds the score of
    # solutions of that count only. Below it (the optimum may match fewer), the
    # best score whatever the count is the valid bound.
    bound_score = (
        relaxed_score
        if quality_first or count >= relaxed_count
        else _score_cap(arcs, idx, mentor_remaining, programme_remaining)
    )
    if quality_first or proven:
        if not quality_first:
            floor_ct = solver.Constraint(count, solver.infinity())
            for var in x:
                floor_ct.SetCoefficient(var, 1)
        out = run(scores)
        if out is None:
            proven = False
        else:
            ok, bound, sol = out
            if float(np.dot(sol, scores)) >= float(np.dot(current, scores)):
                current = sol
            bound_score = min(bound_score, int(np.floor(bound + 1e-6)))
            proven = proven and ok
    chosen = idx[np.asarray(current, dtype=np.bool_)]
    return _MipResult(np.sort(chosen), proven, bound_count, bound_score)


def solve_arcs(
    arcs: CandidateArcs,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    mip_time_limit_s: float,
) -> SolveOutcome:
    """Select arcs; see the module docstring for the method."""
    if len(arcs) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return SolveOutcome(empty, OPTIMAL, 0, 0, 0, True, 0, 0.0, 0.0)
    t0 = time.perf_counter()
    labels = _components(
        arcs, int(arcs.mentee.max()) + 1, mentor_remaining.size, programme_remaining.size
    )
    n_components = int(np.unique(labels).size)
    chosen, build_s = _relaxation_by_component(
        arcs, labels, mentor_remaining, programme_remaining, quality_first
    )
    relax_count = int(chosen.size)
    relax_score = int(arcs.score[chosen].sum())
    load = np.bincount(arcs.programme[chosen], minlength=programme_remaining.size)
    over = np.flatnonzero(load > programme_remaining)
    if over.size == 0:
        solve_s = time.perf_counter() - t0 - build_s
        return SolveOutcome(
            chosen, OPTIMAL, relax_count, relax_score, n_components, True, 0, build_s, solve_s
        )

    deadline = time.perf_counter() + mip_time_limit_s
    affected = np.unique(labels[np.isin(arcs.programme, over)])
    in_affected: BoolArray = np.isin(labels, affected)
    result = [chosen[~in_affected[chosen]]]
    proven_all = True
    bound_count, bound_score = relax_count, relax_score
    mip_components = 0
    lagrange: list[tuple[IntArray, IntArray, IntArray, tuple[int, int], int | None]] = []
    # Smallest components first: within the time limit, prove as many as possible.
    sizes = np.bincount(labels)[affected]
    for c in affected[np.lexsort((affected, sizes))].tolist():
        idx = np.flatnonzero(labels == c)
        chosen_c = chosen[labels[chosen] == c]
        kept, exact = _reassign(arcs, idx, chosen_c, programme_remaining)
        if exact:
            result.append(kept)
            continue
        mip_components += 1
        relaxed = (int(chosen_c.size), int(arcs.score[chosen_c].sum()))
        kept = _residual_repair(
            arcs, idx, kept, mentor_remaining, programme_remaining, quality_first
        )
        reached = (int(kept.size), int(arcs.score[kept].sum()))
        if reached == relaxed or (quality_first and reached[1] == relaxed[1]):
            result.append(kept)  # the bound is reached: optimal
            continue
        tried = idx.size <= LP_MAX_ARCS and time.perf_counter() < deadline
        lp = (
            _lp(arcs, idx, mentor_remaining, programme_remaining, quality_first, deadline)
            if tried
            else _LpResult(None, None)
        )
        exact_lp = lp.chosen
        if exact_lp is not None:
            result.append(exact_lp)
            bound_count -= relaxed[0] - int(exact_lp.size)
            bound_score -= relaxed[1] - int(arcs.score[exact_lp].sum())
            continue
        if not tried or idx.size > MIP_MAX_ARCS or time.perf_counter() >= deadline:
            lagrange.append((idx, chosen_c, kept, relaxed, lp.bound_matched))
            continue
        if lp.bound_matched is not None and lp.bound_matched < relaxed[0]:
            # The LP bounds the count tighter than the flow (the score bound is then
            # recomputed by the MIP, see there).
            bound_count -= relaxed[0] - lp.bound_matched
            cap = _score_cap(arcs, idx, mentor_remaining, programme_remaining)
            bound_score += cap - relaxed[1]
            relaxed = (lp.bound_matched, cap)
        hint = _greedy_fill(arcs, idx, kept, mentor_remaining, programme_remaining)
        mip = _mip(
            arcs, idx, hint, mentor_remaining, programme_remaining, quality_first, relaxed, deadline
        )
        result.append(mip.chosen)
        proven_all &= mip.proven
        bound_count -= relaxed[0] - mip.bound_matched
        bound_score -= relaxed[1] - mip.bound_score
    # Components too large for the LP (or left when time ran out): Lagrangian search,
    # each within a share of the remaining time proportional to what its repaired
    # solution misses from the relaxation (count, or score for ``quality_first``).
    end = min(deadline, time.perf_counter() + LAGRANGE_BUDGET_S)

    def missing(item: tuple[IntArray, IntArray, IntArray, tuple[int, int], int | None]) -> int:
        _, _, kept_c, relaxed_c, _ = item
        if quality_first:
            return 1 + relaxed_c[1] - int(arcs.score[kept_c].sum())
        return 1 + relaxed_c[0] - int(kept_c.size)

    left = sum(missing(item) for item in lagrange)
    for item in lagrange:
        idx, chosen_c, kept, relaxed, lp_count = item
        now = time.perf_counter()
        share = now + max(0.0, end - now) * missing(item) / left
        left -= missing(item)
        lag = _lagrangian(
            arcs, idx, chosen_c, kept, mentor_remaining, programme_remaining, quality_first, share
        )
        reached = (int(lag.chosen.size), int(arcs.score[lag.chosen].sum()))
        lag_count = lag.bound_matched
        if lp_count is not None:
            lag_count = max(reached[0], min(lag_count, lp_count))
        result.append(lag.chosen)
        proven_all &= lag.proven or (reached[0] >= lag_count and reached[1] >= lag.bound_score)
        bound_count -= relaxed[0] - lag_count
        bound_score -= relaxed[1] - lag.bound_score
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
    )
