"""Instances where the shortlist is not enough: the nearest mentors of many young
people are saturated and their only free options lie beyond the K nearest, remote-only
pairs, several programmes per mentor and binding programme capacities."""

from __future__ import annotations

import random
from datetime import date, timedelta

from app.matching import NEEDS, MatchingProblem, Mentee, Mentor, Policy, Programme
from tests.matching.factories import PARIS, RUN, km_east


def saturated_problem(
    seed: int, policy: Policy | None = None, near_mentors: tuple[int, int] = (33, 40)
) -> MatchingProblem:
    """More than K (= cap + 8: 32 with the default policy) mentors packed near the
    centre (``near_mentors``), as many young people there as they can take, a few more
    young people, and free mentors 10–25 km away (within reach, beyond the K nearest)
    or remote-ready far away."""
    rng = random.Random(seed)
    needs = list(NEEDS[:3])
    n_progs = rng.randint(1, 3)
    progs = [
        Programme(
            id=f"p{i}",
            needs=frozenset(rng.sample(needs, rng.randint(2, 3))),
            territories=frozenset({"75"}),
            min_age=10,
            max_age=30,
            capacity=rng.randint(20, 60),
            remote_allowed=rng.random() < 0.6,
        )
        for i in range(n_progs)
    ]
    pids = [p.id for p in progs]

    def near() -> tuple[float, float]:
        return km_east(rng.uniform(0, 2), (PARIS[0] + rng.uniform(-0.01, 0.01), PARIS[1]))

    mentors = []
    n_near = rng.randint(*near_mentors)
    for i in range(n_near):
        lat, lon = near()
        mentors.append(
            Mentor(
                id=f"a{i:02d}",
                lat=lat,
                lon=lon,
                max_travel_km=30.0,
                capacity=1,
                skills=frozenset(rng.sample(needs, rng.randint(2, 3))),
                programme_ids=frozenset(rng.sample(pids, rng.randint(1, len(pids)))),
                languages=frozenset({"fr"}),
                remote_ok=rng.random() < 0.3,
                background_check_valid_until=date(2030, 1, 1),
            )
        )
    for i in range(rng.randint(2, 6)):
        remote_only = rng.random() < 0.4
        lat, lon = km_east(rng.uniform(150, 300) if remote_only else rng.uniform(10, 25))
        mentors.append(
            Mentor(
                id=f"z{i:02d}",
                lat=lat,
                lon=lon,
                max_travel_km=30.0,
                capacity=rng.randint(1, 2),
                skills=frozenset(rng.sample(needs, rng.randint(2, 3))),
                programme_ids=frozenset(rng.sample(pids, rng.randint(1, len(pids)))),
                languages=frozenset({"fr"}),
                remote_ok=remote_only or rng.random() < 0.5,
                background_check_valid_until=rng.choice([None, date(2030, 1, 1)]),
            )
        )
    mentees = []
    for i in range(n_near + rng.randint(1, 6)):
        lat, lon = near()
        mentees.append(
            Mentee(
                id=f"e{i:02d}",
                birth_year=rng.randint(2000, 2012),
                lat=lat,
                lon=lon,
                commune_insee="75056",
                department="75",
                needs=tuple(rng.sample(needs, rng.randint(1, 3))),
                waiting_since=RUN - timedelta(days=rng.randint(0, 400)),
                max_travel_km=rng.choice([5.0, 30.0, 30.0]),
                languages=frozenset({"fr"}),
                remote_ok=rng.random() < 0.4,
                qpv=rng.random() < 0.3,
                enrolled_programme_ids=frozenset(
                    rng.sample(pids, 1) if rng.random() < 0.15 else []
                ),
            )
        )
    return MatchingProblem(
        run_date=RUN,
        mentees=tuple(mentees),
        mentors=tuple(mentors),
        programmes=tuple(progs),
        policy=policy or Policy(),
    )
