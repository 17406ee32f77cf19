"""Which cross-organisation links are confirmed, confirming them, and the links a caller
makes that it is entitled to confirm itself (see ``app.consents.models``)."""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.service import Caller
from app.consents.models import EmployerConfirmation, EnrolmentConfirmation
from app.db import utcnow
from app.errors import Forbidden, NotFound
from app.mentors.models import Mentor, mentor_programmes
from app.programmes.models import Programme
from app.vocabulary import Role


def enrolment_confirmed() -> ColumnElement[bool]:
    """On a join of ``mentor_programmes`` with ``mentors`` and ``programmes``: the link
    is made within one organisation, or the programme's side confirmed it."""
    return or_(
        Mentor.organisation_id == Programme.organisation_id,
        exists().where(
            EnrolmentConfirmation.mentor_id == mentor_programmes.c.mentor_id,
            EnrolmentConfirmation.programme_id == mentor_programmes.c.programme_id,
        ),
    )


def employer_confirmed(organisation_id: uuid.UUID) -> ColumnElement[bool]:
    """The volunteer's employer is ``organisation_id`` and that company agreed (it
    submitted the record, or its HR confirmed the link)."""
    return and_(
        Mentor.employer_id == organisation_id,
        or_(
            Mentor.organisation_id == organisation_id,
            exists().where(
                EmployerConfirmation.mentor_id == Mentor.id,
                EmployerConfirmation.employer_id == organisation_id,
            ),
        ),
    )


def confirmed_links(
    session: Session, programme_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Mentor → the programmes among ``programme_ids`` it serves in with consent (what
    the runs use)."""
    stmt: Select[Any] = (
        select(mentor_programmes.c.mentor_id, mentor_programmes.c.programme_id)
        .join(Mentor, Mentor.id == mentor_programmes.c.mentor_id)
        .join(Programme, Programme.id == mentor_programmes.c.programme_id)
        .where(mentor_programmes.c.programme_id.in_(list(programme_ids)), enrolment_confirmed())
    )
    links: dict[uuid.UUID, set[uuid.UUID]] = {}
    for mentor_id, programme_id in session.execute(stmt):
        links.setdefault(mentor_id, set()).add(programme_id)
    return links


def confirm_own_links(session: Session, caller: Caller, mentor: Mentor) -> None:
    """After ``caller`` created or changed ``mentor``: the links it may confirm itself
    are confirmed (an admin's all of them, an association's enrolments in its own
    programmes, company HR's naming its own company as employer)."""
    now = utcnow()
    done = set(
        session.scalars(
            select(EnrolmentConfirmation.programme_id).where(
                EnrolmentConfirmation.mentor_id == mentor.id
            )
        )
    )
    for programme in mentor.programmes:
        if programme.id in done or programme.organisation_id == mentor.organisation_id:
            continue
        if caller.is_admin or programme.organisation_id == caller.organisation_id:
            session.add(
                EnrolmentConfirmation(
                    mentor_id=mentor.id,
                    programme_id=programme.id,
                    confirmed_at=now,
                    confirmed_by_key_id=caller.key_id,
                )
            )
    employer = mentor.employer_id
    if (
        employer is not None
        and employer != mentor.organisation_id
        and (caller.is_admin or employer == caller.organisation_id)
        and session.get(EmployerConfirmation, (mentor.id, employer)) is None
    ):
        session.add(
            EmployerConfirmation(
                mentor_id=mentor.id,
                employer_id=employer,
                confirmed_at=now,
                confirmed_by_key_id=caller.key_id,
            )
        )
    session.flush()


def pending_enrolments(caller: Caller) -> Select[Any]:
    """Enrolments in the caller's programmes (all, for admins) awaiting confirmation."""
    if caller.role not in (Role.ADMIN, Role.ASSOCIATION):
        raise Forbidden("enrolments are confirmed by the programme's association")
    stmt = (
        select(
            mentor_programmes.c.mentor_id,
            mentor_programmes.c.programme_id,
            Mentor.organisation_id,
        )
        .join(Mentor, Mentor.id == mentor_programmes.c.mentor_id)
        .join(Programme, Programme.id == mentor_programmes.c.programme_id)
        .where(~enrolment_confirmed())
        .order_by(mentor_programmes.c.programme_id, mentor_programmes.c.mentor_id)
    )
    if not caller.is_admin:
        stmt = stmt.where(Programme.organisation_id == caller.organisation_id)
    return stmt


def confirm_enrolment(
    session: Session, caller: Caller, mentor_id: uuid.UUID, programme_id: uuid.UUID
) -> EnrolmentConfirmation | None:
    """Confirm that the volunteer serves in the programme (its association, or an
    admin); ``None`` when the link needs no confirmation (one organisation)."""
    row = session.execute(
        select(Mentor.organisation_id, Programme.organisation_id)
        .select_from(mentor_programmes)
        .join(Mentor, Mentor.id == mentor_programmes.c.mentor_id)
        .join(Programme, Programme.id == mentor_programmes.c.programme_id)
        .where(
            mentor_programmes.c.mentor_id == mentor_id,
            mentor_programmes.c.programme_id == programme_id,
        )
    ).first()
    if row is None or not (caller.is_admin or row[1] == caller.organisation_id):
        raise NotFound(
            f"no enrolment of volunteer {mentor_id} in a programme {programme_id} of yours"
        )
    if row[0] == row[1]:
        return None
    existing = session.get(EnrolmentConfirmation, (mentor_id, programme_id))
    if existing is not None:
        return existing
    confirmation = EnrolmentConfirmation(
        mentor_id=mentor_id,
        programme_id=programme_id,
        confirmed_at=utcnow(),
        confirmed_by_key_id=caller.key_id,
    )
    session.add(confirmation)
    audit(session, Action.CONFIRM, RecordType.MENTOR, mentor_id, organisation_id=row[0])
    session.flush()
    return confirmation


def pending_employer_links(caller: Caller) -> Select[Any]:
    """Volunteers another organisation names as employees of the caller's company (all
    companies, for admins), awaiting its HR's confirmation."""
    if caller.role not in (Role.ADMIN, Role.COMPANY_HR):
        raise Forbidden("employer links are confirmed by the company's HR")
    stmt = (
        select(Mentor.id, Mentor.employer_id, Mentor.organisation_id)
        .where(Mentor.employer_id.is_not(None), Mentor.organisation_id != Mentor.employer_id)
        .where(
            ~exists().where(
                EmployerConfirmation.mentor_id == Mentor.id,
                EmployerConfirmation.employer_id == Mentor.employer_id,
            )
        )
        .order_by(Mentor.created_at, Mentor.id)
    )
    if not caller.is_admin:
        stmt = stmt.where(Mentor.employer_id == caller.organisation_id)
    return stmt


def confirm_employer(
    session: Session, caller: Caller, mentor_id: uuid.UUID
) -> EmployerConfirmation | None:
    """The company's HR (or an admin) confirms that the volunteer is its employee."""
    mentor = session.get(Mentor, mentor_id)
    if (
        mentor is None
        or mentor.employer_id is None
        or not (caller.is_admin or mentor.employer_id == caller.organisation_id)
    ):
        raise NotFound(f"no volunteer {mentor_id} named as an employee of your organisation")
    if mentor.organisation_id == mentor.employer_id:
        return None
    existing = session.get(EmployerConfirmation, (mentor.id, mentor.employer_id))
    if existing is not None:
        return existing
    confirmation = EmployerConfirmation(
        mentor_id=mentor.id,
        employer_id=mentor.employer_id,
        confirmed_at=utcnow(),
        confirmed_by_key_id=caller.key_id,
    )
    session.add(confirmation)
    audit(
        session,
        Action.CONFIRM,
        RecordType.MENTOR,
        mentor.id,
        organisation_id=mentor.organisation_id,
    )
    session.flush()
    return confirmation
