import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.fields import ExternalId, LanguageList, NeedList, Patch, TravelKm
from app.identity.schemas import IdentityIn, check_birth_year
from app.locations import LocationIn, LocationOut
from app.vocabulary import Activity, Need, RuralZone

MIN_AGE, MAX_AGE = 5, 30

MENTEE_EXAMPLE: dict[str, Any] = {
    "external_id": "JEUNE-2025-118",
    "birth_year": 2010,
    "location": {"insee": "93066"},
    "qpv": True,
    "rural_zone": "none",
    "activity": "middle_school",
    "needs": ["school_support", "confidence"],
    "languages": ["fr", "ar"],
    "remote_ok": False,
    "max_travel_km": 5,
    "waiting_since": "2026-09-15",
}


def _plausible_birth_year(year: int | None) -> int | None:
    if year is None:
        return None
    this_year = date.today().year
    if not this_year - MAX_AGE <= year <= this_year - MIN_AGE:
        raise ValueError(f"must be between {this_year - MAX_AGE} and {this_year - MIN_AGE}")
    return year


def _birth_year_bounds(schema: dict[str, Any]) -> None:
    """The range _plausible_birth_year accepts, computed when the schema is built (the
    published document states the year it was written in)."""
    this_year = date.today().year
    branch = next((s for s in schema.get("anyOf", [schema]) if s.get("type") == "integer"), schema)
    branch |= {"minimum": this_year - MAX_AGE, "maximum": this_year - MIN_AGE}


IDENTITY_DESCRIPTION = (
    "optional: who the young person is, to recognise them across organisations; only a "
    "keyed hash is kept (birth_date must fall in birth_year)"
)


def _identity_agrees(identity: IdentityIn | None, info: ValidationInfo) -> IdentityIn | None:
    check_birth_year(identity, info.data.get("birth_year"))
    return identity


def _not_in_future(day: date | None) -> date | None:
    if day is not None and day > date.today():
        raise ValueError("must not be in the future")
    return day


class MenteeFields(BaseModel):
    external_id: ExternalId
    birth_year: int = Field(description="year only: the service never stores a birth date")
    qpv: bool = Field(default=False, description="lives in a priority neighbourhood (QPV)")
    rural_zone: RuralZone = RuralZone.NONE
    activity: Activity
    needs: NeedList
    languages: LanguageList = []
    remote_ok: bool = False
    max_travel_km: TravelKm = 5
    waiting_since: date = Field(default_factory=date.today)
    active: bool = True


class MenteeCreate(MenteeFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [MENTEE_EXAMPLE]})

    organisation_id: uuid.UUID | None = Field(
        default=None, description="referring association; defaults to the caller's"
    )
    birth_year: int = Field(
        description="year only: the service never stores a birth date; "
        f"the person is {MIN_AGE} to {MAX_AGE} this year",
        json_schema_extra=_birth_year_bounds,
    )
    location: LocationIn
    programme_ids: list[uuid.UUID] = Field(
        default=[], max_length=50, description="empty: open to any programme covering them"
    )
    identity: IdentityIn | None = Field(
        default=None, exclude=True, description=IDENTITY_DESCRIPTION
    )

    _birth_year = field_validator("birth_year")(_plausible_birth_year)
    _waiting = field_validator("waiting_since")(_not_in_future)
    _identity = field_validator("identity")(_identity_agrees)


class MenteeUpdate(Patch):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"needs": ["orientation", "confidence"], "max_travel_km": 8}]
        },
    )
    birth_year: int | None = Field(default=None, json_schema_extra=_birth_year_bounds)
    location: LocationIn | None = None
    qpv: bool | None = None
    rural_zone: RuralZone | None = None
    activity: Activity | None = None
    needs: NeedList | None = None
    languages: LanguageList | None = None
    remote_ok: bool | None = None
    max_travel_km: TravelKm | None = None
    waiting_since: date | None = None
    programme_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)
    active: bool | None = None
    identity: IdentityIn | None = Field(
        default=None, exclude=True, description=IDENTITY_DESCRIPTION
    )

    _birth_year = field_validator("birth_year")(_plausible_birth_year)
    _waiting = field_validator("waiting_since")(_not_in_future)
    _identity = field_validator("identity")(_identity_agrees)


class MenteeRead(MenteeFields):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    location: LocationOut
    programme_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime
    followed_elsewhere: bool = Field(
        default=False,
        description="another organisation follows the same young person (never which one)",
    )
    needs_supported_elsewhere: list[Need] = Field(
        default=[], description="needs already supported by another actor for this person"
    )
