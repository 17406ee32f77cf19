"""Output of a run: proposals, unmatched young people with a reason, statistics.

Every field is a primitive (str, int, float, bool), a tuple or a dict of primitives, or
one of these dataclasses: ``dataclasses.asdict(result)`` (or :meth:`MatchingResult.to_dict`)
is JSON-ready. Everything but ``timings`` is identical for identical input.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.matching.scoring import ScoreBreakdown

# Funnel of reasons why a young person got no proposal, in the order they are tested.
ALL_NEEDS_SUPPORTED = "all_needs_supported"
NO_PROGRAMME = "no_programme"
NO_MENTOR_IN_REACH = "no_mentor_in_reach"
NO_BACKGROUND_CHECKED_MENTOR = "no_background_checked_mentor"
NO_COMPATIBLE_MENTOR = "no_compatible_mentor"
CAPACITY_EXHAUSTED = "capacity_exhausted"
REASONS: tuple[str, ...] = (
    ALL_NEEDS_SUPPORTED,
    NO_PROGRAMME,
    NO_MENTOR_IN_REACH,
    NO_BACKGROUND_CHECKED_MENTOR,
    NO_COMPATIBLE_MENTOR,
    CAPACITY_EXHAUSTED,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Proposal:
    """Proposed match. ``mode`` is ``in_person`` or ``remote``; ``distance_km`` is the
    great-circle distance between the two homes."""

    mentee_id: str
    mentor_id: str
    programme_id: str
    need: str
    mode: str
    distance_km: float
    score: int
    score_terms: ScoreBreakdown


@dataclasses.dataclass(frozen=True, slots=True)
class Unmatched:
    """A young person without proposal: ``reason`` is one of :data:`REASONS`,
    ``message`` an English sentence for back-office users, ``candidates`` the number of
    feasible (mentor, programme) options that existed (only for capacity_exhausted)."""

    mentee_id: str
    reason: str
    message: str
    candidates: int = 0


# Why a current pair (``MatchingProblem.current_pairs``) was not proposed again.
NO_LONGER_FEASIBLE = "no_longer_feasible"
CAPACITY_REDUCED = "capacity_reduced"
COVERAGE_GAINED = "coverage_gained"
SCORE_GAINED = "score_gained"
CHANGE_REASONS: tuple[str, ...] = (
    NO_LONGER_FEASIBLE,
    CAPACITY_REDUCED,
    COVERAGE_GAINED,
    SCORE_GAINED,
)


@dataclasses.dataclass(frozen=True, slots=True)
class PairChange:
    """A current pair not proposed again, and why: ``no_longer_feasible`` (it breaks a
    hard rule now, or its young person, volunteer or programme left the run),
    ``capacity_reduced`` (its volunteer's or programme's capacity no longer holds all
    their current pairs), ``coverage_gained`` (keeping it would leave more young people
    unmatched), ``score_gained`` (the total score gained exceeds the stability
    threshold). ``mentor_id_now`` is the young person's new volunteer, if any."""

    mentee_id: str
    mentor_id: str
    programme_id: str
    need: str
    accepted: bool
    reason: str
    mentor_id_now: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Stats:
    objective: str
    mentees: int
    mentors: int
    programmes: int
    candidates_considered: int
    """Distinct feasible arcs (mentee, mentor, programme) found before the cap."""
    candidates_kept: int
    """Arcs handed to the solver, after the per-mentee cap."""
    capped_mentees: int
    matched: int
    unmatched: int
    unmatched_by_reason: dict[str, int]
    total_score: int
    bound_matched: int
    """Upper bound on the number matched (lexicographic objective)."""
    bound_score: int
    """Upper bound on the total score (at ``bound_matched`` for lexicographic)."""
    gap: float
    """Relative gap: on the count when ``matched < bound_matched``, else on the score."""
    status: str
    """``optimal`` (proven over every feasible option) or ``feasible`` (gap reported)."""
    components: int
    mip_components: int
    relaxation_exact: bool
    options_added: int = 0
    """Feasible options left out of the shortlist that joined it, priced in by duals."""
    options_left_out: int = 0
    """Feasible options outside the arc set that could still improve the solution (0
    when the optimum is proven over every option)."""
    pricing_rounds: int = 1
    stability_bonus: int = 0
    """Points earned by current pairs proposed again (part of the objective, not of
    ``total_score``; ``bound_score`` bounds the score plus this bonus)."""
    current_pairs_kept: int = 0
    current_pairs_changed: int = 0
    time_limit_hit: bool = False
    """The safety time limit stopped a search (the answer may depend on the load)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Timings:
    """Wall-clock seconds per phase (the only non-deterministic part of a result)."""

    candidates_s: float
    build_s: float
    solve_s: float
    explain_s: float
    total_s: float


@dataclasses.dataclass(frozen=True, slots=True)
class MatchingResult:
    proposals: tuple[Proposal, ...]
    """Sorted by mentee id."""
    unmatched: tuple[Unmatched, ...]
    """Sorted by mentee id."""
    stats: Stats
    timings: Timings
    changes: tuple[PairChange, ...] = ()
    """Current pairs not proposed again, with the reason, sorted by mentee id."""

    def to_dict(self, *, with_timings: bool = True) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if not with_timings:
            del data["timings"]
        return data
