"""CSV exports: ``GET …/proposals.csv``, ``…/unmatched.csv``, ``…/diff.csv`` of a run and
``GET /v1/matches.csv`` (or the list route itself with ``Accept: text/csv``). Same filters
and scope as the JSON lists, every row rather than a page, and the organisations' own
``external_id``s next to the UUIDs."""

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import case, select
from sqlalchemy.orm import aliased

from app.auth.deps import AssociationDep, CallerDep
from app.auth.service import Caller
from app.db import SessionDep, utcnow
from app.exports.streaming import csv_response, query_rows
from app.fields import DepartmentCode
from app.matches import service as matches
from app.matches.models import Match, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.runs import diff
from app.runs import service as runs
from app.runs.models import ProposalChange, RunProposal, RunUnmatched
from app.vocabulary import Need, Role

router = APIRouter(tags=["exports"])

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "UTF-8 CSV with BOM, `;` separated, formula-safe",
    }
}


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


PROPOSAL_HEADER = [
    "position",
    "proposal_id",
    "change",
    "programme_id",
    "mentee_id",
    "mentee_external_id",
    "mentor_id",
    "mentor_external_id",
    "need",
    "meeting_mode",
    "distance_km",
    "score",
    "match_id",
    "previous_match_id",
    "skipped",
]


def _proposal_columns(stmt: Any, caller: Caller) -> Any:
    """Plain columns, not ORM objects: an export of 100,000 rows builds no entity. A young
    person the caller does not refer is withheld as in the JSON list (``app.runs.
    disclosure``): no id, external id or score."""
    mentee, mentor = aliased(Mentee), aliased(Mentor)
    p = RunProposal

    def disclosed(column: Any) -> Any:
        if caller.is_admin:
            return column
        return case((mentee.organisation_id == caller.organisation_id, column), else_=None)

    return (
        stmt.with_only_columns(
            p.position,
            p.id,
            p.change,
            p.programme_id,
            disclosed(p.mentee_id),
            disclosed(mentee.external_id),
            p.mentor_id,
            mentor.external_id,
            p.need,
            p.meeting_mode,
            p.distance_km,
            disclosed(p.score),
            p.match_id,
            p.previous_match_id,
            p.skipped,
        )
        .outerjoin(mentee, mentee.id == p.mentee_id)
        .outerjoin(mentor, mentor.id == p.mentor_id)
    )


def _plain(row: Any) -> Sequence[object]:
    return [getattr(cell, "value", cell) for cell in row]


@router.get(
    "/v1/matching-runs/{run_id}/proposals.csv",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
)
def export_proposals(
    run_id: uuid.UUID,
    session: SessionDep,
    caller: AssociationDep,
    change: ProposalChange | None = None,
    programme_id: uuid.UUID | None = None,
) -> StreamingResponse:
    """The run's proposals as CSV (also `GET …/proposals` with `Accept: text/csv`)."""
    stmt = runs.proposals(session, caller, run_id, change=change, programme_id=programme_id)
    rows = query_rows(_proposal_columns(stmt, caller), _plain)
    return csv_response(f"binome-run-{run_id}-proposals.csv", PROPOSAL_HEADER, rows)


UNMATCHED_HEADER = [
    "position",
    "mentee_id",
    "mentee_external_id",
    "reason",
    "sentence",
    "candidates",
]


@router.get(
    "/v1/matching-runs/{run_id}/unmatched.csv",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
)
def export_unmatched(
    run_id: uuid.UUID,
    session: SessionDep,
    caller: AssociationDep,
    reason: Annotated[str | None, Query(description="one reason code")] = None,
) -> StreamingResponse:
    """Young people left without a proposal, as CSV (also `GET …/unmatched` with
    `Accept: text/csv`)."""
    stmt = runs.unmatched(session, caller, run_id, reason=reason)
    mentee, u = aliased(Mentee), RunUnmatched
    columns = stmt.with_only_columns(
        u.position, u.mentee_id, mentee.external_id, u.reason, u.sentence, u.candidates
    ).outerjoin(mentee, mentee.id == u.mentee_id)
    rows = query_rows(columns, _plain)
    return csv_response(f"binome-run-{run_id}-unmatched.csv", UNMATCHED_HEADER, rows)


DIFF_HEADER = [
    "change",
    "proposal_id",
    "match_id",
    "previous_match_id",
    "programme_id",
    "mentee_id",
    "mentee_external_id",
    "mentor_id",
    "mentor_external_id",
    "need",
]


@router.get(
    "/v1/matching-runs/{run_id}/diff.csv", response_class=StreamingResponse, responses=CSV_RESPONSE
)
def export_diff(
    run_id: uuid.UUID, session: SessionDep, caller: AssociationDep
) -> StreamingResponse:
    """Every entry of the run's diff, as CSV (also `GET …/diff` with `Accept: text/csv`)."""
    run = runs.get(session, caller, run_id)
    diff.counts(run)  # 404 or 409 before streaming
    withdrawn: list[str] = list(run.diff["withdrawn"])  # type: ignore[index]
    mentee, mentor, p = aliased(Mentee), aliased(Mentor), RunProposal
    proposals = (
        select(
            p.change,
            p.id,
            p.match_id,
            p.previous_match_id,
            p.programme_id,
            p.mentee_id,
            mentee.external_id,
            p.mentor_id,
            mentor.external_id,
            p.need,
        )
        .outerjoin(mentee, mentee.id == p.mentee_id)
        .outerjoin(mentor, mentor.id == p.mentor_id)
        .where(p.run_id == run_id)
        .order_by(p.position)
    )

    def rows() -> Iterator[Sequence[object]]:
        yield from query_rows(proposals, _plain)
        m = Match
        for start in range(0, len(withdrawn), 1000):
            ids = [uuid.UUID(i) for i in withdrawn[start : start + 1000]]
            batch = (
                select(
                    m.id,
                    m.programme_id,
                    m.mentee_id,
                    mentee.external_id,
                    m.mentor_id,
                    mentor.external_id,
                    m.need,
                )
                .outerjoin(mentee, mentee.id == m.mentee_id)
                .outerjoin(mentor, mentor.id == m.mentor_id)
                .where(m.id.in_(ids))
            )
            found = {r[0]: r for r in query_rows(batch, tuple)}
            for match_id in ids:
                if (r := found.get(match_id)) is not None:  # erased since
                    yield [diff.WITHDRAWN, None, r[0], None, *r[1:]]

    return csv_response(f"binome-run-{run_id}-diff.csv", DIFF_HEADER, rows())


MATCH_HEADER = [
    "match_id",
    "status",
    "programme_id",
    "mentee_id",
    "mentee_external_id",
    "mentor_id",
    "mentor_external_id",
    "need",
    "distance_km",
    "score",
    "run_id",
    "proposed_at",
    "expires_at",
    "accepted_at",
    "started_at",
    "ended_at",
]
EMPLOYER_HEADER = [
    "match_id",
    "status",
    "programme_id",
    "mentor_id",
    "mentor_external_id",
    "proposed_at",
    "accepted_at",
    "started_at",
    "ended_at",
]


def _status(status: MatchStatus, expires_at: Any, now: Any) -> str:
    """``Match.effective_status`` from the columns: an unaccepted proposal past its
    expiry is expired, even before the sweep records it."""
    if status is MatchStatus.PROPOSED and expires_at is not None and expires_at <= now:
        return MatchStatus.EXPIRED.value
    return status.value


def _match_columns(stmt: Any, employer: bool) -> Any:
    """The header's columns in its order, and the expiry last (for the status)."""
    mentee, mentor, m = aliased(Mentee), aliased(Mentor), Match
    times = [m.proposed_at, m.accepted_at, m.started_at, m.ended_at]
    if employer:
        columns = [m.id, m.status, m.programme_id, m.mentor_id, mentor.external_id, *times]
    else:
        columns = [
            *(m.id, m.status, m.programme_id, m.mentee_id, mentee.external_id),
            *(m.mentor_id, mentor.external_id, m.need, m.distance_km, m.score, m.run_id),
            *(m.proposed_at, m.expires_at, m.accepted_at, m.started_at, m.ended_at),
        ]
    joined = stmt.with_only_columns(*columns, m.expires_at).outerjoin(
        mentor, mentor.id == m.mentor_id
    )
    return joined if employer else joined.outerjoin(mentee, mentee.id == m.mentee_id)


def _match_row(now: Any) -> Callable[[Any], Sequence[object]]:
    def render(row: Any) -> Sequence[object]:
        *cells, expires_at = row
        cells[1] = _status(cells[1], expires_at, now)
        return [_iso(c) if hasattr(c, "isoformat") else c for c in cells]

    return render


@router.get("/v1/matches.csv", response_class=StreamingResponse, responses=CSV_RESPONSE)
def export_matches(
    caller: CallerDep,
    status: MatchStatus | None = None,
    programme_id: uuid.UUID | None = None,
    department: Annotated[
        DepartmentCode | None, Query(description="the young person's department")
    ] = None,
    mentor_id: uuid.UUID | None = None,
    mentee_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
    need: Need | None = None,
) -> StreamingResponse:
    """Matches of the caller's scope as CSV (also `GET /v1/matches` with
    `Accept: text/csv`); company HR gets the employer view's columns."""
    stmt = matches.query(
        caller,
        status=status,
        programme_id=programme_id,
        department=department,
        mentor_id=mentor_id,
        mentee_id=mentee_id,
        run_id=run_id,
        need=need.value if need else None,
    )
    employer = caller.role is Role.COMPANY_HR
    rows = query_rows(_match_columns(stmt, employer), _match_row(utcnow()))
    header = EMPLOYER_HEADER if employer else MATCH_HEADER
    return csv_response("binome-matches.csv", header, rows)
