import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import AdminDep, CallerDep
from app.db import SessionDep
from app.organisations import service
from app.organisations.schemas import OrganisationCreate, OrganisationRead, OrganisationUpdate
from app.pagination import Page, PageDep, page_of
from app.vocabulary import OrganisationKind

router = APIRouter(prefix="/v1/organisations", tags=["organisations"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrganisationRead)
def create_organisation(
    data: OrganisationCreate, session: SessionDep, _: AdminDep
) -> OrganisationRead:
    """Register an organisation (admins): an association, a company, a public body (city, Cité
    éducative, school) or an administration."""
    organisation = service.create(session, data)
    session.commit()
    return OrganisationRead.model_validate(organisation)


@router.get("", response_model=Page[OrganisationRead])
def list_organisations(
    session: SessionDep,
    _: CallerDep,
    page: PageDep,
    kind: OrganisationKind | None = None,
    name: Annotated[str | None, Query(max_length=200, description="substring")] = None,
) -> Page[OrganisationRead]:
    """List organisations, filtered by `kind` and `name`. Every role may read the directory:
    names and kinds are not personal data."""
    return page_of(session, service.query(kind=kind, name=name), page, OrganisationRead)


@router.get("/{organisation_id}", response_model=OrganisationRead)
def get_organisation(
    organisation_id: uuid.UUID, session: SessionDep, _: CallerDep
) -> OrganisationRead:
    """Read one organisation."""
    return OrganisationRead.model_validate(service.get(session, organisation_id))


@router.patch("/{organisation_id}", response_model=OrganisationRead)
def update_organisation(
    organisation_id: uuid.UUID, data: OrganisationUpdate, session: SessionDep, _: AdminDep
) -> OrganisationRead:
    """Change an organisation's name or kind (admins). Fields left out keep their value; `null`
    is refused for required fields."""
    organisation = service.update(session, organisation_id, data)
    session.commit()
    return OrganisationRead.model_validate(organisation)


@router.delete("/{organisation_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_organisation(organisation_id: uuid.UUID, session: SessionDep, _: AdminDep) -> None:
    """Delete an organisation (admins) with its keys. The organisation holding the last active
    admin key cannot be deleted (409)."""
    service.delete(session, organisation_id)
    session.commit()
