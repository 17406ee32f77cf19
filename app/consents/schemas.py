import uuid
from datetime import datetime

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
