"""Where runs execute, behind one interface (:class:`RunExecutor`), chosen from the
database URL so that the API never branches:

- PostgreSQL: :class:`QueueExecutor` defers a job on the procrastinate queue; any
  ``binome worker`` process, on any machine, picks it up;
- SQLite (the embedded default): :class:`PoolExecutor`, a pool of processes owned by the
  service process (``BINOME_RUN_POOL_WORKERS``).

Either way, a run executes in another process than the request that submitted it.
"""

import dataclasses
import logging
import multiprocessing
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Annotated, Protocol, TypeVar

import procrastinate
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import engine_for
from app.runs.execution import execute_run, housekeeping, mark_failed
from app.runs.models import MatchingRun, RunStatus
from app.runs.options import ExecutionOptions
from app.runs.worker import TASK_NAME, build_app, is_postgres

logger = logging.getLogger("binome.runs")

T = TypeVar("T")


class RunExecutor(Protocol):
    def submit(self, run_id: uuid.UUID) -> int | None:
        """Hand the run over for execution; the queue's job id, if any."""

    def cancel(self, run: MatchingRun) -> None:
        """Best effort: drop the run from the queue if no executor took it yet."""

    def start(self) -> None:
        """At service start: take over what a previous service process left behind."""

    def stop(self) -> None:
        """At service stop: release what the executor holds (processes, connections)."""


class QueueExecutor:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.app = build_app(database_url, min_size=1, max_size=4)
        self._opened = False
        self._started = False
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _open(self) -> None:
        with self._lock:
            if not self._opened:
                self.app.open()
                self._opened = True

    def submit(self, run_id: uuid.UUID) -> int | None:
        task = self.app.configure_task(TASK_NAME)
        job_id: int = self._on_queue(lambda: task.defer(run_id=str(run_id)))
        return job_id

    def cancel(self, run: MatchingRun) -> None:
        job_id = run.job_id
        if job_id is not None:
            self._on_queue(lambda: self.app.job_manager.cancel_job_by_id(job_id))

    def _on_queue(self, operation: Callable[[], T]) -> T:
        self._open()
        try:
            return operation()
        except procrastinate.exceptions.ConnectorException:
            # Pooled connections remember the queue's types by their OIDs: once a
            # migration has recreated the queue's schema they fail ("cache lookup failed
            # for type"). Fresh connections see the schema as it is now.
            logger.warning("the queue refused an operation; retrying on fresh connections")
            with self._lock:
                self.app.close()
                self.app.open()
            return operation()

    def stop(self) -> None:
        # The housekeeping thread ends; the queue's connection pool stays open: the
        # executor is shared by the process for its lifetime, and a closed pool cannot
        # serve a later application instance.
        with self._lock:
            self._stop.set()
            self._stop = threading.Event()
            self._started = False

    def start(self) -> None:
        """Queue the runs that a service process committed but died before queueing, and
        watch over the running ones: a housekeeping thread fails the runs whose worker
        died, whether or not any worker is alive to notice. Another process may be
        queueing one of them right now: a run queued twice still executes once, the
        second job finds it taken."""
        with self._lock:
            if not self._started:
                self._started = True
                threading.Thread(
                    target=_housekeeping_loop,
                    args=(self.database_url, self._stop),
                    name="runs-housekeeping",
                    daemon=True,
                ).start()
        for run_id in _queued_runs(self.database_url, without_job=True):
            job_id = self.submit(run_id)
            with Session(engine_for(self.database_url)) as session:
                run = session.get(MatchingRun, run_id)
                if run is not None and run.job_id is None:
                    run.job_id = job_id
                    session.commit()


class PoolExecutor:
    """Processes (spawned, so no state is inherited) solving runs for this service
    process. A process that dies breaks the pool: the runs it held end ``failed`` (nothing
    of them was written), queued ones are resubmitted to a fresh pool."""

    def __init__(self, database_url: str, workers: int) -> None:
        self.database_url = database_url
        self.workers = workers
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._stop = threading.Event()
        self._started = False

    def _ensure_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_exit_with_parent,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def start(self) -> None:
        """Once per service process, at its start (and at the latest at its first
        submission): a housekeeping thread, which fails the runs a dead service process
        left running, and the runs it left queued, resubmitted."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._stop = threading.Event()
        threading.Thread(
            target=self._housekeeping, args=(self._stop,), name="runs-housekeeping", daemon=True
        ).start()
        for run_id in _queued_runs(self.database_url, without_job=False):
            self._submit(run_id)

    def stop(self) -> None:
        """Stop the pool's processes (a run cut short wrote nothing and is marked failed)
        and release the pool's queues and their semaphores: without this, every service
        stopped by a signal warned of "leaked semaphore objects"."""
        with self._lock:
            self._stop.set()
            self._started = False  # a later start (tests: a new application) restarts
            pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    def _housekeeping(self, stop: threading.Event) -> None:
        _housekeeping_loop(self.database_url, stop)

    def submit(self, run_id: uuid.UUID) -> int | None:
        self.start()
        self._submit(run_id)
        return None

    def _submit(self, run_id: uuid.UUID) -> None:
        options = dataclasses.replace(
            ExecutionOptions.from_settings(), database_url=self.database_url
        )
        pool = self._ensure_pool()
        try:
            future = pool.submit(execute_run, str(run_id), options)
        except BrokenProcessPool:
            self._replace(pool)
            future = self._ensure_pool().submit(execute_run, str(run_id), options)
        future.add_done_callback(lambda done: self._done(run_id, pool, done))

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def _done(self, run_id: uuid.UUID, pool: ProcessPoolExecutor, future: Future[str]) -> None:
        if future.cancelled():
            return
        if self._stop.is_set() and isinstance(future.exception(), BrokenProcessPool):
            # Stopped with the service: a running run failed, a queued one is taken up
            # again at the next start.
            _fail_if_running(engine_for(self.database_url), run_id)
            return
        error = future.exception()
        if error is None:
            return
        engine = engine_for(self.database_url)
        if isinstance(error, BrokenProcessPool):
            self._replace(pool)
            with Session(engine) as session:
                run = session.get(MatchingRun, run_id)
                status, worker = (run.status, run.worker) if run else (None, None)
            if status is RunStatus.QUEUED:
                logger.warning("run %s: pool broken before it started, resubmitted", run_id)
                self._submit(run_id)
                return
            if status is not RunStatus.RUNNING or not _ran_in(pool, worker):
                return
            mark_failed(
                engine,
                run_id,
                "the process executing this run died (killed or out of memory); "
                "nothing was written",
            )
            return
        logger.error("run %s: executor error %r", run_id, error)
        mark_failed(engine, run_id, f"executor error: {error!r}")

    def cancel(self, run: MatchingRun) -> None:
        return None


HOUSEKEEPING_MAX_SECONDS = 5.0


def _housekeeping_loop(database_url: str, stop: threading.Event) -> None:
    """In the service process, whichever the executor: every quarter of the stale delay
    (at most 5 s), fail the runs whose process died and expire due proposals. A run whose
    worker died is failed at most 5 s after the stale delay, even if no worker is left."""
    while True:
        stale_seconds = ExecutionOptions.from_settings().stale_seconds
        if stop.wait(max(0.2, min(HOUSEKEEPING_MAX_SECONDS, stale_seconds / 4))):
            return
        try:
            housekeeping(engine_for(database_url), stale_seconds)
        except Exception:
            logger.exception("housekeeping failed")


def _fail_if_running(engine: Engine, run_id: uuid.UUID) -> None:
    with Session(engine) as session:
        run = session.get(MatchingRun, run_id)
        running = run is not None and run.status is RunStatus.RUNNING
    if running:
        mark_failed(
            engine, run_id, "the service stopped while this run executed; nothing was written"
        )


def _queued_runs(database_url: str, without_job: bool) -> list[uuid.UUID]:
    stmt = select(MatchingRun.id).where(MatchingRun.status == RunStatus.QUEUED)
    if without_job:
        stmt = stmt.where(MatchingRun.job_id.is_(None))
    with Session(engine_for(database_url)) as session:
        return list(session.scalars(stmt.order_by(MatchingRun.created_at)))


def _exit_with_parent(parent: int) -> None:
    """In each pool process: exit when the service process is gone (a signal may end it
    without the executor's orderly shutdown). A run cut short this way wrote nothing; the
    stale-run sweep marks it failed."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _ran_in(pool: ProcessPoolExecutor, worker: str | None) -> bool:
    """Whether ``worker`` (``host:pid``) is a process of ``pool`` or a dead process of
    this host: a broken pool terminates all its processes."""
    host, _, pid_text = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid in (getattr(pool, "_processes", None) or {}):
        return True
    return not _alive(pid)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs. A pool process killed a moment ago is a zombie until
    the pool reaps it, after this callback: dead, though it still has a pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True  # no /proc: the stale-run sweep will tell


_executors: dict[str, RunExecutor] = {}
_registry_lock = threading.Lock()


def executor_for(database_url: str) -> RunExecutor:
    with _registry_lock:
        executor = _executors.get(database_url)
        if executor is None:
            if is_postgres(database_url):
                executor = QueueExecutor(database_url)
            else:
                executor = PoolExecutor(database_url, get_settings().run_pool_workers)
            _executors[database_url] = executor
        return executor


def get_executor() -> RunExecutor:
    return executor_for(get_settings().database_url)


ExecutorDep = Annotated[RunExecutor, Depends(get_executor)]
