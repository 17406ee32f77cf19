from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_engine
from app.errors import problem
from app.migrate import at_head
from app.runs.liveness import queue_status

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def liveness() -> dict[str, str]:
    """Answers 200 as long as the process serves requests, whatever the database's state: for a
    load balancer's liveness probe, answered on the event loop, never queued behind other
    requests. Readiness (database, migration, workers) is `/readyz`."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readiness() -> dict[str, Any] | JSONResponse:
    """Ready when the database answers and its schema is at the latest migration. The
    body says where runs execute and, on PostgreSQL, how many workers are alive (from
    the queue's own heartbeats), with a ``waiting_for_worker`` warning when none is: the
    API serves, but runs stay queued until a worker starts."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
            migrated = at_head(connection)
            runs = queue_status(connection) if migrated else {}
    except SQLAlchemyError as exc:
        return _unready(f"database unreachable: {exc.__class__.__name__}")
    if not migrated:
        return _unready("database schema is not at the latest migration")
    return {"status": "ready", **runs}


def _unready(detail: str) -> JSONResponse:
    body = problem(503, "not-ready", "Service not ready", detail)
    return JSONResponse(body, status_code=503, media_type="application/problem+json")
