"""Meetings and check-ins of running pairs.

The association running a match's programme (or an admin) records them, once the match
has started (its first meeting was held) and on days between that start and its closure.
Recording only inserts rows: concurrent writers cannot lose each other's updates.
"""

import uuid
from collections.abc import Iterable, Iterator
from datetime import date
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.service import Caller
from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, ValidationFailed, field_error
from app.followup.models import CheckIn, Meeting
from app.followup.schemas import CheckInIn, MeetingIn
from app.imports.reading import ImportFileError, open_csv
from app.matches import service as matches
from app.matches.models import Match, MatchStatus
from app.vocabulary import Role

FOLLOWED_STATUSES = (MatchStatus.ACTIVE, MatchStatus.CLOSED)
MEETING_COLUMNS = ("match_id", "date", "minutes", "mode")
LOOKUP_BATCH = 1000


def _writable(session: Session, caller: Caller, match_id: uuid.UUID) -> Match:
    match = matches.get(session, caller, match_id)
    if not matches.may_act(caller, match):
        raise Forbidden("only the association running the programme records its follow-up")
    return match


def _check_day(match: Match, day: date, field: str, today: date) -> str | None:
    """Why ``day`` cannot carry a meeting or check-in of ``match`` (``None`` if it can)."""
    if match.status not in FOLLOWED_STATUSES or match.started_at is None:
        return (
            f"the match is {match.status.value}: start it (its first meeting) before "
            "recording follow-up"
        )
    if day > today:
        return f"{field} {day} is in the future"
    if day < match.started_at.date():
        return f"{field} {day} is before the match started ({match.started_at.date()})"
    if match.ended_at is not None and day > match.ended_at.date():
        return f"{field} {day} is after the match was closed ({match.ended_at.date()})"
    return None


def _refuse(problem: str, field: str) -> None:
    if problem.startswith("the match is"):
        raise Conflict(problem)
    raise field_error(field, problem)


def add_meeting(
    session: Session, caller: Caller, match_id: uuid.UUID, data: MeetingIn, today: date
) -> Meeting:
    match = _writable(session, caller, match_id)
    if problem := _check_day(match, data.date, "date", today):
        _refuse(problem, "date")
    meeting = Meeting(
        match_id=match.id,
        organisation_id=match.organisation_id,
        held_on=data.date,
        minutes=data.minutes,
        mode=data.mode,
    )
    session.add(meeting)
    # The match changed: its follow-up is part of it (the indicators' memo sees the new
    # meeting through the matches' latest change; retention sees recent contact).
    match.updated_at = utcnow()
    session.flush()
    return meeting


def add_check_in(
    session: Session, caller: Caller, match_id: uuid.UUID, data: CheckInIn, today: date
) -> CheckIn:
    match = _writable(session, caller, match_id)
    if problem := _check_day(match, data.date, "date", today):
        _refuse(problem, "date")
    check_in = CheckIn(
        match_id=match.id,
        organisation_id=match.organisation_id,
        held_on=data.date,
        mentor_rating=data.mentor_rating,
        mentee_rating=data.mentee_rating,
        concern=data.concern,
    )
    session.add(check_in)
    session.flush()
    return check_in


def _readable(session: Session, caller: Caller, match_id: uuid.UUID) -> None:
    if caller.role is Role.COMPANY_HR:
        raise Forbidden("the follow-up of a match is kept for the association and admins")
    matches.get(session, caller, match_id)


def meetings_of(session: Session, caller: Caller, match_id: uuid.UUID) -> list[Meeting]:
    _readable(session, caller, match_id)
    stmt = select(Meeting).where(Meeting.match_id == match_id)
    return list(session.scalars(stmt.order_by(Meeting.held_on, Meeting.id)))


def check_ins_of(session: Session, caller: Caller, match_id: uuid.UUID) -> list[CheckIn]:
    _readable(session, caller, match_id)
    stmt = select(CheckIn).where(CheckIn.match_id == match_id)
    return list(session.scalars(stmt.order_by(CheckIn.held_on, CheckIn.id)))


# --- bulk import -----------------------------------------------------------------------


def _batches(ids: list[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    for start in range(0, len(ids), LOOKUP_BATCH):
        yield ids[start : start + LOOKUP_BATCH]


def _matches_by_id(
    session: Session, caller: Caller, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Match]:
    """The matches among ``ids`` the caller may act on (bounded ``IN`` lists)."""
    scope = matches.visible(caller)
    found: dict[uuid.UUID, Match] = {}
    for batch in _batches(sorted(set(ids))):
        stmt = select(Match).where(Match.id.in_(batch))
        if scope is not None:
            stmt = stmt.where(scope)
        for match in session.scalars(stmt):
            if matches.may_act(caller, match):
                found[match.id] = match
    return found


def import_meetings(session: Session, caller: Caller, stream: IO[bytes], today: date) -> int:
    """Read a CSV of meetings (``match_id,date,minutes,mode``) and record them all, or
    none: any invalid row is a 422 naming its row and column, and nothing is written."""
    table = open_csv(stream)
    header = [cell.strip().lower() for cell in table.header]
    missing = [column for column in MEETING_COLUMNS if column not in header]
    unknown = [column for column in header if column not in MEETING_COLUMNS]
    if missing or unknown:
        raise ImportFileError(
            f"the header must be {','.join(MEETING_COLUMNS)}"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            line=1,
        )
    max_errors = get_settings().import_max_errors
    errors: list[dict[str, Any]] = []
    parsed: list[tuple[int, uuid.UUID, MeetingIn]] = []
    for row, cells in table.rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            errors.append(
                {
                    "row": row,
                    "field": None,
                    "message": f"{len(cells)} cells, expected {len(header)}",
                }
            )
            continue
        values = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        try:
            match_id = uuid.UUID(values["match_id"])
        except ValueError:
            errors.append({"row": row, "field": "match_id", "message": "not a match id (UUID)"})
            continue
        try:
            meeting = MeetingIn.model_validate(
                {key: values[key] for key in ("date", "minutes", "mode")}
            )
        except ValidationError as exc:
            for error in exc.errors():
                errors.append({"row": row, "field": str(error["loc"][0]), "message": error["msg"]})
            continue
        parsed.append((row, match_id, meeting))
        if len(errors) >= max_errors:
            break
    found = _matches_by_id(session, caller, (match_id for _, match_id, _ in parsed))
    for row, match_id, meeting in parsed:
        match = found.get(match_id)
        if match is None:
            errors.append(
                {"row": row, "field": "match_id", "message": f"no match {match_id} you run"}
            )
        elif problem := _check_day(match, meeting.date, "date", today):
            errors.append({"row": row, "field": "date", "message": problem})
    if errors:
        errors.sort(key=lambda error: error["row"])
        raise ValidationFailed(
            errors[:max_errors], detail=f"{len(errors)} invalid rows: nothing was recorded"
        )
    session.add_all(
        Meeting(
            match_id=match_id,
            organisation_id=found[match_id].organisation_id,
            held_on=meeting.date,
            minutes=meeting.minutes,
            mode=meeting.mode,
        )
        for _, match_id, meeting in parsed
    )
    now = utcnow()
    for _, match_id, _ in parsed:
        found[match_id].updated_at = now  # see add_meeting
    session.flush()
    return len(parsed)
