"""Reproducible synthetic matching problems placed on real French communes.

Importable (the service's tests may reuse it)::

    from bench.population import synthetic_problem
    problem = synthetic_problem(n_mentees=10_000, n_mentors=5_000, seed=1)

People are placed in communes drawn in proportion to population (Paris, Lyon and
Marseille through their arrondissements, which carry the population, with the city's
INSEE code as commune code), jittered by a few km. Each department runs 2–4 programmes
(some restricted to their largest communes), each region one regional programme;
capacities are drawn around the expected demand so that some of them bind.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

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

COMMUNES_CSV = (
    Path(__file__).resolve().parent.parent / "app" / "geo" / "data" / "communes-2025.csv.gz"
)
CITY_OF_ARRONDISSEMENT = {"75": "75056", "13": "13055", "69": "69123"}
RUN_DATE = date(2025, 9, 1)
LANGUAGES = ("ar", "en", "pt", "es", "tr", "ro", "wo", "zh")


@dataclasses.dataclass(frozen=True)
class Communes:
    code: np.ndarray  # commune INSEE code used for territories (city for arrondissements)
    dep: np.ndarray
    region: np.ndarray
    population: np.ndarray
    lat: np.ndarray
    lon: np.ndarray


@lru_cache(maxsize=1)
def load_communes(path: Path = COMMUNES_CSV) -> Communes:
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["type"] == "COM" and r["insee"] in CITY_OF_ARRONDISSEMENT.values():
                continue  # counted through its arrondissements
            if not r["lat"] or not r["population"].isdigit():
                continue
            code = CITY_OF_ARRONDISSEMENT[r["dep"]] if r["type"] == "ARM" else r["insee"]
            rows.append(
                (
                    code,
                    r["dep"],
                    r["region"],
                    int(r["population"]),
                    float(r["lat"]),
                    float(r["lon"]),
                )
            )
    cols = list(zip(*rows, strict=True))
    return Communes(
        code=np.array(cols[0]),
        dep=np.array(cols[1]),
        region=np.array(cols[2]),
        population=np.array(cols[3], dtype=np.float64),
        lat=np.array(cols[4]),
        lon=np.array(cols[5]),
    )


def _place(rng: np.random.Generator, communes: Communes, n: int, urban_bias: float = 1.0):
    """Commune indices drawn by population (``urban_bias`` > 1 favours big communes),
    and jittered coordinates (spread grows with the commune's size)."""
    weight = communes.population**urban_bias
    idx = rng.choice(communes.population.size, size=n, p=weight / weight.sum())
    spread_km = np.clip(0.6 * np.sqrt(communes.population[idx] / 2000), 0.5, 3.0)
    dlat = rng.normal(0, 1, n) * spread_km / 111.2
    dlon = rng.normal(0, 1, n) * spread_km / (111.2 * np.cos(np.radians(communes.lat[idx])))
    return idx, communes.lat[idx] + dlat, communes.lon[idx] + dlon


AGE_BANDS = ((11, 15), (14, 18), (16, 25), (18, 25), (11, 25))
# Probability of each need (in NEEDS order) by age: school years, then work.
NEED_WEIGHTS_YOUNG = np.array([5, 3, 0.2, 1, 0.2, 3, 1, 1])
NEED_WEIGHTS_OLD = np.array([0.5, 3, 5, 2, 1.5, 2, 1.5, 1])


def synthetic_problem(
    n_mentees: int,
    n_mentors: int,
    seed: int = 0,
    *,
    policy: Policy | None = None,
    remote_share: float = 0.25,
    qpv_share: float = 0.25,
    run_date: date = RUN_DATE,
) -> MatchingProblem:
    """A reproducible problem of the given size (same seed, same problem)."""
    rng = np.random.default_rng(seed)
    c = load_communes()
    year = run_date.year

    # Programmes ------------------------------------------------------------------
    deps = sorted(set(c.dep.tolist()))
    pop_by_dep = {d: c.population[c.dep == d].sum() for d in deps}
    total_pop = c.population.sum()
    programmes: list[Programme] = []
    by_dep: dict[str, list[str]] = {}
    for d in deps:
        demand = n_mentees * pop_by_dep[d] / total_pop
        in_dep = np.flatnonzero(c.dep == d)
        biggest = in_dep[np.argsort(-c.population[in_dep])[:3]]
        for k in range(int(rng.integers(2, 5))):
            lo, hi = AGE_BANDS[int(rng.integers(len(AGE_BANDS)))]
            city_only = k > 0 and rng.random() < 0.15
            territories = set(c.code[biggest].tolist()) if city_only else {d}
            pid = f"p-{d}-{k}"
            programmes.append(
                Programme(
                    id=pid,
                    needs=frozenset(
                        rng.choice(NEEDS, size=int(rng.integers(3, 7)), replace=False).tolist()
                    ),
                    territories=frozenset(territories),
                    min_age=lo,
                    max_age=hi,
                    capacity=max(1, round(demand * rng.uniform(0.25, 0.6))),
                    remote_allowed=bool(rng.random() < 0.4),
                )
            )
            by_dep.setdefault(d, []).append(pid)
    by_region: dict[str, str] = {}
    for reg in sorted(set(c.region.tolist())):
        reg_deps = sorted(set(c.dep[c.region == reg].tolist()))
        demand = n_mentees * sum(pop_by_dep[d] for d in reg_deps) / total_pop
        pid = f"r-{reg}"
        programmes.append(
            Programme(
                id=pid,
                needs=frozenset({"employment", "entrepreneurship", "digital", "higher_education"}),
                territories=frozenset(reg_deps),
                min_age=16,
                max_age=25,
                capacity=max(1, round(demand * 0.08)),
                remote_allowed=True,
            )
        )
        by_region[reg] = pid

    # Mentees ---------------------------------------------------------------------
    idx, lat, lon = _place(rng, c, n_mentees)
    ages = rng.integers(11, 26, n_mentees)
    big = c.population[idx] >= 10_000
    rural = c.population[idx] < 2_000
    qpv = big & (rng.random(n_mentees) < qpv_share * 2)
    zone_draw = rng.random(n_mentees)
    n_needs = rng.choice([1, 2, 3], size=n_mentees, p=[0.45, 0.35, 0.2])
    waiting = rng.exponential(90, n_mentees).astype(int)
    remote = rng.random(n_mentees) < remote_share
    travel = np.where(
        rural,
        rng.choice([15.0, 20.0, 30.0], n_mentees),
        rng.choice([5.0, 8.0, 10.0, 15.0], n_mentees),
    )
    mentees: list[Mentee] = []
    for i in range(n_mentees):
        w = NEED_WEIGHTS_YOUNG if ages[i] < 17 else NEED_WEIGHTS_OLD
        needs = tuple(
            rng.choice(NEEDS, size=int(n_needs[i]), replace=False, p=w / w.sum()).tolist()
        )
        dep = str(c.dep[idx[i]])
        enrolled = (
            frozenset({by_dep[dep][int(rng.integers(len(by_dep[dep])))]})
            if rng.random() < 0.08
            else frozenset()
        )
        mentees.append(
            Mentee(
                id=f"e{i:06d}",
                birth_year=int(year - ages[i]),
                lat=float(lat[i]),
                lon=float(lon[i]),
                commune_insee=str(c.code[idx[i]]),
                department=dep,
                needs=needs,
                waiting_since=run_date - timedelta(days=int(waiting[i])),
                max_travel_km=float(travel[i]),
                languages=_languages(rng),
                remote_ok=bool(remote[i]),
                qpv=bool(qpv[i]),
                rural_zone=(
                    "FRR+" if zone_draw[i] < 0.1 else "FRR" if zone_draw[i] < 0.4 else "none"
                )
                if rural[i]
                else "none",
                enrolled_programme_ids=enrolled,
            )
        )

    # Mentors ---------------------------------------------------------------------
    idx, lat, lon = _place(rng, c, n_mentors, urban_bias=1.1)
    caps = rng.choice([1, 2, 3], size=n_mentors, p=[0.55, 0.3, 0.15])
    bg_draw = rng.random(n_mentors)
    mentors: list[Mentor] = []
    for i in range(n_mentors):
        dep, reg = str(c.dep[idx[i]]), str(c.region[idx[i]])
        own = by_dep[dep]
        progs = set(
            rng.choice(own, size=min(len(own), int(rng.integers(1, 3))), replace=False).tolist()
        )
        if rng.random() < 0.2:
            progs.add(by_region[reg])
        bg = (
            run_date + timedelta(days=int(rng.integers(30, 1500)))
            if bg_draw[i] < 0.85
            else (
                None if bg_draw[i] < 0.93 else run_date - timedelta(days=int(rng.integers(1, 400)))
            )
        )
        mentors.append(
            Mentor(
                id=f"m{i:06d}",
                lat=float(lat[i]),
                lon=float(lon[i]),
                max_travel_km=float(rng.choice([5.0, 10.0, 15.0, 25.0])),
                capacity=int(caps[i]),
                skills=frozenset(
                    rng.choice(NEEDS, size=int(rng.integers(2, 5)), replace=False).tolist()
                ),
                programme_ids=frozenset(progs),
                languages=_languages(rng),
                remote_ok=bool(rng.random() < remote_share),
                background_check_valid_until=bg,
            )
        )

    # History: supports, running matches, exclusions ---------------------------------
    supports = []
    for i in np.flatnonzero(rng.random(n_mentees) < 0.2).tolist():
        m = mentees[i]
        end = None if rng.random() < 0.7 else run_date - timedelta(days=int(rng.integers(1, 300)))
        start = run_date - timedelta(days=int(rng.integers(300, 600)))
        supports.append(Support(m.id, m.needs[int(rng.integers(len(m.needs)))], start, end))
    running = []
    for j in np.flatnonzero(rng.random(n_mentors) < 0.15).tolist():
        mentor = mentors[j]
        running.append(
            RunningMatch(f"past-{j}", mentor.id, sorted(mentor.programme_ids)[0], "orientation")
        )
    excluded = [
        ExcludedPair(
            mentees[int(rng.integers(n_mentees))].id, mentors[int(rng.integers(n_mentors))].id
        )
        for _ in range(n_mentees // 100)
    ]
    return MatchingProblem(
        run_date=run_date,
        mentees=tuple(mentees),
        mentors=tuple(mentors),
        programmes=tuple(programmes),
        supports=tuple(supports),
        running_matches=tuple(running),
        excluded_pairs=tuple(excluded),
        policy=policy or Policy(),
    )


def _languages(rng: np.random.Generator) -> frozenset[str]:
    draw = rng.random()
    if draw < 0.05:
        return frozenset()
    if draw < 0.85:
        return frozenset({"fr"})
    extra = str(LANGUAGES[int(rng.integers(len(LANGUAGES)))])
    return frozenset({extra} if draw > 0.98 else {"fr", extra})
