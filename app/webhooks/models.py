"""Endpoints, the outbox of events and the deliveries of each event to each endpoint.

An event is written with its deliveries in the transaction of the change it reports
(``app.webhooks.outbox.emit``): a change rolled back sends nothing, a committed one is
delivered even if the process stops right after.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, JsonList, TimestampMixin, UtcDateTime, str_enum, utcnow
from app.webhooks.vocabulary import DeliveryStatus


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    __tablename__ = "webhook_endpoints"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JsonList)
    # Kept as given: signing needs the secret itself (it is never shown again).
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(200))
    every_organisation: Mapped[bool] = mapped_column(
        Boolean, default=False, doc="registered with an admin key: receives every event"
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class WebhookEvent(IdMixin, Base):
    __tablename__ = "webhook_events"

    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class WebhookDelivery(IdMixin, Base):
    """One event for one endpoint, with the log of its attempts."""

    __tablename__ = "webhook_deliveries"

    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, 10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # A deliverer holds a delivery until then (claimed by a compare-and-set update, so
    # that two deliverers, in two processes, never send it twice at once).
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    log: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    redelivery_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    # Tells the unit of work to insert an event before its deliveries.
    event: Mapped[WebhookEvent] = relationship(lazy="raise")
