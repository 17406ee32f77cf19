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
    """``optimal`` (proven on the candidate graph) or ``feasible`` (gap reported)."""
    components: int
    mip_components: int
    relaxation_exact: bool


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

    def to_dict(self, *, with_timings: bool = True) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if not with_timings:
            del data["timings"]
        return data
