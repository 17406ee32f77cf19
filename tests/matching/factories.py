"""Small hand-made and random problems for the matching tests."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta

from app.matching import (
    NEEDS,
    ExcludedPair,
    MatchingProblem,
    Mentee,
    Mentor,
    Policy,
    Programme,
    RunningMatch,
    Support,
)

RUN = date(2025, 9, 1)
PARIS = (48.8566, 2.3522)


def km_east(km: float, origin: tuple[float, float] = PARIS) -> tuple[float, float]:
    """A point ``km`` east of ``origin`` (1° of longitude ≈ 73.2 km at Paris)."""
    import math

    lat, lon = origin
    return lat, lon + km / (111.195 * math.cos(math.radians(lat)))


def programme(pid: str = "p1", **kw: object) -> Programme:
    base: dict[str, object] = {
        "id": pid,
        "needs": frozenset(NEEDS),
        "territories": frozenset({"75"}),
        "min_age": 10,
        "max_age": 30,
        "capacity": 100,
        "remote_allowed": False,
    }
    base.update(kw)
    return Programme(**base)  # type: ignore[arg-type]


def mentor(mid: str = "m1", km: float = 0.0, **kw: object) -> Mentor:
    lat, lon = km_east(km)
    base: dict[str, object] = {
        "id": mid,
        "lat": lat,
        "lon": lon,
        "max_travel_km": 20.0,
        "capacity": 1,
        "skills": frozenset(NEEDS),
        "programme_ids": frozenset({"p1"}),
        "languages": frozenset({"fr"}),
        "remote_ok": False,
        "background_check_valid_until": date(2030, 1, 1),
    }
    base.update(kw)
    return Mentor(**base)  # type: ignore[arg-type]


def mentee(eid: str = "e1", km: float = 0.0, **kw: object) -> Mentee:
    lat, lon = km_east(km)
    base: dict[str, object] = {
        "id": eid,
        "birth_year": 2005,
        "lat": lat,
        "lon": lon,
        "commune_insee": "75056",
        "department": "75",
        "needs": ("orientation",),
        "waiting_since": date(2025, 6, 1),
        "max_travel_km": 20.0,
        "languages": frozenset({"fr"}),
    }
    base.update(kw)
    return Mentee(**base)  # type: ignore[arg-type]


def problem(
    mentees: list[Mentee],
    mentors: list[Mentor],
    programmes: list[Programme] | None = None,
    policy: Policy | None = None,
    **kw: object,
) -> MatchingProblem:
    return MatchingProblem(
        run_date=RUN,
        mentees=tuple(mentees),
        mentors=tuple(mentors),
        programmes=tuple(programmes if programmes is not None else [programme()]),
        policy=policy or Policy(max_candidates_per_mentee=None),
        **kw,  # type: ignore[arg-type]
    )


def random_problem(
    seed: int,
    n_mentees: int = 12,
    n_mentors: int = 7,
    n_programmes: int = 3,
    policy: Policy | None = None,
) -> MatchingProblem:
    """Dense random instance in a 40 km wide area with two departments, tight and
    overlapping programme capacities, supports, running matches and exclusions."""
    rng = random.Random(seed)
    deps = ["75", "93"]

    def spot() -> tuple[float, float]:
        return km_east(rng.uniform(0, 40), (PARIS[0] + rng.uniform(-0.1, 0.1), PARIS[1]))

    def needs(k: int) -> list[str]:
        return rng.sample(NEEDS[:5], k)

    progs = [
        Programme(
            id=f"p{i}",
            needs=frozenset(needs(rng.randint(3, 5))),
            territories=frozenset(rng.sample([*deps, "93066", "75056"], rng.randint(1, 3))),
            min_age=rng.choice([10, 14]),
            max_age=rng.choice([21, 25, 30]),
            capacity=rng.randint(1, 5),
            remote_allowed=rng.random() < 0.5,
        )
        for i in range(n_programmes)
    ]
    # Drawn apart from ``rng`` so that the rest of each seed's instance stays as it was.
    checks = random.Random(f"background checks {seed}")
    mentors = []
    for i in range(n_mentors):
        lat, lon = spot()
        mentors.append(
            Mentor(
                id=f"m{i:02d}",
                lat=lat,
                lon=lon,
                max_travel_km=rng.choice([5.0, 10.0, 20.0, 40.0]),
                capacity=rng.randint(1, 3),
                skills=frozenset(needs(rng.randint(2, 4))),
                programme_ids=frozenset(rng.sample([p.id for p in progs], rng.randint(1, 2))),
                languages=frozenset(rng.sample(["fr", "en", "ar"], rng.randint(0, 2))),
                remote_ok=rng.random() < 0.4,
                background_check_valid_until=rng.choice(
                    [None, date(2024, 1, 1), date(2027, 1, 1), date(2027, 1, 1)]
                ),
            )
        )
        if checks.random() < 0.3:
            # A check another organisation declared, confirmed for some programmes only.
            own = sorted(mentors[-1].programme_ids)
            counted = frozenset(checks.sample(own, checks.randint(0, len(own) - 1)))
            mentors[-1] = dataclasses.replace(mentors[-1], background_checked_programme_ids=counted)
    mentees = []
    for i in range(n_mentees):
        lat, lon = spot()
        dep = rng.choice(deps)
        mentees.append(
            Mentee(
                id=f"e{i:02d}",
                birth_year=rng.randint(2000, 2013),
                lat=lat,
                lon=lon,
                commune_insee="93066" if dep == "93" else "75056",
                department=dep,
                needs=tuple(needs(rng.randint(1, 3))),
                waiting_since=RUN - timedelta(days=rng.randint(0, 500)),
                max_travel_km=rng.choice([5.0, 10.0, 20.0, 40.0]),
                languages=frozenset(rng.sample(["fr", "en", "ar"], rng.randint(0, 2))),
                remote_ok=rng.random() < 0.4,
                qpv=rng.random() < 0.3,
                rural_zone=rng.choice(["none", "none", "FRR", "FRR+"]),
                enrolled_programme_ids=frozenset(
                    rng.sample([p.id for p in progs], 1) if rng.random() < 0.2 else []
                ),
            )
        )
    supports = [
        Support(
            e.id,
            rng.choice(e.needs),
            RUN - timedelta(days=100),
            rng.choice([None, RUN - timedelta(days=1), RUN + timedelta(days=10)]),
        )
        for e in mentees
        if rng.random() < 0.25
    ]
    running = [
        RunningMatch(e.id, m.id, next(iter(sorted(m.programme_ids))), rng.choice(e.needs))
        for e, m in zip(rng.sample(mentees, 2), rng.sample(mentors, 2), strict=True)
    ]
    excluded = [ExcludedPair(rng.choice(mentees).id, rng.choice(mentors).id) for _ in range(3)]
    return MatchingProblem(
        run_date=RUN,
        mentees=tuple(mentees),
        mentors=tuple(mentors),
        programmes=tuple(progs),
        supports=tuple(supports),
        running_matches=tuple(running),
        excluded_pairs=tuple(excluded),
        policy=policy or Policy(max_candidates_per_mentee=None),
    )
