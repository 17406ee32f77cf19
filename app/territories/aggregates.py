"""SQL aggregates of the territorial diagnostic: counts per commune or per department,
computed by the database (no row of a young person or a volunteer reaches Python).

Every count of a department comes with the number of its communes where that count is
positive: the suppression of small counts needs it to know, without reading every
commune of the country, whether a department's communes can protect each other.
"""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, union
from sqlalchemy.orm import Session

from app.db import contains, utcnow
from app.identity import sql as identity_sql
from app.identity.keys import oldest_active_version
from app.identity.models import Identity, IdentityDigest
from app.matches.models import CloseReason, Match, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.programmes.models import Programme
from app.supports.models import Support
from app.supports.service import active_on
from app.vocabulary import Need, RuralZone

Counts = dict[str, int]
Rows = dict[tuple[str, str], Counts]
NEEDS = tuple(Need)
COMMUNES_SUFFIX = ":communes"
"""``measure:communes``: how many communes of a department have a positive ``measure``."""


def _count(condition: ColumnElement[bool]) -> Any:
    return func.count(case((condition, 1)))


def _mentee_rows(session: Session, day: date, department: str | None) -> Rows:
    """Young people per place, counted as people (:func:`app.identity.sql.people`): a
    person referred by several organisations counts once, where their first record
    says they live, with the needs of all their records, supported when any of their
    records is (a support on ``day`` or an active match) or a support was declared for
    their identity."""
    where: list[ColumnElement[bool]] = [Mentee.active.is_(True)]
    if department is not None:
        where.append(Mentee.department == department)
    persons = identity_sql.people(
        session,
        Mentee,
        {
            "department": Mentee.department,
            "commune_insee": Mentee.commune_insee,
            "qpv": Mentee.qpv,
            "rural_zone": Mentee.rural_zone,
        },
        {f"need_{i}": contains(Mentee.needs, need.value) for i, need in enumerate(NEEDS)},
        where=where,
    )
    covered = _covered(session, day)
    measures: dict[str, Any] = {
        "young_people": func.count(),
        "in_qpv": _count(persons.c.qpv.is_(True)),
        "in_rural_area": _count(persons.c.rural_zone != RuralZone.NONE),
    }
    for i, need in enumerate(NEEDS):
        has = persons.c[f"need_{i}"] > 0
        measures[f"with_need:{need.value}"] = _count(has)
        measures[f"supported:{need.value}"] = _count(and_(has, covered.c[f"need_{i}"] == 1))
    source = persons.outerjoin(covered, covered.c.person == persons.c.person)
    return _rows(session, measures, persons, source, department)


def _covered(session: Session, day: date) -> Any:
    """Per person key, 1 for each need supported on one of the person's active records
    (a support on ``day`` or an active match) or by a support declared for the
    person's identity."""

    def on_records(source: Any, need: Any, *where: ColumnElement[bool]) -> Any:
        joined, person = identity_sql.keyed(
            session, Mentee, source.join(Mentee.__table__, Mentee.id == source.c.mentee_id)
        )
        return (
            select(person.label("person"), need.label("need"))
            .select_from(joined)
            .where(Mentee.active.is_(True), *where)
        )

    branches = [
        on_records(Support.__table__, Support.need, active_on(day)),
        on_records(Match.__table__, Match.need, Match.status == MatchStatus.ACTIVE),
    ]
    version = oldest_active_version(session)
    if version is not None:
        branches.append(
            select(IdentityDigest.digest.label("person"), Support.need.label("need"))
            .join(Identity, Identity.support_id == Support.id)
            .join(IdentityDigest, IdentityDigest.identity_id == Identity.id)
            .where(
                IdentityDigest.key_version == version,
                Identity.detached_at.is_(None),
                active_on(day),
            )
        )
    pairs = union(*branches).subquery("supported_pairs")
    return (
        select(
            pairs.c.person,
            *(
                func.max(case((pairs.c.need == need.value, 1), else_=0)).label(f"need_{i}")
                for i, need in enumerate(NEEDS)
            ),
        )
        .group_by(pairs.c.person)
        .subquery("covered")
    )


def _mentor_rows(session: Session, department: str | None) -> Rows:
    """Volunteers per place, a volunteer submitted by several organisations counted
    once (with the skills of all their records)."""
    where: list[ColumnElement[bool]] = [Mentor.active.is_(True)]
    if department is not None:
        where.append(Mentor.department == department)
    persons = identity_sql.people(
        session,
        Mentor,
        {"department": Mentor.department, "commune_insee": Mentor.commune_insee},
        {f"skill_{i}": contains(Mentor.skills, need.value) for i, need in enumerate(NEEDS)},
        where=where,
    )
    measures: dict[str, Any] = {"mentors": func.count()}
    for i, need in enumerate(NEEDS):
        measures[f"mentors:{need.value}"] = _count(persons.c[f"skill_{i}"] > 0)
    return _rows(session, measures, persons, persons, department)


def _rows(
    session: Session, measures: dict[str, Any], place: Any, source: Any, department: str | None
) -> Rows:
    """Counts per (department, commune) of ``place`` (a FROM clause with those columns);
    for ``department=None`` per (department, "") with, for each measure, the number of
    communes where it is positive."""
    names = list(measures)
    keys = [place.c.department, place.c.commune_insee]
    inner = (
        select(*keys, *(measures[n].label(f"m{i}") for i, n in enumerate(names)))
        .select_from(source)
        .group_by(*keys)
    )
    if department is not None:
        return {
            (row[0], row[1]): dict(zip(names, map(int, row[2:]), strict=True))
            for row in session.execute(inner)
        }
    return _per_department(session, inner, names)


def _per_department(session: Session, per_commune: Any, names: list[str]) -> Rows:
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
    result: Rows = {}
    for row in session.execute(outer):
        values = list(map(int, row[1:]))
        counts = dict(zip(names, values[: len(names)], strict=True))
        counts.update(
            (name + COMMUNES_SUFFIX, value)
            for name, value in zip(names, values[len(names) :], strict=True)
        )
        result[(row[0], "")] = counts
    return result


def places(session: Session, day: date, department: str | None) -> Rows:
    """Every count of the diagnostic per commune of ``department``, or per department
    (``None``): young people, in QPV, in rural areas, mentors, and per need the young
    people waiting, supported, and the mentors able to help — people, not records."""
    result: Rows = {}
    for rows in (_mentee_rows(session, day, department), _mentor_rows(session, department)):
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
