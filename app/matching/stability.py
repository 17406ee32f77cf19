"""Stable rematches: current pairs earn a bonus in the objective, and each one not
proposed again gets a reason.

``Policy.stability`` = s: an arc that is a current pair (same young person, volunteer,
programme and need) weighs ``score + s + 1`` (``score + 2s + 1`` for an accepted or
active match). The objective stays lexicographic: coverage first, then score plus
bonus. So among solutions of equal coverage the engine keeps the current pairs, and a
current pair changes only when its old form is no longer feasible, when coverage
requires it, or when the total score gained is more than s per unaccepted pair
changed (2s per accepted one).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable

import numpy as np

from app.matching.arrays import IntArray, ProblemArrays
from app.matching.candidates import CandidateArcs, merge
from app.matching.context import RunContext
from app.matching.flows import components, relaxation, subset
from app.matching.geo import great_circle_km
from app.matching.problem import NEED_INDEX, CurrentPair, MatchingProblem
from app.matching.result import (
    CAPACITY_REDUCED,
    COVERAGE_GAINED,
    NO_LONGER_FEASIBLE,
    SCORE_GAINED,
    PairChange,
)
from app.matching.rules import check_proposal


@dataclasses.dataclass(frozen=True, slots=True)
class Bonus:
    keys: IntArray
    """Sorted keys ``((mentee × n_mentors + mentor) × n_programmes + programme) × 8 + need``."""
    points: IntArray

    def of(self, arcs: CandidateArcs, n_m: int, n_p: int) -> IntArray:
        """Bonus of each arc (0 for arcs that are not current pairs)."""
        if self.keys.size == 0 or len(arcs) == 0:
            return np.zeros(len(arcs), dtype=np.int64)
        key = ((arcs.mentee * n_m + arcs.mentor) * n_p + arcs.programme) * 8 + arcs.need
        at = np.minimum(np.searchsorted(self.keys, key), self.keys.size - 1)
        return np.where(self.keys[at] == key, self.points[at], 0).astype(np.int64)

    def weigher(self, n_m: int, n_p: int) -> Callable[[CandidateArcs], CandidateArcs]:
        """Arcs with the bonus added to their score, re-sorted (best first per mentee)."""

        def weigh(arcs: CandidateArcs) -> CandidateArcs:
            extra = self.of(arcs, n_m, n_p)
            if not extra.any():
                return arcs
            weighted = dataclasses.replace(arcs, score=arcs.score + extra)
            return merge(weighted, subset(weighted, np.zeros(0, dtype=np.int64)), n_m, n_p)

        return weigh


def bonus(problem: MatchingProblem, arrs: ProblemArrays) -> Bonus:
    """Keys and points of the current pairs the run knows (others are ignored)."""
    weight = problem.policy.stability
    mentees = {m.id: i for i, m in enumerate(arrs.mentees)}
    mentors = {m.id: i for i, m in enumerate(arrs.mentors)}
    progs = {p.id: i for i, p in enumerate(arrs.programmes)}
    n_m, n_p = len(arrs.mentors), max(1, len(arrs.programmes))
    best: dict[int, int] = {}
    if weight:
        for pair in problem.current_pairs:
            e, m, p = (
                mentees.get(pair.mentee_id),
                mentors.get(pair.mentor_id),
                progs.get(pair.programme_id),
            )
            if e is None or m is None or p is None:
                continue
            key = ((e * n_m + m) * n_p + p) * 8 + NEED_INDEX[pair.need]
            # One point more than the threshold: a gain of exactly it is not enough.
            best[key] = max(best.get(key, 0), weight * (2 if pair.accepted else 1) + 1)
    keys = np.array(sorted(best), dtype=np.int64)
    return Bonus(keys, np.array([best[k] for k in keys.tolist()], dtype=np.int64))


def pair_mentees(problem: MatchingProblem, arrs: ProblemArrays) -> np.ndarray:
    """Mask of the young people with a current pair (their options are all enumerated,
    so that a feasible current pair is always among the arcs)."""
    index = {m.id: i for i, m in enumerate(arrs.mentees)}
    mask = np.zeros(len(arrs.mentees), dtype=np.bool_)
    for pair in problem.current_pairs:
        if pair.mentee_id in index:
            mask[index[pair.mentee_id]] = True
    return mask


def changes(
    problem: MatchingProblem,
    ctx: RunContext,
    arrs: ProblemArrays,
    arcs: CandidateArcs,
    chosen: IntArray,
) -> tuple[tuple[PairChange, ...], int]:
    """Current pairs not proposed again, with their reason, and how many were kept.

    ``coverage_gained`` is told apart from ``score_gained`` by the flow relaxation of
    the young person's component with the pair imposed: when it matches fewer young
    people than the solution, keeping the pair costs coverage (certain, the relaxation
    being an upper bound); otherwise the change is for score (exact where programme
    capacities do not bind, the relaxation then being exact)."""
    if not problem.current_pairs:
        return (), 0
    mentees = {m.id: m for m in problem.mentees}
    mentors = {m.id: m for m in problem.mentors}
    progs = {p.id: p for p in problem.programmes}
    e_index = {m.id: i for i, m in enumerate(arrs.mentees)}
    m_index = {m.id: i for i, m in enumerate(arrs.mentors)}
    p_index = {p.id: i for i, p in enumerate(arrs.programmes)}
    got = {
        arrs.mentees[int(arcs.mentee[a])].id: (
            arrs.mentors[int(arcs.mentor[a])].id,
            arrs.programmes[int(arcs.programme[a])].id,
            int(arcs.need[a]),
        )
        for a in chosen.tolist()
    }
    feasible: list[CurrentPair] = []
    out: list[PairChange] = []
    kept = 0
    labels: IntArray | None = None

    def change(pair: CurrentPair, reason: str) -> PairChange:
        now = got.get(pair.mentee_id)
        return PairChange(
            pair.mentee_id,
            pair.mentor_id,
            pair.programme_id,
            pair.need,
            pair.accepted,
            reason,
            now[0] if now else None,
        )

    by_mentor: Counter[str] = Counter()
    by_prog: Counter[str] = Counter()
    for pair in problem.current_pairs:
        if got.get(pair.mentee_id) == (pair.mentor_id, pair.programme_id, NEED_INDEX[pair.need]):
            kept += 1
            by_mentor[pair.mentor_id] += 1
            by_prog[pair.programme_id] += 1
            continue
        e, m, p = (
            mentees.get(pair.mentee_id),
            mentors.get(pair.mentor_id),
            progs.get(pair.programme_id),
        )
        broken = (
            e is None
            or m is None
            or p is None
            or check_proposal(
                e,
                m,
                p,
                pair.need,
                great_circle_km(e.lat, e.lon, m.lat, m.lon),
                problem.run_date,
                ctx.covered_needs.get(e.id, frozenset()),
                ctx.excluded,
            )
            is not None
        )
        if broken:
            out.append(change(pair, NO_LONGER_FEASIBLE))
        else:
            feasible.append(pair)
            by_mentor[pair.mentor_id] += 1
            by_prog[pair.programme_id] += 1
    # Capacity: more (feasible) current pairs on a volunteer or programme than it now
    # takes.
    for pair in feasible:
        if (
            by_mentor[pair.mentor_id] > ctx.mentor_remaining[pair.mentor_id]
            or by_prog[pair.programme_id] > ctx.programme_remaining[pair.programme_id]
        ):
            out.append(change(pair, CAPACITY_REDUCED))
            continue
        ei, mi, pi = e_index[pair.mentee_id], m_index[pair.mentor_id], p_index[pair.programme_id]
        if labels is None:
            labels = components(
                arcs, len(arrs.mentees), len(arrs.mentors), max(1, len(arrs.programmes))
            )
        costly = _imposing_costs_coverage(arrs, arcs, chosen, labels, ei, mi, pi)
        reason = COVERAGE_GAINED if costly else SCORE_GAINED
        out.append(change(pair, reason))
    return tuple(sorted(out, key=lambda c: (c.mentee_id, c.mentor_id))), kept


def _imposing_costs_coverage(
    arrs: ProblemArrays,
    arcs: CandidateArcs,
    chosen: IntArray,
    labels: IntArray,
    e: int,
    m: int,
    p: int,
) -> bool:
    """Whether the relaxation with (e, m, p) imposed matches fewer than ``chosen`` in
    the young person's component (``labels``: component of each arc)."""
    own = np.flatnonzero(arcs.mentee == e)
    if own.size == 0:
        return False
    in_comp = labels == labels[own[0]]
    matched_here = int(in_comp[chosen].sum())
    mentor_left = arrs.mentor_remaining.copy()
    prog_left = arrs.programme_remaining.copy()
    mentor_left[m] -= 1
    prog_left[p] -= 1
    rest = np.flatnonzero(in_comp & (arcs.mentee != e))
    if rest.size == 0:
        return matched_here > 1
    sub = subset(arcs, rest)
    picked, _ = relaxation(sub, np.maximum(mentor_left, 0), np.maximum(prog_left, 0), False)
    return int(picked.size) + 1 < matched_here
