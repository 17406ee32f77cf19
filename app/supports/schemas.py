import uuid
from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.fields import ExternalId, Patch
from app.identity.schemas import IdentityIn
from app.vocabulary import Need


class SupportCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mentee_id": "7a0c8a57-5b8e-4a57-9d8b-1f0e2c3d4b5a",
                    "provider_id": "0b7e3c4d-2f1a-4c9e-8d7b-6a5f4e3d2c1b",
                    "need": "school_support",
                    "start_date": "2026-09-01",
                },
                {
                    "identity": {
                        "first_name": "Zoé-Marie",
                        "last_name": "N'Diaye",
                        "birth_date": "2011-04-02",
                    },
                    "need": "school_support",
                    "start_date": "2026-09-01",
                    "external_id": "CE93-2026-0042",
                },
            ],
            # what _dates checks first: a record or an identity, not both
            "oneOf": [
                {
                    "required": ["mentee_id"],
                    "properties": {"mentee_id": {"type": "string"}, "identity": {"type": "null"}},
                },
                {
                    "required": ["identity"],
                    "properties": {"identity": {"type": "object"}, "mentee_id": {"type": "null"}},
                },
            ],
        },
    )

    mentee_id: uuid.UUID | None = Field(
        default=None, description="the young person's record; or give identity instead"
    )
    identity: IdentityIn | None = Field(
        default=None,
        exclude=True,
        description="declare the support by identity alone (public bodies, associations): "
        "it applies to every record of that person, now or later; only a keyed hash is kept",
    )
    external_id: ExternalId | None = Field(
        default=None, description="the provider's own reference of this support"
    )
    provider_id: uuid.UUID | None = Field(
        default=None,
        description="organisation providing the support; defaults to the recording one",
    )
    programme_id: uuid.UUID | None = None
    need: Need
    start_date: date
    end_date: date | None = None
    organisation_id: uuid.UUID | None = Field(
        default=None, description="recording organisation; defaults to the caller's"
    )

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if (self.mentee_id is None) == (self.identity is None):
            raise ValueError("give either mentee_id or identity")
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class SupportUpdate(Patch):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"end_date": "2027-06-30"}]}
    )
    NULLABLE = frozenset({"end_date"})

    end_date: date | None = Field(default=None, description="set to close the support")


class SupportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    mentee_id: uuid.UUID | None = Field(description="null for a support declared by identity")
    external_id: str | None
    provider_id: uuid.UUID
    programme_id: uuid.UUID | None
    need: Need
    start_date: date
    end_date: date | None
    created_at: datetime
