import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from app.config import get_settings
from app.webhooks.vocabulary import DeliveryStatus, EventType

SUBSCRIBABLE = [e for e in EventType if e is not EventType.PING]
Subscribable = Annotated[
    EventType,
    WithJsonSchema(
        {
            "type": "string",
            "enum": [e.value for e in SUBSCRIBABLE],
            "description": "an event type (`ping` is sent on request, never subscribed to)",
        }
    ),
]
"""An event an endpoint subscribes to: any but ``ping`` (refused by ``_events``)."""


def allowed_host(host: str | None) -> bool:
    allowed = {h.strip().lower() for h in get_settings().webhook_allowed_hosts.split(",")}
    allowed.discard("")
    return not allowed or (host or "").lower() in allowed


def _url(value: AnyHttpUrl | None) -> AnyHttpUrl | None:
    if value is not None and not allowed_host(value.host):
        raise ValueError(f"host {value.host} is not allowed here (BINOME_WEBHOOK_ALLOWED_HOSTS)")
    return value


def _events(value: list[EventType]) -> list[EventType]:
    if EventType.PING in value:
        raise ValueError("ping is sent on request, not subscribed to")
    if len(set(value)) != len(value):
        raise ValueError("each event at most once")
    return value


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://crm.example.org/hooks/binome",
                    "events": ["match.proposed", "match.accepted", "run.succeeded"],
                    "description": "CRM of the association",
                }
            ]
        },
    )

    url: AnyHttpUrl = Field(description="where events are POSTed (http or https)")
    events: list[Subscribable] = Field(
        min_length=1, description="the events to receive", json_schema_extra={"uniqueItems": True}
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="shared secret signing each request; generated when omitted, and "
        "shown only in this response",
    )
    description: str | None = Field(default=None, max_length=200)

    _check_events = field_validator("events")(_events)
    _check_url = field_validator("url")(_url)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"events": ["run.succeeded", "match.accepted"], "active": True}]
        },
    )

    url: AnyHttpUrl | None = None
    events: Annotated[list[Subscribable], Field(json_schema_extra={"uniqueItems": True})] | None = (
        Field(default=None, min_length=1)
    )
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    description: str | None = Field(default=None, max_length=200)
    active: bool | None = Field(
        default=None, description="true re-enables an endpoint disabled after failures"
    )

    @field_validator("events")
    @classmethod
    def _check(cls, value: list[EventType] | None) -> list[EventType] | None:
        return None if value is None else _events(value)

    _check_url = field_validator("url")(_url)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    every_organisation: bool = Field(
        description="registered with an admin key: receives the events of every organisation"
    )
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="the signing secret; not shown again")


class AttemptRead(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    log: list[AttemptRead]
    redelivery_of: uuid.UUID | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryRead):
    payload: dict[str, Any] = Field(description="the event as sent")
