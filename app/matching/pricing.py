"""Completing the shortlist: the optimum over *every* feasible option, proven by duals.

The candidate generator keeps a shortlist (each young person's best arcs among the K
nearest mentors of each programme and need). Its optimum need not be the optimum over
all feasible options: a young person whose nearest mentors are all taken by others may
have a free one further away. So, after each solve on the current arc set ``A``:

1. a dual certificate ``(u, v, π)`` of ``A`` (:mod:`app.matching.duals`) gives, for
   any feasible option ``a`` left out, its reduced cost ``rc_a``; the certificate,
   lifted to every option, bounds the optimum over all of them;
2. with ``z`` the value of the solution found and ``G = D_A − z`` the gap of the
   certificate on ``A``, every option left out with ``rc_a > −G`` joins ``A`` and the
   solve repeats;
3. when no option left out has ``rc_a > −G``, no solution using one of them can beat
   ``z`` (its value is at most ``D_A + rc_a ≤ z``), so the optimum over ``A`` is the
   optimum over all options: the solve's status and bounds on ``A`` hold for all.

Options left out are known without enumerating every pair nationally: those cut by the
per-mentee cap were generated anyway; a young person whose k-d tree queries were
saturated (K found, more mentors in the tree) has every feasible option enumerated by
radius, but only when its dual leaves room (``β + best possible score − u_e > −G``).
The rounds are a work limit (``PRICING_ROUNDS``): if it stops the search, the status
is ``feasible`` and the bounds are those of the certificate lifted to every option.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import date

import numpy as np

from app.matching.arrays import BoolArray, IntArray, ProblemArrays
from app.matching.candidates import CandidateArcs, generate, merge
from app.matching.duals import Certificate, certificate
from app.matching.flows import subset
from app.matching.policy import Policy
from app.matching.problem import NEEDS
from app.matching.scoring import MAX_SHARED_LANGUAGES
from app.matching.solver import FEASIBLE, OPTIMAL, SolveOutcome

PRICING_ROUNDS = 12
"""Work limit: solves on a growing arc set before giving up the proof."""

Solve = Callable[[CandidateArcs, int], SolveOutcome]
"""Solve the arcs (second argument: the round, for progress reports)."""
Weigh = Callable[[CandidateArcs], CandidateArcs]
"""The objective's weights of arcs (score plus any stability bonus), in arc order."""


@dataclasses.dataclass(frozen=True, slots=True)
class Completion:
    arcs: CandidateArcs
    """The final arc set (objective weights in ``score``)."""
    outcome: SolveOutcome
    status: str
    bound_matched: int
    bound_score: int
    rounds: int
    options_added: int
    """Options left out of the shortlist that joined it (priced in)."""
    options_left_out: int
    """Feasible options neither in the final arc set nor proven useless."""
    enumerated_mentees: int


def best_scores(arrs: ProblemArrays, policy: Policy) -> IntArray:
    """Upper bound of the score of any option of each young person."""
    w = policy.weights
    rank = np.where(
        (arrs.mentee_open[:, None] >> np.arange(len(NEEDS))) & 1,
        arrs.mentee_rank.astype(np.int64),
        len(NEEDS),
    ).min(axis=1)
    return np.asarray(
        w.need_rank * np.maximum(0, len(NEEDS) - rank)
        + max(w.distance, w.remote)
        + w.shared_language * MAX_SHARED_LANGUAGES
        + arrs.mentee_priority,
        dtype=np.int64,
    )


def _keys(arcs: CandidateArcs, n_m: int, n_p: int) -> IntArray:
    return np.asarray((arcs.mentee * n_m + arcs.mentor) * n_p + arcs.programme, dtype=np.int64)


def _outside(pool: CandidateArcs, arcs: CandidateArcs, n_m: int, n_p: int) -> IntArray:
    """Indices of ``pool`` arcs absent from ``arcs`` (or better there: another need)."""
    if len(pool) == 0:
        return np.zeros(0, dtype=np.int64)
    key, pool_key = _keys(arcs, n_m, n_p), _keys(pool, n_m, n_p)
    order = np.argsort(key)
    at = np.minimum(np.searchsorted(key[order], pool_key), max(0, key.size - 1))
    if key.size == 0:
        return np.arange(len(pool))
    found = key[order][at] == pool_key
    better = pool.score > arcs.score[order][at]
    return np.flatnonzero(~found | better)


def _bounds(quality_first: bool, beta: int, value: int) -> tuple[int, int]:
    """(count, score) bounds from a certificate of value ``value``."""
    if quality_first or beta == 0:
        return 0, value
    count = value // beta
    return count, value - beta * count


def complete(
    arrs: ProblemArrays,
    policy: Policy,
    run_date: date,
    shortlist: CandidateArcs,
    solve: Solve,
    weigh: Weigh,
) -> Completion:
    """Solve, price the options left out, repeat (see the module docstring)."""
    quality_first = policy.objective == "quality_first"
    n_e, n_m, n_p = len(arrs.mentees), len(arrs.mentors), max(1, len(arrs.programmes))
    mentor_cap, programme_cap = arrs.mentor_remaining, arrs.programme_remaining
    arcs = weigh(shortlist)
    empty = subset(shortlist, np.zeros(0, dtype=np.int64))
    pool = weigh(shortlist.omitted) if shortlist.omitted is not None else empty
    unknown: BoolArray = shortlist.saturated.copy()  # some options never generated
    best = best_scores(arrs, policy)
    added = enumerated = 0
    rounds = 0
    outcome = solve(arcs, 0)
    if len(pool) == 0 and not unknown.any():
        # Every feasible option is in the arcs (no cap cut any, no query was cut
        # short): the solve's status and bounds hold for all of them, no certificate
        # needed.
        return Completion(
            arcs, outcome, outcome.status, outcome.bound_matched, outcome.bound_score, 1, 0, 0, 0
        )
    while True:
        rounds += 1
        chosen = outcome.chosen
        beta = 0 if quality_first else int(_best_sum(arcs, n_e)) + 1
        prices = np.round(
            beta * outcome.count_prices + outcome.score_prices
            if outcome.count_prices.size
            else np.zeros(programme_cap.size)
        ).astype(np.int64)
        cert = certificate(arcs, beta, prices, mentor_cap, programme_cap, n_e)
        z = beta * int(chosen.size) + int(arcs.score[chosen].sum())
        gaps = _Gaps.of(cert, arcs, outcome, mentor_cap, programme_cap, n_e, n_m, n_p)
        # Young people whose options were not all generated, and whose dual leaves room
        # for one of them: enumerate all their options (once).
        room = beta + best - cert.u + gaps.mentee + 2 * gaps.largest > 0
        todo = unknown & room
        if policy.pricing is False:
            todo = unknown.copy()  # counted, to report what the cap left out
        if todo.any():
            extra = generate(arrs, policy, run_date, only=todo)
            enumerated += int(todo.sum())
            pool = merge(pool, weigh(extra), n_m, n_p) if len(pool) else weigh(extra)
            unknown &= ~todo
        out = subset(pool, _outside(pool, arcs, n_m, n_p))
        rc = cert.reduced_costs(out)
        lifted = _lift(cert, out, rc, unknown, beta, best)
        d_all = lifted.value(mentor_cap, programme_cap)
        joining = rc > -gaps.threshold(out)
        if not joining.any() or z >= d_all:
            # Nothing left out can beat the solution: the optimum on ``arcs`` is the
            # optimum over every option.
            bounds = (outcome.bound_matched, min(outcome.bound_score, d_all))
            if not quality_first:
                bounds = min(bounds, _bounds(quality_first, beta, d_all))
            status = outcome.status if z < d_all else OPTIMAL
            return Completion(arcs, outcome, status, *bounds, rounds, added, 0, enumerated)
        if not policy.pricing or rounds >= PRICING_ROUNDS:
            count_b, score_b = _bounds(quality_first, beta, d_all)
            if quality_first:
                count_b = max(outcome.bound_matched, int(chosen.size))
            return Completion(
                arcs,
                outcome,
                FEASIBLE,
                max(count_b, int(chosen.size)),
                score_b,
                rounds,
                added,
                int(joining.sum()),
                enumerated,
            )
        new = subset(out, np.flatnonzero(joining))
        added += len(new)
        merged = merge(arcs, new, n_m, n_p)
        again = functools.partial(_at, solve, rounds)
        outcome = _resolve(arcs, outcome, merged, new, n_m, n_p, again)
        arcs = merged


def _at(solve: Solve, round_: int, arcs: CandidateArcs) -> SolveOutcome:
    return solve(arcs, round_)


def _best_sum(arcs: CandidateArcs, n_e: int) -> int:
    best = np.zeros(n_e, dtype=np.int64)
    if len(arcs):
        np.maximum.at(best, arcs.mentee, arcs.score)
    return int(best.sum())


def _lift(
    cert: Certificate,
    out: CandidateArcs,
    rc: IntArray,
    unknown: BoolArray,
    beta: int,
    best: IntArray,
) -> Certificate:
    """The certificate made valid for every feasible option: the options left out that
    are known by their reduced cost, the others by the best score they could have."""
    lift = np.zeros(cert.u.size, dtype=np.int64)
    if rc.size:
        np.maximum.at(lift, out.mentee, rc)
    lift = np.maximum(lift, np.where(unknown, beta + best - cert.u, 0))
    return dataclasses.replace(cert, u=cert.u + lift)


def _resolve(
    old: CandidateArcs,
    before: SolveOutcome,
    arcs: CandidateArcs,
    new: CandidateArcs,
    n_m: int,
    n_p: int,
    solve: Callable[[CandidateArcs], SolveOutcome],
) -> SolveOutcome:
    """The solve of ``arcs`` (``old`` plus ``new``), re-solving only the components the
    new arcs touch: the others are the same problems as before, with the same answer."""
    n_e = int(max(old.mentee.max(initial=-1), new.mentee.max(initial=-1))) + 1
    touched_labels = np.unique(
        before.labels[np.isin(old.mentee, new.mentee) | np.isin(old.mentor, new.mentor)]
    )
    touched = np.zeros(n_e, dtype=np.bool_)
    touched[new.mentee] = True
    touched[old.mentee[np.isin(before.labels, touched_labels)]] = True
    # Old arcs of untouched components are in ``arcs`` unchanged (same key, same need).
    key_new = _keys(arcs, n_m, n_p)
    order = np.argsort(key_new)
    keep_old = ~touched[old.mentee]
    at = order[np.searchsorted(key_new[order], _keys(old, n_m, n_p)[keep_old])]
    position = np.full(len(old), -1, dtype=np.int64)
    position[keep_old] = at
    redo = np.flatnonzero(touched[arcs.mentee])
    part = solve(subset(arcs, redo))
    old_chosen = before.chosen[keep_old[before.chosen]]
    chosen = np.sort(np.concatenate([position[old_chosen], redo[part.chosen]]))
    labels = np.zeros(len(arcs), dtype=np.int64)
    labels[at] = before.labels[keep_old]
    offset = int(before.labels.max(initial=-1)) + 1
    labels[redo] = offset + part.labels
    kept_labels = np.ones(offset, dtype=np.bool_)
    kept_labels[touched_labels] = False

    def joined(a: IntArray, b: IntArray) -> IntArray:
        return np.concatenate([np.where(kept_labels, a, 0), b])

    matched = joined(before.component_matched, part.component_matched)
    score = joined(before.component_score, part.component_score)
    proven = np.concatenate([before.component_proven | ~kept_labels, part.component_proven])
    size = max(before.count_prices.size, part.count_prices.size)
    count_prices, score_prices = np.zeros(size), np.zeros(size)
    if before.count_prices.size:
        count_prices[:], score_prices[:] = before.count_prices, before.score_prices
    progs = np.unique(arcs.programme[redo])
    if part.count_prices.size:
        count_prices[progs] = part.count_prices[progs]
        score_prices[progs] = part.score_prices[progs]
    return dataclasses.replace(
        part,
        chosen=chosen,
        status=OPTIMAL if proven.all() else FEASIBLE,
        bound_matched=int(matched.sum()),
        bound_score=int(score.sum()),
        components=int(np.unique(labels).size),
        relaxation_exact=before.relaxation_exact and part.relaxation_exact,
        mip_components=before.mip_components + part.mip_components,
        count_prices=count_prices,
        score_prices=score_prices,
        time_limit_hit=before.time_limit_hit or part.time_limit_hit,
        labels=labels,
        component_matched=matched,
        component_score=score,
        component_proven=proven,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Gaps:
    """Gap of the certificate on each component of the arcs (its dual value minus the
    value of the solution there), seen from each mentee, mentor and programme.

    An option left out can only beat the solution with the help of the components it
    touches: one that touches none with a gap needs a positive reduced cost; one that
    touches some must have ``rc`` above minus the sum of their gaps (a solution using
    no option left out touching a component is at most its optimum there, proven by
    the solve; using some, the certificate bounds it). A component proven optimal by
    the MIP with a fractional LP has a gap; the others, in practice, none."""

    mentee: IntArray
    mentor: IntArray
    programme: IntArray
    m_comp: IntArray
    e_comp: IntArray
    p_comp: IntArray
    largest: int

    @classmethod
    def of(
        cls,
        cert: Certificate,
        arcs: CandidateArcs,
        outcome: SolveOutcome,
        mentor_cap: IntArray,
        programme_cap: IntArray,
        n_e: int,
        n_m: int,
        n_p: int,
    ) -> _Gaps:
        labels = outcome.labels
        n_c = int(labels.max(initial=-1)) + 2  # last: no component
        e_comp = np.full(n_e, n_c - 1, dtype=np.int64)
        m_comp = np.full(n_m, n_c - 1, dtype=np.int64)
        p_comp = np.full(max(n_p, programme_cap.size), n_c - 1, dtype=np.int64)
        e_comp[arcs.mentee] = labels
        m_comp[arcs.mentor] = labels
        p_comp[arcs.programme] = labels
        dual = (
            np.bincount(e_comp, weights=cert.u.astype(np.float64), minlength=n_c)
            + np.bincount(m_comp, weights=(mentor_cap * cert.v).astype(np.float64), minlength=n_c)
            + np.bincount(
                p_comp[: programme_cap.size],
                weights=(programme_cap * cert.pi).astype(np.float64),
                minlength=n_c,
            )
        )
        chosen = outcome.chosen
        value = np.bincount(
            labels[chosen],
            weights=(cert.beta + arcs.score[chosen]).astype(np.float64),
            minlength=n_c,
        )
        gap = np.maximum(0, np.ceil(dual - value)).astype(np.int64)
        gap[n_c - 1] = 0
        return cls(gap[e_comp], gap[m_comp], gap[p_comp], m_comp, e_comp, p_comp, int(gap.max()))

    def threshold(self, out: CandidateArcs) -> IntArray:
        """Sum of the gaps of the distinct components each arc touches."""
        ce, cm, cp = self.e_comp[out.mentee], self.m_comp[out.mentor], self.p_comp[out.programme]
        total = self.mentee[out.mentee].copy()
        total += np.where(cm != ce, self.mentor[out.mentor], 0)
        total += np.where((cp != ce) & (cp != cm), self.programme[out.programme], 0)
        return np.asarray(total, dtype=np.int64)
