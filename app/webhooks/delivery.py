"""Sending due deliveries: claim, POST the signed event, record the attempt.

A delivery is claimed by a compare-and-set update of its lease, so deliverers in several
processes (``binome serve`` workers on SQLite, ``binome worker`` processes on PostgreSQL)
never send one delivery twice at once. The HTTP request is made outside any transaction.
A failed attempt is retried after ``webhook_backoff_seconds`` doubled at each attempt (up
to ``webhook_max_backoff_seconds``), ``webhook_max_attempts`` times in all; an endpoint
whose last ``webhook_disable_after`` attempts all failed is disabled.
"""

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import engine_for, utcnow
from app.webhooks import outbox, signing
from app.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.webhooks.schemas import allowed_host
from app.webhooks.vocabulary import DeliveryStatus

logger = logging.getLogger("binome.webhooks")

LEASE_SECONDS = 120.0
LOG_LIMIT = 20
"""Attempts kept in a delivery's log (the latest ones)."""
RESPONSE_EXCERPT = 500


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff(attempts: int) -> float:
    """Seconds before the retry that follows the ``attempts``-th failed attempt."""
    settings = get_settings()
    delay: float = settings.webhook_backoff_seconds * 2 ** (attempts - 1)
    return min(delay, settings.webhook_max_backoff_seconds)


def _due(session: Session, now: datetime, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            WebhookEndpoint.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _claim(session: Session, delivery_id: uuid.UUID, now: datetime) -> bool:
    claimed = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            # Disabled meanwhile (by the failure of another of its deliveries): not sent.
            WebhookDelivery.endpoint_id.in_(
                select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))
            ),
        )
        .values(lease_until=now + timedelta(seconds=LEASE_SECONDS))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def send(
    client: httpx.Client, endpoint: WebhookEndpoint, delivery: WebhookDelivery, event: WebhookEvent
) -> Attempt:
    body = json.dumps(event.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Binome-Webhooks/1",
        signing.SIGNATURE_HEADER: signing.signature_header(endpoint.secret, timestamp, body),
        signing.EVENT_ID_HEADER: str(event.id),
        signing.EVENT_TYPE_HEADER: event.type,
        signing.DELIVERY_ID_HEADER: str(delivery.id),
    }
    if not allowed_host(httpx.URL(endpoint.url).host):
        return Attempt(None, "host not allowed (BINOME_WEBHOOK_ALLOWED_HOSTS): not contacted", 0)
    started = time.monotonic()
    try:
        response = client.post(endpoint.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:RESPONSE_EXCERPT]
        return Attempt(None, error, round((time.monotonic() - started) * 1000))
    duration = round((time.monotonic() - started) * 1000)
    if 200 <= response.status_code < 300:
        return Attempt(response.status_code, None, duration)
    excerpt = response.text[:RESPONSE_EXCERPT]
    return Attempt(response.status_code, f"HTTP {response.status_code}: {excerpt}", duration)


def _record(session: Session, delivery_id: uuid.UUID, attempt: Attempt, at: datetime) -> None:
    settings = get_settings()
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:  # its endpoint was deleted meanwhile
        session.rollback()
        return
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id, with_for_update=True)
    assert endpoint is not None
    delivery.attempts += 1
    delivery.last_status_code = attempt.status_code
    delivery.last_error = attempt.error
    delivery.lease_until = None
    entry = {
        "at": at.isoformat(),
        "status_code": attempt.status_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
    }
    delivery.log = [*delivery.log, entry][-LOG_LIMIT:]
    if attempt.ok:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = at
        delivery.next_attempt_at = None
        endpoint.consecutive_failures = 0
    else:
        if delivery.attempts >= settings.webhook_max_attempts:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = at + timedelta(seconds=backoff(delivery.attempts))
        endpoint.consecutive_failures += 1
        if endpoint.active and endpoint.consecutive_failures >= settings.webhook_disable_after:
            endpoint.active = False
            endpoint.disabled_at = at
            endpoint.disabled_reason = (
                f"disabled after {endpoint.consecutive_failures} consecutive failed "
                f"attempts; last: {attempt.error}"
            )[:2000]
            logger.warning("webhook endpoint %s disabled: %s", endpoint.id, attempt.error)
    session.commit()


def deliver_due(engine: Engine, *, limit: int = 100, client: httpx.Client | None = None) -> int:
    """Send the deliveries due now (at most ``limit``); returns how many were attempted."""
    settings = get_settings()
    own = client is None
    http = client or httpx.Client(timeout=settings.webhook_timeout_seconds)
    attempted = 0
    try:
        with Session(engine, expire_on_commit=False) as session:
            for delivery_id in _due(session, utcnow(), limit):
                if not _claim(session, delivery_id, utcnow()):
                    continue
                delivery = session.get(WebhookDelivery, delivery_id)
                if delivery is None:
                    continue
                endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
                event = session.get(WebhookEvent, delivery.event_id)
                session.commit()  # no transaction held during the request
                if endpoint is None or event is None:
                    continue
                attempt = send(http, endpoint, delivery, event)
                _record(session, delivery_id, attempt, utcnow())
                attempted += 1
    finally:
        if own:
            http.close()
    return attempted


class Deliverer:
    """A thread sending due deliveries until stopped: woken when this process commits
    an event, otherwise every ``webhook_poll_seconds``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        outbox.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        poll = get_settings().webhook_poll_seconds
        with httpx.Client(timeout=get_settings().webhook_timeout_seconds) as client:
            while not self._stop.is_set():
                try:
                    while deliver_due(self.engine, client=client) and not self._stop.is_set():
                        pass
                except Exception:
                    logger.exception("webhook delivery failed")
                outbox.wake.wait(poll)
                outbox.wake.clear()


def in_service_process(database_url: str) -> Deliverer | None:
    """On the embedded SQLite set-up the service process delivers (as it executes runs);
    on PostgreSQL, ``binome worker`` processes do."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return None
    deliverer = Deliverer(engine_for(database_url))
    deliverer.start()
    return deliverer
