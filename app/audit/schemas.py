import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    actor_key_id: uuid.UUID | None = Field(description="none: the system acted")
    actor_organisation_id: uuid.UUID | None
    organisation_id: uuid.UUID | None = Field(description="who owns the record acted on")
    action: str
    record_type: str
    record_id: uuid.UUID | None
    counts: dict[str, int] | None = Field(
        default=None, description="whole numbers only, e.g. an import's outcome"
    )
