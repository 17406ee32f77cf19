"""Executing one run, whatever process it runs in (a queue worker or a pool process).

1. **claim**: under the scope's lock, a queued run becomes ``running`` unless an
   overlapping run is running (then it waits) — the guarantee that overlapping runs never
   execute at once, whichever executor or machine picks them up;
2. **load** a consistent snapshot (``app.runs.snapshot``), **solve** it with the engine;
3. **write** everything the run produced in one transaction: its proposals, unmatched
   young people, and (committed runs) the matches. A crash before that commit leaves
   nothing behind; the run is then marked ``failed`` by the error handler, or, if the
   process died, by the stale-run sweep (no heartbeat for ``run_stale_seconds``).

A heartbeat thread refreshes ``heartbeat_at`` and the progress of every phase, and
notices cancellation requests within half a second; they are honoured between two
batches of rows read or written, between the steps of the solve (the engine polls them:
components, Lagrangian iterations), and in any case before the results are committed.
The run's ``stats.phases`` time each phase (queued, loading, solving, writing);
``finished_at`` is taken once everything is written.
"""

import gc
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import matching
from app.db import analyze_stale, engine_for, utcnow
from app.identity.runs import people as identity_people
from app.matches import service as matches
from app.matches.models import Match, MatchStatus
from app.privacy import retention
from app.runs.liveness import fail_runs_of_stalled_jobs
from app.runs.locks import lock_programmes
from app.runs.models import (
    MatchingRun,
    RunPhase,
    RunStatus,
)
from app.runs.options import Cancelled, ExecutionOptions
from app.runs.results import write_results
from app.runs.snapshot import SNAPSHOT_TABLES, load, snapshot_session

logger = logging.getLogger("binome.runs")

CLAIM_POLL_SECONDS = 1.0

RUN_ROW_LOCK = {"key_share": True}
"""``FOR NO KEY UPDATE`` on a run's row: the rows a results writer inserts reference the
run (their foreign keys hold ``KEY SHARE`` on it until the commit), which a plain
``FOR UPDATE`` would wait for — a cancel would then hang until the write ended."""


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
            .with_for_update(skip_locked=True, key_share=True)
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
    """Periodic tidying: runs of dead workers failed (their job stalled in the queue, or
    no heartbeat of their own for ``stale_seconds``), due proposals recorded as
    expired."""
    fail_runs_of_stalled_jobs(engine)
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
        run = session.get(MatchingRun, run_id, with_for_update=RUN_ROW_LOCK)
        if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            return
        run.status = RunStatus.FAILED
        run.error = error[:4000]
        run.finished_at = utcnow()
        session.commit()


PHASE_PROGRESS = {
    RunPhase.LOADING: (5, 30),
    RunPhase.SOLVING: (30, 88),
    RunPhase.WRITING: (90, 99),
}
"""The run's progress, in percent, over each phase."""
SOLVING_PROGRESS = PHASE_PROGRESS[RunPhase.SOLVING]

CANCEL_POLL_SECONDS = 0.5
"""How often a running run looks for a cancellation request (well within the 2 s in
which a cancel must take effect), whatever its heartbeat interval."""


def phase_progress(phase: RunPhase, done: float) -> int:
    start, end = PHASE_PROGRESS[phase]
    return start + round((end - start) * max(0.0, min(1.0, done)))


def solving_progress(solved: float) -> int:
    return phase_progress(RunPhase.SOLVING, solved)


class Heartbeat:
    """Background thread: refresh ``heartbeat_at`` and the progress of the current phase,
    watch for a cancellation request (every :data:`CANCEL_POLL_SECONDS`)."""

    def __init__(
        self, engine: Engine, run_id: uuid.UUID, interval: float, hold_file: str = ""
    ) -> None:
        self.engine = engine
        self.hold_file = hold_file
        self.run_id = run_id
        self.interval = interval
        self.cancelled = threading.Event()
        self.phase = RunPhase.LOADING
        self.done: float | None = None
        """Fraction of the current phase done, as last reported."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        poll = min(self.interval, CANCEL_POLL_SECONDS)
        last_beat = time.monotonic()
        while not self._stop.wait(poll):
            try:
                # Read first: on SQLite a results writer holds the write lock, and the
                # cancellation must still be seen meanwhile.
                with self.engine.connect() as connection:
                    requested = connection.scalar(
                        select(MatchingRun.cancel_requested_at).where(MatchingRun.id == self.run_id)
                    )
                if requested is not None:
                    self.cancelled.set()
                if time.monotonic() - last_beat >= self.interval:
                    self._beat()
                    last_beat = time.monotonic()
            except Exception:  # a missed beat is retried; the sweep tolerates several
                logger.exception("run %s: heartbeat failed", self.run_id)

    def _beat(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(MatchingRun)
                .where(MatchingRun.id == self.run_id, MatchingRun.status == RunStatus.RUNNING)
                .values(heartbeat_at=utcnow())
            )
            phase, done = self.phase, self.done
            if done is not None:
                connection.execute(
                    update(MatchingRun)
                    .where(
                        MatchingRun.id == self.run_id,
                        MatchingRun.status == RunStatus.RUNNING,
                        MatchingRun.phase == phase,
                    )
                    .values(progress=phase_progress(phase, done))
                )

    def enter(self, phase: RunPhase) -> None:
        self.phase, self.done = phase, None

    def report(self, done: float) -> None:
        """Fraction of the current phase done (negative: unchanged), written with the
        next beat (no extra database write); raises :class:`Cancelled` if the run was
        cancelled meanwhile."""
        if done >= 0:
            self.done = done
        hold(self.hold_file, self.phase, self.cancelled)
        self.check()

    def solved(self, done: float) -> None:
        """From the engine (it must not raise there: it polls ``stop`` for that)."""
        self.done = done

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
            session.refresh(run, with_for_update=RUN_ROW_LOCK)
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
        with Heartbeat(engine, run_id, options.heartbeat_seconds, options.hold_file) as heartbeat:
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
        run = session.get(MatchingRun, run_id, with_for_update=RUN_ROW_LOCK)
        if run is not None and run.status is RunStatus.RUNNING:
            run.status = RunStatus.CANCELLED
            run.finished_at = utcnow()
            session.commit()
    return RunStatus.CANCELLED.value


def _execute(
    engine: Engine, run_id: uuid.UUID, options: ExecutionOptions, heartbeat: Heartbeat
) -> str:
    phases: dict[str, float] = {}
    clock = time.monotonic()
    analyze_stale(engine, *SNAPSHOT_TABLES)
    with gc_paused(), snapshot_session(engine) as session:
        run = session.get(MatchingRun, run_id)
        assert run is not None
        if run.started_at is not None:
            phases["queued"] = round((run.started_at - run.created_at).total_seconds(), 3)
        snapshot = load(session, run, utcnow(), progress=heartbeat.report)
        persons = identity_people(session, snapshot.problem, snapshot.taken_at)
    heartbeat.check()
    phases["loading"] = round(time.monotonic() - clock, 3)
    clock = time.monotonic()
    heartbeat.enter(RunPhase.SOLVING)
    set_phase(engine, run_id, RunPhase.SOLVING, SOLVING_PROGRESS[0])
    try:
        result = matching.solve(
            persons.problem,
            stop=_stop_check(heartbeat, options.hold_file),
            progress=heartbeat.solved,
        )
    except matching.Interrupted:
        raise Cancelled from None
    heartbeat.check()
    phases["solving"] = round(time.monotonic() - clock, 3)
    heartbeat.enter(RunPhase.WRITING)
    set_phase(engine, run_id, RunPhase.WRITING, PHASE_PROGRESS[RunPhase.WRITING][0])
    with gc_paused():
        return write_results(
            engine,
            run_id,
            snapshot,
            persons.expand(result),
            options,
            progress=heartbeat.report,
            phases=phases,
        )


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: loading and writing allocate a few objects
    per row read or written and free them by reference counting, but each allocation
    burst triggered collections that scanned every object alive — the snapshot included —
    a third of the loading at 40,000 young people."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _stop_check(heartbeat: Heartbeat, hold_file: str) -> matching.StopCheck:
    """What the engine polls between its steps: has the run been cancelled?

    Testing aid (``BINOME_RUN_HOLD_FILE``): while the file exists, the solve pauses at
    each poll (the first comes once its candidates are known), so that tests observe,
    cancel or kill a run in the middle of a solve deterministically."""

    def stop() -> bool:
        hold(hold_file, RunPhase.SOLVING, heartbeat.cancelled)
        return heartbeat.cancelled.is_set()

    return stop


def hold(hold_file: str, phase: RunPhase, cancelled: threading.Event) -> None:
    """Testing aid: wait while ``hold_file`` exists and names ``phase`` (an empty file
    holds the solving phase), unless the run is cancelled."""
    while hold_file and not cancelled.is_set():
        try:
            with open(hold_file) as file:
                held = file.read().strip() or RunPhase.SOLVING.value
        except FileNotFoundError:
            return
        if held != phase.value:
            return
        time.sleep(0.02)
