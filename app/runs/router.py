import uuid
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.auth.deps import AssociationDep
from app.db import SessionDep
from app.errors import AppError
from app.matching import result as engine
from app.pagination import Page, PageDep, Sort, page_of, paginate, sorting
from app.runs import diff, disclosure, service
from app.runs.diff import DiffChange
from app.runs.execution import mark_failed
from app.runs.executors import ExecutorDep
from app.runs.models import MatchingRun, ProposalChange, RunMode, RunStatus
from app.runs.schemas import DiffRead, ProposalRead, RunCreate, RunRead, UnmatchedRead

router = APIRouter(prefix="/v1/matching-runs", tags=["matching runs"])


class UnmatchedReason(StrEnum):
    """The engine's reason codes (``app.matching.REASONS``), in the order it tests them."""

    ALL_NEEDS_SUPPORTED = engine.ALL_NEEDS_SUPPORTED
    NO_PROGRAMME = engine.NO_PROGRAMME
    NO_MENTOR_IN_REACH = engine.NO_MENTOR_IN_REACH
    NO_BACKGROUND_CHECKED_MENTOR = engine.NO_BACKGROUND_CHECKED_MENTOR
    NO_COMPATIBLE_MENTOR = engine.NO_COMPATIBLE_MENTOR
    CAPACITY_EXHAUSTED = engine.CAPACITY_EXHAUSTED


class ExecutorUnavailable(AppError):
    status, code, title = 503, "executor-unavailable", "Runs cannot be executed right now"


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=RunRead)
def submit_run(
    data: RunCreate,
    session: SessionDep,
    caller: AssociationDep,
    executor: ExecutorDep,
    response: Response,
) -> RunRead:
    """Queue a matching run; it executes in a worker, never inside this request. Poll
    the ``Location`` for its status. A queued or running run sharing a programme with
    this scope is a 409 naming it."""
    run = service.submit(session, caller, data)
    session.commit()
    try:
        run.job_id = executor.submit(run.id)
    except Exception as exc:
        mark_failed(session.get_bind().engine, run.id, f"could not be queued: {exc!r}")
        raise ExecutorUnavailable(
            "the run could not be handed to an executor; it is marked failed",
            extra={"run_id": str(run.id)},
        ) from exc
    session.commit()
    response.headers["Location"] = f"/v1/matching-runs/{run.id}"
    return service.read(session, run)


SORT = sorting(
    {
        "created_at": MatchingRun.created_at,
        "finished_at": MatchingRun.finished_at,
        "status": MatchingRun.status,
    },
    MatchingRun.id,
)


@router.get("", response_model=Page[RunRead])
def list_runs(
    session: SessionDep,
    caller: AssociationDep,
    page: PageDep,
    sort: Annotated[Sort, Depends(SORT)],
    status: RunStatus | None = None,
    mode: RunMode | None = None,
    programme_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
) -> Page[RunRead]:
    """Runs, newest first."""
    stmt = service.query(
        caller,
        status=status,
        mode=mode,
        programme_id=programme_id,
        organisation_id=organisation_id,
    )
    listed = page_of(session, stmt, page, RunRead, sort)
    if any(r.status is RunStatus.QUEUED for r in listed.items) and service.no_live_worker(session):
        for item in listed.items:
            item.waiting_for_worker = item.status is RunStatus.QUEUED
    return listed


@router.get("/{run_id}", response_model=RunRead)
def get_run(run_id: uuid.UUID, session: SessionDep, caller: AssociationDep) -> RunRead:
    """Status, phase and progress, timings, engine statistics, error."""
    return service.read(session, service.get(session, caller, run_id))


@router.post("/{run_id}/cancel", response_model=RunRead, status_code=status.HTTP_202_ACCEPTED)
def cancel_run(
    run_id: uuid.UUID, session: SessionDep, caller: AssociationDep, executor: ExecutorDep
) -> RunRead:
    """A queued run is cancelled at once; a running run stops at its next step and
    writes nothing (``cancel_requested`` until it has stopped)."""
    run = service.cancel(session, caller, run_id)
    session.commit()
    if run.status is RunStatus.CANCELLED:
        executor.cancel(run)
    return service.read(session, run)


@router.get("/{run_id}/proposals", response_model=Page[ProposalRead])
def run_proposals(
    run_id: uuid.UUID,
    session: SessionDep,
    caller: AssociationDep,
    page: PageDep,
    change: ProposalChange | None = None,
    programme_id: uuid.UUID | None = None,
) -> Page[ProposalRead]:
    """The pairs the run proposed, with score breakdown and distance, in mentee order. A
    young person referred by another organisation is shown by need, commune, age band and
    distance only (``mentee_disclosed: false``)."""
    run = service.get(session, caller, run_id)
    stmt = service.proposals(session, caller, run_id, change=change, programme_id=programme_id)
    rows, total = paginate(session, stmt, page)
    items = disclosure.render(session, caller, run.run_date, rows)
    return Page[ProposalRead](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/{run_id}/unmatched", response_model=Page[UnmatchedRead])
def run_unmatched(
    run_id: uuid.UUID,
    session: SessionDep,
    caller: AssociationDep,
    page: PageDep,
    reason: Annotated[UnmatchedReason | None, Query(description="one reason code")] = None,
) -> Page[UnmatchedRead]:
    """Young people of the scope left without a proposal: a reason code and a sentence."""
    stmt = service.unmatched(session, caller, run_id, reason=reason.value if reason else None)
    return page_of(session, stmt, page, UnmatchedRead)


@router.get("/{run_id}/diff", response_model=DiffRead)
def run_diff(
    run_id: uuid.UUID,
    session: SessionDep,
    caller: AssociationDep,
    page: PageDep,
    change: Annotated[DiffChange | None, Query(description="one kind of change")] = None,
) -> DiffRead:
    """The run against the matches that existed when it started: the count of each
    change, and one page of the entries (its proposals in order, then the earlier
    proposals it withdrew)."""
    run = service.get(session, caller, run_id)
    items, total = diff.page(session, run, change, page.limit, page.offset)
    return DiffRead(
        run_id=run.id,
        counts=diff.counts(run),
        items=items,
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
