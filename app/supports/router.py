import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.deps import CallerDep, require_roles
from app.auth.service import Caller
from app.db import SessionDep
from app.fields import IsoDay
from app.pagination import Page, PageDep, page_of
from app.supports import service
from app.supports.schemas import SupportCreate, SupportRead, SupportUpdate
from app.vocabulary import Need, Role

# Public bodies declare the supports they provide by identity alone.
SupportWriterDep = Annotated[Caller, Depends(require_roles(Role.ASSOCIATION, Role.PUBLIC_BODY))]

router = APIRouter(prefix="/v1/supports", tags=["supports"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SupportRead)
def create_support(
    data: SupportCreate, session: SessionDep, caller: SupportWriterDep
) -> SupportRead:
    """Record a support a young person already receives (from any actor): a run never proposes
    a second support for that need while it is active. Public bodies and associations may
    declare it by `identity` alone, without reading any record."""
    support = service.create(session, caller, data)
    session.commit()
    return SupportRead.model_validate(support)


@router.get("", response_model=Page[SupportRead])
def list_supports(
    session: SessionDep,
    caller: CallerDep,
    page: PageDep,
    mentee_id: uuid.UUID | None = None,
    need: Need | None = None,
    programme_id: uuid.UUID | None = None,
    provider_id: uuid.UUID | None = None,
    active_on: Annotated[IsoDay | None, Query(description="only supports running that day")] = None,
) -> Page[SupportRead]:
    """List the supports the caller may see, filtered by young person, need, programme,
    provider and the day they are active on."""
    stmt = service.query(
        caller,
        mentee_id=mentee_id,
        need=need,
        programme_id=programme_id,
        provider_id=provider_id,
        active_on_day=active_on,
    )
    return page_of(session, stmt, page, SupportRead)


@router.get("/{support_id}", response_model=SupportRead)
def get_support(support_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> SupportRead:
    """Read one support."""
    return SupportRead.model_validate(service.get(session, caller, support_id))


@router.patch("/{support_id}", response_model=SupportRead)
def update_support(
    support_id: uuid.UUID, data: SupportUpdate, session: SessionDep, caller: SupportWriterDep
) -> SupportRead:
    """Change a support (for instance its end date). Fields left out keep their value."""
    support = service.update(session, caller, support_id, data)
    session.commit()
    return SupportRead.model_validate(support)


@router.delete("/{support_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_support(support_id: uuid.UUID, session: SessionDep, caller: SupportWriterDep) -> None:
    """Delete a support recorded by mistake."""
    service.delete(session, caller, support_id)
    session.commit()
