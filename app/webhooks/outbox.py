"""``emit``: the one function services call to record an event for the webhooks.

The event and one delivery per subscribed endpoint are added to the caller's session,
so they commit (or roll back) with the change they report. An endpoint receives an event
only when its organisation is in the event's audience (the organisations that may read
what it is about), or when it was registered with an admin key.
"""

import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.webhooks.vocabulary import DeliveryStatus, EventType

Lazy = Callable[[], Any]

_CACHE = "webhook_endpoints"
_EMITTED = "webhook_emitted"
_PENDING = "webhook_pending"

wake = threading.Event()
"""Set when a transaction that emitted events commits: an in-process deliverer (the
embedded SQLite set-up) sends them at once rather than at its next poll."""


@dataclass(frozen=True)
class _Endpoint:
    id: uuid.UUID
    organisation_id: uuid.UUID
    every_organisation: bool
    events: frozenset[str]


def _endpoints(session: Session) -> list[_Endpoint]:
    """The active endpoints, read once per transaction: a run that proposes thousands of
    matches asks the database once."""
    cached: list[_Endpoint] | None = session.info.get(_CACHE)
    if cached is None:
        # Hooks run in the middle of a change (an attribute just set): flushing it half
        # done to read the endpoints would be premature.
        with session.no_autoflush:
            rows = session.execute(
                select(
                    WebhookEndpoint.id,
                    WebhookEndpoint.organisation_id,
                    WebhookEndpoint.every_organisation,
                    WebhookEndpoint.events,
                ).where(WebhookEndpoint.active.is_(True))
            ).all()
        cached = [_Endpoint(r[0], r[1], r[2], frozenset(r[3])) for r in rows]
        session.info[_CACHE] = cached
    return cached


def forget_endpoints(session: Session) -> None:
    """After an endpoint changed in this session."""
    session.info.pop(_CACHE, None)


def mark_emitted(session: Session) -> None:
    """Wake the in-process deliverer when this session commits (a redelivery)."""
    session.info[_EMITTED] = True


def wanted(session: Session, event_type: EventType) -> bool:
    """Whether some active endpoint subscribes to ``event_type`` (one cached lookup): a
    bulk writer asks before building thousands of events."""
    return any(event_type.value in e.events for e in _endpoints(session))


def emit(
    session: Session,
    event_type: EventType,
    *,
    audience: Iterable[uuid.UUID | None] | Lazy,
    data: Mapping[str, Any] | Lazy,
) -> WebhookEvent | None:
    """Record ``event_type`` about ``data`` for the endpoints of ``audience``.

    ``audience`` and ``data`` may be functions: they are only called when some endpoint
    subscribes to the event, so an unsubscribed event costs one cached lookup."""
    subscribed = [e for e in _endpoints(session) if event_type.value in e.events]
    if not subscribed:
        return None
    readers = set(audience() if callable(audience) else audience)
    recipients = [e for e in subscribed if e.every_organisation or e.organisation_id in readers]
    if not recipients:
        return None
    return _record(session, event_type, data, recipients)[0]


def emit_to(
    session: Session, endpoint: WebhookEndpoint, event_type: EventType, data: Mapping[str, Any]
) -> WebhookDelivery:
    """One event for one endpoint (a ping), whatever it subscribes to."""
    target = _Endpoint(endpoint.id, endpoint.organisation_id, False, frozenset())
    return _record(session, event_type, dict(data), [target])[1][0]


def _record(
    session: Session,
    event_type: EventType,
    data: Mapping[str, Any] | Lazy,
    recipients: list[_Endpoint],
) -> tuple[WebhookEvent, list[WebhookDelivery]]:
    now = utcnow()
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event_type.value,
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "data": None,
    }
    created = WebhookEvent(id=event_id, type=event_type.value, payload=payload, created_at=now)
    session.add(created)
    deliveries = [
        WebhookDelivery(
            id=uuid.uuid4(),
            endpoint_id=endpoint.id,
            event=created,
            event_type=event_type.value,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            log=[],
            created_at=now,
        )
        for endpoint in recipients
    ]
    session.add_all(deliveries)
    session.info[_EMITTED] = True
    session.info.setdefault(_PENDING, []).append((created, data))
    return created, deliveries


@event.listens_for(Session, "before_flush")
def _complete_payloads(session: Session, *_: Any) -> None:
    for created, data in session.info.pop(_PENDING, []):
        described = dict(data() if callable(data) else data)
        created.payload = {**created.payload, "data": described}


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_CACHE, None)
    if session.info.pop(_EMITTED, False):
        wake.set()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_CACHE, None)
    session.info.pop(_EMITTED, None)
    session.info.pop(_PENDING, None)
