"""Run use cases: submit (scope, overlap rule), read, cancel, results."""

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app import matching
from app.audit.service import Action, RecordType
from app.audit.service import record as audit
from app.auth.service import Caller
from app.config import get_settings
from app.crud import get_visible
from app.db import contains, utcnow
from app.errors import Conflict, ValidationFailed, field_error
from app.mentees.models import Mentee
from app.programmes.models import Programme
from app.runs.execution import fail_stale_runs, overlapping
from app.runs.liveness import live_workers
from app.runs.locks import lock_programmes
from app.runs.models import (
    ACTIVE_RUN_STATUSES,
    MatchingRun,
    ProposalChange,
    RunMode,
    RunPhase,
    RunProposal,
    RunStatus,
    RunUnmatched,
)
from app.runs.schemas import MAX_RUN_DATE_AHEAD_DAYS, RunCreate, RunRead
from app.runs.snapshot import programme_in_departments
from app.vocabulary import Role


def visible(caller: Caller) -> ColumnElement[bool] | None:
    """Admins see every run; an association the runs it requested."""
    return None if caller.is_admin else MatchingRun.organisation_id == caller.organisation_id


def resolve_scope(session: Session, caller: Caller, data: RunCreate) -> list[Programme]:
    """The active programmes a run covers: the caller's own (all for an admin), narrowed
    to those named and to those covering one of the departments."""
    stmt = select(Programme).where(Programme.active.is_(True)).order_by(Programme.id)
    if not caller.is_admin:
        stmt = stmt.where(Programme.organisation_id == caller.organisation_id)
    if data.programme_ids:
        found = {p.id: p for p in session.scalars(stmt.where(Programme.id.in_(data.programme_ids)))}
        errors = [
            {
                "field": f"programme_ids[{i}]",
                "message": f"no active programme {pid} that you run",
            }
            for i, pid in enumerate(data.programme_ids)
            if pid not in found
        ]
        if errors:
            raise ValidationFailed(errors)
        programmes = sorted(found.values(), key=lambda p: p.id)
    else:
        programmes = list(session.scalars(stmt))
    if data.departments:
        programmes = [p for p in programmes if programme_in_departments(p, data.departments)]
    if not programmes:
        raise field_error(
            "programme_ids" if data.programme_ids else "departments",
            "the scope covers no active programme that you run",
        )
    return programmes


def checked_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """The run's policy, each override within its bounds. The solver's time limit does
    not depend on ``BINOME_RUN_STALE_SECONDS``: the solvers release the interpreter
    lock (large flows run in a child process), so the heartbeat goes on while they
    solve."""
    try:
        matching.Policy.from_dict(policy)
    except matching.ProblemError as exc:
        raise field_error(exc.field, exc.message) from exc
    return policy


def checked_run_date(requested: date | None) -> date:
    """The day a run matches for: today (UTC) unless given; never in the past, at most
    :data:`MAX_RUN_DATE_AHEAD_DAYS` ahead."""
    today = utcnow().date()
    if requested is None:
        return today
    if requested < today:
        raise field_error("run_date", f"must not be in the past (today is {today.isoformat()})")
    latest = today + timedelta(days=MAX_RUN_DATE_AHEAD_DAYS)
    if requested > latest:
        raise field_error(
            "run_date",
            f"must be at most {MAX_RUN_DATE_AHEAD_DAYS} days ahead (until {latest.isoformat()})",
        )
    return requested


def submit(session: Session, caller: Caller, data: RunCreate) -> MatchingRun:
    """A queued run, unless a queued or running run shares a programme with its scope
    (409 naming that run). The check runs under the scope's lock, so two overlapping
    submissions cannot both pass it."""
    policy = checked_policy(data.policy)
    run_date = checked_run_date(data.run_date)
    programmes = resolve_scope(session, caller, data)
    lock_programmes(session, [p.id for p in programmes])
    # A run whose process died must not block this scope until the next sweep.
    fail_stale_runs(session, get_settings().run_stale_seconds)
    run = MatchingRun(
        id=uuid.uuid4(),
        organisation_id=caller.organisation_id,
        requested_by_key_id=caller.key_id,
        mode=data.mode,
        status=RunStatus.QUEUED,
        run_date=run_date,
        requested_programme_ids=[str(p) for p in data.programme_ids],
        departments=list(data.departments),
        programme_ids=[str(p.id) for p in programmes],
        policy=policy,
        keep_running=data.keep_running,
        break_running_pairs=data.break_running_pairs,
        phase=RunPhase.QUEUED,
        progress=0,
        created_at=utcnow(),
    )
    busy = overlapping(session, run, ACTIVE_RUN_STATUSES)
    if busy:
        other = busy[0]
        shared = sorted(set(run.programme_ids) & set(other.programme_ids))
        raise Conflict(
            f"run {other.id} ({other.status.value}) covers {len(shared)} programme(s) of "
            "this scope; wait for it to finish, or cancel it",
            extra={"run_id": str(other.id), "programme_ids": shared},
        )
    session.add(run)
    session.flush()
    audit(session, Action.RUN, RecordType.MATCHING_RUN, run.id, organisation_id=run.organisation_id)
    return run


def no_live_worker(session: Session) -> bool:
    """Runs go through the queue and no worker sent it a heartbeat lately."""
    return live_workers(session.connection()) == 0


def read(session: Session, run: MatchingRun) -> RunRead:
    """The run as the API shows it, saying whether it waits for a worker to exist."""
    shown = RunRead.model_validate(run)
    shown.waiting_for_worker = run.status is RunStatus.QUEUED and no_live_worker(session)
    return shown


def get(session: Session, caller: Caller, run_id: uuid.UUID) -> MatchingRun:
    return get_visible(session, MatchingRun, run_id, visible(caller))


def query(
    caller: Caller,
    *,
    status: RunStatus | None,
    mode: RunMode | None,
    programme_id: uuid.UUID | None,
    organisation_id: uuid.UUID | None,
) -> Select[tuple[MatchingRun]]:
    stmt = select(MatchingRun).order_by(MatchingRun.created_at.desc(), MatchingRun.id)
    scope = visible(caller)
    if scope is not None:
        stmt = stmt.where(scope)
    if status is not None:
        stmt = stmt.where(MatchingRun.status == status)
    if mode is not None:
        stmt = stmt.where(MatchingRun.mode == mode)
    if organisation_id is not None:
        stmt = stmt.where(MatchingRun.organisation_id == organisation_id)
    if programme_id is not None:
        stmt = stmt.where(contains(MatchingRun.programme_ids, str(programme_id)))
    return stmt


def cancel(session: Session, caller: Caller, run_id: uuid.UUID) -> MatchingRun:
    """A queued run is cancelled at once; a running one at its next step, and in any case
    before it writes anything."""
    get_visible(session, MatchingRun, run_id, visible(caller))
    run = session.scalars(
        select(MatchingRun)
        .where(MatchingRun.id == run_id)
        .with_for_update(key_share=True)  # see RUN_ROW_LOCK
        .execution_options(populate_existing=True)
    ).one()
    if run.status not in ACTIVE_RUN_STATUSES:
        raise Conflict(
            f"run {run.id} already ended ({run.status.value})",
            extra={"current_status": run.status.value},
        )
    now = utcnow()
    if run.cancel_requested_at is None:
        run.cancel_requested_at = now
        audit(
            session,
            Action.CANCEL,
            RecordType.MATCHING_RUN,
            run.id,
            organisation_id=run.organisation_id,
            at=now,
        )
    if run.status is RunStatus.QUEUED or _silent(run, now):
        # Queued: no process has it. Silent: its process died (nothing was written) and
        # nobody else would ever end it.
        run.status = RunStatus.CANCELLED
        run.finished_at = now
    session.flush()
    return run


def _silent(run: MatchingRun, now: datetime) -> bool:
    """A running run whose process stopped sending heartbeats (taken for dead)."""
    stale = timedelta(seconds=get_settings().run_stale_seconds)
    return run.status is RunStatus.RUNNING and (
        run.heartbeat_at is None or run.heartbeat_at < now - stale
    )


def proposals(
    session: Session,
    caller: Caller,
    run_id: uuid.UUID,
    *,
    change: ProposalChange | None,
    programme_id: uuid.UUID | None,
) -> Select[tuple[RunProposal]]:
    get(session, caller, run_id)
    stmt = select(RunProposal).where(RunProposal.run_id == run_id)
    if change is not None:
        stmt = stmt.where(RunProposal.change == change)
    if programme_id is not None:
        stmt = stmt.where(RunProposal.programme_id == programme_id)
    return stmt.order_by(RunProposal.position)


def unmatched(
    session: Session, caller: Caller, run_id: uuid.UUID, *, reason: str | None
) -> Select[tuple[RunUnmatched]]:
    """Young people left without a proposal. An association sees those it refers (the
    run may also have considered young people referred by other associations)."""
    get(session, caller, run_id)
    stmt = select(RunUnmatched).where(RunUnmatched.run_id == run_id)
    if caller.role is Role.ASSOCIATION:
        referred = select(Mentee.id).where(Mentee.organisation_id == caller.organisation_id)
        stmt = stmt.where(RunUnmatched.mentee_id.in_(referred))
    if reason is not None:
        stmt = stmt.where(RunUnmatched.reason == reason)
    return stmt.order_by(RunUnmatched.position)
