"""``Accept: text/csv`` on a list that has a CSV export answers with that export: the
request is routed to the ``.csv`` route of the same path (same filters, same scope)."""

import re

from starlette.types import ASGIApp, Receive, Scope, Send

CSV_PATHS = [
    re.compile(r"^/v1/matches$"),
    re.compile(r"^/v1/matching-runs/[^/]+/(proposals|unmatched|diff)$"),
]


def wants_csv(accept: str) -> bool:
    """Whether CSV is the client's first choice (``text/csv`` listed before any JSON)."""
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media_type in types:
        if media_type == "text/csv":
            return True
        if media_type in ("application/json", "application/*", "*/*"):
            return False
    return False


class CsvNegotiation:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path: str = scope["path"]
            if any(pattern.match(path) for pattern in CSV_PATHS):
                headers = dict(scope["headers"])
                if wants_csv(headers.get(b"accept", b"").decode("latin-1")):
                    scope = {**scope, "path": path + ".csv", "raw_path": (path + ".csv").encode()}
        await self.app(scope, receive, send)
