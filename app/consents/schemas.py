import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class EnrolmentRef(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mentor_id": "0b5e4e55-3f4e-4a51-9a0c-3c1f3e6c2a10",
                    "programme_id": "5d1c8f2e-7a34-4b8e-9c61-2f0d3e4a5b6c",
                }
            ]
        },
    )

    mentor_id: uuid.UUID
    programme_id: uuid.UUID


class PendingEnrolment(EnrolmentRef):
    submitted_by: uuid.UUID
    """The organisation that submitted the volunteer's record."""


class EmployerRef(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"mentor_id": "0b5e4e55-3f4e-4a51-9a0c-3c1f3e6c2a10"}]},
    )

    mentor_id: uuid.UUID


class PendingEmployerLink(EmployerRef):
    employer_id: uuid.UUID
    submitted_by: uuid.UUID


class Confirmation(BaseModel):
    mentor_id: uuid.UUID
    confirmed: bool = True
    confirmed_at: datetime | None
    """None for a link within one organisation: it needs no confirmation."""


class PendingCheck(EnrolmentRef):
    submitted_by: uuid.UUID
    """The organisation that submitted the volunteer's record (and declared the check)."""
    declared_valid_until: date
    """The date the record declares."""
    confirmed_valid_until: date | None
    """The date the programme's side confirmed before, if any (the record declares a
    later one since)."""


class CheckConfirmation(BaseModel):
    mentor_id: uuid.UUID
    programme_id: uuid.UUID
    confirmed_valid_until: date
    """Up to this date the check counts for the programme's minors."""
    confirmed_at: datetime | None
    """None when the record and the programme belong to one organisation: the check
    counts without confirmation."""
