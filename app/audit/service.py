"""The one writer of the audit log, its reader, and its retention.

Every service that writes calls :func:`record` in the same transaction as the write it
describes, so an entry lands exactly when the change does. An entry names the record by
type and id only — never an external id, a name, a note or any other value a person
typed — so that erasing a person leaves nothing personal here: the entry becomes an
anonymous tombstone.
"""

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.db import utcnow

if TYPE_CHECKING:  # app.auth.service records key issues here: no import cycle at run time
    from app.auth.service import Caller

CALLER_KEY = "binome.caller"
"""Where the authenticated caller of a request is kept on its session (``Session.info``),
so that services record who acted without passing the caller through every signature."""


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    IMPORT = "import"
    RUN = "run"
    CANCEL = "cancel"
    ISSUE = "issue"
    REVOKE = "revoke"
    ERASE = "erase"
    PURGE = "purge"
    ACCEPT = "accept"
    START = "start"
    CLOSE = "close"
    DECLINE = "decline"
    EXPIRE = "expire"
    CONFIRM = "confirm"


class RecordType(StrEnum):
    ORGANISATION = "organisation"
    API_KEY = "api_key"
    PROGRAMME = "programme"
    MENTOR = "mentor"
    MENTEE = "mentee"
    SUPPORT = "support"
    MATCH = "match"
    IMPORT = "import"
    MATCHING_RUN = "matching_run"


def remember_caller(session: Session, caller: "Caller") -> None:
    session.info[CALLER_KEY] = caller


def record(
    session: Session,
    action: Action,
    record_type: RecordType,
    record_id: uuid.UUID | None,
    *,
    organisation_id: uuid.UUID | None,
    actor: "Caller | None" = None,
    counts: dict[str, int] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry. ``actor`` defaults to the request's caller (none: the system).
    ``counts`` holds whole numbers only: nothing a person typed can reach the log."""
    if counts is not None and not all(
        isinstance(value, int) and not isinstance(value, bool) for value in counts.values()
    ):
        raise TypeError("audit counts are whole numbers only")
    who = actor if actor is not None else session.info.get(CALLER_KEY)
    entry = AuditEntry(
        at=at or utcnow(),
        actor_key_id=who.key_id if who else None,
        actor_organisation_id=who.organisation_id if who else None,
        organisation_id=organisation_id,
        action=action.value,
        record_type=record_type.value,
        record_id=record_id,
        counts=counts,
    )
    session.add(entry)
    return entry


def query(
    caller: "Caller",
    *,
    action: Action | None = None,
    record_type: RecordType | None = None,
    record_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[tuple[AuditEntry]]:
    """Newest first. Admins read every entry; an organisation the entries about its own
    records and those its keys made."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if not caller.is_admin:
        org = caller.organisation_id
        stmt = stmt.where(
            or_(AuditEntry.organisation_id == org, AuditEntry.actor_organisation_id == org)
        )
    for column, value in (
        (AuditEntry.action, action),
        (AuditEntry.record_type, record_type),
        (AuditEntry.record_id, record_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= _aware(since))
    if until is not None:
        stmt = stmt.where(AuditEntry.at < _aware(until))
    return stmt


def _aware(moment: datetime) -> datetime:
    """A time given without offset is read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def prune(session: Session, retention_days: int, now: datetime | None = None) -> int:
    """Delete the entries older than ``retention_days``; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    result = session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due_for_pruning(session: Session, retention_days: int, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    return int(session.scalar(select(func.count()).where(AuditEntry.at < cutoff)) or 0)
