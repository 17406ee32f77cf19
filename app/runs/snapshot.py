"""Database rows → the engine's input, read in one consistent snapshot.

The whole snapshot is read in a single transaction: ``REPEATABLE READ`` on PostgreSQL,
one deferred read transaction on SQLite (WAL readers see the database as of their first
read). Edits committed while a run loads or solves are invisible to it; the results
writer re-checks what may have changed since (see ``app.runs.execution``).
"""

import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Select, Table, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import matching
from app.consents import checks
from app.consents.service import enrolment_confirmed
from app.db import in_values
from app.exclusions.service import excluded_pairs
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


SNAPSHOT_TABLES: tuple[Table, ...] = tuple(
    cast(Table, table)
    for table in (
        Mentee.__table__,
        Mentor.__table__,
        mentee_programmes,
        mentor_programmes,
        Support.__table__,
        Match.__table__,
    )
)
"""What the loading reads: analysed first where their statistics are stale."""

Progress = Callable[[float], None]
"""Called with the fraction of the loading done; may raise to stop it (cancellation)."""

ROWS_PER_FETCH = 5000
"""Rows fetched at once: between two fetches the loading reports progress and notices a
cancellation."""


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


def _rows(session: Session, stmt: Select[Any], report: Callable[[int], None]) -> list[Row[Any]]:
    """All rows of ``stmt``, fetched a batch at a time (a server-side cursor on
    PostgreSQL), ``report`` called after each batch with the rows read so far."""
    rows: list[Row[Any]] = []
    result = session.execute(stmt.execution_options(yield_per=ROWS_PER_FETCH))
    for batch in result.partitions():
        rows.extend(batch)
        report(len(rows))
    return rows


def load(
    session: Session, run: MatchingRun, now: datetime, progress: Progress | None = None
) -> Snapshot:
    """The engine's problem for ``run``: its programmes (still active), the volunteers
    serving in them, the young people they may cover, their supports and running
    matches, and the pairs never to propose again.

    Every statement keeps the same shape whatever the scope's size: the scope is a join
    (subqueries on the programmes), lists are bound as one array parameter, and rows are
    read as columns, not as ORM objects."""
    steps = iter(range(1, 8))

    def step(_: int = 0) -> None:
        if progress is not None:
            progress(min(1.0, next(steps, 7) / 7))

    def batch(_: int) -> None:
        if progress is not None:
            progress(-1.0)  # no new fraction: a chance to stop between two fetches

    wanted = [uuid.UUID(p) for p in run.programme_ids]
    programmes = list(
        session.scalars(
            select(Programme)
            .where(in_values(Programme.id, wanted), Programme.active.is_(True))
            .order_by(Programme.id)
        )
    )
    programme_ids = [p.id for p in programmes]
    departments = sorted({d for p in programmes for d in p.departments})
    communes = sorted({c for p in programmes for c in p.communes})
    step()

    in_scope = in_values(mentor_programmes.c.programme_id, programme_ids)
    mentor_scope = (
        select(Mentor.id)
        .where(
            Mentor.active.is_(True),
            Mentor.id.in_(select(mentor_programmes.c.mentor_id).where(in_scope).correlate(None)),
        )
        .correlate(None)
    )
    # Only enrolments the programme's side consented to (see app.consents).
    mentor_programme_rows = _rows(
        session,
        select(
            mentor_programmes.c.mentor_id,
            mentor_programmes.c.programme_id,
            checks.check_counts(run.run_date),
        )
        .join(Mentor, Mentor.id == mentor_programmes.c.mentor_id)
        .join(Programme, Programme.id == mentor_programmes.c.programme_id)
        .where(
            mentor_programmes.c.mentor_id.in_(mentor_scope),
            in_scope,
            enrolment_confirmed(),
        ),
        batch,
    )
    mentor_programme_ids: dict[uuid.UUID, set[str]] = defaultdict(set)
    for mentor_id, programme_id, _ in mentor_programme_rows:
        mentor_programme_ids[mentor_id].add(str(programme_id))
    # Safeguarding: a check declared by another organisation counts once confirmed.
    checked = checks.counted_programmes([tuple(row) for row in mentor_programme_rows])
    mentor_rows = _rows(
        session,
        select(*MENTOR_COLUMNS).where(Mentor.id.in_(mentor_scope)).order_by(Mentor.id),
        batch,
    )
    # A volunteer serves in the run only through a consented enrolment.
    mentor_rows = [row for row in mentor_rows if row.id in mentor_programme_ids]
    step()

    enrolled = (
        select(mentee_programmes.c.mentee_id)
        .where(mentee_programmes.c.mentee_id == Mentee.id)
        .correlate(Mentee)
    )
    scope = [
        Mentee.active.is_(True),
        or_(in_values(Mentee.department, departments), in_values(Mentee.commune_insee, communes)),
        or_(
            ~enrolled.exists(),
            enrolled.where(in_values(mentee_programmes.c.programme_id, programme_ids)).exists(),
        ),
    ]
    if run.departments:
        scope.append(in_values(Mentee.department, run.departments))
    mentee_scope = select(Mentee.id).where(*scope).correlate(None)
    enrolment_rows = _rows(
        session,
        select(mentee_programmes.c.mentee_id, mentee_programmes.c.programme_id).where(
            mentee_programmes.c.mentee_id.in_(mentee_scope)
        ),
        batch,
    )
    mentee_programme_ids: dict[uuid.UUID, set[str]] = defaultdict(set)
    for mentee_id, programme_id in enrolment_rows:
        mentee_programme_ids[mentee_id].add(str(programme_id))
    mentee_rows = _rows(session, select(*MENTEE_COLUMNS).where(*scope).order_by(Mentee.id), batch)
    mentee_ids = {row.id for row in mentee_rows}
    step()

    support_rows = _rows(
        session,
        select(Support.mentee_id, Support.need, Support.start_date, Support.end_date)
        .where(
            Support.mentee_id.in_(mentee_scope),
            or_(Support.end_date.is_(None), Support.end_date >= run.run_date),
        )
        .order_by(Support.mentee_id, Support.need, Support.start_date),
        batch,
    )
    step()

    # Matches holding capacity now, that touch this run's people or programmes.
    holding = [
        PriorMatch(*row)
        for row in _rows(
            session,
            select(
                Match.id,
                Match.mentee_id,
                Match.mentor_id,
                Match.programme_id,
                Match.need,
                Match.status,
            )
            .where(matches.holding_capacity(now))
            .where(
                or_(
                    Match.mentee_id.in_(mentee_scope),
                    Match.mentor_id.in_(mentor_scope),
                    in_values(Match.programme_id, programme_ids),
                )
            )
            .order_by(Match.id),
            batch,
        )
    ]
    step()
    mentor_ids = {row.id for row in mentor_rows}
    in_programmes = set(programme_ids)
    reconsidered = [
        m for m in holding if _reconsidered(run, m, in_programmes, mentee_ids, mentor_ids)
    ]
    reconsidered_ids = {m.id for m in reconsidered}
    running = [m for m in holding if m.id not in reconsidered_ids]
    kept = [m for m in running if m.programme_id in in_programmes or m.mentee_id in mentee_ids]
    # Never-again pairs and exclusions are few: read them all rather than bind the
    # scope's ids.
    never = matches.never_again(session) | excluded_pairs(session)
    excluded = {pair for pair in never if pair[0] in mentee_ids}
    step()

    problem = matching.MatchingProblem(
        run_date=run.run_date,
        mentees=tuple(_mentee(row, mentee_programme_ids) for row in mentee_rows),
        mentors=tuple(_mentor(row, mentor_programme_ids, checked) for row in mentor_rows),
        programmes=tuple(_programme(p) for p in programmes),
        supports=tuple(
            matching.Support(mentee_id=str(m), need=n, start=start, end=end)
            for m, n, start, end in support_rows
        ),
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
    step()
    return Snapshot(
        problem=problem,
        taken_at=now,
        organisations={p.id: p.organisation_id for p in programmes},
        kept=tuple(kept),
        reconsidered=tuple(reconsidered),
    )


def _reconsidered(
    run: MatchingRun,
    match: PriorMatch,
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


MENTOR_COLUMNS = (
    Mentor.id,
    Mentor.lat,
    Mentor.lon,
    Mentor.max_travel_km,
    Mentor.capacity,
    Mentor.skills,
    Mentor.languages,
    Mentor.remote_ok,
    Mentor.background_check_valid_until,
)


def _mentor(
    row: Row[Any], programme_ids: dict[uuid.UUID, set[str]], checked: dict[uuid.UUID, set[str]]
) -> matching.Mentor:
    return matching.Mentor(
        id=str(row.id),
        lat=row.lat,
        lon=row.lon,
        max_travel_km=row.max_travel_km,
        capacity=row.capacity,
        skills=frozenset(row.skills),
        programme_ids=frozenset(programme_ids.get(row.id, ())),
        languages=frozenset(row.languages),
        remote_ok=row.remote_ok,
        background_check_valid_until=row.background_check_valid_until,
        background_checked_programme_ids=frozenset(checked.get(row.id, ())),
    )


MENTEE_COLUMNS = (
    Mentee.id,
    Mentee.birth_year,
    Mentee.lat,
    Mentee.lon,
    Mentee.commune_insee,
    Mentee.department,
    Mentee.needs,
    Mentee.waiting_since,
    Mentee.max_travel_km,
    Mentee.languages,
    Mentee.remote_ok,
    Mentee.qpv,
    Mentee.rural_zone,
)


def _mentee(row: Row[Any], programme_ids: dict[uuid.UUID, set[str]]) -> matching.Mentee:
    return matching.Mentee(
        id=str(row.id),
        birth_year=row.birth_year,
        lat=row.lat,
        lon=row.lon,
        commune_insee=row.commune_insee,
        department=row.department,
        needs=tuple(row.needs),
        waiting_since=row.waiting_since,
        max_travel_km=row.max_travel_km,
        languages=frozenset(row.languages),
        remote_ok=row.remote_ok,
        qpv=row.qpv,
        rural_zone=RURAL_ZONES[row.rural_zone],
        enrolled_programme_ids=frozenset(programme_ids.get(row.id, ())),
    )
