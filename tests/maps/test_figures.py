"""The figures behind the pictures, against counts made by hand and an independent
product-limit reference."""

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from app.maps import figures
from app.maps.figures import Indicator, MonthlyScope, Series
from tests.api.conftest import Actor
from tests.maps.conftest import History


def test_department_figures_count_waiting_matched_and_available(
    session: Session, history: History
) -> None:
    found = figures.department_figures(session)["93"]
    assert (found.referred, found.waiting, found.matched) == (10, 7, 5)
    assert found.volunteers_available == 4  # two mentors of capacity 1 are taken
    assert found.started == 4
    assert found.retention_6_months == 0.75
    assert found.value(Indicator.WAITING_PER_VOLUNTEER, True).value == 1.75
    assert found.value(Indicator.WAITING_PER_VOLUNTEER, False).withheld
    assert found.value(Indicator.WAITING, False).value == 7


def test_commune_points_count_waiting_and_volunteers_in_reach(
    session: Session, history: History
) -> None:
    points = {p.insee: p for p in figures.commune_points(session, "93", exact=True)}
    assert set(points) == {"93066", "93001"}
    assert points["93066"].waiting.value == 4
    assert points["93001"].waiting.value == 3
    # Saint-Denis and Aubervilliers are 3 km apart: all four free volunteers reach both.
    assert points["93001"].volunteers_in_reach.value == 4
    hidden = {p.insee: p for p in figures.commune_points(session, "93", exact=False)}
    assert hidden["93001"].waiting.withheld
    assert hidden["93001"].volunteers_in_reach.withheld


def test_monthly_series_over_a_year(session: Session, history: History, company: Actor) -> None:
    months = figures.months_back(date.today(), 12)
    series = figures.monthly(session, MonthlyScope(department="93"), months, exact=True)
    assert sum(v.value or 0 for v in series[Series.STARTED]) == 4
    assert sum(v.value or 0 for v in series[Series.ENDED_EARLY]) == 1
    assert series[Series.ACTIVE][-1].value == 2
    three_years = figures.months_back(date.today(), 36)
    referred = figures.monthly(session, MonthlyScope(department="93"), three_years, exact=True)
    september = three_years.index(date(2026, 9, 1))  # every young person waits since then
    assert referred[Series.REFERRED][september].value == 10
    assert sum(v.value or 0 for v in referred[Series.REFERRED]) == 10
    employees = figures.monthly(
        session, MonthlyScope(employer_id=company.organisation_id), months, exact=True
    )
    assert Series.REFERRED not in employees
    assert sum(v.value or 0 for v in employees[Series.STARTED]) == 1
    hidden = figures.monthly(session, MonthlyScope(department="93"), months, exact=False)
    assert hidden[Series.ACTIVE][-1].withheld


def test_months_back_crosses_years() -> None:
    assert figures.months_back(date(2026, 2, 17), 4) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_shares_hide_a_small_part_or_a_small_rest() -> None:
    assert figures.share_value(4, 20, exact=False).withheld
    assert figures.share_value(16, 20, exact=False).withheld  # four not matched
    assert figures.share_value(5, 20, exact=False).value == 0.25
    assert figures.share_value(0, 20, exact=False).value == 0.0
    assert figures.share_value(4, 20, exact=True).value == 0.2
    assert figures.share_value(0, 0, exact=False) == figures.NO_DATA


def reference_survival(observations: list[tuple[float, bool]], day: float) -> float:
    """Product-limit estimate written from its definition: walk people one at a time in
    order of duration (events before censorings at equal times)."""
    ordered = sorted(observations, key=lambda o: (o[0], not o[1]))
    survival, at_risk, i = 1.0, len(ordered), 0
    while i < len(ordered) and ordered[i][0] <= day:
        time = ordered[i][0]
        tied = [o for o in ordered if o[0] == time]
        deaths = sum(1 for _, event in tied if event)
        survival *= (at_risk - deaths) / at_risk
        at_risk -= len(tied)
        i += len(tied)
    return survival


@given(
    st.lists(st.tuples(st.integers(0, 400).map(float), st.booleans()), min_size=1, max_size=60),
    st.integers(0, 400),
)
def test_retention_is_the_kaplan_meier_estimate(
    observations: list[tuple[float, bool]], day: int
) -> None:
    got = figures.survival_at(observations, day)
    if max(d for d, _ in observations) < day:
        assert got is None
    else:
        assert got is not None
        assert abs(got - reference_survival(observations, day)) < 1e-12


def test_without_censoring_retention_is_the_share_still_running() -> None:
    rng = random.Random(7)
    observations = [(float(rng.randint(0, 365)), rng.random() < 0.4) for _ in range(200)]
    observations.append((400.0, False))
    # Whoever is not followed past 182 days ends early: no censoring before the day.
    full = [(d, e) if e or d > 182 else (400.0, False) for d, e in observations]
    kept = sum(1 for d, event in full if not (event and d <= 182))
    assert figures.survival_at(full, 182) == pytest.approx(kept / len(full), abs=1e-12)
