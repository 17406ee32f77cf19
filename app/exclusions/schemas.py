import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from app.exclusions.models import ExclusionReason


class ExclusionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mentee_id": "7a0c8a57-5b8e-4a57-9d8b-1f0e2c3d4b5a",
                    "mentor_id": "2f1c1a4e-8d1b-4f7e-9a51-3c4f0b2d9e10",
                    "reason": "safeguarding",
                }
            ]
        },
    )

    mentee_id: uuid.UUID
    mentor_id: uuid.UUID
    reason: ExclusionReason


class ExclusionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    mentee_id: uuid.UUID
    mentor_id: uuid.UUID
    reason: ExclusionReason
    organisation_id: uuid.UUID
    declared_by_key_id: uuid.UUID | None
    created_at: datetime
    revoked_at: datetime | None
    revoked_by_key_id: uuid.UUID | None
