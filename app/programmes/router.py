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
    stmt = service.query(
        territory=territory, organisation_id=organisation_id, need=need, active=active
    )
    return page_of(session, stmt, page, ProgrammeRead)


@router.get("/{programme_id}", response_model=ProgrammeRead)
def get_programme(programme_id: uuid.UUID, session: SessionDep, _: CallerDep) -> ProgrammeRead:
    return ProgrammeRead.model_validate(service.get(session, programme_id))


@router.patch("/{programme_id}", response_model=ProgrammeRead)
def update_programme(
    programme_id: uuid.UUID,
    data: ProgrammeUpdate,
    session: SessionDep,
    caller: AssociationDep,
) -> ProgrammeRead:
    programme = service.update(session, caller, programme_id, data)
    session.commit()
    return ProgrammeRead.model_validate(programme)


@router.delete("/{programme_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_programme(programme_id: uuid.UUID, session: SessionDep, caller: AssociationDep) -> None:
    service.delete(session, caller, programme_id)
    session.commit()
