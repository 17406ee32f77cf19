import datetime as dt
import uuid
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.followup.models import Concern, MeetingMode


class MeetingIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"date": "2026-10-14", "minutes": 90, "mode": "in_person"}]
        },
    )

    date: dt.date = Field(description="the day the pair met (not in the future)")
    minutes: int = Field(ge=1, le=1440, description="how long they met, in minutes")
    mode: MeetingMode


class MeetingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    match_id: uuid.UUID
    date: dt.date = Field(validation_alias="held_on")
    minutes: int
    mode: MeetingMode
    created_at: dt.datetime


class MeetingImportReport(BaseModel):
    created: int


class CheckInIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"date": "2026-11-30", "mentor_rating": 4, "mentee_rating": 5}],
            # what _some_rating checks
            "anyOf": [
                {
                    "required": ["mentor_rating"],
                    "properties": {"mentor_rating": {"type": "integer"}},
                },
                {
                    "required": ["mentee_rating"],
                    "properties": {"mentee_rating": {"type": "integer"}},
                },
            ],
        },
    )

    date: dt.date
    mentor_rating: int | None = Field(default=None, ge=1, le=5)
    mentee_rating: int | None = Field(
        default=None, ge=1, le=5, description="the young person's rating of the relationship"
    )
    concern: Concern | None = None

    @model_validator(mode="after")
    def _some_rating(self) -> Self:
        if self.mentor_rating is None and self.mentee_rating is None:
            raise ValueError("give mentor_rating, mentee_rating or both")
        return self


class CheckInRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    match_id: uuid.UUID
    date: dt.date = Field(validation_alias="held_on")
    mentor_rating: int | None
    mentee_rating: int | None
    concern: Concern | None
    created_at: dt.datetime
