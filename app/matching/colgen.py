"""A component's LP relaxation over every arc, by column generation.

The LP optimum uses few arcs: at most one per young person. So the LP is solved on a
*restricted* set of arcs (the flow relaxation's solution, the feasible one repaired
from it, and each young person's best arcs), its duals ``(u, v, π, λ)`` price every arc
of the component (reduced cost ``w − u_mentee − v_mentor − π_programme − λ``), the arcs
of positive reduced cost join (a few per young person, the best first) and the LP is
solved again, until none is left: the restricted optimum is then the optimum over every
arc of the component (its duals are feasible for all of them). Like
:func:`app.matching.integer.lp_relaxation` (GLOP on every arc at once, which took a
minute at 500k arcs), the count is maximised first, then the score at that count
(``count ≥ c``: two LPs of small values, so that the solver's relative tolerances never
hide a unit); when the LP optimum is integral it is optimal for the integer programme,
with the LP as proof. When it is fractional, a solution is rounded from it: its arcs at
1 kept, the young people of its fractional arcs matched exactly (SCIP) on the arcs and
capacity left; proven optimal when it reaches the floor of the LP's value. When it has
the LP's count but not its score, reduced-cost fixing goes further: no better solution
uses an arc priced below the gap, so the integer optimum on the LP's optimal face
(HiGHS) is the optimum over every arc when it reaches the LP's floor.

HiGHS (``highspy``) keeps its simplex basis when columns are added or the objective
changes, so each round re-optimises from the last one: on the largest component of
the 40k benchmark (497k arcs), 10 rounds and 3.6 s, where GLOP, which the model
builder restarts from scratch, took 35 rounds and 106 s to the same optimum.

The rounds are a work limit (``ROUNDS`` per phase): if a phase stops early, no bound is
claimed from it (a restricted optimum bounds nothing) and the caller falls back on the
Lagrangian search.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from typing import Any

import numpy as np

from app.matching.arrays import BoolArray, FloatArray, IntArray
from app.matching.candidates import CandidateArcs
from app.matching.integer import MIP_MAX_ARCS, MIP_NODE_LIMIT, LpResult, solve_mip
from app.matching.monitor import UNWATCHED, Monitor

# Loaded dynamically: highspy ships no type information.
highspy: Any = importlib.import_module("highspy")

ROUNDS = 40
"""Work limit: LP solves per phase before giving up the proof."""
PER_MENTEE = 2
"""Arcs of positive reduced cost joining per young person and round (the best)."""
SEED_ARCS = 3
"""Each young person's best arcs (by score) in the first restricted set."""
PRIMAL_SHARE = 0.02
"""Score phase: rounds adding fewer columns than this share of the LP's are solved by
primal simplex."""
COUNT_PRIMAL_SHARE = 1.0
"""The count phase re-optimises every round after its first by primal simplex (unless
the round doubles the LP): its objective (ones) is flat, and dual simplex took about as
long as the first solve each round (largest component of the national benchmark,
7.7M arcs: count phase 17.0 s → 10.4 s; in the score phase, primal simplex on large
rounds took 14–15 s where dual took 3–4 s)."""
PRIMAL, CHOOSE = 4, 1
"""HiGHS's ``simplex_strategy`` values: primal simplex; its own choice (dual)."""
FACE_POINTS = 1e-3
"""Arcs within this many score points of a zero reduced cost make up the LP's optimal
face, on which a fractional component's integer optimum is sought (wider, the search
slows down: 181 more arcs of reduced cost above −0.5 took it from 1.3 s to 10 s on
the largest fractional component of the 100k benchmark)."""
TOLERANCE = 1e-7
"""Reduced costs up to this (relative to the largest weight) are not positive: the
solver's own optimality tolerance."""


@dataclasses.dataclass(slots=True)
class _Master:
    """The restricted LP, kept in one HiGHS instance across rounds and phases."""

    highs: Any
    """A ``highspy.Highs``."""
    mentee_row: IntArray
    mentor_row: IntArray
    programme_row: IntArray
    count_row: int
    programmes: IntArray
    """Programme of each programme row (in row order)."""
    columns: IntArray
    """Position in the component of each column, in column order."""
    restricted: BoolArray
    """Per arc of the component: a column of the LP."""

    @classmethod
    def of(
        cls,
        arcs: CandidateArcs,
        idx: IntArray,
        mentor_remaining: IntArray,
        programme_remaining: IntArray,
        deadline: float,
    ) -> _Master:
        mentees, mentee_of = np.unique(arcs.mentee[idx], return_inverse=True)
        mentors, mentor_of = np.unique(arcs.mentor[idx], return_inverse=True)
        programmes, programme_of = np.unique(arcs.programme[idx], return_inverse=True)
        n_e, n_m, n_p = mentees.size, mentors.size, programmes.size
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        # One thread: the same pivots, hence the same optimum among ties, on every run.
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("time_limit", max(0.001, deadline - time.perf_counter()))
        upper = np.r_[
            np.ones(n_e),
            mentor_remaining[mentors].astype(np.float64),
            programme_remaining[programmes].astype(np.float64),
            highspy.kHighsInf,
        ]
        no_entries = np.zeros(0, dtype=np.int32)
        highs.addRows(
            upper.size,
            np.full(upper.size, -highspy.kHighsInf),
            upper,
            0,
            no_entries,
            no_entries,
            np.zeros(0),
        )
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        return cls(
            highs,
            mentee_of.astype(np.int32),
            (n_e + mentor_of).astype(np.int32),
            (n_e + n_m + programme_of).astype(np.int32),
            n_e + n_m + n_p,
            programmes,
            np.zeros(0, dtype=np.int64),
            np.zeros(idx.size, dtype=np.bool_),
        )

    def add(self, positions: IntArray, weights: FloatArray) -> None:
        """Columns for the component's arcs ``positions``: one entry in their mentee's,
        mentor's and programme's rows and in the count row."""
        k = positions.size
        if k == 0:
            return
        entries = np.stack(
            [
                self.mentee_row[positions],
                self.mentor_row[positions],
                self.programme_row[positions],
                np.full(k, self.count_row, dtype=np.int32),
            ],
            axis=1,
        ).ravel()
        self.highs.addCols(
            k,
            weights[positions],
            np.zeros(k),
            np.ones(k),
            entries.size,
            np.arange(0, 4 * k, 4, dtype=np.int32),
            entries,
            np.ones(entries.size),
        )
        self.columns = np.r_[self.columns, positions]
        self.restricted[positions] = True

    def reweigh(self, weights: FloatArray) -> None:
        n = self.columns.size
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), weights[self.columns])

    def solve(self) -> tuple[float, FloatArray] | None:
        """The restricted optimum's value and the row duals; None when not optimal."""
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        solution = self.highs.getSolution()
        value = float(self.highs.getInfo().objective_function_value)
        return value, np.asarray(solution.row_dual, dtype=np.float64)

    def arc_duals(self, row_duals: FloatArray) -> FloatArray:
        """Per arc of the component, the sum of the duals of its rows."""
        return np.asarray(
            row_duals[self.mentee_row]
            + row_duals[self.mentor_row]
            + row_duals[self.programme_row]
            + row_duals[self.count_row],
            dtype=np.float64,
        )

    def values(self) -> FloatArray:
        return np.asarray(self.highs.getSolution().col_value, dtype=np.float64)


def _generate(
    master: _Master,
    weights: FloatArray,
    mentee: IntArray,
    monitor: Monitor,
    primal_share: float = PRIMAL_SHARE,
) -> tuple[float, FloatArray] | None:
    """Column generation to the LP optimum over every arc of the component (columns
    join ``master``); None when it stops first (rounds, time limit)."""
    scale = max(1.0, float(np.abs(weights).max()))
    master.highs.setOptionValue("simplex_strategy", CHOOSE)  # a new objective
    for round_ in range(ROUNDS):
        monitor.checkpoint(round_ / ROUNDS)
        solved = master.solve()
        if solved is None:
            return None
        reduced = weights - master.arc_duals(solved[1])
        joining = np.flatnonzero(~master.restricted & (reduced > TOLERANCE * scale))
        if joining.size == 0:
            return solved
        # The best few per young person, those the duals value most.
        order = joining[np.lexsort((-reduced[joining], mentee[joining]))]
        first = np.flatnonzero(np.r_[True, mentee[order][1:] != mentee[order][:-1]])
        rank = np.arange(order.size) - np.repeat(first, np.diff(np.r_[first, order.size]))
        new = order[rank < PER_MENTEE]
        # A few new columns leave the basis primal feasible and nearly optimal: primal
        # simplex re-optimises from it in a few pivots, where HiGHS's default (dual)
        # takes about as long as at the start (measured on the largest component of
        # the 100k benchmark: 0.05–0.16 s against 2.4–4.9 s per round).
        few = new.size < primal_share * master.columns.size
        master.highs.setOptionValue("simplex_strategy", PRIMAL if few else CHOOSE)
        master.add(new, weights)
    return None


def colgen_lp(
    arcs: CandidateArcs,
    idx: IntArray,
    seed: IntArray,
    mentor_remaining: IntArray,
    programme_remaining: IntArray,
    quality_first: bool,
    deadline: float,
    monitor: Monitor = UNWATCHED,
) -> LpResult:
    """The component's LP optimum over every arc of ``idx`` (see the module docstring),
    starting from the arcs ``seed`` (indices into ``arcs``) and each young person's
    ``SEED_ARCS`` best; the same answer as :func:`app.matching.integer.lp_relaxation`.
    ``monitor`` is polled before each LP solve (a stop raises ``Interrupted``)."""
    mentee = arcs.mentee[idx]  # sorted by mentee, best score first
    starts = np.flatnonzero(np.r_[True, mentee[1:] != mentee[:-1]])
    rank = np.arange(idx.size) - np.repeat(starts, np.diff(np.r_[starts, idx.size]))
    first = np.flatnonzero((rank < SEED_ARCS) | np.isin(idx, seed))
    scores = arcs.score[idx].astype(np.float64)
    rows = (mentor_remaining, programme_remaining)
    master = _Master.of(arcs, idx, mentor_remaining, programme_remaining, deadline)
    n_p = master.programmes.size
    progs = master.programmes
    p_rows = slice(master.count_row - n_p, master.count_row)
    if quality_first:
        master.add(first, scores)
        found = _generate(master, scores, mentee, monitor)
        if found is None:
            return LpResult(None, None)
        score_d = np.maximum(0, found[1][p_rows])
        return _result(
            arcs, idx, master, found[0], None, progs, np.zeros(n_p), score_d, rows, deadline
        )
    ones = np.ones(idx.size)
    master.add(first, ones)
    counted = _generate(master, ones, mentee, monitor.part(0.0, 0.5), COUNT_PRIMAL_SHARE)
    if counted is None:
        return LpResult(None, None)
    value, duals = counted
    # A fractional count still bounds the integer count by its floor; the score phase
    # then asks for that many (an integral answer is then optimal: no integer solution
    # matches more, none of that count scores more).
    bound = int(np.floor(value + 1e-6))
    count_d = np.maximum(0, duals[p_rows])
    master.reweigh(scores)
    master.highs.changeRowBounds(master.count_row, float(bound), highspy.kHighsInf)
    scored = _generate(master, scores, mentee, monitor.part(0.5, 1.0))
    if scored is None:
        return LpResult(None, bound, progs, count_d, np.zeros(n_p))
    score_d = np.maximum(0, scored[1][p_rows])
    rounded = _result(arcs, idx, master, scored[0], bound, progs, count_d, score_d, rows, deadline)
    if rounded.incumbent is None or int(rounded.incumbent.size) < bound:
        return rounded
    # The rounded solution has the LP's count but misses its score by a few points:
    # the score phase's duals prove most arcs out of any better solution.
    reduced = scores - master.arc_duals(scored[1])
    return _fixed_by_reduced_cost(
        arcs, idx, rounded, reduced, ~master.restricted, scored[0], rows, deadline
    )


def _result(
    arcs: CandidateArcs,
    idx: IntArray,
    master: _Master,
    lp_value: float,
    bound: int | None,
    programmes: IntArray,
    count_prices: FloatArray,
    score_prices: FloatArray,
    rows: tuple[IntArray, IntArray],
    deadline: float,
) -> LpResult:
    """The LP optimum when integral; else the solution rounded from it, proven optimal
    when it reaches the LP's bound (the integer optimum is at most its floor)."""
    values = master.values()
    priced = (programmes, count_prices, score_prices)
    if not np.any(np.abs(values - np.round(values)) > 1e-6):
        return LpResult(np.sort(idx[master.columns[values > 0.5]]), bound, *priced)
    score_bound = int(np.floor(lp_value + 1e-6))
    rounded = _rounded(arcs, idx, master, values, rows, bound, score_bound, deadline)
    count, score = int(rounded.size), int(arcs.score[rounded].sum())
    if score >= score_bound and (bound is None or count >= bound):
        return LpResult(rounded, bound, *priced)
    if bound is None:  # quality_first: only the score is bounded
        return LpResult(None, None, *priced, incumbent=rounded, bound_score=score_bound)
    return LpResult(None, bound, *priced, incumbent=rounded, bound_score=score_bound)


def _rounded(
    arcs: CandidateArcs,
    idx: IntArray,
    master: _Master,
    values: FloatArray,
    rows: tuple[IntArray, IntArray],
    count_bound: int | None,
    score_bound: int,
    deadline: float,
) -> IntArray:
    """A feasible solution from a fractional LP optimum: its arcs at 1 kept, and the
    young people of its fractional arcs matched exactly (SCIP) on the restricted arcs
    and the capacity those leave. The fractional part is small (measured: 102 arcs of
    12,258 at 1 on the largest component of the 100k benchmark)."""
    mentor_remaining, programme_remaining = rows
    fixed = idx[master.columns[values > 1 - 1e-6]]
    fractional = idx[master.columns[(values > 1e-6) & (values < 1 - 1e-6)]]
    mentor_left = mentor_remaining.copy()
    np.subtract.at(mentor_left, arcs.mentor[fixed], 1)
    programme_left = programme_remaining.copy()
    np.subtract.at(programme_left, arcs.programme[fixed], 1)
    columns = idx[master.columns]
    free = np.sort(columns[np.isin(arcs.mentee[columns], arcs.mentee[fractional])])
    fixed_score = int(arcs.score[fixed].sum())
    quality_first = count_bound is None
    relaxed = (
        np.unique(arcs.mentee[free]).size if count_bound is None else count_bound - fixed.size,
        score_bound - fixed_score,
    )
    mip = solve_mip(
        arcs,
        free,
        free[:0],
        mentor_left,
        programme_left,
        quality_first,
        (int(relaxed[0]), int(relaxed[1])),
        deadline,
    )
    return np.sort(np.r_[fixed, mip.chosen])


def _fixed_by_reduced_cost(
    arcs: CandidateArcs,
    idx: IntArray,
    found: LpResult,
    reduced: FloatArray,
    outside: BoolArray,
    lp_value: float,
    rows: tuple[IntArray, IntArray],
    deadline: float,
) -> LpResult:
    """The component's optimum by reduced-cost fixing, when the solution rounded from a
    fractional LP (``found.incumbent``) has the LP's count but not its score.

    With the score phase's duals, every feasible solution ``x`` of that count scores at
    most ``lp_value + tolerated + Σ reduced_j x_j`` over its arcs of negative reduced
    cost (the duals price every arc of the component: outside the columns
    ``outside``, none has a reduced cost above the solver's tolerance, which
    ``tolerated`` adds once per young person, each taking one arc at most). So a
    solution ``x`` found among the arcs of reduced cost ≥ ``-FACE_POINTS`` (the LP's
    optimal face: a few arcs per young person), optimal among them, is
    optimal over every arc when it reaches the LP's floor, or when no better solution
    can hold an arc left out: ``lp_value + tolerated − score(x) − 1 ≤ FACE_POINTS``
    (scores are integers). Otherwise the better of ``x`` and the incumbent is kept,
    with the LP's bounds.

    The integer programme on that face goes to HiGHS's branch and bound without
    presolve (measured on the largest fractional component of the 100k benchmark: its
    face of 25,637 arcs in 1.3 s, where SCIP took 15 s and HiGHS with presolve 4.2 s;
    it reached the LP's floor, 48 points above the rounded solution)."""
    assert found.incumbent is not None
    assert found.bound_matched is not None
    assert found.bound_score is not None  # the LP's floor
    incumbent = found.incumbent
    score = int(arcs.score[incumbent].sum())
    mentee = arcs.mentee[idx]  # sorted: one run of arcs per young person
    starts = np.flatnonzero(np.r_[True, mentee[1:] != mentee[:-1]])
    tolerated = float(
        np.maximum.reduceat(np.where(outside, np.maximum(reduced, 0.0), 0.0), starts).sum()
    )
    face = np.flatnonzero((reduced >= -FACE_POINTS) | np.isin(idx, incumbent))
    if face.size > MIP_MAX_ARCS:
        return found
    chosen = _face_optimum(arcs, idx[face], incumbent, found.bound_matched, rows, deadline)
    if chosen is None:
        return found
    reached = int(arcs.score[chosen].sum())
    priced = (found.programmes, found.count_prices, found.score_prices)
    if reached >= found.bound_score or lp_value + tolerated - reached - 1 <= FACE_POINTS:
        return LpResult(chosen, found.bound_matched, *priced)
    return dataclasses.replace(found, incumbent=chosen if reached > score else incumbent)


def _face_optimum(
    arcs: CandidateArcs,
    face: IntArray,
    hint: IntArray,
    count: int,
    rows: tuple[IntArray, IntArray],
    deadline: float,
) -> IntArray | None:
    """The best-scoring solution of ``count`` matches on the arcs ``face`` (HiGHS,
    hinted with ``hint``), or None unless proven optimal within ``MIP_NODE_LIMIT``
    nodes and the time limit."""
    mentor_remaining, programme_remaining = rows
    master = _Master.of(arcs, face, mentor_remaining, programme_remaining, deadline)
    highs = master.highs
    for option, value in (
        ("presolve", "off"),
        ("mip_rel_gap", 0.0),
        ("mip_max_nodes", MIP_NODE_LIMIT),
    ):
        highs.setOptionValue(option, value)
    k = face.size
    master.add(np.arange(k), arcs.score[face].astype(np.float64))
    highs.changeRowBounds(master.count_row, float(count), highspy.kHighsInf)
    highs.changeColsIntegrality(k, np.arange(k, dtype=np.int32), np.ones(k, dtype=np.uint8))
    start = highspy.HighsSolution()
    start.col_value = np.isin(face, hint).astype(np.float64).tolist()
    start.value_valid = True
    highs.setSolution(start)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.sort(face[master.values() > 0.5])
