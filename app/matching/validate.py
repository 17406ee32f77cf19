"""Solver-independent check of a result against its problem.

Re-applies every hard rule with the scalar reference functions of
:mod:`app.matching.rules`, recomputes distances, capacities, scores and the objective
from the problem alone, and checks the unmatched list and its funnel reasons. Used by
the tests on random instances; cheap enough for the service to run after each solve.
"""

from __future__ import annotations

from collections import Counter

from app.matching.context import build_context
from app.matching.geo import great_circle_km
from app.matching.problem import MatchingProblem
from app.matching.result import ALL_NEEDS_SUPPORTED, REASONS, MatchingResult
from app.matching.rules import check_proposal, meeting_mode
from app.matching.scoring import score_pair

DISTANCE_TOLERANCE_KM = 1e-6


def validate(problem: MatchingProblem, result: MatchingResult) -> list[str]:
    """Violations found, as sentences; an empty list means the result is valid."""
    errors: list[str] = []
    ctx = build_context(problem)
    mentees = {m.id: m for m in problem.mentees}
    mentors = {m.id: m for m in problem.mentors}
    programmes = {p.id: p for p in problem.programmes}
    day, policy = problem.run_date, problem.policy

    per_mentee = Counter(p.mentee_id for p in result.proposals)
    for mentee_id, n in per_mentee.items():
        if n > 1:
            errors.append(f"mentee {mentee_id!r} has {n} proposals")
    for mentor_id, n in Counter(p.mentor_id for p in result.proposals).items():
        if mentor_id in mentors and n > ctx.mentor_remaining[mentor_id]:
            errors.append(f"mentor {mentor_id!r} over capacity ({n} proposals)")
    for prog_id, n in Counter(p.programme_id for p in result.proposals).items():
        if prog_id in programmes and n > ctx.programme_remaining[prog_id]:
            errors.append(f"programme {prog_id!r} over capacity ({n} proposals)")

    total = 0
    for prop in result.proposals:
        where = f"proposal {prop.mentee_id!r}-{prop.mentor_id!r}"
        mentee = mentees.get(prop.mentee_id)
        mentor = mentors.get(prop.mentor_id)
        programme = programmes.get(prop.programme_id)
        if mentee is None or mentor is None or programme is None:
            errors.append(f"{where}: unknown mentee, mentor or programme")
            continue
        km = great_circle_km(mentee.lat, mentee.lon, mentor.lat, mentor.lon)
        if abs(km - prop.distance_km) > DISTANCE_TOLERANCE_KM:
            errors.append(f"{where}: distance {prop.distance_km} km, expected {km} km")
        broken = check_proposal(
            mentee,
            mentor,
            programme,
            prop.need,
            prop.distance_km,
            day,
            ctx.covered_needs.get(mentee.id, frozenset()),
            ctx.excluded,
        )
        if broken is not None:
            errors.append(f"{where}: breaks rule {broken}")
            continue
        mode = meeting_mode(prop.distance_km, mentee, mentor, programme)
        if mode != prop.mode:
            errors.append(f"{where}: mode {prop.mode}, expected {mode}")
        shared = len(mentee.languages & mentor.languages)
        terms = score_pair(
            policy,
            mentee,
            prop.need,
            prop.mode,
            prop.distance_km,
            shared,
            mentee.id in ctx.ever_supported,
            day,
        )
        if terms != prop.score_terms or terms.total != prop.score:
            errors.append(f"{where}: score {prop.score} {prop.score_terms}, expected {terms}")
        total += terms.total

    unmatched_ids = [u.mentee_id for u in result.unmatched]
    expected = sorted(set(mentees) - set(per_mentee))
    if sorted(unmatched_ids) != expected:
        errors.append("unmatched list differs from the mentees without proposal")
    for u in result.unmatched:
        if u.reason not in REASONS:
            errors.append(f"unmatched {u.mentee_id!r}: unknown reason {u.reason!r}")
        mentee = mentees.get(u.mentee_id)
        if mentee is None:
            continue
        open_needs = set(mentee.needs) - ctx.covered_needs.get(mentee.id, frozenset())
        if (u.reason == ALL_NEEDS_SUPPORTED) != (not open_needs):
            errors.append(
                f"unmatched {u.mentee_id!r}: reason {u.reason} but open needs {open_needs}"
            )

    stats = result.stats
    if stats.matched != len(result.proposals) or stats.total_score != total:
        errors.append(
            f"stats report {stats.matched} matched / score {stats.total_score}, "
            f"recomputed {len(result.proposals)} / {total}"
        )
    if stats.objective == "lexicographic" and stats.matched > stats.bound_matched:
        errors.append("matched count above its proven bound")
    if stats.objective == "quality_first" and stats.total_score > stats.bound_score:
        errors.append("total score above its proven bound")
    return errors
