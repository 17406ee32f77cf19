"""Entry point: :func:`solve` runs candidates → solver → explanations."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from app.matching import candidates, explain, pricing, stability
from app.matching.arrays import build_arrays
from app.matching.candidates import CandidateArcs
from app.matching.context import build_context
from app.matching.flows import subset
from app.matching.monitor import Monitor, ProgressReport, StopCheck, ignore, never
from app.matching.problem import MatchingProblem
from app.matching.result import REASONS, MatchingResult, Stats, Timings
from app.matching.solver import SolveOutcome, solve_arcs

CANDIDATES_SHARE = 0.4
SOLVED_SHARE = 0.95


def relative_gap(
    objective: str, matched: int, score: int, bound_matched: int, bound_score: int
) -> float:
    """Gap on the count while some young person could still be matched, else on score."""
    if objective == "lexicographic" and matched < bound_matched:
        return (bound_matched - matched) / bound_matched
    return max(0, bound_score - score) / max(1, bound_score)


def solve(
    problem: MatchingProblem, *, stop: StopCheck = never, progress: ProgressReport = ignore
) -> MatchingResult:
    """Propose matches for ``problem`` under ``problem.policy``.

    Pure and deterministic: same problem, same result (but ``timings``), whatever the
    machine's load (work limits bound every search; the wall-clock limit of the policy
    is a safety stop, reported in ``stats.time_limit_hit`` when hit). Proposals
    satisfy every hard rule of :mod:`app.matching.rules` and the capacities; the
    optimum is over every feasible option (:mod:`app.matching.pricing`), the method
    and its proof in :mod:`app.matching.solver`. Between its steps the solve reports
    the fraction done to ``progress`` and polls ``stop``:
    :class:`~app.matching.monitor.Interrupted` is raised as soon as it returns True.
    """
    policy = problem.policy
    t0 = time.perf_counter()
    ctx = build_context(problem)
    arrs = build_arrays(problem, ctx)
    shortlist = candidates.generate(arrs, policy, problem.run_date)
    n_m, n_p = len(arrs.mentors), max(1, len(arrs.programmes))
    bonus = stability.bonus(problem, arrs)
    if bonus.keys.size:
        # A feasible current pair is always an arc, even beyond the shortlist.
        extra = candidates.generate(
            arrs, policy, problem.run_date, only=stability.pair_mentees(problem, arrs)
        )
        pairs = subset(extra, np.flatnonzero(bonus.of(extra, n_m, n_p) > 0))
        shortlist = dataclasses.replace(
            candidates.merge(shortlist, pairs, n_m, n_p), omitted=shortlist.omitted
        )
    t1 = time.perf_counter()
    monitor = Monitor(stop, progress)
    # Candidates take about 40 % of the engine's time nationally, the solver the rest.
    monitor.checkpoint(CANDIDATES_SHARE)
    solving = monitor.part(CANDIDATES_SHARE, SOLVED_SHARE)
    spent = {"build": 0.0, "limit": False}

    def run(arcs: CandidateArcs, round_: int) -> SolveOutcome:
        # Rounds of pricing: each gets half of the progress left.
        part = solving.part(1 - 0.5**round_, 1 - 0.5 ** (round_ + 1))
        outcome = solve_arcs(
            arcs,
            arrs.mentor_remaining,
            arrs.programme_remaining,
            policy.objective == "quality_first",
            policy.mip_time_limit_s,
            part,
        )
        spent["build"] += outcome.seconds_build
        spent["limit"] = bool(spent["limit"]) or outcome.time_limit_hit
        return outcome

    done = pricing.complete(arrs, policy, problem.run_date, shortlist, run, bonus.weigher(n_m, n_p))
    outcome = done.outcome
    monitor.checkpoint(SOLVED_SHARE)
    t2 = time.perf_counter()
    weighted = done.arcs
    arcs = dataclasses.replace(weighted, score=weighted.score - bonus.of(weighted, n_m, n_p))
    chosen = outcome.chosen
    props = explain.proposals(arrs, arcs, chosen, policy, problem.run_date)
    missing = explain.unmatched(arrs, arcs, chosen, problem.run_date)
    changed, kept = stability.changes(problem, ctx, arrs, arcs, chosen)
    t3 = time.perf_counter()
    progress(1.0)

    by_reason = dict.fromkeys(REASONS, 0)
    for u in missing:
        by_reason[u.reason] += 1
    score = sum(p.score for p in props)
    earned = int(weighted.score[chosen].sum()) - score
    stats = Stats(
        objective=policy.objective,
        mentees=len(problem.mentees),
        mentors=len(problem.mentors),
        programmes=len(problem.programmes),
        candidates_considered=shortlist.considered,
        candidates_kept=len(arcs),
        capped_mentees=shortlist.capped_mentees,
        matched=len(props),
        unmatched=len(missing),
        unmatched_by_reason=by_reason,
        total_score=score,
        bound_matched=done.bound_matched,
        bound_score=done.bound_score,
        gap=relative_gap(
            policy.objective, len(props), score + earned, done.bound_matched, done.bound_score
        ),
        status=done.status,
        components=outcome.components,
        mip_components=outcome.mip_components,
        relaxation_exact=outcome.relaxation_exact,
        options_added=done.options_added,
        options_left_out=done.options_left_out,
        pricing_rounds=done.rounds,
        stability_bonus=earned,
        current_pairs_kept=kept,
        current_pairs_changed=len(changed),
        time_limit_hit=bool(spent["limit"]),
    )
    build_s = float(spent["build"])
    timings = Timings(
        candidates_s=t1 - t0,
        build_s=build_s,
        solve_s=t2 - t1 - build_s,
        explain_s=t3 - t2,
        total_s=t3 - t0,
    )
    return MatchingResult(props, missing, stats, timings, changed)
