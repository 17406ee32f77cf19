import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.auth.deps import CallerDep
from app.auth.service import Caller
from app.db import SessionDep
from app.fields import DepartmentCode
from app.matches import service
from app.matches.models import Match, MatchStatus
from app.matches.schemas import (
    CloseIn,
    DeclineIn,
    MatchEmployerView,
    MatchEventRead,
    MatchRead,
    TransitionIn,
)
from app.pagination import Page, PageDep, Sort, page_of, sorting
from app.vocabulary import Need, Role

router = APIRouter(prefix="/v1/matches", tags=["matches"])

MatchOut = MatchRead | MatchEmployerView


def render(caller: Caller, match: Match) -> MatchOut:
    if caller.role is Role.COMPANY_HR:
        return MatchEmployerView.model_validate(match)
    return MatchRead.model_validate(match)


SORT = sorting(
    {
        "proposed_at": Match.proposed_at,
        "expires_at": Match.expires_at,
        "status": Match.status,
        "score": Match.score,
    },
    Match.id,
)


@router.get("", response_model=Page[MatchRead] | Page[MatchEmployerView])
def list_matches(
    session: SessionDep,
    caller: CallerDep,
    page: PageDep,
    sort: Annotated[Sort, Depends(SORT)],
    status: MatchStatus | None = None,
    programme_id: uuid.UUID | None = None,
    department: Annotated[
        DepartmentCode | None, Query(description="the young person's department")
    ] = None,
    mentor_id: uuid.UUID | None = None,
    mentee_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
    need: Need | None = None,
) -> Page[MatchRead] | Page[MatchEmployerView]:
    """Matches of the caller's scope, oldest proposal first. Company HR gets the employer
    view, and a 403 for the filters on the young person (``mentee_id``, ``need``,
    ``department``)."""
    stmt = service.query(
        caller,
        status=status,
        programme_id=programme_id,
        department=department,
        mentor_id=mentor_id,
        mentee_id=mentee_id,
        run_id=run_id,
        need=need.value if need else None,
    )
    if caller.role is Role.COMPANY_HR:
        return page_of(session, stmt, page, MatchEmployerView, sort)
    return page_of(session, stmt, page, MatchRead, sort)


@router.get("/{match_id}", response_model=MatchOut)
def get_match(match_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> MatchOut:
    """Read one match: the pair, the programme, the need, its status and dates. Company HR sees
    only that its employee is matched and the status."""
    return render(caller, service.get(session, caller, match_id))


@router.get("/{match_id}/history", response_model=Page[MatchEventRead])
def match_history(
    match_id: uuid.UUID, session: SessionDep, caller: CallerDep, page: PageDep
) -> Page[MatchEventRead]:
    """Every status change, oldest first, with who made it (API key and organisation;
    none for the system: creation by a run, expiry, supersession) and why."""
    return page_of(session, service.history(session, caller, match_id), page, MatchEventRead)


@router.post("/{match_id}/accept", response_model=MatchRead)
def accept_match(
    match_id: uuid.UUID, session: SessionDep, caller: CallerDep, data: TransitionIn | None = None
) -> MatchRead:
    """The association accepts a proposal: ``proposed → accepted``."""
    match = service.accept(session, caller, match_id, data.note if data else None)
    session.commit()
    return MatchRead.model_validate(match)


@router.post("/{match_id}/start", response_model=MatchRead)
def start_match(
    match_id: uuid.UUID, session: SessionDep, caller: CallerDep, data: TransitionIn | None = None
) -> MatchRead:
    """The first meeting was held: ``accepted → active``. An active match counts as
    support for its need."""
    match = service.start(session, caller, match_id, data.note if data else None)
    session.commit()
    return MatchRead.model_validate(match)


@router.post("/{match_id}/close", response_model=MatchRead)
def close_match(
    match_id: uuid.UUID, data: CloseIn, session: SessionDep, caller: CallerDep
) -> MatchRead:
    """``accepted`` or ``active`` → ``closed``, with a coded reason. Frees the mentor's and
    the programme's capacity; a pair closed for incompatibility or safeguarding is never
    proposed again."""
    match = service.close(session, caller, match_id, data.reason, data.note)
    session.commit()
    return MatchRead.model_validate(match)


@router.post("/{match_id}/decline", response_model=MatchRead)
def decline_match(
    match_id: uuid.UUID, data: DeclineIn, session: SessionDep, caller: CallerDep
) -> MatchRead:
    """``proposed → declined``, with a coded reason (incompatibility and safeguarding
    exclude the pair from later runs)."""
    match = service.decline(session, caller, match_id, data.reason, data.note)
    session.commit()
    return MatchRead.model_validate(match)
