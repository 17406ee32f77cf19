import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.fields import ExternalId, LanguageList, OptionalNeedList, Patch, TravelKm
from app.identity.schemas import IdentityIn
from app.locations import LocationIn, LocationOut
from app.vocabulary import MentorKind

MENTOR_EXAMPLE: dict[str, Any] = {
    "external_id": "EMP-0042",
    "kind": "employee",
    "employer_id": "2f1c1a4e-8d1b-4f7e-9a51-3c4f0b2d9e10",
    "location": {"postcode": "93200"},
    "max_travel_km": 10,
    "remote_ok": True,
    "capacity": 2,
    "skills": ["employment", "orientation"],
    "languages": ["fr", "en"],
    "background_check_valid_until": "2027-06-30",
    "programme_ids": [],
}

IDENTITY_DESCRIPTION = (
    "optional: who the volunteer is, so that records submitted by several organisations "
    "share one capacity; only a keyed hash is kept"
)


class MentorFields(BaseModel):
    external_id: ExternalId
    kind: MentorKind
    employer_id: uuid.UUID | None = Field(
        default=None, description="employer (company or public body) of an employee"
    )
    max_travel_km: TravelKm = 10
    remote_ok: bool = False
    capacity: int = Field(default=1, ge=1, le=5, description="concurrent mentees")
    skills: OptionalNeedList = Field(min_length=1)
    languages: LanguageList = []
    background_check_valid_until: date | None = Field(
        default=None, description="end of validity of the criminal-record check (B2/B3)"
    )
    active: bool = True


class MentorCreate(MentorFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [MENTOR_EXAMPLE]})

    organisation_id: uuid.UUID | None = Field(
        default=None, description="submitting organisation; defaults to the caller's"
    )
    location: LocationIn
    programme_ids: list[uuid.UUID] = Field(default=[], max_length=50)
    identity: IdentityIn | None = Field(
        default=None, exclude=True, description=IDENTITY_DESCRIPTION
    )


class MentorUpdate(Patch):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"capacity": 2, "background_check_valid_until": "2027-06-30"}]
        },
    )
    NULLABLE = frozenset({"employer_id", "background_check_valid_until"})

    kind: MentorKind | None = None
    employer_id: uuid.UUID | None = None
    location: LocationIn | None = None
    max_travel_km: TravelKm | None = None
    remote_ok: bool | None = None
    capacity: int | None = Field(default=None, ge=1, le=5)
    skills: OptionalNeedList | None = Field(default=None, min_length=1)
    languages: LanguageList | None = None
    background_check_valid_until: date | None = None
    programme_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)
    active: bool | None = None
    identity: IdentityIn | None = Field(
        default=None, exclude=True, description=IDENTITY_DESCRIPTION
    )


class MentorRead(MentorFields):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    location: LocationOut
    programme_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime
