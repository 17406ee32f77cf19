"""Database rows → the engine's input, read in one consistent snapshot.

The whole snapshot is read in a single transaction: ``REPEATABLE READ`` on PostgreSQL,
one deferred read transaction on SQLite (WAL readers see the database as of their first
read). Edits committed while a run loads or solves are invisible to it; the results
writer re-checks what may have changed since (see ``app.runs.execution``).
"""

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import matching
from app.geo import commune
from app.matches import service as matches
from app.matches.models import Match, MatchStatus
from app.mentees.models import Mentee, mentee_programmes
from app.mentors.models import Mentor, mentor_programmes
from app.programmes.models import Programme
from app.runs.models import MatchingRun
from app.supports.models import Support
from app.vocabulary import RuralZone

RURAL_ZONES = {
    RuralZone.NONE: matching.RuralZone.NONE.value,
    RuralZone.FRR: matching.RuralZone.FRR.value,
    RuralZone.FRR_PLUS: matching.RuralZone.FRR_PLUS.value,
}


@contextmanager
def snapshot_session(engine: Engine) -> Iterator[Session]:
    """A read-only session whose every query sees the same state of the database."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        else:
            raw = connection.connection.driver_connection
            if raw is not None and not raw.in_transaction:
                connection.exec_driver_sql("BEGIN")
        with Session(bind=connection) as session:
            try:
                yield session
            finally:
                connection.rollback()


@dataclasses.dataclass(frozen=True)
class PriorMatch:
    id: uuid.UUID
    mentee_id: uuid.UUID
    mentor_id: uuid.UUID
    programme_id: uuid.UUID
    need: str
    status: MatchStatus


@dataclasses.dataclass(frozen=True)
class Snapshot:
    problem: matching.MatchingProblem
    taken_at: datetime
    organisations: dict[uuid.UUID, uuid.UUID]
    """Programme id → its association (the tenant of the matches made in it)."""
    kept: tuple[PriorMatch, ...]
    """Running matches of the scope that the run leaves untouched."""
    reconsidered: tuple[PriorMatch, ...]
    """Matches of the scope's programmes that the run may replace: unaccepted proposals
    (``keep_running: false``), accepted and active matches too (``break_running_pairs``)."""

    @property
    def counts(self) -> dict[str, int]:
        p = self.problem
        return {
            "mentees": len(p.mentees),
            "mentors": len(p.mentors),
            "programmes": len(p.programmes),
            "supports": len(p.supports),
            "running_matches": len(p.running_matches),
            "excluded_pairs": len(p.excluded_pairs),
            "reconsidered_matches": len(self.reconsidered),
        }


def _covers(programme: Programme, mentee: Mentee) -> bool:
    return mentee.department in programme.departments or mentee.commune_insee in (
        programme.communes
    )


def programme_in_departments(programme: Programme, departments: list[str]) -> bool:
    """Whether the programme covers at least one of ``departments`` (directly, or through
    one of its communes)."""
    if any(d in programme.departments for d in departments):
        return True
    for code in programme.communes:
        place = commune(code)
        if place is not None and place.department in departments:
            return True
    return False


def load(session: Session, run: MatchingRun, now: datetime) -> Snapshot:
    """The engine's problem for ``run``: its programmes (still active), the volunteers
    serving in them, the young people they may cover, their supports and running
    matches, and the pairs never to propose again."""
    wanted = [uuid.UUID(p) for p in run.programme_ids]
    programmes = list(
        session.scalars(
            select(Programme)
            .where(Programme.id.in_(wanted), Programme.active.is_(True))
            .order_by(Programme.id)
        )
    )
    programme_ids = {p.id for p in programmes}
    departments = {d for p in programmes for d in p.departments}
    communes = {c for p in programmes for c in p.communes}

    mentors = list(
        session.scalars(
            select(Mentor)
            .where(
                Mentor.active.is_(True),
                Mentor.id.in_(
                    select(mentor_programmes.c.mentor_id).where(
                        mentor_programmes.c.programme_id.in_(programme_ids)
                    )
                ),
            )
            .order_by(Mentor.id)
        )
    )

    mentee_stmt = select(Mentee).where(
        Mentee.active.is_(True),
        or_(Mentee.department.in_(departments), Mentee.commune_insee.in_(communes)),
        or_(
            ~Mentee.id.in_(select(mentee_programmes.c.mentee_id)),
            Mentee.id.in_(
                select(mentee_programmes.c.mentee_id).where(
                    mentee_programmes.c.programme_id.in_(programme_ids)
                )
            ),
        ),
    )
    if run.departments:
        mentee_stmt = mentee_stmt.where(Mentee.department.in_(run.departments))
    mentees = [
        m
        for m in session.scalars(mentee_stmt.order_by(Mentee.id))
        if any(_covers(p, m) for p in programmes)
    ]
    mentee_ids = {m.id for m in mentees}
    mentor_ids = {m.id for m in mentors}

    supports = list(
        session.scalars(
            select(Support).where(
                Support.mentee_id.in_(mentee_ids),
                or_(Support.end_date.is_(None), Support.end_date >= run.run_date),
            )
        )
    )

    # Matches holding capacity now, that touch this run's people or programmes.
    holding = list(
        session.scalars(
            select(Match)
            .where(matches.holding_capacity(now))
            .where(
                or_(
                    Match.mentee_id.in_(mentee_ids),
                    Match.mentor_id.in_(mentor_ids),
                    Match.programme_id.in_(programme_ids),
                )
            )
            .order_by(Match.id)
        )
    )
    reconsidered = [
        m for m in holding if _reconsidered(run, m, programme_ids, mentee_ids, mentor_ids)
    ]
    reconsidered_ids = {m.id for m in reconsidered}
    running = [m for m in holding if m.id not in reconsidered_ids]
    kept = [m for m in running if m.programme_id in programme_ids or m.mentee_id in mentee_ids]
    excluded = matches.never_again(session, mentee_ids)

    problem = matching.MatchingProblem(
        run_date=run.run_date,
        mentees=tuple(_mentee(m) for m in mentees),
        mentors=tuple(_mentor(m) for m in mentors),
        programmes=tuple(_programme(p) for p in programmes),
        supports=tuple(_support(s) for s in supports),
        running_matches=tuple(
            matching.RunningMatch(
                mentee_id=str(m.mentee_id),
                mentor_id=str(m.mentor_id),
                programme_id=str(m.programme_id),
                need=m.need,
            )
            for m in running
        ),
        excluded_pairs=tuple(
            matching.ExcludedPair(mentee_id=str(a), mentor_id=str(b)) for a, b in sorted(excluded)
        ),
        policy=matching.Policy.from_dict(run.policy),
        # Reconsidered matches: proposed again unless a change is worth it (stability).
        current_pairs=tuple(
            matching.CurrentPair(
                mentee_id=str(m.mentee_id),
                mentor_id=str(m.mentor_id),
                programme_id=str(m.programme_id),
                need=m.need,
                accepted=m.status is not MatchStatus.PROPOSED,
            )
            for m in reconsidered
        ),
    )
    return Snapshot(
        problem=problem,
        taken_at=now,
        organisations={p.id: p.organisation_id for p in programmes},
        kept=tuple(_prior(m) for m in kept),
        reconsidered=tuple(_prior(m) for m in reconsidered),
    )


def _reconsidered(
    run: MatchingRun,
    match: Match,
    programme_ids: set[uuid.UUID],
    mentee_ids: set[uuid.UUID],
    mentor_ids: set[uuid.UUID],
) -> bool:
    """Whether the run may replace ``match``: one of its programmes, and a young person
    it considers (a run scoped to some departments cannot propose anything to the
    others, so it must not release their matches). A running pair also needs its
    volunteer in the run — a volunteer deactivated in the pool keeps their pairs."""
    if run.keep_running or match.programme_id not in programme_ids:
        return False
    if match.mentee_id not in mentee_ids:
        return False
    if match.status is MatchStatus.PROPOSED:
        return True
    running = match.status in (MatchStatus.ACCEPTED, MatchStatus.ACTIVE)
    return run.break_running_pairs and running and match.mentor_id in mentor_ids


def _prior(match: Match) -> PriorMatch:
    return PriorMatch(
        id=match.id,
        mentee_id=match.mentee_id,
        mentor_id=match.mentor_id,
        programme_id=match.programme_id,
        need=match.need,
        status=match.status,
    )


def _programme(programme: Programme) -> matching.Programme:
    return matching.Programme(
        id=str(programme.id),
        needs=frozenset(programme.needs),
        territories=frozenset(programme.departments) | frozenset(programme.communes),
        min_age=programme.min_age,
        max_age=programme.max_age,
        capacity=programme.capacity,
        remote_allowed=programme.remote_allowed,
    )


def _mentor(mentor: Mentor) -> matching.Mentor:
    return matching.Mentor(
        id=str(mentor.id),
        lat=mentor.lat,
        lon=mentor.lon,
        max_travel_km=mentor.max_travel_km,
        capacity=mentor.capacity,
        skills=frozenset(mentor.skills),
        programme_ids=frozenset(str(p) for p in mentor.programme_ids),
        languages=frozenset(mentor.languages),
        remote_ok=mentor.remote_ok,
        background_check_valid_until=mentor.background_check_valid_until,
    )


def _mentee(mentee: Mentee) -> matching.Mentee:
    return matching.Mentee(
        id=str(mentee.id),
        birth_year=mentee.birth_year,
        lat=mentee.lat,
        lon=mentee.lon,
        commune_insee=mentee.commune_insee,
        department=mentee.department,
        needs=tuple(mentee.needs),
        waiting_since=mentee.waiting_since,
        max_travel_km=mentee.max_travel_km,
        languages=frozenset(mentee.languages),
        remote_ok=mentee.remote_ok,
        qpv=mentee.qpv,
        rural_zone=RURAL_ZONES[mentee.rural_zone],
        enrolled_programme_ids=frozenset(str(p) for p in mentee.programme_ids),
    )


def _support(support: Support) -> matching.Support:
    return matching.Support(
        mentee_id=str(support.mentee_id),
        need=support.need,
        start=support.start_date,
        end=support.end_date,
    )
