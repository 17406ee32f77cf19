import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class EnrolmentRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mentor_id: uuid.UUID
    programme_id: uuid.UUID


class PendingEnrolment(EnrolmentRef):
    submitted_by: uuid.UUID
    """The organisation that submitted the volunteer's record."""


class EmployerRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mentor_id: uuid.UUID


class PendingEmployerLink(EmployerRef):
    employer_id: uuid.UUID
    submitted_by: uuid.UUID


class Confirmation(BaseModel):
    mentor_id: uuid.UUID
    confirmed: bool = True
    confirmed_at: datetime | None
    """None for a link within one organisation: it needs no confirmation."""
