"""Binôme matching engine: optimal, territorial, explainable proposals.

Pure Python (stdlib, numpy/scipy, OR-Tools); no web framework nor ORM. Typical use::

    from app.matching import MatchingProblem, Policy, solve, validate

    problem = MatchingProblem(run_date=..., mentees=..., mentors=..., programmes=...,
                              policy=Policy.from_dict(user_overrides))
    result = solve(problem)
    payload = result.to_dict()

See docs/matching.md for the rules, the score, the objective and the benchmark.
"""

from app.matching.engine import solve
from app.matching.errors import ProblemError
from app.matching.monitor import Interrupted, ProgressReport, StopCheck
from app.matching.policy import OBJECTIVES, Policy, PolicyError, Weights
from app.matching.problem import (
    NEEDS,
    CurrentPair,
    ExcludedPair,
    MatchingProblem,
    Mentee,
    Mentor,
    Need,
    Programme,
    RunningMatch,
    RuralZone,
    Support,
)
from app.matching.result import (
    CHANGE_REASONS,
    REASONS,
    MatchingResult,
    PairChange,
    Proposal,
    Stats,
    Timings,
    Unmatched,
)
from app.matching.scoring import ScoreBreakdown
from app.matching.validate import validate

__all__ = [
    "CHANGE_REASONS",
    "NEEDS",
    "OBJECTIVES",
    "REASONS",
    "CurrentPair",
    "ExcludedPair",
    "Interrupted",
    "MatchingProblem",
    "MatchingResult",
    "Mentee",
    "Mentor",
    "Need",
    "PairChange",
    "Policy",
    "PolicyError",
    "ProblemError",
    "Programme",
    "ProgressReport",
    "Proposal",
    "RunningMatch",
    "RuralZone",
    "ScoreBreakdown",
    "Stats",
    "StopCheck",
    "Support",
    "Timings",
    "Unmatched",
    "Weights",
    "solve",
    "validate",
]
