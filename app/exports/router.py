"""CSV exports: ``GET …/proposals.csv``, ``…/unmatched.csv``, ``…/diff.csv`` of a run and
``GET /v1/matches.csv`` (or the list route itself with ``Accept: text/csv``). Same filters
and scope as the JSON lists, every row rather than a page, and the organisations' own
``external_id``s next to the UUIDs."""

import uuid
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import aliased

from app.auth.deps import AssociationDep, CallerDep
from app.db import SessionDep, new_session
from app.exports.streaming import csv_response, query_rows
from app.fields import DepartmentCode
from app.matches import service as matches
from app.matches.models import Match, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.runs import diff
from app.runs import service as runs
from app.runs.models import MatchingRun, ProposalChange, RunProposal, RunUnmatched
from app.vocabulary import Need, Role

router = APIRouter(tags=["exports"])

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "UTF-8 CSV with BOM, `;` separated, formula-safe",
    }
}


def _with_external_ids(stmt: Any, entity: Any) -> Any:
    mentee, mentor = aliased(Mentee), aliased(Mentor)
    return (
        stmt.add_columns(mentee.external_id, mentor.external_id)
        .outerjoin(mentee, mentee.id == entity.mentee_id)
        .outerjoin(mentor, mentor.id == entity.mentor_id)
    )


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


def _proposal_row(row: Any) -> Sequence[object]:
    p, mentee_external_id, mentor_external_id = row
    return [
        p.position,
        p.id,
        p.change.value,
        p.programme_id,
        p.mentee_id,
        mentee_external_id,
        p.mentor_id,
        mentor_external_id,
        p.need,
        p.meeting_mode,
        p.distance_km,
        p.score,
        p.match_id,
        p.previous_match_id,
        p.skipped,
    ]


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
    rows = query_rows(_with_external_ids(stmt, RunProposal), _proposal_row)
    return csv_response(f"binome-run-{run_id}-proposals.csv", PROPOSAL_HEADER, rows)


UNMATCHED_HEADER = [
    "position",
    "mentee_id",
    "mentee_external_id",
    "reason",
    "sentence",
    "candidates",
]


def _unmatched_row(row: Any) -> Sequence[object]:
    u, mentee_external_id = row
    return [u.position, u.mentee_id, mentee_external_id, u.reason, u.sentence, u.candidates]


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
    mentee = aliased(Mentee)
    stmt = stmt.add_columns(mentee.external_id).outerjoin(
        mentee, mentee.id == RunUnmatched.mentee_id
    )
    rows = query_rows(stmt, _unmatched_row)
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
    diff.counts(runs.get(session, caller, run_id))  # 404 or 409 before streaming

    def rows() -> Iterator[Sequence[object]]:
        with new_session() as own:
            run = own.get(MatchingRun, run_id)
            assert run is not None
            batch: list[Any] = []
            for entry in diff.every_entry(own, run):
                batch.append(entry)
                if len(batch) >= 1000:
                    yield from _diff_rows(own, batch)
                    batch = []
            yield from _diff_rows(own, batch)

    return csv_response(f"binome-run-{run_id}-diff.csv", DIFF_HEADER, rows())


def _diff_rows(session: Any, entries: list[Any]) -> Iterator[Sequence[object]]:
    mentees = {e.mentee_id for e in entries}
    mentors = {e.mentor_id for e in entries}
    mentee_ids = dict(
        session.query(Mentee.id, Mentee.external_id).filter(Mentee.id.in_(mentees)).all()
    )
    mentor_ids = dict(
        session.query(Mentor.id, Mentor.external_id).filter(Mentor.id.in_(mentors)).all()
    )
    for e in entries:
        yield [
            e.change,
            e.proposal_id,
            e.match_id,
            e.previous_match_id,
            e.programme_id,
            e.mentee_id,
            mentee_ids.get(e.mentee_id),
            e.mentor_id,
            mentor_ids.get(e.mentor_id),
            e.need,
        ]


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


def _match_row(row: Any) -> Sequence[object]:
    m, mentee_external_id, mentor_external_id = row
    return [
        m.id,
        m.effective_status.value,
        m.programme_id,
        m.mentee_id,
        mentee_external_id,
        m.mentor_id,
        mentor_external_id,
        m.need,
        m.distance_km,
        m.score,
        m.run_id,
        _iso(m.proposed_at),
        _iso(m.expires_at),
        _iso(m.accepted_at),
        _iso(m.started_at),
        _iso(m.ended_at),
    ]


def _employer_row(row: Any) -> Sequence[object]:
    m, _, mentor_external_id = row
    return [
        m.id,
        m.effective_status.value,
        m.programme_id,
        m.mentor_id,
        mentor_external_id,
        _iso(m.proposed_at),
        _iso(m.accepted_at),
        _iso(m.started_at),
        _iso(m.ended_at),
    ]


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
    rows = query_rows(_with_external_ids(stmt, Match), _employer_row if employer else _match_row)
    header = EMPLOYER_HEADER if employer else MATCH_HEADER
    return csv_response("binome-matches.csv", header, rows)
