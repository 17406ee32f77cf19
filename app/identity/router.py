import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from app.auth.deps import AssociationDep, CallerDep, MentorWriterDep
from app.crud import get_visible
from app.db import SessionDep
from app.identity import service
from app.identity.models import IdentityEvent
from app.identity.reads import mentee_read
from app.identity.schemas import DetachIn
from app.identity.vocabulary import DetachReason, IdentityEventKind, Subject
from app.mentees import service as mentees
from app.mentees.schemas import MenteeRead
from app.mentors import service as mentors
from app.mentors.models import Mentor
from app.pagination import Page, PageDep, page_of
from app.vocabulary import Role

router = APIRouter(prefix="/v1", tags=["identity"])


class IdentityEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    kind: IdentityEventKind
    subject: Subject
    record_id: uuid.UUID
    reason: DetachReason | None


class DetachedRead(BaseModel):
    record_id: uuid.UUID
    detached: bool
    reason: DetachReason


@router.post("/mentees/{mentee_id}/identity/detach", response_model=MenteeRead)
def detach_mentee(
    mentee_id: uuid.UUID, data: DetachIn, session: SessionDep, caller: AssociationDep
) -> MenteeRead:
    """The association believes its record was linked to someone else: it stops being
    linked (until it is given an identity again). Recorded in the identity events."""
    mentee = mentees.get(session, caller, mentee_id)
    service.detach(
        session, Subject.MENTEE, mentee.id, mentee.organisation_id, data.reason,
        caller.organisation_id,
    )  # fmt: skip
    session.commit()
    return mentee_read(session, mentee)


@router.post("/mentors/{mentor_id}/identity/detach", response_model=DetachedRead)
def detach_mentor(
    mentor_id: uuid.UUID, data: DetachIn, session: SessionDep, caller: MentorWriterDep
) -> DetachedRead:
    """Detach a volunteer record from the person it was linked to, when the association or HR
    believes the link wrong (coded reason, kept in the audit trail). The record then counts
    as a person of its own."""
    mentor = get_visible(session, Mentor, mentor_id, mentors.writable(caller))
    service.detach(
        session, Subject.MENTOR, mentor.id, mentor.organisation_id, data.reason,
        caller.organisation_id,
    )  # fmt: skip
    session.commit()
    return DetachedRead(record_id=mentor.id, detached=True, reason=data.reason)


@router.get("/identity/events", response_model=Page[IdentityEventRead])
def list_identity_events(
    session: SessionDep, caller: CallerDep, page: PageDep, record_id: uuid.UUID | None = None
) -> Page[IdentityEventRead]:
    """Linking and detaching of the caller's own records (every record for admins)."""
    stmt = select(IdentityEvent).order_by(IdentityEvent.created_at, IdentityEvent.id)
    if caller.role is not Role.ADMIN:
        stmt = stmt.where(IdentityEvent.organisation_id == caller.organisation_id)
    if record_id is not None:
        stmt = stmt.where(IdentityEvent.record_id == record_id)
    return page_of(session, stmt, page, IdentityEventRead)
