import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.scope import owning_organisation
from app.auth.service import Caller
from app.crud import assign, get_visible, linked_to, narrowed, refuse_duplicate
from app.db import contains
from app.errors import Forbidden, field_error
from app.filters import TerritoryFilter
from app.geo import Place
from app.identity import service as identity
from app.identity.vocabulary import Subject
from app.locations import location_columns, resolve
from app.mentees.models import Mentee, mentee_programmes
from app.mentees.schemas import MenteeCreate, MenteeUpdate
from app.organisations.models import Organisation
from app.programmes import service as programmes
from app.vocabulary import Need, OrganisationKind, Role
from app.webhooks import events
from app.webhooks.outbox import emit
from app.webhooks.vocabulary import EventType


def visible(caller: Caller) -> ColumnElement[bool] | None:
    """A young person's record is seen by the association that refers them (and admins)."""
    if caller.role is Role.ADMIN:
        return None
    if caller.role is Role.ASSOCIATION:
        return Mentee.organisation_id == caller.organisation_id
    raise Forbidden("this role sees no young person's data")


def create(session: Session, caller: Caller, data: MenteeCreate) -> Mentee:
    organisation_id = owning_organisation(caller, data.organisation_id)
    referrer = session.get(Organisation, organisation_id)
    if referrer is None or referrer.kind is not OrganisationKind.ASSOCIATION:
        raise field_error("organisation_id", "young people are referred by a known association")
    hashes = identity.hash_identity(session, data.identity) if data.identity else None
    refuse_duplicate(
        session,
        Mentee,
        [Mentee.organisation_id == organisation_id, Mentee.external_id == data.external_id],
        fields=["external_id"],
        what="a record with this external_id in this organisation",
    )
    mentee = Mentee(
        **data.model_dump(exclude={"organisation_id", "location", "programme_ids"}),
        organisation_id=organisation_id,
        **location_columns(resolve(data.location)),
    )
    mentee.programmes = programmes.existing(session, data.programme_ids, "programme_ids")
    session.add(mentee)
    session.flush()
    if hashes is not None:
        identity.attach(
            session, Subject.MENTEE, mentee.id, organisation_id, hashes, caller.organisation_id
        )
    audit(session, Action.CREATE, RecordType.MENTEE, mentee.id, organisation_id=organisation_id)
    return mentee


def get(session: Session, caller: Caller, mentee_id: uuid.UUID) -> Mentee:
    return get_visible(session, Mentee, mentee_id, visible(caller))


def update(session: Session, caller: Caller, mentee_id: uuid.UUID, data: MenteeUpdate) -> Mentee:
    mentee = get(session, caller, mentee_id)
    changes = data.model_dump(exclude_unset=True, exclude={"location", "programme_ids"})
    if data.location is not None:
        changes.update(location_columns(resolve(data.location)))
    assign(mentee, changes)
    if data.programme_ids is not None:
        mentee.programmes = programmes.existing(session, data.programme_ids, "programme_ids")
    if data.identity is not None:
        if data.identity.birth_date.year != mentee.birth_year:
            raise field_error("identity.birth_date", "must fall in birth_year")
        hashes = identity.hash_identity(session, data.identity)
        identity.attach(
            session,
            Subject.MENTEE,
            mentee.id,
            mentee.organisation_id,
            hashes,
            caller.organisation_id,
        )
    audit(
        session, Action.UPDATE, RecordType.MENTEE, mentee.id, organisation_id=mentee.organisation_id
    )
    session.flush()
    return mentee


def erase(session: Session, caller: Caller, mentee_id: uuid.UUID) -> None:
    """Right to erasure: the record, everything keyed on it and every copy of its values
    go; its matches stay as anonymous records (see ``app.privacy.erasure``)."""
    from app.privacy.erasure import erase_mentee  # the erasure reaches every domain

    # Locked: of two concurrent erasures, the second finds nothing (404).
    mentee = get_visible(session, Mentee, mentee_id, visible(caller), for_update=True)
    emit(session, EventType.ERASURE_DONE, **events.erasure(mentee))
    erase_mentee(session, mentee)


def query(
    caller: Caller,
    *,
    territory: TerritoryFilter,
    need: Need | None,
    programme_id: uuid.UUID | None,
    active: bool | None,
    qpv: bool | None,
    external_id: str | None,
) -> Select[tuple[Mentee]]:
    return narrowed(
        select(Mentee).order_by(Mentee.created_at, Mentee.id),
        visible(caller),
        *territory.located(Mentee.department, Mentee.commune_insee),
        contains(Mentee.needs, need.value) if need is not None else None,
        linked_to(mentee_programmes, "mentee_id", Mentee.id, programme_id),
        equal=[(Mentee.active, active), (Mentee.qpv, qpv), (Mentee.external_id, external_id)],
    )


# --- Helpers for bulk imports: the same rules as ``create``, without ORM objects.


def check_referrer(session: Session, organisation_id: uuid.UUID) -> None:
    """Young people are referred by a known association (as in ``create``)."""
    referrer = session.get(Organisation, organisation_id)
    if referrer is None or referrer.kind is not OrganisationKind.ASSOCIATION:
        raise field_error("organisation_id", "young people are referred by a known association")


def row_values(data: MenteeCreate, place: Place) -> dict[str, Any]:
    """The column values ``create`` stores for ``data`` (without id, owner, timestamps
    and programmes); lists as plain strings, as they read back from the database."""
    values = data.model_dump(
        exclude={"organisation_id", "location", "programme_ids", "external_id"}
    )
    values["needs"] = [str(need) for need in data.needs]
    values["languages"] = list(data.languages)
    return {**values, **location_columns(place)}
