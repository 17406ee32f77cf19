import uuid

from fastapi import APIRouter, status

from app.auth.deps import CallerDep
from app.db import SessionDep
from app.exclusions import service
from app.exclusions.schemas import ExclusionCreate, ExclusionRead
from app.pagination import Page, PageDep, page_of

router = APIRouter(prefix="/v1/exclusions", tags=["exclusions"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ExclusionRead)
def create_exclusion(
    data: ExclusionCreate, session: SessionDep, caller: CallerDep
) -> ExclusionRead:
    """Declare that this young person and this volunteer are never proposed to each other
    (admins, and the association referring the young person). Every later run honours it
    like a pair declined for safeguarding; a 409 names an exclusion already in force."""
    exclusion = service.create(session, caller, data)
    session.commit()
    return ExclusionRead.model_validate(exclusion)


@router.get("", response_model=Page[ExclusionRead])
def list_exclusions(
    session: SessionDep,
    caller: CallerDep,
    page: PageDep,
    mentee_id: uuid.UUID | None = None,
    mentor_id: uuid.UUID | None = None,
    active: bool | None = None,
) -> Page[ExclusionRead]:
    """Exclusions, oldest first, revoked ones included unless ``active=true`` (admins)."""
    stmt = service.query(caller, mentee_id=mentee_id, mentor_id=mentor_id, active=active)
    return page_of(session, stmt, page, ExclusionRead)


@router.get("/{exclusion_id}", response_model=ExclusionRead)
def get_exclusion(exclusion_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> ExclusionRead:
    """Read one declared never-again pair (admins and the referring association)."""
    return ExclusionRead.model_validate(service.get(session, caller, exclusion_id))


@router.post("/{exclusion_id}/revoke", response_model=ExclusionRead)
def revoke_exclusion(
    exclusion_id: uuid.UUID, session: SessionDep, caller: CallerDep
) -> ExclusionRead:
    """End an exclusion (admins); the pair may be proposed again by later runs."""
    exclusion = service.revoke(session, caller, exclusion_id)
    session.commit()
    return ExclusionRead.model_validate(exclusion)
