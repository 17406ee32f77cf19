import uuid

from fastapi import APIRouter, status

from app.auth.deps import AssociationDep
from app.db import SessionDep
from app.pagination import Page, PageDep, page_of
from app.webhooks import service
from app.webhooks.schemas import (
    DeliveryDetail,
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from app.webhooks.vocabulary import DeliveryStatus

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
def create_webhook(
    data: WebhookCreate, session: SessionDep, caller: AssociationDep
) -> WebhookCreated:
    """Register an endpoint. Its signing secret is in this response only (see
    docs/webhooks.md for the signature scheme)."""
    endpoint, secret = service.create(session, caller, data)
    session.commit()
    return WebhookCreated.model_validate(
        {**WebhookRead.model_validate(endpoint).model_dump(), "secret": secret}
    )


@router.get("", response_model=Page[WebhookRead])
def list_webhooks(
    session: SessionDep, caller: AssociationDep, page: PageDep, active: bool | None = None
) -> Page[WebhookRead]:
    """The caller's endpoints (every endpoint for an admin)."""
    return page_of(session, service.query(caller, active=active), page, WebhookRead)


@router.get("/{webhook_id}", response_model=WebhookRead)
def get_webhook(webhook_id: uuid.UUID, session: SessionDep, caller: AssociationDep) -> WebhookRead:
    """Read one webhook endpoint of the caller's organisation (its secret is never shown
    again)."""
    return WebhookRead.model_validate(service.get(session, caller, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookRead)
def update_webhook(
    webhook_id: uuid.UUID, data: WebhookUpdate, session: SessionDep, caller: AssociationDep
) -> WebhookRead:
    """Change an endpoint; `active: true` re-enables one disabled after failures."""
    endpoint = service.update(session, caller, webhook_id, data)
    session.commit()
    return WebhookRead.model_validate(endpoint)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: uuid.UUID, session: SessionDep, caller: AssociationDep) -> None:
    """Delete an endpoint and its delivery log; nothing more is sent to it."""
    service.delete(session, caller, webhook_id)
    session.commit()


@router.post(
    "/{webhook_id}/ping", status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryRead
)
def ping_webhook(
    webhook_id: uuid.UUID, session: SessionDep, caller: AssociationDep
) -> DeliveryRead:
    """Queue a `ping` event to the endpoint, to test it."""
    delivery = service.ping(session, caller, webhook_id)
    session.commit()
    return DeliveryRead.model_validate(delivery)


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryRead])
def list_deliveries(
    webhook_id: uuid.UUID,
    session: SessionDep,
    caller: AssociationDep,
    page: PageDep,
    status: DeliveryStatus | None = None,
) -> Page[DeliveryRead]:
    """The delivery log of an endpoint, newest first, each with its attempts."""
    stmt = service.deliveries(session, caller, webhook_id, status=status)
    return page_of(session, stmt, page, DeliveryRead)


@router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=DeliveryDetail)
def get_delivery(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, session: SessionDep, caller: AssociationDep
) -> DeliveryDetail:
    """One delivery, with the event as sent."""
    delivery, event = service.delivery(session, caller, webhook_id, delivery_id)
    read = DeliveryRead.model_validate(delivery).model_dump()
    return DeliveryDetail.model_validate({**read, "payload": event.payload})


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
)
def redeliver(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, session: SessionDep, caller: AssociationDep
) -> DeliveryRead:
    """Send the event of a delivery again (a new delivery, same event id)."""
    again = service.redeliver(session, caller, webhook_id, delivery_id)
    session.commit()
    return DeliveryRead.model_validate(again)
