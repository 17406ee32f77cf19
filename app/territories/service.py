"""Aggregated, non-personal figures per territory: the shared diagnostic."""

import statistics
from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import contains, utcnow
from app.geo import commune
from app.identity import sql as identity_sql
from app.matches.models import CloseReason, Match, MatchStatus
from app.matching.result import ALL_NEEDS_SUPPORTED
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.programmes.models import Programme
from app.runs.models import MatchingRun, RunStatus, RunUnmatched
from app.supports.models import Support
from app.supports.service import active_on
from app.territories.schemas import (
    CommuneFigures,
    Impact,
    NeedFigures,
    TerritoryDiagnostic,
    Unanswered,
)
from app.vocabulary import Need, RuralZone

SMALL_COUNT = 5


def withhold(count: int, exact: bool) -> int | None:
    """Counts from 1 to 4 are withheld unless the caller may see exact figures."""
    return count if exact or count == 0 or count >= SMALL_COUNT else None


def diagnostic(session: Session, department: str, day: date, *, exact: bool) -> TerritoryDiagnostic:
    young = session.execute(
        select(Mentee.id, Mentee.commune_insee, Mentee.needs, Mentee.qpv, Mentee.rural_zone).where(
            Mentee.department == department, Mentee.active.is_(True)
        )
    ).all()
    supported: dict[object, set[str]] = defaultdict(set)
    support_rows = session.execute(
        select(Support.mentee_id, Support.need)
        .join(Mentee, Mentee.id == Support.mentee_id)
        .where(Mentee.department == department, active_on(day))
    )
    active_matches = session.execute(
        select(Match.mentee_id, Match.need)
        .join(Mentee, Mentee.id == Match.mentee_id)
        .where(Mentee.department == department, Match.status == MatchStatus.ACTIVE)
    )
    for mentee_id, need in [*support_rows, *active_matches]:
        supported[mentee_id].add(need)
    # People, not records: linked records count once (app.identity.sql).
    persons = identity_sql.by_person(session, young, supported, day)
    in_department = (Mentee.department == department, Mentee.active.is_(True))
    mentors = session.execute(
        select(Mentor.commune_insee, Mentor.skills).where(
            Mentor.department == department, Mentor.active.is_(True)
        )
    ).all()
    capacity = sum(
        session.scalars(
            select(Programme.capacity).where(
                Programme.active.is_(True), contains(Programme.departments, department)
            )
        )
    )

    waiting: dict[str, Counter[str]] = defaultdict(Counter)
    covered: dict[str, Counter[str]] = defaultdict(Counter)
    people: Counter[str] = Counter()
    in_qpv: Counter[str] = Counter()
    rural: Counter[str] = Counter()
    for mentee_id, insee, needs, qpv, rural_zone in persons:
        people[insee] += 1
        in_qpv[insee] += int(qpv)
        rural[insee] += int(rural_zone is not RuralZone.NONE)
        for need in needs:
            (covered if need in supported[mentee_id] else waiting)[insee][need] += 1
    skilled: dict[str, Counter[str]] = defaultdict(Counter)
    mentor_count: Counter[str] = Counter()
    for insee, skills in mentors:
        mentor_count[insee] += 1
        skilled[insee].update(skills)

    def figures(insees: list[str]) -> dict[Need, NeedFigures]:
        return {
            need: NeedFigures(
                waiting=withhold(sum(waiting[i][need] for i in insees), exact),
                supported=withhold(sum(covered[i][need] for i in insees), exact),
                mentors=withhold(sum(skilled[i][need] for i in insees), exact),
            )
            for need in Need
        }

    insees = sorted(set(people) | set(mentor_count))
    communes = [
        CommuneFigures(
            insee=insee,
            name=found.name if (found := commune(insee)) else insee,
            young_people=withhold(people[insee], exact),
            in_qpv=withhold(in_qpv[insee], exact),
            in_rural_area=withhold(rural[insee], exact),
            mentors=withhold(mentor_count[insee], exact),
            needs=figures([insee]),
        )
        for insee in insees
    ]
    return TerritoryDiagnostic(
        department=department,
        as_of=day,
        young_people=len(persons),
        duplicate_referrals=withhold(
            identity_sql.duplicate_referrals(session, *in_department), exact
        ),
        duplicate_supports_avoided=withhold(
            identity_sql.duplicate_supports_avoided(session, day, *in_department), exact
        ),
        mentors=len(mentors),
        programme_capacity=capacity,
        needs=figures(insees),
        communes=communes,
        impact=impact(session, department, exact=exact),
        unanswered=unanswered(session, department, exact=exact),
    )


def impact(session: Session, department: str, *, exact: bool) -> Impact:
    rows = session.execute(
        select(
            Match.mentee_id,
            Match.status,
            Match.close_reason,
            Match.started_at,
            Match.expires_at,
            Mentee.waiting_since,
        )
        .join(Mentee, Mentee.id == Match.mentee_id)
        .where(Mentee.department == department)
    ).all()
    now = utcnow()
    count: Counter[str] = Counter()
    mentored: set[object] = set()
    days_to_start: list[int] = []
    for mentee_id, status, close_reason, started_at, expires_at, waiting_since in rows:
        if status is MatchStatus.PROPOSED and (expires_at is None or expires_at > now):
            count["proposed"] += 1
        elif status in (MatchStatus.ACCEPTED, MatchStatus.ACTIVE):
            count["running"] += 1
            count["active"] += int(status is MatchStatus.ACTIVE)
        elif status is MatchStatus.CLOSED:
            count["completed" if close_reason is CloseReason.COMPLETED else "ended_early"] += 1
        if started_at is not None:
            mentored.add(mentee_id)
            days_to_start.append(max(0, (started_at.date() - waiting_since).days))
    enough = exact or len(days_to_start) >= SMALL_COUNT
    return Impact(
        proposed=withhold(count["proposed"], exact),
        running=withhold(count["running"], exact),
        active=withhold(count["active"], exact),
        completed=withhold(count["completed"], exact),
        ended_early=withhold(count["ended_early"], exact),
        young_people_mentored=withhold(len(mentored), exact),
        median_days_to_first_meeting=(
            float(statistics.median(days_to_start)) if days_to_start and enough else None
        ),
    )


def unanswered(session: Session, department: str, *, exact: bool) -> Unanswered | None:
    """Why young people of the department were left unmatched by the latest run (those
    whose needs were all supported already are not unanswered, and are left out)."""
    latest = session.execute(
        select(MatchingRun.id, MatchingRun.finished_at)
        .join(RunUnmatched, RunUnmatched.run_id == MatchingRun.id)
        .join(Mentee, Mentee.id == RunUnmatched.mentee_id)
        .where(MatchingRun.status == RunStatus.SUCCEEDED, Mentee.department == department)
        .order_by(MatchingRun.finished_at.desc(), MatchingRun.id)
        .limit(1)
    ).first()
    if latest is None:
        return None
    rows = session.execute(
        select(RunUnmatched.reason, Mentee.needs)
        .join(Mentee, Mentee.id == RunUnmatched.mentee_id)
        .where(
            RunUnmatched.run_id == latest.id,
            Mentee.department == department,
            RunUnmatched.reason != ALL_NEEDS_SUPPORTED,
        )
    )
    reasons: Counter[str] = Counter()
    needs: dict[str, Counter[str]] = defaultdict(Counter)
    for reason, mentee_needs in rows:
        reasons[reason] += 1
        needs[reason].update(mentee_needs)
    return Unanswered(
        run_id=latest.id,
        run_finished_at=latest.finished_at,
        reasons={reason: withhold(count, exact) for reason, count in sorted(reasons.items())},
        needs_by_reason={
            reason: {Need(need): withhold(n, exact) for need, n in sorted(counts.items())}
            for reason, counts in sorted(needs.items())
        },
    )
