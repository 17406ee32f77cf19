"""The figures the pictures show, read from the published tables of the indicators
and of the territory diagnostic, so that a map never shows a cell those tables withhold
(small counts and their complements, for every role but admin), and every figure has
one definition (docs/indicators.md).

Department indicators (docs/maps.md repeats them for readers):

- *waiting*: active young people with no accepted or active match (the indicators'
  ``reach_waiting``);
- *referred*: young people referred during the last 12 months;
- *volunteers*: active mentors (the territory diagnostic's ``mentors``);
- *waiting per volunteer*: waiting / volunteers;
- *matched share*: active young people with an accepted or active match, over the
  active young people (the diagnostic's ``young_people``);
- *ended before 6 months*: matches started in the last 12 months and at least 6 months
  ago, closed early within 6 months, over those matches (``closed_before_6_months``);
- *retention at 6 months*: Kaplan–Meier estimate over the matches started in the last
  12 months (``retention_6_months``).

A share or ratio is shown only when both of its terms are published.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import numpy as np
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.geo import commune
from app.indicators import aggregates as indicator_aggregates
from app.indicators import service as indicators
from app.indicators.definitions import RETENTION_DAYS
from app.indicators.memo import remembered
from app.indicators.scopes import Period
from app.indicators.suppression import Line, is_small, withheld_cells
from app.indicators.survival import Tally, events_until, survival_at
from app.matches.models import CloseReason, Match, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.territories import service as territories
from app.territories.service import withhold


class Indicator(StrEnum):
    WAITING = "waiting"
    WAITING_PER_VOLUNTEER = "waiting_per_volunteer"
    MATCHED_SHARE = "matched_share"
    RETENTION_6_MONTHS = "retention_6_months"
    CLOSED_BEFORE_6_MONTHS = "closed_before_6_months"
    VOLUNTEERS = "volunteers"
    REFERRED = "referred"


@dataclass(frozen=True)
class IndicatorInfo:
    label: str
    """French label, as the pictures and the dashboard show it."""
    share: bool = False
    """A share between 0 and 1, drawn as a percentage."""
    higher_is_better: bool = False


INDICATORS: dict[Indicator, IndicatorInfo] = {
    Indicator.WAITING: IndicatorInfo("Jeunes en attente d'un mentor"),
    Indicator.WAITING_PER_VOLUNTEER: IndicatorInfo("Jeunes en attente par bénévole actif"),
    Indicator.MATCHED_SHARE: IndicatorInfo(
        "Part des jeunes suivis ayant un binôme", share=True, higher_is_better=True
    ),
    Indicator.RETENTION_6_MONTHS: IndicatorInfo(
        "Binômes toujours en cours à 6 mois", share=True, higher_is_better=True
    ),
    Indicator.CLOSED_BEFORE_6_MONTHS: IndicatorInfo("Binômes arrêtés avant 6 mois", share=True),
    Indicator.VOLUNTEERS: IndicatorInfo("Bénévoles actifs", higher_is_better=True),
    Indicator.REFERRED: IndicatorInfo("Jeunes orientés (12 derniers mois)"),
}


@dataclass(frozen=True)
class Value:
    """A figure as a caller may see it: ``None`` with ``withheld`` when the published
    tables withhold it (or a term of it), ``None`` without it when there is nothing to
    measure."""

    value: float | None
    withheld: bool = False


NO_DATA = Value(None)
WITHHELD = Value(None, withheld=True)


def count_value(count: int | None) -> Value:
    """A published count (``None``: withheld)."""
    return WITHHELD if count is None else Value(float(count))


def share_value(part: int | None, whole: int | None) -> Value:
    if part is None or whole is None:
        return WITHHELD
    return Value(part / whole) if whole else NO_DATA


def ratio_value(numerator: int | None, denominator: int | None) -> Value:
    return share_value(numerator, denominator)


def last_year(today: date) -> Period:
    """The indicators' default period: the 365 days ending today."""
    return Period.of(None, None, today)


@dataclass(frozen=True)
class DepartmentFigures:
    """One department's published figures (``None``: withheld)."""

    code: str
    young_people: int | None
    waiting: int | None
    volunteers: int | None
    referred: int | None
    closed_early: int | None
    eligible: int | None
    retention: Value

    def value(self, indicator: Indicator) -> Value:
        match indicator:
            case Indicator.WAITING:
                return count_value(self.waiting)
            case Indicator.REFERRED:
                return count_value(self.referred)
            case Indicator.VOLUNTEERS:
                return count_value(self.volunteers)
            case Indicator.WAITING_PER_VOLUNTEER:
                return ratio_value(self.waiting, self.volunteers)
            case Indicator.MATCHED_SHARE:
                if self.young_people is None or self.waiting is None:
                    return WITHHELD
                return share_value(self.young_people - self.waiting, self.young_people)
            case Indicator.CLOSED_BEFORE_6_MONTHS:
                return share_value(self.closed_early, self.eligible)
            case Indicator.RETENTION_6_MONTHS:
                return self.retention


def department_figures(
    session: Session, exact: bool, only: str | None = None, today: date | None = None
) -> dict[str, DepartmentFigures]:
    """Every department with young people or volunteers (or only ``only``), its figures
    as the indicators and the territory diagnostic publish them to this caller."""
    day = today or date.today()
    return remembered(
        session,
        ("map departments", day, exact, only),
        lambda: _department_figures(session, exact, only, day),
    )


def _department_figures(
    session: Session, exact: bool, only: str | None, day: date
) -> dict[str, DepartmentFigures]:
    period = last_year(day)
    table = indicators.national_table(session, period)
    overview = territories.overview(session, day, exact=exact).departments

    def cell(measure: str, code: str) -> int | None:
        key = (measure, "department", code)
        return None if not exact and key in table.hidden else table.value(key)

    tallies = indicator_aggregates.survival_tallies_by_department(session, period)
    found: dict[str, DepartmentFigures] = {}
    for headline in overview:
        code = headline.department
        if only is not None and code != only:
            continue
        referred = cell("young_people_referred", code)
        # A withheld count (None) is not zero: someone is there.
        if headline.young_people == 0 and headline.mentors == 0 and referred == 0:
            continue
        found[code] = DepartmentFigures(
            code=code,
            young_people=headline.young_people,
            waiting=cell("reach_waiting:all", code),
            volunteers=headline.mentors,
            referred=referred,
            closed_early=cell("closed_before_6_months:closed", code),
            eligible=cell("closed_before_6_months:eligible", code),
            retention=_retention(tallies.get(code, []), cell("matches_started", code), exact),
        )
    return found


def _retention(tallies: list[Tally], started: int | None, exact: bool) -> Value:
    """As the indicators compute it for a department: withheld when the matches started
    are, or when few of them broke down (the share would show who)."""
    if started == 0:
        return NO_DATA
    if started is None:
        return WITHHELD
    days = RETENTION_DAYS["retention_6_months"]
    if not exact and is_small(events_until(tallies, days)):
        return WITHHELD
    value = survival_at(tallies, days)
    return NO_DATA if value is None else Value(value)


def _running(now: object) -> ColumnElement[bool]:
    """Matches holding a unit of capacity at ``now``."""
    return or_(
        Match.status.in_((MatchStatus.ACCEPTED, MatchStatus.ACTIVE)),
        and_(
            Match.status == MatchStatus.PROPOSED,
            or_(Match.expires_at.is_(None), Match.expires_at > now),
        ),
    )


def available_mentors_filter(now: object) -> ColumnElement[bool]:
    held = (
        select(func.count())
        .select_from(Match)
        .where(Match.mentor_id == Mentor.id, _running(now))
        .scalar_subquery()
    )
    return and_(Mentor.active.is_(True), held < Mentor.capacity)


@dataclass(frozen=True)
class CommunePoint:
    insee: str
    name: str
    lat: float
    lon: float
    waiting: Value
    volunteers_in_reach: Value


def commune_points(
    session: Session, department: str, exact: bool, today: date | None = None
) -> list[CommunePoint]:
    """Per commune of the department: young people waiting, and available volunteers
    (active, below their capacity) whose travel distance reaches the commune's centroid.

    The communes' waiting counts add up to the department's published count: they are
    withheld with the indicators' suppression over that line (the department's count
    forced when it is withheld itself), so that no withheld commune can be read back.
    Volunteers in reach overlap from one commune to the next and add up to nothing;
    their small counts are withheld alone. Young people are counted as people (records
    of one person count once), as in the indicators.

    Kept per state of the data, like the tables (:mod:`app.indicators.memo`)."""
    day = today or date.today()
    return remembered(
        session,
        ("commune_points", department, exact, day),
        lambda: _commune_points(session, department, exact, day),
    )


def _commune_points(
    session: Session, department: str, exact: bool, today: date
) -> list[CommunePoint]:
    now = utcnow()
    people = indicator_aggregates.mentee_people(
        session, last_year(today), where=[Mentee.department == department]
    )
    waiting: Counter[str] = Counter(
        {
            insee: int(n)
            for insee, n in session.execute(
                select(people.c.commune_insee, func.count())
                .where(people.c.active > 0, people.c.engaged == 0)
                .group_by(people.c.commune_insee)
            )
        }
    )
    mentors = session.execute(
        select(Mentor.commune_insee, Mentor.lat, Mentor.lon, Mentor.max_travel_km).where(
            Mentor.department == department, available_mentors_filter(now)
        )
    ).all()
    hidden: set[str] = set()
    if not exact:
        table = indicators.national_table(session, last_year(today))
        total = ("reach_waiting:all", "department", department)
        values = {**waiting, "": sum(waiting.values())}
        forced = {""} if total in table.hidden else set()
        hidden = withheld_cells(values, [Line("", tuple(sorted(waiting)))], forced=forced)
    insees = sorted(set(waiting) | {row.commune_insee for row in mentors})
    places = [(insee, found) for insee in insees if (found := commune(insee)) is not None]
    reach = np.zeros(len(places), dtype=int)
    if mentors and places:
        lat = np.radians([[c.lat] for _, c in places])
        lon = np.radians([[c.lon] for _, c in places])
        mlat = np.radians([row.lat for row in mentors])[None, :]
        mlon = np.radians([row.lon for row in mentors])[None, :]
        half = (
            np.sin((mlat - lat) / 2) ** 2
            + np.cos(lat) * np.cos(mlat) * np.sin((mlon - lon) / 2) ** 2
        )
        km = 2 * 6371.0088 * np.arcsin(np.sqrt(half))
        limits = np.asarray([row.max_travel_km for row in mentors], dtype=float)[None, :]
        reach = (km <= limits).sum(axis=1)
    return [
        CommunePoint(
            insee=insee,
            name=place.name,
            lat=place.lat,
            lon=place.lon,
            waiting=WITHHELD if insee in hidden else Value(float(waiting[insee])),
            volunteers_in_reach=count_value(withhold(int(reach[index]), exact)),
        )
        for index, (insee, place) in enumerate(places)
    ]


class Series(StrEnum):
    REFERRED = "referred"
    STARTED = "matches_started"
    FOLLOWED = "matches_followed"
    ENDED_EARLY = "matches_ended_early"


SERIES_LABELS: dict[Series, str] = {
    Series.REFERRED: "Jeunes orientés",
    Series.STARTED: "Binômes démarrés (première rencontre)",
    Series.FOLLOWED: "Binômes en cours dans le mois",
    Series.ENDED_EARLY: "Binômes arrêtés avant leur terme",
}


@dataclass(frozen=True)
class MonthlyScope:
    """Whose figures a chart shows: the nation, a department or a programme (from the
    indicators' tables), or a company's employees (counted here: no published table
    holds them, and their HR sees them exactly)."""

    department: str | None = None
    programme_id: str | None = None
    employer_id: object | None = None


def months_back(today: date, count: int) -> list[date]:
    """First days of the ``count`` months ending with ``today``'s month, oldest first."""
    index = today.year * 12 + today.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def month_end(month: date) -> date:
    index = month.year * 12 + month.month  # the next month's index
    return date(index // 12, index % 12 + 1, 1) - timedelta(days=1)


def monthly(
    session: Session,
    scope: MonthlyScope,
    months: list[date],
    exact: bool,
    today: date | None = None,
) -> dict[Series, list[Value]]:
    """Each series, one value per month of ``months`` (first days, oldest first): the
    month's figures of the indicators (each month a period of its own)."""
    day = today or date.today()
    if scope.employer_id is not None:
        return _employees_monthly(session, scope.employer_id, months, day)
    if scope.programme_id is not None:
        level, code = "programme", scope.programme_id
    elif scope.department is not None:
        level, code = "department", scope.department
    else:
        level, code = "national", ""
    found: dict[Series, list[Value]] = {series: [] for series in Series}
    for month in months:
        period = Period.of(month, month_end(month), day)
        table = indicators.national_table(session, period, scope.programme_id)

        def cell(measure: str, table: indicators.Table = table) -> int | None:
            key = (measure, level, code)
            return None if not exact and key in table.hidden else table.value(key)

        found[Series.REFERRED].append(count_value(cell("young_people_referred")))
        found[Series.STARTED].append(count_value(cell("matches_started")))
        found[Series.FOLLOWED].append(count_value(cell("matches_followed")))
        closed, completed = cell("matches_closed"), cell("matches_closed:completed")
        found[Series.ENDED_EARLY].append(
            WITHHELD if closed is None or completed is None else Value(float(closed - completed))
        )
    return found


def _employees_monthly(
    session: Session, employer_id: object, months: list[date], today: date
) -> dict[Series, list[Value]]:
    """The matches of a company's employees, with the indicators' definitions: started
    in the month, running at some day of it, closed in it for another reason than
    ``completed``."""
    employees = select(Mentor.id).where(
        or_(Mentor.employer_id == employer_id, Mentor.organisation_id == employer_id)
    )
    rows = session.execute(
        select(Match.started_at, Match.ended_at, Match.status, Match.close_reason).where(
            Match.mentor_id.in_(employees), Match.started_at.is_not(None)
        )
    ).all()
    found: dict[Series, list[Value]] = {
        Series.STARTED: [],
        Series.FOLLOWED: [],
        Series.ENDED_EARLY: [],
    }
    for month in months:
        first, last = month, min(month_end(month), today)
        started = followed = ended_early = 0
        for started_at, ended_at, status, reason in rows:
            start = started_at.date()
            end = ended_at.date() if ended_at is not None else None
            started += first <= start <= last
            followed += start <= last and (end is None or end >= first)
            ended_early += (
                status is MatchStatus.CLOSED
                and reason is not CloseReason.COMPLETED
                and end is not None
                and first <= end <= last
            )
        found[Series.STARTED].append(Value(float(started)))
        found[Series.FOLLOWED].append(Value(float(followed)))
        found[Series.ENDED_EARLY].append(Value(float(ended_early)))
    return found
