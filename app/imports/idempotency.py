"""``Idempotency-Key``: the same key with the same request replays the first response.

Keys are scoped to the caller's organisation and kept ``idempotency_retention_hours``
(then purged, opportunistically, by the next keyed request). The claim row is inserted
in the import's own transaction: a concurrent request with the same key waits on the
unique constraint, then replays the response the first one stored.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import utcnow
from app.errors import AppError, Conflict, field_error
from app.imports.models import IdempotencyKey

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKeyReused(AppError):
    status, code, title = 422, "idempotency-key-reused", "Idempotency key reused"


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        raise field_error(
            "header.Idempotency-Key", "1 to 255 printable ASCII characters, without spaces"
        )
    return key


def fingerprint(*parts: object) -> str:
    return hashlib.sha256("\n".join(str(part) for part in parts).encode()).hexdigest()


def begin(
    session: Session, organisation_id: uuid.UUID, key: str, request_fingerprint: str
) -> Replay | None:
    """The stored response for this key, or ``None`` after claiming the key."""
    now = utcnow()
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < now))
    stored = _find(session, organisation_id, key)
    if stored is None:
        hours = get_settings().idempotency_retention_hours
        session.add(
            IdempotencyKey(
                organisation_id=organisation_id,
                key=key,
                fingerprint=request_fingerprint,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
        try:
            session.flush()
        except IntegrityError:
            # Another request claimed the key meanwhile (and, on PostgreSQL, finished:
            # the insert waited for it); read what it stored.
            session.rollback()
            stored = _find(session, organisation_id, key)
            if stored is None:  # pragma: no cover - the other request rolled back
                raise Conflict("a request with this Idempotency-Key is in progress") from None
        else:
            return None
    return _replay(stored, request_fingerprint)


def _find(session: Session, organisation_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    return session.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.organisation_id == organisation_id, IdempotencyKey.key == key
        )
    ).first()


def _replay(stored: IdempotencyKey, request_fingerprint: str) -> Replay:
    if stored.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request (body, endpoint or "
            "parameters); use a new key for a new import"
        )
    if stored.response_status is None or stored.response_body is None:
        raise Conflict("a request with this Idempotency-Key is in progress; retry later")
    return Replay(stored.response_status, stored.response_body)


def finish(
    session: Session,
    organisation_id: uuid.UUID,
    key: str,
    request_fingerprint: str,
    status: int,
    body: dict[str, Any],
    import_id: uuid.UUID | None,
) -> None:
    """Store the response on the claimed key (claimed again if a rollback dropped it)."""
    stored = _find(session, organisation_id, key)
    if stored is None:
        now = utcnow()
        stored = IdempotencyKey(
            organisation_id=organisation_id,
            key=key,
            fingerprint=request_fingerprint,
            created_at=now,
            expires_at=now + timedelta(hours=get_settings().idempotency_retention_hours),
        )
        session.add(stored)
    stored.response_status = status
    stored.response_body = body
    stored.import_id = import_id
    session.flush()
