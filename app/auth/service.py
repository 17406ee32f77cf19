"""API keys: issue, authenticate, revoke."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.models import ApiKey
from app.db import utcnow
from app.errors import NotFound, Unauthenticated, field_error
from app.organisations.models import Organisation
from app.vocabulary import OrganisationKind, Role

KEY_PREFIX = "bnm_"

# Which organisation kinds a role may be bound to (admins belong to any organisation).
ROLE_ORGANISATION_KINDS: dict[Role, set[OrganisationKind]] = {
    Role.ADMIN: set(OrganisationKind),
    Role.ASSOCIATION: {OrganisationKind.ASSOCIATION},
    Role.COMPANY_HR: {OrganisationKind.COMPANY},
    Role.PUBLIC_BODY: {OrganisationKind.PUBLIC_BODY},
}


@dataclass(frozen=True)
class Caller:
    """Who is calling: the scope every service query is filtered by."""

    key_id: uuid.UUID
    organisation_id: uuid.UUID
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def issue_key(
    session: Session, *, organisation_id: uuid.UUID, role: Role, name: str
) -> tuple[ApiKey, str]:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise field_error("organisation_id", "unknown organisation")
    if organisation.kind not in ROLE_ORGANISATION_KINDS[role]:
        raise field_error(
            "role", f"role {role.value} cannot be given to a {organisation.kind.value}"
        )
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        organisation_id=organisation_id,
        role=role,
        name=name,
        prefix=plaintext[: len(KEY_PREFIX) + 6],
        digest=digest(plaintext),
    )
    session.add(key)
    session.flush()
    audit(session, Action.ISSUE, RecordType.API_KEY, key.id, organisation_id=organisation_id)
    return key, plaintext


def authenticate(session: Session, plaintext: str | None) -> Caller:
    if not plaintext:
        raise Unauthenticated("send an API key in the X-API-Key header")
    key = session.scalars(select(ApiKey).where(ApiKey.digest == digest(plaintext))).first()
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("this API key is unknown or revoked")
    return Caller(key_id=key.id, organisation_id=key.organisation_id, role=key.role)


def keys_query(organisation_id: uuid.UUID | None) -> Select[tuple[ApiKey]]:
    """API keys, oldest first (revoked ones included)."""
    stmt = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if organisation_id is not None:
        stmt = stmt.where(ApiKey.organisation_id == organisation_id)
    return stmt


def revoke_key(session: Session, key_id: uuid.UUID) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("no such API key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit(
            session, Action.REVOKE, RecordType.API_KEY, key.id, organisation_id=key.organisation_id
        )
    session.flush()
    return key
