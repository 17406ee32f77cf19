"""Background checks across organisations (safeguarding, see ``app.consents.models``).

A check is declared on the volunteer's record by the organisation that owns it (or an
admin). It counts for the minors of a programme of that same organisation; for another
organisation's programme, only once that programme's association (or an admin)
confirms it, and only up to the date confirmed: HR cannot make its employee eligible
for an association's minors by declaring a date itself.
"""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.service import Caller
from app.consents.models import BackgroundCheckConfirmation
from app.db import utcnow
from app.errors import Forbidden, NotFound, field_error
from app.mentors.models import Mentor, mentor_programmes
from app.programmes.models import Programme
from app.vocabulary import Role


def check_counts(run_date: date) -> ColumnElement[bool]:
    """On a join of ``mentor_programmes`` with ``mentors`` and ``programmes``: the
    volunteer's check counts for the programme's minors on ``run_date`` — the declared
    date and, across organisations, the date confirmed are both on or after it."""
    return and_(
        Mentor.background_check_valid_until >= run_date,
        or_(
            Mentor.organisation_id == Programme.organisation_id,
            exists().where(
                BackgroundCheckConfirmation.mentor_id == mentor_programmes.c.mentor_id,
                BackgroundCheckConfirmation.programme_id == mentor_programmes.c.programme_id,
                BackgroundCheckConfirmation.valid_until >= run_date,
            ),
        ),
    )


def _confirmed_up_to_declared() -> ColumnElement[bool]:
    return exists().where(
        BackgroundCheckConfirmation.mentor_id == mentor_programmes.c.mentor_id,
        BackgroundCheckConfirmation.programme_id == mentor_programmes.c.programme_id,
        BackgroundCheckConfirmation.valid_until >= Mentor.background_check_valid_until,
    )


def pending_checks(caller: Caller) -> Select[Any]:
    """Volunteers of another organisation enrolled in the caller's programmes (all, for
    admins) whose declared check the programme's side has not confirmed up to its date."""
    if caller.role not in (Role.ADMIN, Role.ASSOCIATION):
        raise Forbidden("background checks are confirmed by the programme's association")
    confirmed = (
        select(BackgroundCheckConfirmation.valid_until)
        .where(
            BackgroundCheckConfirmation.mentor_id == mentor_programmes.c.mentor_id,
            BackgroundCheckConfirmation.programme_id == mentor_programmes.c.programme_id,
        )
        .correlate(mentor_programmes)
        .scalar_subquery()
    )
    stmt = (
        select(
            mentor_programmes.c.mentor_id,
            mentor_programmes.c.programme_id,
            Mentor.organisation_id,
            Mentor.background_check_valid_until,
            confirmed,
        )
        .join(Mentor, Mentor.id == mentor_programmes.c.mentor_id)
        .join(Programme, Programme.id == mentor_programmes.c.programme_id)
        .where(
            Mentor.background_check_valid_until.is_not(None),
            Mentor.organisation_id != Programme.organisation_id,
            ~_confirmed_up_to_declared(),
        )
        .order_by(mentor_programmes.c.programme_id, mentor_programmes.c.mentor_id)
    )
    if not caller.is_admin:
        stmt = stmt.where(Programme.organisation_id == caller.organisation_id)
    return stmt


def _upsert(
    session: Session, caller: Caller, mentor_id: uuid.UUID, programme_id: uuid.UUID, until: date
) -> BackgroundCheckConfirmation:
    confirmation = session.get(
        BackgroundCheckConfirmation, (mentor_id, programme_id), with_for_update=True
    )
    if confirmation is None:
        confirmation = BackgroundCheckConfirmation(mentor_id=mentor_id, programme_id=programme_id)
        session.add(confirmation)
    confirmation.valid_until = until
    confirmation.confirmed_at = utcnow()
    confirmation.confirmed_by_key_id = caller.key_id
    session.flush()
    return confirmation


def confirm_check(
    session: Session, caller: Caller, mentor_id: uuid.UUID, programme_id: uuid.UUID
) -> BackgroundCheckConfirmation | None:
    """The programme's association (or an admin) vouches for the check the volunteer's
    record declares, up to its date; ``None`` when the record and the programme belong
    to one organisation (the check counts already)."""
    columns = (
        Mentor.organisation_id,
        Programme.organisation_id,
        Mentor.background_check_valid_until,
    )
    row = session.execute(
        select(*columns)
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
    owner, programme_owner, declared = row
    if declared is None:
        raise field_error("mentor_id", "the volunteer's record declares no background check")
    if owner == programme_owner:
        return None
    confirmation = _upsert(session, caller, mentor_id, programme_id, declared)
    audit(session, Action.CONFIRM, RecordType.MENTOR, mentor_id, organisation_id=owner)
    return confirmation


def record_admin_checks(session: Session, caller: Caller, mentor: Mentor) -> None:
    """An admin who sets a volunteer's check records it for every programme of theirs."""
    declared = mentor.background_check_valid_until
    if not caller.is_admin or declared is None:
        return
    for programme in mentor.programmes:
        if programme.organisation_id != mentor.organisation_id:
            _upsert(session, caller, mentor.id, programme.id, declared)


def counted_programmes(
    rows: list[tuple[uuid.UUID, uuid.UUID, bool]],
) -> dict[uuid.UUID, set[str]]:
    """Mentor → programmes its check counts for, from (mentor, programme, counts) rows."""
    counted: dict[uuid.UUID, set[str]] = {}
    for mentor_id, programme_id, counts in rows:
        if counts:
            counted.setdefault(mentor_id, set()).add(str(programme_id))
    return counted
