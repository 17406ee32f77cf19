"""Exclusions: declared by an admin or by the association referring the young person;
listed and revoked by admins; honoured by every run like a pair declined for
incompatibility or safeguarding."""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.auth.service import Caller
from app.crud import get_visible, refuse_duplicate
from app.db import utcnow
from app.errors import Conflict, Forbidden
from app.exclusions.models import Exclusion
from app.exclusions.schemas import ExclusionCreate
from app.matches.models import Match
from app.mentees import service as mentees
from app.mentors import service as mentors
from app.mentors.models import Mentor
from app.vocabulary import Role


def create(session: Session, caller: Caller, data: ExclusionCreate) -> Exclusion:
    if caller.role not in (Role.ADMIN, Role.ASSOCIATION):
        raise Forbidden("exclusions are declared by admins and referring associations")
    # The young person: one the caller refers (404 otherwise, as for any unseen record).
    mentees.get(session, caller, data.mentee_id)
    # The volunteer: one the caller sees, or one already paired with this young person.
    mentor_scope = mentors.visible(caller)
    if mentor_scope is not None:
        paired = select(Match.mentor_id).where(Match.mentee_id == data.mentee_id)
        mentor_scope = or_(mentor_scope, Mentor.id.in_(paired))
    get_visible(session, Mentor, data.mentor_id, mentor_scope)
    refuse_duplicate(
        session,
        Exclusion,
        [
            Exclusion.mentee_id == data.mentee_id,
            Exclusion.mentor_id == data.mentor_id,
            Exclusion.revoked_at.is_(None),
        ],
        fields=["mentee_id", "mentor_id"],
        what="an exclusion of this pair",
    )
    exclusion = Exclusion(
        mentee_id=data.mentee_id,
        mentor_id=data.mentor_id,
        reason=data.reason,
        organisation_id=caller.organisation_id,
        declared_by_key_id=caller.key_id,
        created_at=utcnow(),
    )
    session.add(exclusion)
    session.flush()
    return exclusion


def query(
    caller: Caller,
    *,
    mentee_id: uuid.UUID | None,
    mentor_id: uuid.UUID | None,
    active: bool | None,
) -> Select[tuple[Exclusion]]:
    if not caller.is_admin:
        raise Forbidden("exclusions are listed by admins")
    stmt = select(Exclusion).order_by(Exclusion.created_at, Exclusion.id)
    if mentee_id is not None:
        stmt = stmt.where(Exclusion.mentee_id == mentee_id)
    if mentor_id is not None:
        stmt = stmt.where(Exclusion.mentor_id == mentor_id)
    if active is not None:
        stmt = stmt.where(
            Exclusion.revoked_at.is_(None) if active else Exclusion.revoked_at.is_not(None)
        )
    return stmt


def get(session: Session, caller: Caller, exclusion_id: uuid.UUID) -> Exclusion:
    if not caller.is_admin:
        raise Forbidden("exclusions are read by admins")
    return get_visible(session, Exclusion, exclusion_id, None)


def revoke(session: Session, caller: Caller, exclusion_id: uuid.UUID) -> Exclusion:
    if not caller.is_admin:
        raise Forbidden("exclusions are revoked by admins")
    exclusion = get_visible(session, Exclusion, exclusion_id, None, for_update=True)
    if exclusion.revoked_at is not None:
        raise Conflict(
            f"exclusion {exclusion.id} was already revoked at "
            f"{exclusion.revoked_at:%Y-%m-%d %H:%M} UTC"
        )
    exclusion.revoked_at = utcnow()
    exclusion.revoked_by_key_id = caller.key_id
    session.flush()
    return exclusion


def excluded_pairs(
    session: Session, mentee_ids: Iterable[uuid.UUID] | None = None
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """The (young person, volunteer) pairs of every exclusion in force, for the runs."""
    stmt: Select[Any] = select(Exclusion.mentee_id, Exclusion.mentor_id).where(
        Exclusion.revoked_at.is_(None)
    )
    if mentee_ids is not None:
        stmt = stmt.where(Exclusion.mentee_id.in_(list(mentee_ids)))
    return {(row[0], row[1]) for row in session.execute(stmt)}
