"""Entry point: :func:`solve` runs candidates → solver → explanations."""

from __future__ import annotations

import time

from app.matching import candidates, explain
from app.matching.arrays import build_arrays
from app.matching.context import build_context
from app.matching.monitor import Monitor, ProgressReport, StopCheck, ignore, never
from app.matching.problem import MatchingProblem
from app.matching.result import REASONS, MatchingResult, Stats, Timings
from app.matching.solver import solve_arcs

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

    Pure and deterministic: same problem, same result (but ``timings``). Proposals
    satisfy every hard rule of :mod:`app.matching.rules` and the capacities; the
    objective and the proof of optimality are described in :mod:`app.matching.solver`.
    Between its steps the solve reports the fraction done to ``progress`` and polls
    ``stop``: :class:`~app.matching.monitor.Interrupted` is raised as soon as it
    returns True.
    """
    policy = problem.policy
    t0 = time.perf_counter()
    ctx = build_context(problem)
    arrs = build_arrays(problem, ctx)
    arcs = candidates.generate(arrs, policy, problem.run_date)
    t1 = time.perf_counter()
    monitor = Monitor(stop, progress)
    # Candidates take about 40 % of the engine's time nationally, the solver the rest.
    monitor.checkpoint(CANDIDATES_SHARE)
    outcome = solve_arcs(
        arcs,
        arrs.mentor_remaining,
        arrs.programme_remaining,
        policy.objective == "quality_first",
        policy.mip_time_limit_s,
        monitor.part(CANDIDATES_SHARE, SOLVED_SHARE),
    )
    monitor.checkpoint(SOLVED_SHARE)
    t2 = time.perf_counter()
    props = explain.proposals(arrs, arcs, outcome.chosen, policy, problem.run_date)
    missing = explain.unmatched(arrs, arcs, outcome.chosen, problem.run_date)
    t3 = time.perf_counter()
    progress(1.0)

    by_reason = dict.fromkeys(REASONS, 0)
    for u in missing:
        by_reason[u.reason] += 1
    score = sum(p.score for p in props)
    stats = Stats(
        objective=policy.objective,
        mentees=len(problem.mentees),
        mentors=len(problem.mentors),
        programmes=len(problem.programmes),
        candidates_considered=arcs.considered,
        candidates_kept=len(arcs),
        capped_mentees=arcs.capped_mentees,
        matched=len(props),
        unmatched=len(missing),
        unmatched_by_reason=by_reason,
        total_score=score,
        bound_matched=outcome.bound_matched,
        bound_score=outcome.bound_score,
        gap=relative_gap(
            policy.objective, len(props), score, outcome.bound_matched, outcome.bound_score
        ),
        status=outcome.status,
        components=outcome.components,
        mip_components=outcome.mip_components,
        relaxation_exact=outcome.relaxation_exact,
    )
    timings = Timings(
        candidates_s=t1 - t0,
        build_s=outcome.seconds_build,
        solve_s=outcome.seconds_solve,
        explain_s=t3 - t2,
        total_s=t3 - t0,
    )
    return MatchingResult(props, missing, stats, timings)
