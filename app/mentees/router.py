import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.deps import AssociationDep, CallerDep
from app.db import SessionDep
from app.filters import TerritoryDep
from app.identity.reads import annotate, mentee_read
from app.mentees import service
from app.mentees.models import Mentee
from app.mentees.schemas import MenteeCreate, MenteeRead, MenteeUpdate
from app.pagination import Page, PageDep, Sort, page_of, sorting
from app.vocabulary import Need

router = APIRouter(prefix="/v1/mentees", tags=["mentees"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MenteeRead)
def create_mentee(data: MenteeCreate, session: SessionDep, caller: AssociationDep) -> MenteeRead:
    """Refer a young person (associations): birth year, commune, QPV or rural zone, activity,
    needs ranked by importance, languages, travel distance, and optionally a pseudonymous
    `identity` (hashed, never stored in clear) to recognise the same person referred
    elsewhere."""
    mentee = service.create(session, caller, data)
    session.commit()
    return mentee_read(session, mentee)


SORT = sorting(
    {
        "created_at": Mentee.created_at,
        "updated_at": Mentee.updated_at,
        "external_id": Mentee.external_id,
        "birth_year": Mentee.birth_year,
        "waiting_since": Mentee.waiting_since,
    },
    Mentee.id,
)


@router.get("", response_model=Page[MenteeRead])
def list_mentees(
    session: SessionDep,
    caller: CallerDep,
    page: PageDep,
    sort: Annotated[Sort, Depends(SORT)],
    territory: TerritoryDep,
    need: Annotated[Need | None, Query(description="young people with this need")] = None,
    programme_id: uuid.UUID | None = None,
    active: bool | None = None,
    qpv: bool | None = None,
    external_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[MenteeRead]:
    """List the young people the referring association sees, filtered by territory, need,
    programme, QPV, activity status and external id."""
    stmt = service.query(
        caller,
        territory=territory,
        need=need,
        programme_id=programme_id,
        active=active,
        qpv=qpv,
        external_id=external_id,
    )
    listed = page_of(session, stmt, page, MenteeRead, sort)
    annotate(session, listed.items)
    return listed


@router.get("/{mentee_id}", response_model=MenteeRead)
def get_mentee(mentee_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> MenteeRead:
    """Read one young person's record, with `followed_elsewhere` and
    `needs_supported_elsewhere` when the same person is referred by another organisation
    (never which one)."""
    return mentee_read(session, service.get(session, caller, mentee_id))


@router.patch("/{mentee_id}", response_model=MenteeRead)
def update_mentee(
    mentee_id: uuid.UUID, data: MenteeUpdate, session: SessionDep, caller: AssociationDep
) -> MenteeRead:
    """Change a young person's record (the referring association). Fields left out keep their
    value."""
    mentee = service.update(session, caller, mentee_id, data)
    session.commit()
    return mentee_read(session, mentee)


@router.delete("/{mentee_id}", status_code=status.HTTP_204_NO_CONTENT)
def erase_mentee(mentee_id: uuid.UUID, session: SessionDep, caller: AssociationDep) -> None:
    """Erase a young person's data (GDPR right to erasure)."""
    service.erase(session, caller, mentee_id)
    session.commit()
