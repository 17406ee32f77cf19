"""Pair score: an integer sum of documented terms (weights in :class:`Policy.weights`).

=================  =====================================================================
term               value
=================  =====================================================================
need_rank          ``need_rank × (8 − r)`` where r is the 0-based rank of the need
                   addressed in the mentee's list (first need: 8×, second: 7×, ...)
distance           in person: ``round(distance × h / (h + km))``, h = distance_half_km
                   (full weight at 0 km, half at h km); 0 for a remote pair
remote             ``remote`` for a remote pair (beyond reach, both accept remote and the
                   programme allows it); 0 in person
shared_language    ``shared_language × min(2, languages in common)``
first_support      ``first_support`` if the mentee never had any support nor match
qpv                ``qpv`` if the mentee lives in a QPV
rural              ``frr_plus`` in an FRR+ commune, ``frr`` in an FRR commune
waiting            ``waiting_per_month × ⌊min(days waited, waiting_cap_days) / 30⌋``
=================  =====================================================================

The last four terms depend on the mentee only: they do not change which mentor a
mentee gets, they decide *who* is matched when not everyone can be.
Integers keep min-cost flow exact; ``round`` is half-up (``floor(x + 0.5)``) and
computed with the same floating-point operations here and in the vectorised code.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date

from app.matching.policy import Policy
from app.matching.problem import NEEDS, Mentee, RuralZone
from app.matching.rules import IN_PERSON

MAX_SHARED_LANGUAGES = 2


@dataclasses.dataclass(frozen=True, slots=True)
class ScoreBreakdown:
    need_rank: int
    distance: int
    remote: int
    shared_language: int
    first_support: int
    qpv: int
    rural: int
    waiting: int

    @property
    def total(self) -> int:
        # Spelled out: ``dataclasses.astuple`` deep-copies, and took most of the
        # explanation time of a 10k run.
        return (
            self.need_rank
            + self.distance
            + self.remote
            + self.shared_language
            + self.first_support
            + self.qpv
            + self.rural
            + self.waiting
        )


def need_rank_points(policy: Policy, rank: int) -> int:
    return policy.weights.need_rank * (len(NEEDS) - rank)


def distance_points(policy: Policy, km: float) -> int:
    h = policy.distance_half_km
    return math.floor(policy.weights.distance * h / (h + km) + 0.5)


def language_points(policy: Policy, shared: int) -> int:
    return policy.weights.shared_language * min(MAX_SHARED_LANGUAGES, shared)


def waiting_points(policy: Policy, mentee: Mentee, run_date: date) -> int:
    days = max(0, (run_date - mentee.waiting_since).days)
    return policy.weights.waiting_per_month * (min(days, policy.waiting_cap_days) // 30)


def rural_points(policy: Policy, mentee: Mentee) -> int:
    if mentee.rural_zone == RuralZone.FRR_PLUS:
        return policy.weights.frr_plus
    if mentee.rural_zone == RuralZone.FRR:
        return policy.weights.frr
    return 0


def score_pair(
    policy: Policy,
    mentee: Mentee,
    need: str,
    mode: str,
    distance_km: float,
    shared_languages: int,
    ever_supported: bool,
    run_date: date,
) -> ScoreBreakdown:
    """Score of proposing ``need`` to ``mentee`` with a mentor at ``distance_km``."""
    w = policy.weights
    in_person = mode == IN_PERSON
    return ScoreBreakdown(
        need_rank=need_rank_points(policy, mentee.needs.index(need)),
        distance=distance_points(policy, distance_km) if in_person else 0,
        remote=0 if in_person else w.remote,
        shared_language=language_points(policy, shared_languages),
        first_support=0 if ever_supported else w.first_support,
        qpv=w.qpv if mentee.qpv else 0,
        rural=rural_points(policy, mentee),
        waiting=waiting_points(policy, mentee, run_date),
    )
