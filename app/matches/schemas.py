import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.matches.models import CloseReason, DeclineReason, MatchStatus

Note = Field(default=None, max_length=2000, description="free text, kept in the history")


class MatchRead(BaseModel):
    """A match as the association running the programme (or an admin) sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID = Field(description="the programme's association")
    mentee_id: uuid.UUID | None = Field(description="none once the young person was erased")
    mentor_id: uuid.UUID | None = Field(description="none once the volunteer was erased")
    programme_id: uuid.UUID
    run_id: uuid.UUID | None
    need: str
    status: MatchStatus = Field(
        validation_alias="effective_status",
        description="current status; a proposal past its expires_at reads as expired",
    )
    distance_km: float | None
    score: int | None
    proposed_at: datetime
    expires_at: datetime | None
    accepted_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    close_reason: CloseReason | None
    decline_reason: DeclineReason | None
    reason_note: str | None
    updated_at: datetime


class MatchEmployerView(BaseModel):
    """What an HR department sees of an employee's match: that it exists, and its status.
    Nothing about the young person."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    mentor_id: uuid.UUID | None
    programme_id: uuid.UUID
    status: MatchStatus = Field(validation_alias="effective_status")
    proposed_at: datetime
    accepted_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


class TransitionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "premier rendez-vous fixé au collège"}]},
    )

    note: str | None = Note


class DeclineIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "incompatibility", "note": "langue"}]},
    )

    reason: DeclineReason
    note: str | None = Note


class CloseIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "completed"}]}
    )

    reason: CloseReason
    note: str | None = Note


class MatchEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    match_id: uuid.UUID
    from_status: MatchStatus | None
    to_status: MatchStatus
    actor_key_id: uuid.UUID | None = Field(description="API key; null for the system")
    actor_organisation_id: uuid.UUID | None
    run_id: uuid.UUID | None
    at: datetime
    reason: str | None
    note: str | None
