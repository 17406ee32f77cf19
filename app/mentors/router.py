import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.deps import CallerDep, MentorWriterDep
from app.db import SessionDep
from app.filters import TerritoryDep
from app.mentors import service
from app.mentors.models import Mentor
from app.mentors.schemas import MentorCreate, MentorRead, MentorUpdate
from app.pagination import Page, PageDep, Sort, page_of, sorting
from app.vocabulary import MentorKind, Need

router = APIRouter(prefix="/v1/mentors", tags=["mentors"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MentorRead)
def create_mentor(data: MentorCreate, session: SessionDep, caller: MentorWriterDep) -> MentorRead:
    """Submit a volunteer mentor: company HR for its own employees, an association for its
    volunteers. Location by INSEE code or postcode, travel distance, capacity (1 to 5
    mentees), skills (needs they can help with), languages, background check validity."""
    mentor = service.create(session, caller, data)
    session.commit()
    return MentorRead.model_validate(mentor)


SORT = sorting(
    {
        "created_at": Mentor.created_at,
        "updated_at": Mentor.updated_at,
        "external_id": Mentor.external_id,
    },
    Mentor.id,
)


@router.get("", response_model=Page[MentorRead])
def list_mentors(
    session: SessionDep,
    caller: CallerDep,
    page: PageDep,
    sort: Annotated[Sort, Depends(SORT)],
    territory: TerritoryDep,
    need: Annotated[Need | None, Query(description="mentors with this skill")] = None,
    programme_id: uuid.UUID | None = None,
    active: bool | None = None,
    kind: MentorKind | None = None,
    employer_id: uuid.UUID | None = None,
    external_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[MentorRead]:
    """List the volunteers the caller may see (its own submissions, its programmes' volunteers,
    or HR's employees), filtered by territory, need, programme, kind, employer and external
    id."""
    stmt = service.query(
        caller,
        territory=territory,
        need=need,
        programme_id=programme_id,
        active=active,
        kind=kind,
        employer_id=employer_id,
        external_id=external_id,
    )
    return page_of(session, stmt, page, MentorRead, sort)


@router.get("/{mentor_id}", response_model=MentorRead)
def get_mentor(mentor_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> MentorRead:
    """Read one volunteer record within the caller's scope (404 otherwise)."""
    return MentorRead.model_validate(service.get(session, caller, mentor_id))


@router.patch("/{mentor_id}", response_model=MentorRead)
def update_mentor(
    mentor_id: uuid.UUID, data: MentorUpdate, session: SessionDep, caller: MentorWriterDep
) -> MentorRead:
    """Change a volunteer record the caller owns. Fields left out keep their value."""
    mentor = service.update(session, caller, mentor_id, data)
    session.commit()
    return MentorRead.model_validate(mentor)


@router.delete("/{mentor_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_mentor(
    mentor_id: uuid.UUID,
    session: SessionDep,
    caller: MentorWriterDep,
    erase: Annotated[
        bool,
        Query(description="erase the person (right to erasure) even if they were matched"),
    ] = False,
) -> None:
    """Remove a volunteer the caller owns. A volunteer with matches is deactivated rather than
    deleted: its running matches close with a coded reason and its history is kept. With
    `erase=true` (the person asked to be erased), the record and every copy of its values
    go; its matches stay as anonymous records."""
    service.delete(session, caller, mentor_id, erase=erase)
    session.commit()
