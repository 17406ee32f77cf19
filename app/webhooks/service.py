"""Endpoint use cases: register, read, change, delete, ping; the delivery log, redelivery.

Associations register endpoints for their own events; an admin key's endpoints receive
every event. Company HR and public bodies read no individual record, so register none.
"""

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.auth.service import Caller
from app.crud import get_visible
from app.db import utcnow
from app.webhooks import outbox, signing
from app.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.webhooks.schemas import WebhookCreate, WebhookUpdate
from app.webhooks.vocabulary import DeliveryStatus, EventType


def visible(caller: Caller) -> ColumnElement[bool] | None:
    return None if caller.is_admin else WebhookEndpoint.organisation_id == caller.organisation_id


def create(session: Session, caller: Caller, data: WebhookCreate) -> tuple[WebhookEndpoint, str]:
    secret = data.secret or signing.new_secret()
    endpoint = WebhookEndpoint(
        organisation_id=caller.organisation_id,
        url=str(data.url),
        events=[e.value for e in data.events],
        secret=secret,
        description=data.description,
        every_organisation=caller.is_admin,
        active=True,
        consecutive_failures=0,
    )
    session.add(endpoint)
    session.flush()
    outbox.forget_endpoints(session)
    return endpoint, secret


def get(session: Session, caller: Caller, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    return get_visible(session, WebhookEndpoint, endpoint_id, visible(caller))


def query(caller: Caller, *, active: bool | None) -> Select[tuple[WebhookEndpoint]]:
    stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    scope = visible(caller)
    if scope is not None:
        stmt = stmt.where(scope)
    if active is not None:
        stmt = stmt.where(WebhookEndpoint.active.is_(active))
    return stmt


def update(
    session: Session, caller: Caller, endpoint_id: uuid.UUID, data: WebhookUpdate
) -> WebhookEndpoint:
    endpoint = get_visible(session, WebhookEndpoint, endpoint_id, visible(caller), for_update=True)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude_none=True)
    if "url" in changes:
        endpoint.url = str(data.url)
    if data.events is not None:
        endpoint.events = [e.value for e in data.events]
    if data.secret is not None:
        endpoint.secret = data.secret
    if "description" in data.model_fields_set:
        endpoint.description = data.description
    if data.active is True and not endpoint.active:
        # Re-enabled: its pending deliveries resume, the failure count starts afresh.
        endpoint.active = True
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
    elif data.active is False:
        endpoint.active = False
    session.flush()
    outbox.forget_endpoints(session)
    return endpoint


def delete(session: Session, caller: Caller, endpoint_id: uuid.UUID) -> None:
    session.delete(get(session, caller, endpoint_id))
    session.flush()
    outbox.forget_endpoints(session)


def ping(session: Session, caller: Caller, endpoint_id: uuid.UUID) -> WebhookDelivery:
    endpoint = get(session, caller, endpoint_id)
    data = {"webhook_id": str(endpoint.id), "message": "ping from Binôme"}
    delivery = outbox.emit_to(session, endpoint, EventType.PING, data)
    session.flush()
    return delivery


def deliveries(
    session: Session, caller: Caller, endpoint_id: uuid.UUID, *, status: DeliveryStatus | None
) -> Select[tuple[WebhookDelivery]]:
    get(session, caller, endpoint_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)


def delivery(
    session: Session, caller: Caller, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, WebhookEvent]:
    get(session, caller, endpoint_id)
    found = get_visible(
        session, WebhookDelivery, delivery_id, WebhookDelivery.endpoint_id == endpoint_id
    )
    event = session.get(WebhookEvent, found.event_id)
    assert event is not None
    return found, event


def redeliver(
    session: Session, caller: Caller, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """The same event (same id, so a receiver can tell it already has it) queued again
    for the endpoint, as a new delivery with a log of its own."""
    original, event = delivery(session, caller, endpoint_id, delivery_id)
    now = utcnow()
    again = WebhookDelivery(
        id=uuid.uuid4(),
        endpoint_id=endpoint_id,
        event_id=event.id,
        event_type=event.type,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        log=[],
        redelivery_of=original.id,
        created_at=now,
    )
    session.add(again)
    session.flush()
    outbox.mark_emitted(session)
    return again
