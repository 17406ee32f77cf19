import uuid
from datetime import date

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.scope import owning_organisation
from app.auth.service import Caller
from app.crud import get_visible, narrowed, refuse_duplicate
from app.errors import field_error
from app.identity import service as identity
from app.mentees import service as mentees
from app.mentees.models import Mentee
from app.organisations.models import Organisation
from app.programmes import service as programmes
from app.supports.models import Support
from app.supports.schemas import SupportCreate, SupportUpdate
from app.vocabulary import Need, Role


def visible(caller: Caller) -> ColumnElement[bool] | None:
    """Supports recorded by the caller or concerning the young people it refers (a
    public body: those it declared by identity, which name no young person)."""
    if caller.role is Role.PUBLIC_BODY:
        return (Support.organisation_id == caller.organisation_id) & Support.mentee_id.is_(None)
    mentee_scope = mentees.visible(caller)
    if mentee_scope is None:
        return None
    referred = select(Mentee.id).where(mentee_scope)
    return or_(Support.organisation_id == caller.organisation_id, Support.mentee_id.in_(referred))


def active_on(day: date) -> ColumnElement[bool]:
    return (Support.start_date <= day) & (or_(Support.end_date.is_(None), Support.end_date >= day))


def create(session: Session, caller: Caller, data: SupportCreate) -> Support:
    organisation_id = owning_organisation(caller, data.organisation_id)
    hashes = None
    if data.identity is not None:
        hashes = identity.hash_identity(session, data.identity)
    else:
        assert data.mentee_id is not None
        # A young person outside the caller's scope is reported as unknown (404).
        mentees.get(session, caller, data.mentee_id)
    provider_id = data.provider_id or organisation_id
    if session.get(Organisation, provider_id) is None:
        raise field_error("provider_id", "unknown organisation")
    if data.programme_id is not None:
        programmes.existing(session, [data.programme_id], "programme_id")
    refuse_duplicate(
        session,
        Support,
        [
            Support.mentee_id == data.mentee_id,
            Support.need == data.need,
            Support.provider_id == data.provider_id,
            Support.start_date == data.start_date,
        ],
        fields=["mentee_id", "need", "provider_id", "start_date"],
        what="this support (same young person, need, provider and start date)",
    )
    support = Support(
        **data.model_dump(exclude={"organisation_id", "provider_id"}),
        provider_id=provider_id,
        organisation_id=organisation_id,
    )
    session.add(support)
    session.flush()
    if hashes is not None:
        identity.attach(
            session, "support", support.id, organisation_id, hashes, caller.organisation_id
        )
    audit(session, Action.CREATE, RecordType.SUPPORT, support.id, organisation_id=organisation_id)
    return support


def get(session: Session, caller: Caller, support_id: uuid.UUID) -> Support:
    return get_visible(session, Support, support_id, visible(caller))


def update(session: Session, caller: Caller, support_id: uuid.UUID, data: SupportUpdate) -> Support:
    support = get(session, caller, support_id)
    if data.end_date is not None and data.end_date < support.start_date:
        raise field_error("end_date", "must not be before start_date")
    support.end_date = data.end_date
    audit(
        session,
        Action.UPDATE,
        RecordType.SUPPORT,
        support.id,
        organisation_id=support.organisation_id,
    )
    session.flush()
    return support


def delete(session: Session, caller: Caller, support_id: uuid.UUID) -> None:
    support = get(session, caller, support_id)
    session.delete(support)
    audit(
        session,
        Action.DELETE,
        RecordType.SUPPORT,
        support_id,
        organisation_id=support.organisation_id,
    )
    session.flush()


def query(
    caller: Caller,
    *,
    mentee_id: uuid.UUID | None,
    need: Need | None,
    programme_id: uuid.UUID | None,
    provider_id: uuid.UUID | None,
    active_on_day: date | None,
) -> Select[tuple[Support]]:
    return narrowed(
        select(Support).order_by(Support.start_date, Support.id),
        visible(caller),
        active_on(active_on_day) if active_on_day is not None else None,
        equal=[
            (Support.mentee_id, mentee_id),
            (Support.need, need.value if need else None),
            (Support.programme_id, programme_id),
            (Support.provider_id, provider_id),
        ],
    )
