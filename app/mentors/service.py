import uuid
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.scope import owning_organisation
from app.auth.service import Caller
from app.consents import checks
from app.consents import service as consents
from app.crud import assign, get_visible, linked_to, narrowed, refuse_duplicate
from app.db import contains
from app.errors import Forbidden, field_error
from app.filters import TerritoryFilter
from app.geo import Place
from app.identity import service as identity
from app.identity.vocabulary import Subject
from app.locations import location_columns, resolve
from app.matches import service as matches
from app.matches.models import RUNNING_STATUSES, Match
from app.mentors.models import Mentor, mentor_programmes
from app.mentors.schemas import MentorCreate, MentorUpdate
from app.organisations.models import Organisation
from app.programmes import service as programmes
from app.programmes.models import Programme
from app.vocabulary import MentorKind, Need, OrganisationKind, Role

EMPLOYER_KINDS = {
    MentorKind.EMPLOYEE: OrganisationKind.COMPANY,
    MentorKind.CIVIL_SERVANT: OrganisationKind.PUBLIC_BODY,
}


def visible(caller: Caller) -> ColumnElement[bool] | None:
    """Associations see the volunteers they submitted or who serve in their programmes;
    HR sees its own employees; public bodies see no individual."""
    org = caller.organisation_id
    if caller.role is Role.ADMIN:
        return None
    if caller.role is Role.COMPANY_HR:
        # An employee another organisation submitted: once HR confirmed the employer link.
        return or_(Mentor.organisation_id == org, consents.employer_confirmed(org))
    if caller.role is Role.ASSOCIATION:
        in_programme = exists().where(
            mentor_programmes.c.mentor_id == Mentor.id,
            mentor_programmes.c.programme_id == Programme.id,
            Programme.organisation_id == org,
        )
        return or_(Mentor.organisation_id == org, in_programme)
    raise Forbidden("this role sees no individual volunteer")


def writable(caller: Caller) -> ColumnElement[bool] | None:
    """The organisation that submitted a record owns it, and only it changes, reassigns
    or removes it: an employer sees its employees' records an association submitted, but
    they are not its own (a 404, as for programmes of another association)."""
    return None if caller.is_admin else Mentor.organisation_id == caller.organisation_id


def owned(session: Session, caller: Caller, mentor_id: uuid.UUID) -> Mentor:
    """The record, locked: of two concurrent removals, the second waits for the first."""
    return get_visible(session, Mentor, mentor_id, writable(caller), for_update=True)


def check_employer(session: Session, caller: Caller, kind: MentorKind, employer_id: Any) -> None:
    """Employees and civil servants name an employer of the matching kind; HR only
    submits its own employees."""
    if caller.role is Role.COMPANY_HR:
        if kind is not MentorKind.EMPLOYEE:
            raise field_error("kind", "an HR department submits its own employees only")
        if employer_id != caller.organisation_id:
            raise field_error("employer_id", "must be your own company")
    expected = EMPLOYER_KINDS.get(kind)
    if expected is None:
        return
    if employer_id is None:
        raise field_error("employer_id", f"required for a mentor of kind {kind.value}")
    employer = session.get(Organisation, employer_id)
    if employer is None or employer.kind is not expected:
        raise field_error("employer_id", f"must be a known {expected.value}")


def create(session: Session, caller: Caller, data: MentorCreate) -> Mentor:
    organisation_id = owning_organisation(caller, data.organisation_id)
    employer_id = data.employer_id
    if caller.role is Role.COMPANY_HR and employer_id is None:
        employer_id = caller.organisation_id
    check_employer(session, caller, data.kind, employer_id)
    refuse_duplicate(
        session,
        Mentor,
        [Mentor.organisation_id == organisation_id, Mentor.external_id == data.external_id],
        fields=["external_id"],
        what="a record with this external_id in this organisation",
    )
    place = resolve(data.location)
    hashes = identity.hash_identity(session, data.identity) if data.identity else None
    mentor = Mentor(
        **data.model_dump(exclude={"organisation_id", "location", "programme_ids", "employer_id"}),
        employer_id=employer_id,
        organisation_id=organisation_id,
        **location_columns(place),
    )
    mentor.programmes = programmes.existing(session, data.programme_ids, "programme_ids")
    session.add(mentor)
    session.flush()
    if hashes is not None:
        identity.attach(
            session, Subject.MENTOR, mentor.id, organisation_id, hashes, caller.organisation_id
        )
    consents.confirm_own_links(session, caller, mentor)
    checks.record_admin_checks(session, caller, mentor)
    audit(session, Action.CREATE, RecordType.MENTOR, mentor.id, organisation_id=organisation_id)
    return mentor


def get(session: Session, caller: Caller, mentor_id: uuid.UUID) -> Mentor:
    return get_visible(session, Mentor, mentor_id, visible(caller))


def update(session: Session, caller: Caller, mentor_id: uuid.UUID, data: MentorUpdate) -> Mentor:
    mentor = owned(session, caller, mentor_id)
    changes = data.model_dump(exclude_unset=True, exclude={"location", "programme_ids"})
    if data.location is not None:
        changes.update(location_columns(resolve(data.location)))
    if "kind" in changes or "employer_id" in changes:
        check_employer(
            session,
            caller,
            changes.get("kind", mentor.kind),
            changes.get("employer_id", mentor.employer_id),
        )
    assign(mentor, changes)
    if data.programme_ids is not None:
        mentor.programmes = programmes.existing(session, data.programme_ids, "programme_ids")
    if data.identity is not None:
        hashes = identity.hash_identity(session, data.identity)
        identity.attach(
            session,
            Subject.MENTOR,
            mentor.id,
            mentor.organisation_id,
            hashes,
            caller.organisation_id,
        )
    audit(
        session, Action.UPDATE, RecordType.MENTOR, mentor.id, organisation_id=mentor.organisation_id
    )
    session.flush()
    consents.confirm_own_links(session, caller, mentor)
    if "background_check_valid_until" in changes:
        checks.record_admin_checks(session, caller, mentor)
    return mentor


def delete(session: Session, caller: Caller, mentor_id: uuid.UUID, *, erase: bool = False) -> bool:
    """Remove a volunteer from the pool. A record never matched, or one whose erasure is
    asked (``erase``: the person's right to erasure), is erased with every copy of its
    values (``app.privacy.erasure``: its matches stay, anonymous, running ones closed as
    ``mentor_withdrew``). Otherwise a record that was ever matched is kept, so that the
    matches' history stays: it is deactivated and its running matches end (proposals
    declined as ``unavailable``, accepted and active matches closed as
    ``mentor_withdrew``); retention erases it later. Returns whether it was erased."""
    from app.privacy.erasure import erase_mentor  # the erasure reaches every domain

    mentor = owned(session, caller, mentor_id)
    if erase or not session.scalar(select(exists().where(Match.mentor_id == mentor.id))):
        erase_mentor(session, mentor)
        return True
    mentor.active = False
    running = select(Match).where(Match.mentor_id == mentor.id, Match.status.in_(RUNNING_STATUSES))
    for match in session.scalars(running.order_by(Match.id).with_for_update()):
        matches.end_for_withdrawal(session, caller, match)
    audit(
        session, Action.UPDATE, RecordType.MENTOR, mentor.id, organisation_id=mentor.organisation_id
    )
    session.flush()
    return False


def query(
    caller: Caller,
    *,
    territory: TerritoryFilter,
    need: Need | None,
    programme_id: uuid.UUID | None,
    active: bool | None,
    kind: MentorKind | None,
    employer_id: uuid.UUID | None,
    external_id: str | None,
) -> Select[tuple[Mentor]]:
    return narrowed(
        select(Mentor).order_by(Mentor.created_at, Mentor.id),
        visible(caller),
        *territory.located(Mentor.department, Mentor.commune_insee),
        contains(Mentor.skills, need.value) if need is not None else None,
        linked_to(mentor_programmes, "mentor_id", Mentor.id, programme_id),
        equal=[
            (Mentor.active, active),
            (Mentor.kind, kind),
            (Mentor.employer_id, employer_id),
            (Mentor.external_id, external_id),
        ],
    )


# --- Helpers for bulk imports: the same rules as ``create``, one record at a time, without
# building ORM objects (the import writes rows in batches).


def employer_for_new(
    session: Session, caller: Caller, kind: MentorKind, employer_id: uuid.UUID | None
) -> uuid.UUID | None:
    """The employer ``create`` would give a mentor submitted by ``caller`` (HR: its own
    company by default), checked with :func:`check_employer`."""
    if caller.role is Role.COMPANY_HR and employer_id is None:
        employer_id = caller.organisation_id
    check_employer(session, caller, kind, employer_id)
    return employer_id


def row_values(data: MentorCreate, employer_id: uuid.UUID | None, place: Place) -> dict[str, Any]:
    """The column values ``create`` stores for ``data`` (without id, owner, timestamps
    and programmes); lists as plain strings, as they read back from the database."""
    values = data.model_dump(
        exclude={"organisation_id", "location", "programme_ids", "employer_id", "external_id"}
    )
    values["skills"] = [str(skill) for skill in data.skills]
    values["languages"] = list(data.languages)
    return {**values, "employer_id": employer_id, **location_columns(place)}
