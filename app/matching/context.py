"""Facts derived once per run from supports, running matches and exclusions."""

from __future__ import annotations

import dataclasses
from collections import Counter

from app.matching.problem import MatchingProblem


@dataclasses.dataclass(frozen=True, slots=True)
class RunContext:
    covered_needs: dict[str, frozenset[str]]
    """Mentee id -> needs with an active support or a running match (rule 3)."""
    ever_supported: frozenset[str]
    """Mentee ids with any support started by the run date or any running match."""
    mentor_remaining: dict[str, int]
    """Mentor id -> capacity left once running matches are counted (never negative)."""
    programme_remaining: dict[str, int]
    """Programme id -> capacity left once running matches are counted (never negative)."""
    excluded: frozenset[tuple[str, str]]
    """(mentee id, mentor id) pairs never to be proposed again."""


def build_context(problem: MatchingProblem) -> RunContext:
    day = problem.run_date
    covered: dict[str, set[str]] = {}
    ever: set[str] = set()
    for s in problem.supports:
        if s.start <= day:
            ever.add(s.mentee_id)
        if s.active_on(day):
            covered.setdefault(s.mentee_id, set()).add(s.need)
    for m in problem.running_matches:
        ever.add(m.mentee_id)
        covered.setdefault(m.mentee_id, set()).add(m.need)
    mentor_load = Counter(m.mentor_id for m in problem.running_matches)
    programme_load = Counter(m.programme_id for m in problem.running_matches)
    return RunContext(
        covered_needs={k: frozenset(v) for k, v in covered.items()},
        ever_supported=frozenset(ever),
        mentor_remaining={m.id: max(0, m.capacity - mentor_load[m.id]) for m in problem.mentors},
        programme_remaining={
            p.id: max(0, p.capacity - programme_load[p.id]) for p in problem.programmes
        },
        excluded=frozenset((e.mentee_id, e.mentor_id) for e in problem.excluded_pairs),
    )
