import uuid

from fastapi import APIRouter, status

from app.auth.deps import AssociationDep, CallerDep
from app.db import SessionDep
from app.filters import TerritoryDep
from app.pagination import Page, PageDep, page_of
from app.programmes import service
from app.programmes.schemas import ProgrammeCreate, ProgrammeRead, ProgrammeUpdate
from app.vocabulary import Need

router = APIRouter(prefix="/v1/programmes", tags=["programmes"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProgrammeRead)
def create_programme(
    data: ProgrammeCreate, session: SessionDep, caller: AssociationDep
) -> ProgrammeRead:
    """Create a mentoring programme run by an association: the territories it covers
    (departments and/or communes), the needs it addresses, the age range and the number of
    running matches it can hold."""
    programme = service.create(session, caller, data)
    session.commit()
    return ProgrammeRead.model_validate(programme)


@router.get("", response_model=Page[ProgrammeRead])
def list_programmes(
    session: SessionDep,
    _: CallerDep,
    page: PageDep,
    territory: TerritoryDep,
    organisation_id: uuid.UUID | None = None,
    need: Need | None = None,
    active: bool | None = None,
) -> Page[ProgrammeRead]:
    """List programmes, filtered by territory (`department`, `commune`), `need`,
    `organisation_id` and `active`. The catalogue of programmes is public to every role."""
    stmt = service.query(
        territory=territory, organisation_id=organisation_id, need=need, active=active
    )
    return page_of(session, stmt, page, ProgrammeRead)


@router.get("/{programme_id}", response_model=ProgrammeRead)
def get_programme(programme_id: uuid.UUID, session: SessionDep, _: CallerDep) -> ProgrammeRead:
    """Read one programme."""
    return ProgrammeRead.model_validate(service.get(session, programme_id))


@router.patch("/{programme_id}", response_model=ProgrammeRead)
def update_programme(
    programme_id: uuid.UUID,
    data: ProgrammeUpdate,
    session: SessionDep,
    caller: AssociationDep,
) -> ProgrammeRead:
    """Change a programme (its association or admins). Fields left out keep their value."""
    programme = service.update(session, caller, programme_id, data)
    session.commit()
    return ProgrammeRead.model_validate(programme)


@router.delete("/{programme_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_programme(programme_id: uuid.UUID, session: SessionDep, caller: AssociationDep) -> None:
    """Delete a programme (its association or admins)."""
    service.delete(session, caller, programme_id)
    session.commit()
