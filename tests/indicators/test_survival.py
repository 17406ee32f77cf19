"""Kaplan–Meier retention against Efron's redistribute-to-the-right construction, an
independent way of computing the same estimator: each match carries a mass of 1/n; a
censored match hands its mass on, in equal shares, to every match known to last longer;
S(t) is one minus the mass of the events up to t."""

import random
from collections import Counter
from fractions import Fraction

import pytest

from app.indicators.survival import Tally, survival_at


def redistribute_to_the_right(matches: list[tuple[int, bool]], day: int) -> Fraction:
    # Events before censorings on the same day: a match censored on day t was still
    # running when the day's breakdowns happened.
    ordered = sorted(matches, key=lambda m: (m[0], not m[1]))
    mass = [Fraction(1, len(ordered))] * len(ordered)
    for i, (last_day, event) in enumerate(ordered):
        if not event:
            later = [j for j in range(len(ordered)) if ordered[j][0] > last_day]
            if later:
                for j in later:
                    mass[j] += mass[i] / len(later)
                mass[i] = Fraction(0)
    return 1 - sum(
        (
            m
            for m, (last_day, event) in zip(mass, ordered, strict=True)
            if event and last_day <= day
        ),
        Fraction(0),
    )


def tallies(matches: list[tuple[int, bool]]) -> list[Tally]:
    events = Counter(d for d, e in matches if e)
    censored = Counter(d for d, e in matches if not e)
    return [Tally(d, events[d], censored[d]) for d in sorted(set(events) | set(censored))]


@pytest.mark.parametrize("seed", range(200))
def test_kaplan_meier_matches_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    matches = [(rng.randint(0, 400), rng.random() < 0.4) for _ in range(rng.randint(1, 40))]
    for day in (0, 30, 182, 365, 500):
        expected = redistribute_to_the_right(matches, day)
        got = survival_at(tallies(matches), day)
        assert got == pytest.approx(float(expected), abs=1e-12), (matches, day)


def test_running_matches_are_censored_not_dropped() -> None:
    # Four matches: one broke down at day 100, three still running at day 200.
    matches = [(100, True), (200, False), (200, False), (200, False)]
    assert survival_at(tallies(matches), 182) == pytest.approx(0.75)
    # Dropping the running ones would claim nobody stayed.
    assert survival_at(tallies([(100, True)]), 182) == 0.0
    # A match censored early leaves the risk set: 1 × (1 − 1/2) at day 300.
    matches = [(50, False), (300, True), (400, False)]
    assert survival_at(tallies(matches), 365) == pytest.approx(0.5)


def test_no_match_no_figure() -> None:
    assert survival_at([], 182) is None
