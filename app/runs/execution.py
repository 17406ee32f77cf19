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
are honoured at each phase boundary and, at the latest, before anything is written.
"""

import dataclasses
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import matching
from app.config import get_settings
from app.db import engine_for, utcnow
from app.matches import service as matches
from app.matches.models import Match, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.programmes.models import Programme
from app.runs.locks import lock_programmes, lock_writes
from app.runs.models import (
    MatchingRun,
    ProposalChange,
    RunMode,
    RunPhase,
    RunProposal,
    RunStatus,
    RunUnmatched,
)
from app.runs.snapshot import PriorMatch, Snapshot, load, snapshot_session

logger = logging.getLogger("binome.runs")

CLAIM_POLL_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class ExecutionOptions:
    """Everything a run needs besides its id, passed explicitly to pool processes."""

    database_url: str
    heartbeat_seconds: float = 5.0
    stale_seconds: float = 120.0
    proposal_expiry_days: int = 14
    hold_file: str = ""

    @classmethod
    def from_settings(cls) -> "ExecutionOptions":
        settings = get_settings()
        return cls(
            database_url=settings.database_url,
            heartbeat_seconds=settings.run_heartbeat_seconds,
            stale_seconds=settings.run_stale_seconds,
            proposal_expiry_days=settings.proposal_expiry_days,
            hold_file=settings.run_hold_file,
        )


class Cancelled(Exception):
    """The run was cancelled while executing; nothing is written."""


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
            select(MatchingRun).where(
                MatchingRun.status == RunStatus.RUNNING, MatchingRun.heartbeat_at < limit
            )
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


class Heartbeat:
    """Background thread: refresh ``heartbeat_at``, watch for a cancellation request."""

    def __init__(self, engine: Engine, run_id: uuid.UUID, interval: float) -> None:
        self.engine = engine
        self.run_id = run_id
        self.interval = interval
        self.cancelled = threading.Event()
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
                    requested = connection.scalar(
                        select(MatchingRun.cancel_requested_at).where(MatchingRun.id == self.run_id)
                    )
                if requested is not None:
                    self.cancelled.set()
            except Exception:  # a missed beat is retried; the sweep tolerates several
                logger.exception("run %s: heartbeat failed", self.run_id)

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
    heartbeat.check()
    set_phase(engine, run_id, RunPhase.SOLVING, 30)
    _hold(options.hold_file, heartbeat)
    result = matching.solve(snapshot.problem)
    heartbeat.check()
    set_phase(engine, run_id, RunPhase.WRITING, 90)
    return write_results(engine, run_id, snapshot, result, options)


def _hold(path: str, heartbeat: Heartbeat) -> None:
    """Testing aid (``BINOME_RUN_HOLD_FILE``): stay in the solving phase while the file
    exists, so that tests observe, cancel or kill a running run deterministically."""
    while path and os.path.exists(path):
        heartbeat.check()
        time.sleep(0.02)


@dataclasses.dataclass
class _Planned:
    proposal: matching.Proposal
    change: ProposalChange
    previous: PriorMatch | None


def plan_changes(
    snapshot: Snapshot, result: matching.MatchingResult
) -> tuple[list[_Planned], list[PriorMatch]]:
    """Each proposal against the matches before the run, and the unaccepted proposals
    the run withdraws (reconsidered, neither proposed again nor replaced)."""
    by_pair = {(m.mentee_id, m.mentor_id, m.programme_id, m.need): m for m in snapshot.reconsidered}
    by_mentee: dict[uuid.UUID, PriorMatch] = {}
    for m in snapshot.reconsidered:
        by_mentee.setdefault(m.mentee_id, m)
    planned: list[_Planned] = []
    used: set[uuid.UUID] = set()
    for p in result.proposals:
        key = (uuid.UUID(p.mentee_id), uuid.UUID(p.mentor_id), uuid.UUID(p.programme_id), p.need)
        same = by_pair.get(key)
        earlier = by_mentee.get(key[0])
        if same is not None:
            planned.append(_Planned(p, ProposalChange.KEPT, same))
            used.add(same.id)
        elif earlier is not None and earlier.id not in used:
            planned.append(_Planned(p, ProposalChange.REPLACES, earlier))
            used.add(earlier.id)
        else:
            planned.append(_Planned(p, ProposalChange.NEW, None))
    withdrawn = [m for m in snapshot.reconsidered if m.id not in used]
    return planned, withdrawn


def write_results(
    engine: Engine,
    run_id: uuid.UUID,
    snapshot: Snapshot,
    result: matching.MatchingResult,
    options: ExecutionOptions,
) -> str:
    """Everything the run produced, in one transaction (or nothing, if cancelled)."""
    planned, withdrawn = plan_changes(snapshot, result)
    with Session(engine) as session:
        lock_writes(session)
        run = session.get(MatchingRun, run_id, with_for_update=True, populate_existing=True)
        if run is None or run.status is not RunStatus.RUNNING:
            session.rollback()
            return run.status.value if run else "gone"
        if run.cancel_requested_at is not None:
            raise Cancelled
        now = utcnow()
        written: Counter[str] = Counter()
        skipped: dict[int, str] = {}
        match_ids: dict[int, uuid.UUID] = {}
        if run.mode is RunMode.COMMIT:
            written["expired"] = matches.expire_due(session, now)
            replaced = {
                pl.previous.id
                for pl in planned
                if pl.change is ProposalChange.REPLACES and pl.previous
            }
            released = replaced | {m.id for m in withdrawn}
            skipped = revalidate(session, snapshot, planned, released, now)
            for prior_id in sorted(released):
                match = session.get(Match, prior_id, with_for_update=True)
                if match is not None and match.effective_status is MatchStatus.PROPOSED:
                    matches.record(
                        session,
                        match,
                        MatchStatus.SUPERSEDED,
                        actor=None,
                        at=now,
                        reason="replaced" if prior_id in replaced else "withdrawn",
                        run_id=run.id,
                    )
                    match.ended_at = now
                    written["superseded"] += 1
            expires_at = now + timedelta(days=options.proposal_expiry_days)
            for index, pl in enumerate(planned):
                if index in skipped:
                    written["skipped"] += 1
                    continue
                if pl.change is ProposalChange.KEPT and pl.previous is not None:
                    match_ids[index] = pl.previous.id
                    written["kept"] += 1
                    continue
                p = pl.proposal
                programme_id = uuid.UUID(p.programme_id)
                match = matches.propose(
                    session,
                    organisation_id=snapshot.organisations[programme_id],
                    mentee_id=uuid.UUID(p.mentee_id),
                    mentor_id=uuid.UUID(p.mentor_id),
                    programme_id=programme_id,
                    need=p.need,
                    expires_at=expires_at,
                    distance_km=round(p.distance_km, 3),
                    score=p.score,
                    run_id=run.id,
                    now=now,
                )
                match_ids[index] = match.id
                written["created"] += 1
        session.add_all(
            RunProposal(
                run_id=run.id,
                position=index,
                mentee_id=uuid.UUID(pl.proposal.mentee_id),
                mentor_id=uuid.UUID(pl.proposal.mentor_id),
                programme_id=uuid.UUID(pl.proposal.programme_id),
                need=pl.proposal.need,
                meeting_mode=pl.proposal.mode,
                distance_km=round(pl.proposal.distance_km, 3),
                score=pl.proposal.score,
                score_breakdown=dataclasses.asdict(pl.proposal.score_terms),
                change=pl.change,
                previous_match_id=pl.previous.id if pl.previous else None,
                match_id=match_ids.get(index),
                skipped=skipped.get(index),
            )
            for index, pl in enumerate(planned)
        )
        session.add_all(
            RunUnmatched(
                run_id=run.id,
                position=index,
                mentee_id=uuid.UUID(u.mentee_id),
                reason=u.reason,
                sentence=u.message,
                candidates=u.candidates,
            )
            for index, u in enumerate(result.unmatched)
        )
        changes = Counter(pl.change.value for pl in planned)
        run.diff = {
            "new": changes[ProposalChange.NEW.value],
            "kept": changes[ProposalChange.KEPT.value],
            "replaces": changes[ProposalChange.REPLACES.value],
            "withdrawn": [str(m.id) for m in withdrawn],
            "untouched": len(snapshot.kept),
        }
        run.stats = {
            **dataclasses.asdict(result.stats),
            "snapshot": snapshot.counts,
            "timings": dataclasses.asdict(result.timings),
            "written": dict(written),
        }
        run.status = RunStatus.SUCCEEDED
        run.phase = RunPhase.DONE
        run.progress = 100
        run.finished_at = now
        session.commit()
    return RunStatus.SUCCEEDED.value


def revalidate(
    session: Session,
    snapshot: Snapshot,
    planned: list[_Planned],
    released: set[uuid.UUID],
    now: datetime,
) -> dict[int, str]:
    """Proposals that no longer hold against the data as it is now (edited while the run
    solved, or taken by a run of another scope): position → reason. Checked under the
    write lock, so the state cannot move again before the commit."""
    new = [(i, pl.proposal) for i, pl in enumerate(planned) if pl.change is not ProposalChange.KEPT]
    if not new:
        return {}
    mentee_ids = {uuid.UUID(p.mentee_id) for _, p in new}
    mentor_ids = {uuid.UUID(p.mentor_id) for _, p in new}
    programme_ids = {uuid.UUID(p.programme_id) for _, p in new}
    active_mentees = set(
        session.scalars(select(Mentee.id).where(Mentee.id.in_(mentee_ids), Mentee.active.is_(True)))
    )
    mentor_capacity = dict(
        session.execute(
            select(Mentor.id, Mentor.capacity).where(
                Mentor.id.in_(mentor_ids), Mentor.active.is_(True)
            )
        )
        .tuples()
        .all()
    )
    programme_capacity = dict(
        session.execute(
            select(Programme.id, Programme.capacity).where(
                Programme.id.in_(programme_ids), Programme.active.is_(True)
            )
        )
        .tuples()
        .all()
    )
    holding = [
        m
        for m in session.scalars(
            select(Match)
            .where(matches.holding_capacity(now))
            .where(
                (Match.mentee_id.in_(mentee_ids))
                | (Match.mentor_id.in_(mentor_ids))
                | (Match.programme_id.in_(programme_ids))
            )
        )
        if m.id not in released
    ]
    kept_ids = {
        pl.previous.id for pl in planned if pl.change is ProposalChange.KEPT and pl.previous
    }
    mentor_load = Counter(m.mentor_id for m in holding)
    programme_load = Counter(m.programme_id for m in holding)
    taken_needs = {(m.mentee_id, m.need) for m in holding if m.id not in kept_ids}
    excluded = matches.never_again(session, mentee_ids)
    skipped: dict[int, str] = {}
    checks: list[tuple[str, Callable[[uuid.UUID, uuid.UUID, uuid.UUID, str], bool]]] = [
        ("mentee_inactive", lambda me, _mo, _pr, _n: me in active_mentees),
        ("mentor_inactive", lambda _me, mo, _pr, _n: mo in mentor_capacity),
        ("programme_inactive", lambda _me, _mo, pr, _n: pr in programme_capacity),
        ("already_matched", lambda me, _mo, _pr, n: (me, n) not in taken_needs),
        ("excluded_pair", lambda me, mo, _pr, _n: (me, mo) not in excluded),
        ("mentor_capacity", lambda _me, mo, _pr, _n: mentor_load[mo] < mentor_capacity[mo]),
        (
            "programme_capacity",
            lambda _me, _mo, pr, _n: programme_load[pr] < programme_capacity[pr],
        ),
    ]
    for index, p in sorted(new, key=lambda item: -item[1].score):
        key = (uuid.UUID(p.mentee_id), uuid.UUID(p.mentor_id), uuid.UUID(p.programme_id), p.need)
        failed = next((name for name, ok in checks if not ok(*key)), None)
        if failed is not None:
            skipped[index] = failed
            continue
        mentor_load[key[1]] += 1
        programme_load[key[2]] += 1
        taken_needs.add((key[0], key[3]))
    return skipped
