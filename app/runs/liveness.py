"""Which workers are alive, from the queue's own heartbeats (procrastinate 3.x).

Each ``binome worker`` registers in ``procrastinate_workers`` and refreshes its
``last_heartbeat`` every :data:`WORKER_HEARTBEAT_SECONDS`; a worker silent for
:data:`WORKER_STALLED_SECONDS` is taken for dead (procrastinate's own notion of a
stalled worker). The jobs such a worker held are stalled jobs: their runs are failed at
once, without waiting for the run's own stale delay, and the jobs retried so that the
queue does not show them in progress forever (a retried job finds its run ended and
does nothing).
"""

import logging
from typing import Any

from procrastinate import sql as queue_sql
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Connection, Engine

from app.db import utcnow
from app.runs.models import MatchingRun, RunStatus

logger = logging.getLogger("binome.runs")

QUEUE_SCHEMA = "procrastinate"
QUEUE = "matching"
WORKER_HEARTBEAT_SECONDS = 5.0
WORKER_STALLED_SECONDS = 30.0


def live_workers(connection: Connection) -> int | None:
    """Workers whose queue heartbeat is fresh; ``None`` where runs do not go through the
    queue (SQLite: the service's own process pool executes them)."""
    if connection.dialect.name != "postgresql":
        return None
    count = connection.scalar(
        text(
            f"SELECT count(*) FROM {QUEUE_SCHEMA}.procrastinate_workers "
            "WHERE last_heartbeat > now() - make_interval(secs => :seconds)"
        ),
        {"seconds": WORKER_STALLED_SECONDS},
    )
    return int(count or 0)


def stalled_jobs(connection: Connection, queue: str) -> list[dict[str, Any]]:
    """procrastinate's own query for the running jobs of stalled workers."""
    connection.exec_driver_sql(f"SET LOCAL search_path TO {QUEUE_SCHEMA}, public")
    rows = connection.exec_driver_sql(
        queue_sql.queries["select_stalled_jobs_by_heartbeat"],
        {"seconds_since_heartbeat": WORKER_STALLED_SECONDS, "queue": queue, "task_name": None},
    )
    return [dict(row._mapping) for row in rows]


def fail_runs_of_stalled_jobs(engine: Engine, queue: str = QUEUE) -> int:
    """Fail the running runs whose job a stalled (dead) worker held; their jobs go back
    to the queue, where they end at once (the run is over)."""
    if engine.dialect.name != "postgresql":
        return 0
    failed = 0
    with engine.begin() as connection:
        jobs = stalled_jobs(connection, queue)
        for job in jobs:
            ended = connection.execute(
                update(MatchingRun)
                .where(MatchingRun.job_id == job["id"], MatchingRun.status == RunStatus.RUNNING)
                .values(
                    status=RunStatus.FAILED,
                    finished_at=utcnow(),
                    error="the worker executing this run stopped sending queue heartbeats "
                    f"for {WORKER_STALLED_SECONDS:g} s (killed or out of memory); nothing "
                    "was written",
                )
            )
            failed += ended.rowcount
            connection.exec_driver_sql(
                queue_sql.queries["retry_job"],
                {
                    "job_id": job["id"],
                    "retry_at": None,
                    "new_priority": None,
                    "new_queue_name": None,
                    "new_lock": None,
                },
            )
    if failed:
        logger.warning("%d run(s) failed: their worker stopped sending heartbeats", failed)
    return failed


def queue_status(connection: Connection) -> dict[str, Any]:
    """What readiness and ``binome status`` say of run execution: where runs execute,
    the live workers, the runs waiting, and a warning when queued runs cannot start."""
    if connection.dialect.name != "postgresql":
        waiting = _queued_runs(connection)
        return {"executor": "pool", "live_workers": None, "queued_runs": waiting, "warnings": []}
    workers = live_workers(connection) or 0
    waiting = _queued_runs(connection)
    warnings = []
    if workers == 0:
        warnings.append(
            {
                "code": "waiting_for_worker",
                "message": "no `binome worker` sent a queue heartbeat in the last "
                f"{WORKER_STALLED_SECONDS:g} s: {waiting} queued run(s) wait, and new runs "
                "will wait, until one starts",
            }
        )
    return {
        "executor": "queue",
        "live_workers": workers,
        "queued_runs": waiting,
        "warnings": warnings,
    }


def _queued_runs(connection: Connection) -> int:
    count = connection.scalar(
        select(func.count()).select_from(MatchingRun).where(MatchingRun.status == RunStatus.QUEUED)
    )
    return int(count or 0)
