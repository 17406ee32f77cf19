"""Follow-up of running pairs: meetings (one at a time or by CSV) and check-ins."""

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, status
from starlette.concurrency import run_in_threadpool

from app.auth.deps import CallerDep
from app.config import get_settings
from app.db import SessionDep
from app.errors import UnsupportedMediaType
from app.followup import service
from app.followup.schemas import (
    CheckInIn,
    CheckInRead,
    MeetingImportReport,
    MeetingIn,
    MeetingRead,
)
from app.imports.reading import receive

router = APIRouter(tags=["follow-up"])

CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "UTF-8 CSV, comma or semicolon separated, with the header "
        "`match_id,date,minutes,mode`",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/v1/matches/{match_id}/meetings",
    response_model=MeetingRead,
    status_code=status.HTTP_201_CREATED,
)
def add_meeting(
    match_id: uuid.UUID, data: MeetingIn, session: SessionDep, caller: CallerDep
) -> MeetingRead:
    """Record a meeting of a started match (on a day between its start and its closure)."""
    meeting = service.add_meeting(session, caller, match_id, data, date.today())
    session.commit()
    return MeetingRead.model_validate(meeting)


@router.get("/v1/matches/{match_id}/meetings", response_model=list[MeetingRead])
def list_meetings(match_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> list[MeetingRead]:
    return [MeetingRead.model_validate(m) for m in service.meetings_of(session, caller, match_id)]


@router.post(
    "/v1/meetings/import",
    response_model=MeetingImportReport,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=CSV_BODY,
)
async def import_meetings(
    request: Request, session: SessionDep, caller: CallerDep
) -> MeetingImportReport:
    """Record many meetings at once, all or none (any invalid row: 422, nothing written)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("text/csv", "application/csv"):
        raise UnsupportedMediaType("send the meetings as text/csv")
    body = await receive(
        request.stream(), get_settings().max_import_bytes, request.headers.get("content-length")
    )

    def write() -> int:
        created = service.import_meetings(session, caller, body.file, date.today())
        session.commit()
        return created

    try:
        created = await run_in_threadpool(write)
    finally:
        body.close()
    return MeetingImportReport(created=created)


@router.post(
    "/v1/matches/{match_id}/check-ins",
    response_model=CheckInRead,
    status_code=status.HTTP_201_CREATED,
)
def add_check_in(
    match_id: uuid.UUID, data: CheckInIn, session: SessionDep, caller: CallerDep
) -> CheckInRead:
    """Record a check-in: the mentor and the young person each rate the relationship
    from 1 to 5, with an optional coded concern."""
    check_in = service.add_check_in(session, caller, match_id, data, date.today())
    session.commit()
    return CheckInRead.model_validate(check_in)


@router.get("/v1/matches/{match_id}/check-ins", response_model=list[CheckInRead])
def list_check_ins(
    match_id: uuid.UUID, session: SessionDep, caller: CallerDep
) -> list[CheckInRead]:
    return [CheckInRead.model_validate(c) for c in service.check_ins_of(session, caller, match_id)]
