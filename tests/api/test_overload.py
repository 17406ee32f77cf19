"""Overload degrades gracefully: a bounded number of requests at once, 503 at once past
the queue, /healthz always answered; one database connection per request."""

import asyncio
import time

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import event
from starlette.types import Receive, Scope, Send

from app.db import engine_for
from app.overload.guard import OverloadGuard
from tests.api.conftest import Actor, mentee_payload


async def _slow(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.sleep(0.5)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"done"})


async def _burst(guard: OverloadGuard, paths: list[str]) -> list[tuple[int, float, httpx.Headers]]:
    transport = httpx.ASGITransport(app=guard)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def one(path: str) -> tuple[int, float, httpx.Headers]:
            start = time.monotonic()
            response = await client.get(path)
            return response.status_code, time.monotonic() - start, response.headers

        return await asyncio.gather(*(one(p) for p in paths))


def test_past_capacity_and_queue_the_answer_is_an_immediate_503() -> None:
    guard = OverloadGuard(_slow, capacity=2, queue_depth=1, queue_timeout=5.0)
    results = asyncio.run(_burst(guard, ["/v1/mentees"] * 6))
    served = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] == 503]
    assert len(served) == 3  # two at once, one queued
    assert len(refused) == 3
    for _, elapsed, headers in refused:
        assert elapsed < 0.2  # at once, not after a time-out
        assert headers["retry-after"] == "1"
        assert headers["content-type"] == "application/problem+json"


def test_a_queued_request_waits_at_most_the_queue_timeout() -> None:
    guard = OverloadGuard(_slow, capacity=1, queue_depth=5, queue_timeout=0.1)
    results = asyncio.run(_burst(guard, ["/v1/mentees"] * 2))
    assert sorted(status for status, _, _ in results) == [200, 503]
    assert min(elapsed for _, elapsed, _ in results) < 0.3


def test_healthz_is_never_queued() -> None:
    guard = OverloadGuard(_slow, capacity=1, queue_depth=0, queue_timeout=5.0)
    results = asyncio.run(_burst(guard, ["/v1/mentees", "/v1/mentees", "/healthz"]))
    statuses = [status for status, _, _ in results]
    assert statuses.count(503) == 1
    assert statuses[-1] == 200  # /healthz passed (the slow app answered it)


def test_one_connection_per_request_authentication_included(
    client: TestClient, association: Actor, db_url: str
) -> None:
    """Authentication and the route share the request's session: one checkout."""
    client.post("/v1/mentees", json=mentee_payload(), headers=association.headers)
    engine = engine_for(db_url)
    checkouts: list[object] = []

    def count(*_: object) -> None:
        checkouts.append(1)

    event.listen(engine, "checkout", count)
    try:
        response = client.get("/v1/mentees?limit=50", headers=association.headers)
    finally:
        event.remove(engine, "checkout", count)
    assert response.status_code == 200
    assert len(checkouts) == 1
