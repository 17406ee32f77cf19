import uuid

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.scope import owning_organisation
from app.auth.service import Caller
from app.crud import assign, get_visible
from app.db import contains
from app.errors import ValidationFailed, field_error
from app.filters import TerritoryFilter
from app.organisations.models import Organisation
from app.programmes.models import Programme
from app.programmes.schemas import ProgrammeCreate, ProgrammeUpdate
from app.vocabulary import Need, OrganisationKind


def writable(caller: Caller) -> ColumnElement[bool] | None:
    """The programme catalogue is public to every role; only its association edits it."""
    return None if caller.is_admin else Programme.organisation_id == caller.organisation_id


def create(session: Session, caller: Caller, data: ProgrammeCreate) -> Programme:
    organisation_id = owning_organisation(caller, data.organisation_id)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.kind is not OrganisationKind.ASSOCIATION:
        raise field_error("organisation_id", "programmes are run by a known association")
    programme = Programme(
        **data.model_dump(exclude={"organisation_id"}), organisation_id=organisation_id
    )
    session.add(programme)
    session.flush()
    audit(
        session, Action.CREATE, RecordType.PROGRAMME, programme.id, organisation_id=organisation_id
    )
    return programme


def get(session: Session, programme_id: uuid.UUID) -> Programme:
    return get_visible(session, Programme, programme_id, None)


def update(
    session: Session, caller: Caller, programme_id: uuid.UUID, data: ProgrammeUpdate
) -> Programme:
    programme = get_visible(session, Programme, programme_id, writable(caller))
    assign(programme, data.model_dump(exclude_unset=True))
    if programme.min_age > programme.max_age:
        raise field_error("min_age", "min_age must not exceed max_age")
    if not programme.departments and not programme.communes:
        raise ValidationFailed(
            [{"field": "departments", "message": "a programme covers at least one territory"}]
        )
    audit(
        session,
        Action.UPDATE,
        RecordType.PROGRAMME,
        programme.id,
        organisation_id=programme.organisation_id,
    )
    session.flush()
    return programme


def delete(session: Session, caller: Caller, programme_id: uuid.UUID) -> None:
    programme = get_visible(session, Programme, programme_id, writable(caller))
    session.delete(programme)
    audit(
        session,
        Action.DELETE,
        RecordType.PROGRAMME,
        programme_id,
        organisation_id=programme.organisation_id,
    )
    session.flush()


def query(
    *,
    territory: TerritoryFilter,
    organisation_id: uuid.UUID | None,
    need: Need | None,
    active: bool | None,
) -> Select[tuple[Programme]]:
    stmt = select(Programme).order_by(Programme.name, Programme.id)
    if organisation_id is not None:
        stmt = stmt.where(Programme.organisation_id == organisation_id)
    if need is not None:
        stmt = stmt.where(contains(Programme.needs, need.value))
    if territory.department is not None:
        stmt = stmt.where(contains(Programme.departments, territory.department))
    if territory.commune is not None and territory.commune_department is not None:
        stmt = stmt.where(
            or_(
                contains(Programme.communes, territory.commune),
                contains(Programme.departments, territory.commune_department),
            )
        )
    if active is not None:
        stmt = stmt.where(Programme.active == active)
    return stmt


def existing(session: Session, programme_ids: list[uuid.UUID], field: str) -> list[Programme]:
    """The programmes named by id, or a 422 naming the first unknown one."""
    if not programme_ids:
        return []
    stmt = select(Programme).where(Programme.id.in_(programme_ids))
    found = {programme.id: programme for programme in session.scalars(stmt)}
    for index, programme_id in enumerate(programme_ids):
        if programme_id not in found:
            raise field_error(f"{field}[{index}]", f"unknown programme {programme_id}")
    return [found[programme_id] for programme_id in programme_ids]
