"""An ASGI middleware bounding the requests a server process works on at once.

Every request in progress may need a database connection and a worker thread. With
more requests admitted than connections, threads end up waiting for connections held
by requests that wait for a thread: throughput collapses and nothing answers for the
pool's whole time-out. So at most ``capacity`` requests (no more than the connection
pool holds) are in progress; up to ``queue_depth`` more wait, each at most
``queue_timeout`` seconds; anything beyond is answered at once with a 503
problem+json and ``Retry-After``. Waiting happens on the event loop, holding neither a
thread nor a connection. ``/healthz`` is never queued.
"""

import asyncio
import json
import math
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import problem

EXEMPT_PATHS = frozenset({"/healthz"})


class OverloadGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        capacity: int,
        queue_depth: int,
        queue_timeout: float,
        retry_after: float = 1.0,
    ) -> None:
        self.app = app
        self.capacity = capacity
        self.queue_depth = queue_depth
        self.queue_timeout = queue_timeout
        self.retry_after = retry_after
        self._slots = asyncio.Semaphore(capacity)
        self.waiting = 0
        self.rejected = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: taken without suspending
        elif self.waiting >= self.queue_depth:
            await self._reject(send, "the server is at capacity and its queue is full")
            return
        else:
            self.waiting += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), self.queue_timeout)
            except TimeoutError:
                await self._reject(
                    send, f"no capacity freed within {self.queue_timeout:g} s for this request"
                )
                return
            finally:
                self.waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()

    async def _reject(self, send: Send, detail: str) -> None:
        self.rejected += 1
        body = problem(503, "overloaded", "Service overloaded", f"{detail}; retry shortly")
        payload = json.dumps(body).encode()
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(payload)).encode()),
            (b"retry-after", str(math.ceil(self.retry_after)).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def guard_options() -> dict[str, Any]:
    from app.config import get_settings

    settings = get_settings()
    return {
        "capacity": settings.max_concurrent_requests,
        "queue_depth": settings.request_queue_depth,
        "queue_timeout": settings.request_queue_timeout_seconds,
    }
