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
from app.errors import Conflict, NotFound, Unauthenticated, field_error
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


def active_admin_keys(session: Session) -> list[ApiKey]:
    """Every active admin key, locked until commit: two requests removing the last two
    admin keys at once are serialised, and the second sees only one left."""
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.role == Role.ADMIN, ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.id)
            .with_for_update()
        )
    )


def refuse_admin_lockout(session: Session, removed: set[uuid.UUID], what: str) -> None:
    """A 409 when removing the keys ``removed`` would leave no active admin key: nobody
    could then issue keys, create organisations or undo the mistake."""
    admins = active_admin_keys(session)
    if admins and all(key.id in removed for key in admins):
        raise Conflict(
            f"{what} would remove the last active admin key; issue another admin key "
            "(POST /v1/api-keys) first",
            extra={"active_admin_keys": len(admins)},
        )


def revoke_key(session: Session, key_id: uuid.UUID) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("no such API key")
    if key.revoked_at is None:
        if key.role is Role.ADMIN:
            refuse_admin_lockout(session, {key.id}, "revoking this key")
        key.revoked_at = utcnow()
        audit(
            session, Action.REVOKE, RecordType.API_KEY, key.id, organisation_id=key.organisation_id
        )
    session.flush()
    return key
