"""PostgreSQL execution: runs are jobs of a procrastinate queue in the same database.

``binome worker`` starts one worker process; start as many as wanted, on as many
machines as wanted (they share the database). The queue's tables live in the
``procrastinate`` schema, created by the migrations (``binome migrate``).
"""

import logging
import threading
import uuid
from typing import Any

import procrastinate
import psycopg
from sqlalchemy.engine import make_url

from app.config import get_settings
from app.db import engine_for
from app.runs.execution import execute_run, housekeeping, worker_name
from app.runs.liveness import (
    QUEUE,
    QUEUE_SCHEMA,
    WORKER_HEARTBEAT_SECONDS,
    WORKER_STALLED_SECONDS,
)
from app.runs.options import ExecutionOptions
from app.webhooks.delivery import Deliverer

logger = logging.getLogger("binome.worker")

TASK_NAME = "binome.run_matching"


def is_postgres(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def queue_conninfo(database_url: str) -> str:
    """libpq connection string of the SQLAlchemy URL, with the queue's schema first."""
    url = make_url(database_url).set(drivername="postgresql")
    return psycopg.conninfo.make_conninfo(
        url.render_as_string(hide_password=False), options=f"-c search_path={QUEUE_SCHEMA}"
    )


def run_matching(run_id: str) -> str:
    """The queue task: execute one run (see ``app.runs.execution``)."""
    return execute_run(uuid.UUID(run_id), ExecutionOptions.from_settings())


def build_app(database_url: str, **pool: Any) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(conninfo=queue_conninfo(database_url), **pool)
    app = procrastinate.App(connector=connector)
    app.task(name=TASK_NAME, queue=QUEUE, pass_context=False)(run_matching)
    return app


def _housekeeping_loop(database_url: str, stale_seconds: float, stop: threading.Event) -> None:
    interval = max(0.2, min(30.0, stale_seconds / 4))
    engine = engine_for(database_url)
    while not stop.wait(interval):
        try:
            housekeeping(engine, stale_seconds)
        except Exception:
            logger.exception("housekeeping failed")


def run_worker(*, wait: bool = True, concurrency: int | None = None) -> None:
    """Execute queued runs until stopped (SIGINT/SIGTERM finish the current run first).

    Alongside, every few seconds: runs whose process died (no heartbeat for
    ``BINOME_RUN_STALE_SECONDS``) are marked failed, due proposals are expired."""
    settings = get_settings()
    if not is_postgres(settings.database_url):
        raise SystemExit(
            "binome worker needs PostgreSQL (BINOME_DATABASE_URL=postgresql+psycopg://...); "
            "on SQLite, runs execute in a process pool inside `binome serve`"
        )
    housekeeping(engine_for(settings.database_url), settings.run_stale_seconds)
    stop = threading.Event()
    sweeper = threading.Thread(
        target=_housekeeping_loop,
        args=(settings.database_url, settings.run_stale_seconds, stop),
        name="housekeeping",
        daemon=True,
    )
    sweeper.start()
    deliverer = Deliverer(engine_for(settings.database_url))
    deliverer.start()  # webhooks: beside the queue, so a long run never delays them
    app = build_app(settings.database_url)
    logger.info("worker %s executes runs from queue %r", worker_name(), QUEUE)
    try:
        app.run_worker(
            queues=[QUEUE],
            name=worker_name(),
            concurrency=concurrency or settings.run_worker_concurrency,
            wait=wait,
            # The queue's own liveness: /readyz and `binome status` count the workers
            # whose heartbeat is fresh, and the jobs of silent ones are stalled.
            update_heartbeat_interval=WORKER_HEARTBEAT_SECONDS,
            stalled_worker_timeout=WORKER_STALLED_SECONDS,
        )
    finally:
        stop.set()
        deliverer.stop()
