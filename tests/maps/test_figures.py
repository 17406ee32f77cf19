"""The figures behind the pictures: the indicators' and the diagnostic's published
cells, against counts made by hand."""

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.maps import figures
from app.maps.figures import Indicator, MonthlyScope, Series, Value
from tests.api.conftest import Actor, mentee_payload
from tests.maps.conftest import History


def test_department_figures_are_the_published_cells(session: Session, history: History) -> None:
    found = figures.department_figures(session, exact=True)["93"]
    assert (found.young_people, found.waiting, found.volunteers, found.referred) == (10, 7, 6, 10)
    # Four matches started in the year, one ended early after 30 days; the others run
    # on or completed: the Kaplan-Meier estimate at 182 days is 3/4.
    assert found.value(Indicator.RETENTION_6_MONTHS) == Value(0.75)
    assert found.value(Indicator.MATCHED_SHARE) == Value(0.3)  # three engaged of ten
    assert found.value(Indicator.WAITING_PER_VOLUNTEER) == Value(7 / 6)
    # Two matches started at least six months ago, none of them ended early.
    assert found.value(Indicator.CLOSED_BEFORE_6_MONTHS) == Value(0.0)
    public = figures.department_figures(session, exact=False)["93"]
    assert public.value(Indicator.WAITING) == Value(7.0)
    assert public.value(Indicator.RETENTION_6_MONTHS).withheld  # four matches started
    assert public.value(Indicator.CLOSED_BEFORE_6_MONTHS).withheld  # two eligible
    assert set(figures.department_figures(session, exact=True)) == {"93"}


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
    assert hidden["93066"].waiting.withheld
    assert hidden["93001"].volunteers_in_reach.withheld


def test_a_lone_small_commune_is_protected_by_a_complement(
    session: Session, history: History, association: Actor, client: TestClient
) -> None:
    """7 waiting in the department, 3 of them in Aubervilliers: with 5 more in
    Saint-Denis (9 there), the department shows 12 and Aubervilliers alone would be
    12 - 9; the suppression withholds Saint-Denis too."""
    for _ in range(5):
        body = mentee_payload(location={"insee": "93066"})
        assert client.post("/v1/mentees", json=body, headers=association.headers).status_code == 201
    points = {p.insee: p for p in figures.commune_points(session, "93", exact=False)}
    assert points["93001"].waiting.withheld
    assert points["93066"].waiting.withheld
    exact = {p.insee: p for p in figures.commune_points(session, "93", exact=True)}
    assert exact["93066"].waiting.value == 9


def test_monthly_series_over_a_year(session: Session, history: History, company: Actor) -> None:
    months = figures.months_back(date.today(), 12)
    series = figures.monthly(session, MonthlyScope(department="93"), months, exact=True)
    assert sum(v.value or 0 for v in series[Series.STARTED]) == 4
    assert sum(v.value or 0 for v in series[Series.ENDED_EARLY]) == 1
    assert series[Series.FOLLOWED][-1].value == 2
    assert series[Series.REFERRED][-1].value == 10  # all referred this month
    employees = figures.monthly(
        session, MonthlyScope(employer_id=company.organisation_id), months, exact=True
    )
    assert Series.REFERRED not in employees
    assert sum(v.value or 0 for v in employees[Series.STARTED]) == 1
    assert sum(v.value or 0 for v in employees[Series.ENDED_EARLY]) == 1
    hidden = figures.monthly(session, MonthlyScope(department="93"), months, exact=False)
    assert hidden[Series.FOLLOWED][-1].withheld
    assert hidden[Series.REFERRED][-1] == Value(10.0)


def test_months_back_crosses_years() -> None:
    assert figures.months_back(date(2026, 2, 17), 4) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert figures.month_end(date(2024, 2, 1)) == date(2024, 2, 29)
    assert figures.month_end(date(2026, 12, 1)) == date(2026, 12, 31)


def test_a_share_is_shown_only_when_both_its_terms_are() -> None:
    assert figures.share_value(None, 20).withheld
    assert figures.share_value(4, None).withheld
    assert figures.share_value(5, 20) == Value(0.25)
    assert figures.share_value(0, 0) == figures.NO_DATA
