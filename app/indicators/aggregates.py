"""SQL aggregates behind the indicators: one grouped query per family of counts, for the
whole country at once (the suppression of small counts needs every cell of a line), and
the scope's own medians, survival tallies and meeting rates.

Nothing here loads individual rows into Python, except the day counts a median needs
on SQLite (PostgreSQL computes medians itself).
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, literal, or_, select
from sqlalchemy.orm import Session

from app.db import contains
from app.followup.models import Meeting
from app.identity import sql as identity_sql
from app.indicators.definitions import DAYS_PER_MONTH, EARLY_CLOSURE_DAYS
from app.indicators.scopes import Period, Scope, ScopeKind
from app.indicators.sql import utc_day
from app.indicators.survival import Tally
from app.matches.models import ENGAGED_STATUSES, CloseReason, Match, MatchStatus
from app.mentees.models import Mentee, mentee_programmes
from app.vocabulary import Need, RuralZone

Counts = dict[str, int]
"""Count measures of one group (a department, a programme…), by measure name."""

CLOSE_REASONS = tuple(CloseReason)
NEEDS = tuple(Need)
GROUPS = ("qpv", "rural", "minors", *(f"need:{need.value}" for need in NEEDS))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _within(moment: Any, period: Period) -> ColumnElement[bool]:
    """A timestamp column falls on one of the period's (UTC) days."""
    return and_(
        moment >= _midnight(period.start),
        moment < _midnight(period.end + timedelta(days=1)),
    )


def _between(day: ColumnElement[Any], period: Period) -> ColumnElement[bool]:
    return and_(day >= period.day(period.start), day <= period.day(period.end))


def _count(condition: ColumnElement[bool]) -> Any:
    return func.count(case((condition, 1)))


def _distinct(condition: ColumnElement[bool], column: Any) -> Any:
    return func.count(distinct(case((condition, column))))


def _minor(period: Period) -> ColumnElement[bool]:
    # Age by birth year only (the service keeps no birth date): under 18 during the
    # period's last year.
    return Mentee.birth_year > period.end.year - 18


def match_measures(period: Period, person: Any = Match.mentee_id) -> dict[str, Any]:
    """Counts over matches; ``person``: the expression telling young people apart (the
    person key of :func:`app.identity.sql.keyed`, so that one person matched through two
    records counts once)."""
    # Timestamps are compared with the period's bounds (UTC midnights) rather than
    # turned into days: a conversion per row and measure cost most of the query.
    started_day = utc_day(Match.started_at)
    ended_day = utc_day(Match.ended_at)
    proposed = _within(Match.proposed_at, period)
    started = _within(Match.started_at, period)
    closed = and_(Match.status == MatchStatus.CLOSED, _within(Match.ended_at, period))
    followed = and_(
        Match.started_at.is_not(None),
        Match.started_at < _midnight(period.end + timedelta(days=1)),
        or_(Match.ended_at.is_(None), Match.ended_at >= _midnight(period.start)),
    )
    measures: dict[str, Any] = {
        "matches_proposed": _count(proposed),
        "young_people_matched": _distinct(proposed, person),
        "matches_started": _count(started),
        "young_people_mentored": _distinct(started, person),
        "matches_followed": _count(followed),
        "matches_closed": _count(closed),
    }
    for reason in CLOSE_REASONS:
        measures[f"matches_closed:{reason.value}"] = _count(
            and_(closed, Match.close_reason == reason)
        )
    for key, days in EARLY_CLOSURE_DAYS.items():
        eligible = and_(
            started, Match.started_at < _midnight(period.as_of - timedelta(days=days - 1))
        )
        measures[f"{key}:eligible"] = _count(eligible)
        measures[f"{key}:closed"] = _count(
            and_(
                eligible,
                Match.status == MatchStatus.CLOSED,
                Match.close_reason != CloseReason.COMPLETED,
                ended_day - started_day < days,
            )
        )
    groups = {
        "qpv": Mentee.qpv.is_(True),
        "rural": Mentee.rural_zone != RuralZone.NONE,
        "minors": _minor(period),
    }
    for name, condition in groups.items():
        measures[f"reach_mentored:{name}"] = _distinct(and_(started, condition), person)
    for need in NEEDS:
        measures[f"reach_mentored:need:{need.value}"] = _distinct(
            and_(started, Match.need == need.value), person
        )
    return measures


def _engaged() -> Any:
    """Young people in an accepted or active match (a derived table to join on)."""
    return (
        select(Match.mentee_id.label("mentee_id"))
        .where(Match.status.in_(ENGAGED_STATUSES))
        .group_by(Match.mentee_id)
        .subquery("engaged")
    )


ENGAGED = _engaged()


def mentee_source(base: Any = None) -> Any:
    """Young people joined with whether they are engaged in a match."""
    source = Mentee.__table__ if base is None else base
    return source.outerjoin(ENGAGED, ENGAGED.c.mentee_id == Mentee.id)


MENTEE_MEASURES = (
    "young_people_referred",
    "reach_waiting:all",
    *(f"reach_waiting:{group}" for group in GROUPS),
    "duplicate_referrals",
)


def mentee_people(
    session: Session,
    period: Period,
    *,
    base: Any = None,
    where: Sequence[ColumnElement[bool]] = (),
    per: Sequence[Any] = (),
) -> Any:
    """One row per young person (:func:`app.identity.sql.people`), with what the
    measures need: referred in the period on any record, active and engaged on any
    record, the needs of all records, and how many records are linked to another
    organisation's."""
    columns: dict[str, Any] = {
        "department": Mentee.department,
        "region": Mentee.region,
        "commune_insee": Mentee.commune_insee,
        "organisation_id": Mentee.organisation_id,
        "qpv": Mentee.qpv,
        "rural_zone": Mentee.rural_zone,
        "birth_year": Mentee.birth_year,
    }
    flags = {
        "referred": _within(Mentee.created_at, period),
        "active": Mentee.active.is_(True),
        "engaged": ENGAGED.c.mentee_id.is_not(None),
        "linked": and_(Mentee.active.is_(True), identity_sql.linked_elsewhere()),
        **{f"need_{i}": contains(Mentee.needs, need.value) for i, need in enumerate(NEEDS)},
    }
    return identity_sql.people(
        session,
        Mentee,
        columns,
        flags,
        where=where,
        source=mentee_source(base),
        per=per,
        identity_flags=["linked"],
    )


def mentee_measures(period: Period, people: Any) -> dict[str, Any]:
    """Counts over the rows of :func:`mentee_people`: people, not records."""
    waiting = and_(people.c.active > 0, people.c.engaged == 0)
    measures: dict[str, Any] = {
        "young_people_referred": _count(people.c.referred > 0),
        "reach_waiting:all": _count(waiting),
        "reach_waiting:qpv": _count(and_(waiting, people.c.qpv.is_(True))),
        "reach_waiting:rural": _count(and_(waiting, people.c.rural_zone != RuralZone.NONE)),
        "reach_waiting:minors": _count(and_(waiting, people.c.birth_year > period.end.year - 18)),
    }
    for i, need in enumerate(NEEDS):
        measures[f"reach_waiting:need:{need.value}"] = _count(
            and_(waiting, people.c[f"need_{i}"] > 0)
        )
    measures["duplicate_referrals"] = func.coalesce(func.sum(people.c.linked), 0)
    return measures


def grouped(
    session: Session, measures: dict[str, Any], keys: Sequence[Any], source: Any
) -> dict[tuple[str, ...], Counts]:
    """``{group key: {measure: count}}`` for a query over ``source`` grouped by ``keys``."""
    names = list(measures)
    stmt = select(*keys, *(measures[name] for name in names)).select_from(source).group_by(*keys)
    result: dict[tuple[str, ...], Counts] = {}
    for row in session.execute(stmt):
        key = tuple(str(value) for value in row[: len(keys)])
        result[key] = dict(zip(names, (int(v) for v in row[len(keys) :]), strict=True))
    return result


def _matches(session: Session, period: Period) -> tuple[dict[str, Any], Any]:
    """Match measures with young people told apart as people, and their source."""
    source, person = identity_sql.keyed(
        session, Mentee, Match.__table__.join(Mentee.__table__, Mentee.id == Match.mentee_id)
    )
    return match_measures(period, person), source


def matches_by_department(session: Session, period: Period) -> dict[tuple[str, ...], Counts]:
    measures, source = _matches(session, period)
    return grouped(session, measures, [Mentee.department, Mentee.region], source)


def mentees_by_department(session: Session, period: Period) -> dict[tuple[str, ...], Counts]:
    people = mentee_people(session, period)
    measures = mentee_measures(period, people)
    return grouped(session, measures, [people.c.department, people.c.region], people)


def matches_by_programme(session: Session, period: Period) -> dict[tuple[str, ...], Counts]:
    measures, source = _matches(session, period)
    return grouped(session, measures, [Match.organisation_id, Match.programme_id], source)


def matches_by_organisation(session: Session, period: Period) -> dict[tuple[str, ...], Counts]:
    measures, source = _matches(session, period)
    return grouped(session, measures, [Match.organisation_id], source)


def mentees_by_organisation(session: Session, period: Period) -> dict[tuple[str, ...], Counts]:
    """Each organisation's young people (one person with two records of the same
    organisation counts once there)."""
    people = mentee_people(session, period, per=[Mentee.organisation_id])
    measures = mentee_measures(period, people)
    return grouped(session, measures, [people.c.organisation_id], people)


def mentees_of_programme(session: Session, period: Period, programme_id: str) -> Counts:
    """Young people enrolled in a programme (they may be enrolled in several: these
    counts do not add up across programmes)."""
    people = mentee_people(
        session,
        period,
        base=Mentee.__table__.join(mentee_programmes, mentee_programmes.c.mentee_id == Mentee.id),
        where=[mentee_programmes.c.programme_id == _uuid(programme_id)],
    )
    measures = mentee_measures(period, people)
    names = list(measures)
    row = session.execute(select(*(measures[name] for name in names)).select_from(people)).one()
    return dict(zip(names, (int(value) for value in row), strict=True))


# --- the scope's own figures -----------------------------------------------------------


def match_filter(scope: Scope) -> ColumnElement[bool] | None:
    if scope.kind is ScopeKind.DEPARTMENT:
        return Mentee.department == scope.code
    if scope.kind is ScopeKind.REGION:
        return Mentee.region == scope.code
    if scope.kind is ScopeKind.ORGANISATION:
        return Match.organisation_id == _uuid(scope.code)
    if scope.kind is ScopeKind.PROGRAMME:
        return Match.programme_id == _uuid(scope.code)
    return None


def mentee_filter(scope: Scope) -> list[ColumnElement[bool]]:
    """Conditions on ``Mentee`` for the scope's young people (a programme's: those
    enrolled in it)."""
    if scope.kind is ScopeKind.DEPARTMENT:
        return [Mentee.department == scope.code]
    if scope.kind is ScopeKind.REGION:
        return [Mentee.region == scope.code]
    if scope.kind is ScopeKind.ORGANISATION:
        return [Mentee.organisation_id == _uuid(scope.code)]
    if scope.kind is ScopeKind.PROGRAMME:
        enrolled = select(mentee_programmes.c.mentee_id).where(
            mentee_programmes.c.programme_id == _uuid(scope.code)
        )
        return [Mentee.id.in_(enrolled)]
    return []


def _uuid(code: str | None) -> uuid.UUID:
    return uuid.UUID(str(code))


def _scoped(stmt: Any, scope: Scope) -> Any:
    stmt = stmt.select_from(Match).join(Mentee, Mentee.id == Match.mentee_id)
    condition = match_filter(scope)
    return stmt if condition is None else stmt.where(condition)


def median_days(session: Session, scope: Scope, period: Period, moment: Any) -> float | None:
    """Median of (``moment`` − the day the young person started waiting), in days, over
    the matches whose ``moment`` falls in the period."""
    day = utc_day(moment)
    # A waiting date moved after the match (a record corrected later) counts as no wait.
    waited = day - utc_day(Mentee.waiting_since)
    days = case((waited > 0, waited), else_=0)
    where = _between(day, period)
    if session.get_bind().dialect.name == "postgresql":
        stmt = _scoped(select(func.percentile_cont(0.5).within_group(days)), scope)
        value = session.execute(stmt.where(where)).scalar()
        return None if value is None else float(value)
    values = sorted(session.scalars(_scoped(select(days), scope).where(where)))
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return float(values[middle])
    return (int(values[middle - 1]) + int(values[middle])) / 2


def survival_tallies(session: Session, scope: Scope, period: Period) -> list[Tally]:
    """Matches started in the period, by last known day (since their start) and whether
    they broke down on it; closures after ``as_of`` are not known yet."""
    return _survival_tallies(session, scope, period).get("", [])


def survival_tallies_by_department(session: Session, period: Period) -> dict[str, list[Tally]]:
    """:func:`survival_tallies` of every department, in one query."""
    return _survival_tallies(session, Scope(ScopeKind.NATIONAL), period, Mentee.department)


def _survival_tallies(
    session: Session, scope: Scope, period: Period, by: Any = None
) -> dict[str, list[Tally]]:
    started_day = utc_day(Match.started_at)
    ended_day = utc_day(Match.ended_at)
    as_of = period.day(period.as_of)
    ended = and_(Match.status == MatchStatus.CLOSED, ended_day <= as_of)
    last = case((ended, ended_day), else_=as_of) - started_day
    event = case((and_(ended, Match.close_reason != CloseReason.COMPLETED), 1), else_=0)
    group = literal("") if by is None else by
    stmt = _scoped(select(group, last, func.sum(event), func.count()), scope).where(
        _within(Match.started_at, period)
    )
    out: dict[str, list[Tally]] = {}
    for key, day, events, total in session.execute(stmt.group_by(group, last)):
        out.setdefault(str(key), []).append(Tally(int(day), int(events), int(total) - int(events)))
    return out


def active_months(session: Session, scope: Scope, period: Period) -> float:
    """Months the scope's started matches ran within the period, up to ``as_of``."""
    start, end = period.day(period.start), min(period.day(period.end), period.day(period.as_of))
    started_day = utc_day(Match.started_at)
    ended_day = case((Match.ended_at.is_(None), end), else_=utc_day(Match.ended_at))
    first = case((started_day > start, started_day), else_=start)
    last = case((ended_day < end, ended_day), else_=end)
    span = case((last >= first, last - first + 1), else_=0)
    days = session.execute(
        _scoped(select(func.coalesce(func.sum(span), 0)), scope).where(
            Match.started_at.is_not(None)
        )
    ).scalar_one()
    return float(days) / DAYS_PER_MONTH


def meetings_held(session: Session, scope: Scope, period: Period) -> int:
    """Meetings held in the period on the scope's matches."""
    stmt = (
        select(func.count(Meeting.id))
        .select_from(Meeting)
        .where(Meeting.held_on >= period.start, Meeting.held_on <= period.end)
    )
    condition = match_filter(scope)
    if condition is not None:
        # From the scope's matches to their meetings (index on match_id), rather than
        # from a year of the country's meetings to their matches.
        scoped = select(Match.id).join(Mentee, Mentee.id == Match.mentee_id).where(condition)
        stmt = stmt.where(Meeting.match_id.in_(scoped))
    return int(session.execute(stmt).scalar_one())
