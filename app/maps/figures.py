"""The figures the pictures show, aggregated in SQL per department, per commune or per
month, with small counts withheld for every role but admin.

Definitions (docs/maps.md repeats them for readers):

- *referred*: active young people living in the department;
- *waiting*: referred young people with no accepted or active match;
- *volunteers available*: active mentors holding fewer running matches (unexpired
  proposals, accepted, active) than their capacity;
- *matched share*: referred young people who have, or had, a match that was accepted,
  over the referred;
- *retention at 6 months*: Kaplan–Meier estimate, over the matches that started, of the
  probability that a match is still running 182 days after its first meeting; a match
  closed as completed, or still running, is censored, any other closure is an event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import numpy as np
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.geo import commune
from app.matches.models import CloseReason, Match, MatchStatus
from app.mentees.models import Mentee, mentee_programmes
from app.mentors.models import Mentor
from app.territories.service import SMALL_COUNT, withhold

RETENTION_DAYS = 182


class Indicator(StrEnum):
    WAITING = "waiting"
    WAITING_PER_VOLUNTEER = "waiting_per_volunteer"
    MATCHED_SHARE = "matched_share"
    RETENTION_6_MONTHS = "retention_6_months"
    VOLUNTEERS_AVAILABLE = "volunteers_available"
    REFERRED = "referred"


@dataclass(frozen=True)
class IndicatorInfo:
    label: str
    """French label, as the pictures and the dashboard show it."""
    share: bool = False
    """A share between 0 and 1, drawn as a percentage."""


INDICATORS: dict[Indicator, IndicatorInfo] = {
    Indicator.WAITING: IndicatorInfo("Jeunes en attente d'un mentor"),
    Indicator.WAITING_PER_VOLUNTEER: IndicatorInfo("Jeunes en attente par bénévole disponible"),
    Indicator.MATCHED_SHARE: IndicatorInfo("Part des jeunes orientés ayant un binôme", share=True),
    Indicator.RETENTION_6_MONTHS: IndicatorInfo("Binômes toujours en cours à 6 mois", share=True),
    Indicator.VOLUNTEERS_AVAILABLE: IndicatorInfo("Bénévoles disponibles"),
    Indicator.REFERRED: IndicatorInfo("Jeunes orientés"),
}


@dataclass(frozen=True)
class Value:
    """A figure as a caller may see it: ``None`` with ``withheld`` when small counts
    would show through, ``None`` without it when there is nothing to measure."""

    value: float | None
    withheld: bool = False


NO_DATA = Value(None)
WITHHELD = Value(None, withheld=True)


def _small(count: int) -> bool:
    return 0 < count < SMALL_COUNT


def count_value(count: int, exact: bool) -> Value:
    shown = withhold(count, exact)
    return WITHHELD if shown is None else Value(float(shown))


def share_value(part: int, whole: int, exact: bool) -> Value:
    """``part / whole``; withheld when the part or the rest is a small count, since
    either could be read back from the share and the whole."""
    if whole == 0:
        return NO_DATA
    if not exact and (_small(part) or _small(whole - part)):
        return WITHHELD
    return Value(part / whole)


def ratio_value(numerator: int, denominator: int, exact: bool) -> Value:
    if denominator == 0:
        return NO_DATA
    if not exact and (_small(numerator) or _small(denominator)):
        return WITHHELD
    return Value(numerator / denominator)


@dataclass(frozen=True)
class DepartmentFigures:
    code: str
    referred: int = 0
    waiting: int = 0
    matched: int = 0
    volunteers_available: int = 0
    started: int = 0
    retention_6_months: float | None = None

    def value(self, indicator: Indicator, exact: bool) -> Value:
        match indicator:
            case Indicator.REFERRED:
                return count_value(self.referred, exact)
            case Indicator.WAITING:
                return count_value(self.waiting, exact)
            case Indicator.VOLUNTEERS_AVAILABLE:
                return count_value(self.volunteers_available, exact)
            case Indicator.WAITING_PER_VOLUNTEER:
                return ratio_value(self.waiting, self.volunteers_available, exact)
            case Indicator.MATCHED_SHARE:
                return share_value(self.matched, self.referred, exact)
            case Indicator.RETENTION_6_MONTHS:
                if self.retention_6_months is None:
                    return NO_DATA
                if not exact and self.started < SMALL_COUNT:
                    return WITHHELD
                return Value(self.retention_6_months)


def _running(now: datetime) -> ColumnElement[bool]:
    """Matches holding a unit of capacity at ``now``."""
    return or_(
        Match.status.in_((MatchStatus.ACCEPTED, MatchStatus.ACTIVE)),
        and_(
            Match.status == MatchStatus.PROPOSED,
            or_(Match.expires_at.is_(None), Match.expires_at > now),
        ),
    )


def _engaged_mentees() -> ColumnElement[bool]:
    engaged = select(Match.mentee_id).where(
        Match.status.in_((MatchStatus.ACCEPTED, MatchStatus.ACTIVE))
    )
    return Mentee.id.in_(engaged)


def _by_department(session: Session, stmt: Select[tuple[str, int]]) -> Counter[str]:
    return Counter({code: int(n) for code, n in session.execute(stmt)})


def available_mentors_filter(now: datetime) -> ColumnElement[bool]:
    held = (
        select(func.count())
        .select_from(Match)
        .where(Match.mentor_id == Mentor.id, _running(now))
        .scalar_subquery()
    )
    return and_(Mentor.active.is_(True), held < Mentor.capacity)


def department_figures(
    session: Session, departments: list[str] | None = None
) -> dict[str, DepartmentFigures]:
    """Figures of every department that has young people or volunteers (or only of
    ``departments``)."""
    now = utcnow()
    mentee_scope = [Mentee.active.is_(True)]
    mentor_scope = [available_mentors_filter(now)]
    if departments is not None:
        mentee_scope.append(Mentee.department.in_(departments))
        mentor_scope.append(Mentor.department.in_(departments))
    referred = _by_department(
        session,
        select(Mentee.department, func.count()).where(*mentee_scope).group_by(Mentee.department),
    )
    engaged = _by_department(
        session,
        select(Mentee.department, func.count())
        .where(*mentee_scope, _engaged_mentees())
        .group_by(Mentee.department),
    )
    ever_accepted = select(Match.mentee_id).where(Match.accepted_at.is_not(None))
    matched = _by_department(
        session,
        select(Mentee.department, func.count())
        .where(*mentee_scope, Mentee.id.in_(ever_accepted))
        .group_by(Mentee.department),
    )
    volunteers = _by_department(
        session,
        select(Mentor.department, func.count()).where(*mentor_scope).group_by(Mentor.department),
    )
    durations: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    started_rows = session.execute(
        select(
            Mentee.department, Match.started_at, Match.ended_at, Match.status, Match.close_reason
        )
        .join(Mentee, Mentee.id == Match.mentee_id)
        .where(
            Match.started_at.is_not(None),
            *([Mentee.department.in_(departments)] if departments is not None else []),
        )
    )
    for code, started_at, ended_at, status, close_reason in started_rows:
        ended_early = status is MatchStatus.CLOSED and close_reason is not CloseReason.COMPLETED
        end = ended_at if status is MatchStatus.CLOSED and ended_at is not None else now
        durations[code].append((max(0.0, (end - started_at).total_seconds() / 86400), ended_early))
    codes = sorted(set(referred) | set(volunteers) | set(durations))
    return {
        code: DepartmentFigures(
            code=code,
            referred=referred[code],
            waiting=referred[code] - engaged[code],
            matched=matched[code],
            volunteers_available=volunteers[code],
            started=len(durations[code]),
            retention_6_months=survival_at(durations[code], RETENTION_DAYS),
        )
        for code in codes
    }


def survival_at(observations: list[tuple[float, bool]], day: float) -> float | None:
    """Kaplan–Meier survival at ``day`` from (duration, event) pairs; ``None`` when no
    observation was followed that long (the curve is not defined there)."""
    if not observations or max(duration for duration, _ in observations) < day:
        return None
    leaving = Counter(duration for duration, _ in observations)
    events = Counter(duration for duration, event in observations if event)
    survival = 1.0
    at_risk = len(observations)
    for duration in sorted(leaving):
        if duration > day:
            break
        survival *= 1 - events[duration] / at_risk
        at_risk -= leaving[duration]
    return survival


@dataclass(frozen=True)
class CommunePoint:
    insee: str
    name: str
    lat: float
    lon: float
    waiting: Value
    volunteers_in_reach: Value


def commune_points(session: Session, department: str, exact: bool) -> list[CommunePoint]:
    """Per commune of the department: young people waiting, and available volunteers of
    the department whose travel distance reaches the commune's centroid."""
    now = utcnow()
    waiting = Counter(
        {
            insee: int(n)
            for insee, n in session.execute(
                select(Mentee.commune_insee, func.count())
                .where(
                    Mentee.active.is_(True),
                    Mentee.department == department,
                    ~_engaged_mentees(),
                )
                .group_by(Mentee.commune_insee)
            )
        }
    )
    mentors = session.execute(
        select(Mentor.commune_insee, Mentor.lat, Mentor.lon, Mentor.max_travel_km).where(
            Mentor.department == department, available_mentors_filter(now)
        )
    ).all()
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
            waiting=count_value(waiting[insee], exact),
            volunteers_in_reach=count_value(int(reach[index]), exact),
        )
        for index, (insee, place) in enumerate(places)
    ]


class Series(StrEnum):
    REFERRED = "referred"
    STARTED = "matches_started"
    ACTIVE = "matches_active"
    ENDED_EARLY = "matches_ended_early"


SERIES_LABELS: dict[Series, str] = {
    Series.REFERRED: "Jeunes entrés en attente",
    Series.STARTED: "Binômes démarrés (première rencontre)",
    Series.ACTIVE: "Binômes actifs en fin de mois",
    Series.ENDED_EARLY: "Binômes arrêtés avant leur terme",
}


@dataclass(frozen=True)
class MonthlyScope:
    """Whose figures a chart shows; every field narrows it (``None``: no narrowing)."""

    department: str | None = None
    programme_ids: tuple[object, ...] | None = None
    employer_id: object | None = None


def months_back(today: date, count: int) -> list[date]:
    """First days of the ``count`` months ending with ``today``'s month, oldest first."""
    index = today.year * 12 + today.month - 1
    return [date((i // 12), i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _month(day: date) -> date:
    return date(day.year, day.month, 1)


def monthly(
    session: Session, scope: MonthlyScope, months: list[date], exact: bool
) -> dict[Series, list[Value]]:
    """Each series, one value per month of ``months`` (first days, oldest first)."""
    match_where: list[ColumnElement[bool]] = []
    mentee_where: list[ColumnElement[bool]] = [Mentee.active.is_(True)]
    if scope.department is not None:
        match_where.append(Mentee.department == scope.department)
        mentee_where.append(Mentee.department == scope.department)
    if scope.programme_ids is not None:
        match_where.append(Match.programme_id.in_(scope.programme_ids))
        enrolled = select(mentee_programmes.c.mentee_id).where(
            mentee_programmes.c.programme_id.in_(scope.programme_ids)
        )
        mentee_where.append(Mentee.id.in_(enrolled))
    if scope.employer_id is not None:
        employees = select(Mentor.id).where(
            or_(
                Mentor.employer_id == scope.employer_id, Mentor.organisation_id == scope.employer_id
            )
        )
        match_where.append(Match.mentor_id.in_(employees))
    first = months[0]
    rows = session.execute(
        select(Match.started_at, Match.ended_at, Match.status, Match.close_reason)
        .join(Mentee, Mentee.id == Match.mentee_id)
        .where(Match.started_at.is_not(None), *match_where)
    ).all()
    started: Counter[date] = Counter()
    ended_early: Counter[date] = Counter()
    spans: list[tuple[date, date | None]] = []
    for started_at, ended_at, status, close_reason in rows:
        started[_month(started_at.date())] += 1
        closed = ended_at.date() if status is MatchStatus.CLOSED and ended_at else None
        if closed is not None and close_reason is not CloseReason.COMPLETED:
            ended_early[_month(closed)] += 1
        spans.append((started_at.date(), closed))
    referred: Counter[date] = Counter()
    if scope.employer_id is None:
        for (since,) in session.execute(
            select(Mentee.waiting_since).where(*mentee_where, Mentee.waiting_since >= first)
        ):
            referred[_month(since)] += 1
    active: Counter[date] = Counter()
    for month in months:
        end = _month_end(month)
        active[month] = sum(1 for s, c in spans if s <= end and (c is None or c > end))
    counters = {
        Series.REFERRED: referred,
        Series.STARTED: started,
        Series.ACTIVE: active,
        Series.ENDED_EARLY: ended_early,
    }
    if scope.employer_id is not None:
        del counters[Series.REFERRED]
    return {
        series: [count_value(counter[month], exact) for month in months]
        for series, counter in counters.items()
    }


def _month_end(month: date) -> date:
    index = month.year * 12 + month.month  # the next month's index
    return date.fromordinal(date(index // 12, index % 12 + 1, 1).toordinal() - 1)
