"""Executing one run, whatever process it runs in (a queue worker or a pool process).

1. **claim**: under the scope's lock, a queued run becomes ``running`` unless an
   overlapping run is running (then it waits) — the guarantee that overlapping runs never
   execute at once, whichever executor or machine picks them up;
2. **load** a consistent snapshot (``app.runs.snapshot``), **solve** it with the engine;
3. **write** everything the run produced in one transaction: its proposals, unmatched
   young people, and (committed runs) the matches. A crash before that commit leaves
   nothing behind; the run is then marked ``failed`` by the error handler, or, if the
   process died, by the stale-run sweep (no heartbeat for ``run_stale_seconds``).

A heartbeat thread refreshes ``heartbeat_at`` and notices cancellation requests, which
are honoured at each phase boundary, between the steps of the solve (the engine polls
them: components, Lagrangian iterations) and, at the latest, before anything is
written.
"""

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import matching
from app.db import engine_for, utcnow
from app.identity.runs import people as identity_people
from app.matches import service as matches
from app.matches.models import Match, MatchStatus
from app.privacy import retention
from app.runs.locks import lock_programmes
from app.runs.models import (
    MatchingRun,
    RunPhase,
    RunStatus,
)
from app.runs.options import Cancelled, ExecutionOptions
from app.runs.results import write_results
from app.runs.snapshot import load, snapshot_session

logger = logging.getLogger("binome.runs")

CLAIM_POLL_SECONDS = 1.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def overlapping(
    session: Session, run: MatchingRun, statuses: tuple[RunStatus, ...]
) -> list[MatchingRun]:
    """Other runs in ``statuses`` sharing a programme with ``run``."""
    mine = set(run.programme_ids)
    others = session.scalars(
        select(MatchingRun)
        .where(MatchingRun.status.in_(statuses), MatchingRun.id != run.id)
        .order_by(MatchingRun.created_at)
    )
    return [other for other in others if mine & set(other.programme_ids)]


def fail_stale_runs(session: Session, stale_seconds: float, now: datetime | None = None) -> int:
    """Mark ``failed`` the running runs whose process stopped sending heartbeats."""
    now = now or utcnow()
    limit = now - timedelta(seconds=stale_seconds)
    stale = list(
        session.scalars(
            select(MatchingRun)
            .where(MatchingRun.status == RunStatus.RUNNING, MatchingRun.heartbeat_at < limit)
            .order_by(MatchingRun.id)
            # A run whose row is locked is being written (its heartbeat waits for that
            # lock): alive, skipped. PostgreSQL re-checks the condition on the rows it
            # locks, so a run that ended meanwhile is left alone too.
            .with_for_update(skip_locked=True)
        )
    )
    for run in stale:
        logger.warning("run %s: no heartbeat since %s, marked failed", run.id, run.heartbeat_at)
        run.status = RunStatus.FAILED
        run.finished_at = now
        run.error = (
            f"the process executing this run ({run.worker}) stopped answering: no heartbeat "
            f"since {run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC; nothing was written"
        )
    session.flush()
    return len(stale)


def housekeeping(engine: Engine, stale_seconds: float) -> None:
    """Periodic tidying: stale runs failed, due proposals recorded as expired."""
    with Session(engine) as session:
        has_stale = session.scalar(
            select(MatchingRun.id)
            .where(
                MatchingRun.status == RunStatus.RUNNING,
                MatchingRun.heartbeat_at < utcnow() - timedelta(seconds=stale_seconds),
            )
            .limit(1)
        )
        if has_stale is not None:
            fail_stale_runs(session, stale_seconds)
        has_due = session.scalar(
            select(Match.id)
            .where(matches.effective_status_is(MatchStatus.EXPIRED, utcnow()))
            .where(Match.status == MatchStatus.PROPOSED)
            .limit(1)
        )
        if has_due is not None:
            matches.expire_due(session)
        session.commit()
    retention.periodic(engine)  # at most every BINOME_RETENTION_INTERVAL_HOURS


def mark_failed(engine: Engine, run_id: uuid.UUID, error: str) -> None:
    """Record a failure, unless the run already ended (a late or duplicate report)."""
    with Session(engine) as session:
        run = session.get(MatchingRun, run_id, with_for_update=True)
        if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            return
        run.status = RunStatus.FAILED
        run.error = error[:4000]
        run.finished_at = utcnow()
        session.commit()


SOLVING_PROGRESS = (30, 88)
"""The run's progress, in percent, while the engine solves (loading comes before, writing
after)."""


def solving_progress(solved: float) -> int:
    start, end = SOLVING_PROGRESS
    return start + round((end - start) * solved)


class Heartbeat:
    """Background thread: refresh ``heartbeat_at``, watch for a cancellation request."""

    def __init__(self, engine: Engine, run_id: uuid.UUID, interval: float) -> None:
        self.engine = engine
        self.run_id = run_id
        self.interval = interval
        self.cancelled = threading.Event()
        self.solved: float | None = None
        """Fraction of the solve done, as the engine last reported it."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        update(MatchingRun)
                        .where(
                            MatchingRun.id == self.run_id,
                            MatchingRun.status == RunStatus.RUNNING,
                        )
                        .values(heartbeat_at=utcnow())
                    )
                    if self.solved is not None:
                        connection.execute(
                            update(MatchingRun)
                            .where(
                                MatchingRun.id == self.run_id,
                                MatchingRun.status == RunStatus.RUNNING,
                                MatchingRun.phase == RunPhase.SOLVING,
                            )
                            .values(progress=solving_progress(self.solved))
                        )
                    requested = connection.scalar(
                        select(MatchingRun.cancel_requested_at).where(MatchingRun.id == self.run_id)
                    )
                if requested is not None:
                    self.cancelled.set()
            except Exception:  # a missed beat is retried; the sweep tolerates several
                logger.exception("run %s: heartbeat failed", self.run_id)

    def report(self, solved: float) -> None:
        """From the engine: written with the next beat (no extra database write)."""
        self.solved = solved

    def check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled


def set_phase(engine: Engine, run_id: uuid.UUID, phase: RunPhase, progress: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(MatchingRun)
            .where(MatchingRun.id == run_id, MatchingRun.status == RunStatus.RUNNING)
            .values(phase=phase, progress=progress, heartbeat_at=utcnow())
        )


def claim(engine: Engine, run_id: uuid.UUID, options: ExecutionOptions) -> bool:
    """Make the run ``running``, waiting while an overlapping run is running. False when
    there is nothing to do (unknown, cancelled or already taken)."""
    waiting_for: uuid.UUID | None = None
    while True:
        with Session(engine) as session:
            run = session.get(MatchingRun, run_id)
            if run is None or run.status is not RunStatus.QUEUED:
                return False
            lock_programmes(session, [uuid.UUID(p) for p in run.programme_ids])
            fail_stale_runs(session, options.stale_seconds)
            session.refresh(run, with_for_update=True)
            if run.status is not RunStatus.QUEUED:
                session.commit()
                return False
            busy = overlapping(session, run, (RunStatus.RUNNING,))
            if not busy:
                now = utcnow()
                run.status = RunStatus.RUNNING
                run.phase = RunPhase.LOADING
                run.progress = 5
                run.started_at = now
                run.heartbeat_at = now
                run.worker = worker_name()
                session.commit()
                return True
            if busy[0].id != waiting_for:
                waiting_for = busy[0].id
                run.phase = RunPhase.WAITING
                logger.info("run %s waits for overlapping run %s", run_id, waiting_for)
            session.commit()
        time.sleep(CLAIM_POLL_SECONDS)


def execute_run(run_id: str | uuid.UUID, options: ExecutionOptions) -> str:
    """Execute one run to its end; returns its final status. Never raises for a failure
    of the run itself (it is recorded on the run)."""
    run_id = uuid.UUID(str(run_id))
    engine = engine_for(options.database_url)
    if not claim(engine, run_id, options):
        return "skipped"
    try:
        with Heartbeat(engine, run_id, options.heartbeat_seconds) as heartbeat:
            status = _execute(engine, run_id, options, heartbeat)
    except Cancelled:
        status = _finish_cancelled(engine, run_id)
    except Exception as exc:
        logger.exception("run %s failed", run_id)
        detail = "".join(traceback.format_exception_only(exc)).strip()
        mark_failed(engine, run_id, detail)
        status = RunStatus.FAILED.value
    return status


def _finish_cancelled(engine: Engine, run_id: uuid.UUID) -> str:
    with Session(engine) as session:
        run = session.get(MatchingRun, run_id, with_for_update=True)
        if run is not None and run.status is RunStatus.RUNNING:
            run.status = RunStatus.CANCELLED
            run.finished_at = utcnow()
            session.commit()
    return RunStatus.CANCELLED.value


def _execute(
    engine: Engine, run_id: uuid.UUID, options: ExecutionOptions, heartbeat: Heartbeat
) -> str:
    with snapshot_session(engine) as session:
        run = session.get(MatchingRun, run_id)
        assert run is not None
        snapshot = load(session, run, utcnow())
        persons = identity_people(session, snapshot.problem, snapshot.taken_at)
    heartbeat.check()
    set_phase(engine, run_id, RunPhase.SOLVING, SOLVING_PROGRESS[0])
    try:
        result = matching.solve(
            persons.problem,
            stop=_stop_check(heartbeat, options.hold_file),
            progress=heartbeat.report,
        )
    except matching.Interrupted:
        raise Cancelled from None
    heartbeat.check()
    set_phase(engine, run_id, RunPhase.WRITING, 90)
    return write_results(engine, run_id, snapshot, persons.expand(result), options)


def _stop_check(heartbeat: Heartbeat, hold_file: str) -> matching.StopCheck:
    """What the engine polls between its steps: has the run been cancelled?

    Testing aid (``BINOME_RUN_HOLD_FILE``): while the file exists, the solve pauses at
    each poll (the first comes once its candidates are known), so that tests observe,
    cancel or kill a run in the middle of a solve deterministically."""

    def stop() -> bool:
        while hold_file and os.path.exists(hold_file) and not heartbeat.cancelled.is_set():
            time.sleep(0.02)
        return heartbeat.cancelled.is_set()

    return stop
