import uuid

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.models import ApiKey
from app.auth.service import refuse_admin_lockout
from app.crud import assign, get_visible
from app.organisations.models import Organisation
from app.organisations.schemas import OrganisationCreate, OrganisationUpdate
from app.vocabulary import OrganisationKind


def create(session: Session, data: OrganisationCreate) -> Organisation:
    organisation = Organisation(**data.model_dump())
    session.add(organisation)
    session.flush()
    audit(
        session,
        Action.CREATE,
        RecordType.ORGANISATION,
        organisation.id,
        organisation_id=organisation.id,
    )
    return organisation


def get(session: Session, organisation_id: uuid.UUID) -> Organisation:
    # The directory of organisations is not personal data: every role may read it.
    return get_visible(session, Organisation, organisation_id, None)


def update(session: Session, organisation_id: uuid.UUID, data: OrganisationUpdate) -> Organisation:
    organisation = get(session, organisation_id)
    assign(organisation, data.model_dump(exclude_unset=True))
    audit(
        session,
        Action.UPDATE,
        RecordType.ORGANISATION,
        organisation.id,
        organisation_id=organisation.id,
    )
    session.flush()
    return organisation


def query(*, kind: OrganisationKind | None, name: str | None) -> Select[tuple[Organisation]]:
    stmt = select(Organisation).order_by(Organisation.name, Organisation.id)
    if kind is not None:
        stmt = stmt.where(Organisation.kind == kind)
    if name:
        stmt = stmt.where(Organisation.name.ilike(f"%{name}%"))
    return stmt


def delete(session: Session, organisation_id: uuid.UUID) -> None:
    organisation = get(session, organisation_id)
    keys = select(ApiKey.id).where(ApiKey.organisation_id == organisation_id)
    refuse_admin_lockout(
        session, set(session.scalars(keys)), "deleting this organisation (and its API keys)"
    )
    session.delete(organisation)
    audit(
        session,
        Action.DELETE,
        RecordType.ORGANISATION,
        organisation_id,
        organisation_id=organisation_id,
    )
    session.flush()
