"""SQL aggregates of the territorial diagnostic: counts per commune or per department,
computed by the database (no row of a young person or a volunteer reaches Python).

Every count of a department comes with the number of its communes where that count is
positive: the suppression of small counts needs it to know, without reading every
commune of the country, whether a department's communes can protect each other.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, union
from sqlalchemy.orm import Session

from app.db import contains, json_list_contains, utcnow
from app.matches.models import CloseReason, Match, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.programmes.models import Programme
from app.supports.models import Support
from app.supports.service import active_on
from app.vocabulary import Need, RuralZone

Counts = dict[str, int]
NEEDS = tuple(Need)
COMMUNES_SUFFIX = ":communes"
"""``measure:communes``: how many communes of a department have a positive ``measure``."""


def _count(condition: ColumnElement[bool]) -> Any:
    return func.count(case((condition, 1)))


def _mentee_measures() -> dict[str, Any]:
    measures: dict[str, Any] = {
        "young_people": func.count(),
        "in_qpv": _count(Mentee.qpv.is_(True)),
        "in_rural_area": _count(Mentee.rural_zone != RuralZone.NONE),
    }
    for need in NEEDS:
        measures[f"with_need:{need.value}"] = _count(contains(Mentee.needs, need.value))
    return measures


def _mentor_measures() -> dict[str, Any]:
    measures: dict[str, Any] = {"mentors": func.count()}
    for need in NEEDS:
        measures[f"mentors:{need.value}"] = _count(contains(Mentor.skills, need.value))
    return measures


def _rows(
    session: Session,
    measures: dict[str, Any],
    model: Any,
    where: Sequence[ColumnElement[bool]],
    department: str | None,
) -> dict[tuple[str, str], Counts]:
    """Counts per (department, commune); for ``department=None`` per (department, "")
    with, for each measure, the number of communes where it is positive."""
    names = list(measures)
    keys = [model.department, model.commune_insee]
    inner = select(*keys, *(measures[n].label(f"m{i}") for i, n in enumerate(names))).where(*where)
    if department is not None:
        stmt = inner.where(model.department == department).group_by(*keys)
        return {
            (row[0], row[1]): dict(zip(names, map(int, row[2:]), strict=True))
            for row in session.execute(stmt)
        }
    return _per_department(session, inner.group_by(*keys), names)


def _per_department(
    session: Session, per_commune: Any, names: list[str]
) -> dict[tuple[str, str], Counts]:
    """Per-commune counts (columns ``m0``, ``m1``… of ``per_commune``, grouped by
    department and commune) summed per (department, ""), with, for each measure, the
    number of communes where it is positive."""
    sub = per_commune.subquery()
    columns = [sub.c[f"m{i}"] for i in range(len(names))]
    outer = select(
        sub.c.department,
        *(func.sum(c) for c in columns),
        *(func.count(case((c > 0, 1))) for c in columns),
    ).group_by(sub.c.department)
    result: dict[tuple[str, str], Counts] = {}
    for row in session.execute(outer):
        values = list(map(int, row[1:]))
        counts = dict(zip(names, values[: len(names)], strict=True))
        counts.update(
            (name + COMMUNES_SUFFIX, value)
            for name, value in zip(names, values[len(names) :], strict=True)
        )
        result[(row[0], "")] = counts
    return result


def _supported_rows(
    session: Session, day: date, department: str | None
) -> dict[tuple[str, str], Counts]:
    """Young people supported for each of their needs (a support on ``day`` or an
    active match), per place."""

    def branch(source: Any, need: Any, *where: ColumnElement[bool]) -> Any:
        stmt = (
            select(Mentee.department, Mentee.commune_insee, Mentee.id, need.label("need"))
            .select_from(source)
            .join(Mentee, Mentee.id == source.mentee_id)
            .where(Mentee.active.is_(True), json_list_contains(Mentee.needs, need), *where)
        )
        return stmt if department is None else stmt.where(Mentee.department == department)

    pairs = union(
        branch(Support, Support.need, active_on(day)),
        branch(Match, Match.need, Match.status == MatchStatus.ACTIVE),
    ).subquery()
    measures = {f"supported:{need.value}": _count(pairs.c.need == need.value) for need in NEEDS}
    names = list(measures)
    keys = [pairs.c.department, pairs.c.commune_insee]
    inner = select(*keys, *(measures[n].label(f"m{i}") for i, n in enumerate(names)))
    if department is not None:
        return {
            (row[0], row[1]): dict(zip(names, map(int, row[2:]), strict=True))
            for row in session.execute(inner.group_by(*keys))
        }
    return _per_department(session, inner.group_by(*keys), names)


def places(session: Session, day: date, department: str | None) -> dict[tuple[str, str], Counts]:
    """Every count of the diagnostic per commune of ``department``, or per department
    (``None``): young people, in QPV, in rural areas, mentors, and per need the young
    people waiting, supported, and the mentors able to help."""
    result: dict[tuple[str, str], Counts] = {}
    for rows in (
        _rows(session, _mentee_measures(), Mentee, [Mentee.active.is_(True)], department),
        _rows(session, _mentor_measures(), Mentor, [Mentor.active.is_(True)], department),
        _supported_rows(session, day, department),
    ):
        for key, counts in rows.items():
            result.setdefault(key, {}).update(counts)
    for counts in result.values():
        for need in NEEDS:
            with_need = counts.get(f"with_need:{need.value}", 0)
            supported = counts.get(f"supported:{need.value}", 0)
            counts[f"waiting:{need.value}"] = with_need - supported
            if department is None:
                # Communes where someone waits: at most those where someone has the need.
                counts[f"waiting:{need.value}{COMMUNES_SUFFIX}"] = counts.get(
                    f"with_need:{need.value}{COMMUNES_SUFFIX}", 0
                )
    return result


IMPACT_MEASURES = (
    "proposed",
    "running",
    "active",
    "completed",
    "ended_early",
    "young_people_mentored",
)


def impact_rows(session: Session, department: str | None) -> dict[str, Counts]:
    """What matching did for the young people of each department (all time)."""
    now = utcnow()
    live = and_(
        Match.status == MatchStatus.PROPOSED,
        or_expiry(now),
    )
    closed = Match.status == MatchStatus.CLOSED
    measures = {
        "proposed": _count(live),
        "running": _count(Match.status.in_((MatchStatus.ACCEPTED, MatchStatus.ACTIVE))),
        "active": _count(Match.status == MatchStatus.ACTIVE),
        "completed": _count(and_(closed, Match.close_reason == CloseReason.COMPLETED)),
        "ended_early": _count(and_(closed, Match.close_reason != CloseReason.COMPLETED)),
        "young_people_mentored": func.count(
            func.distinct(case((Match.started_at.is_not(None), Match.mentee_id)))
        ),
    }
    stmt = (
        select(Mentee.department, *measures.values())
        .select_from(Match)
        .join(Mentee, Mentee.id == Match.mentee_id)
        .group_by(Mentee.department)
    )
    if department is not None:
        stmt = stmt.where(Mentee.department == department)
    return {
        row[0]: dict(zip(measures, map(int, row[1:]), strict=True)) for row in session.execute(stmt)
    }


def or_expiry(now: Any) -> ColumnElement[bool]:
    return or_(Match.expires_at.is_(None), Match.expires_at > now)


def capacity_by_department(session: Session) -> dict[str, int]:
    """Maximum running matches of the active programmes covering each department."""
    result: dict[str, int] = {}
    for departments, capacity in session.execute(
        select(Programme.departments, Programme.capacity).where(Programme.active.is_(True))
    ):
        for code in departments:
            result[code] = result.get(code, 0) + int(capacity)
    return result
