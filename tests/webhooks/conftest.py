"""A real HTTP receiver on 127.0.0.1 and helpers to drive deliveries to it."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import engine_for
from app.webhooks.delivery import deliver_due
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.vocabulary import DeliveryStatus
from tests.api.conftest import Actor
from tests.matches.conftest import *  # noqa: F403 - the API cast, client and pairing
from tests.runs.conftest import territory, workers  # noqa: F401 - run fixtures


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next of ``statuses`` (the last one repeats)."""

    url: str
    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, event_type: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.headers.get("binome-event-type") == event_type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = self.rfile.read(length)
            with state.lock:
                state.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                index = min(len(state.requests), len(state.statuses)) - 1
                code = state.statuses[index]
            self.send_response(code)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if code < 300 else b"receiver says no")

        def log_message(self, *_: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


def settle(db_url: str, timeout: float = 15.0) -> None:
    """Deliver what is due now, until nothing due is left (an in-process deliverer may
    take some of them: claims keep each one single)."""
    engine = engine_for(db_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliver_due(engine)
        with Session(engine) as session:
            busy = session.scalar(
                select(WebhookDelivery.id)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(
                    WebhookEndpoint.active.is_(True),
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    (WebhookDelivery.attempts == 0) | WebhookDelivery.lease_until.is_not(None),
                )
                .limit(1)
            )
        if busy is None:
            return
        time.sleep(0.05)
    raise AssertionError("deliveries still pending")


def register(client: TestClient, actor: Actor, url: str, events: list[str], **extra: Any) -> dict:
    response = client.post(
        "/v1/webhooks", json={"url": url, "events": events, **extra}, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    return response.json()
