import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.fields import Patch
from app.vocabulary import OrganisationKind

SIRET_PATTERN = r"^\d{14}$"


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "Proxité Seine-Saint-Denis", "kind": "association"}]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    kind: OrganisationKind
    siret: str | None = Field(default=None, pattern=SIRET_PATTERN, examples=["35600000000048"])


class OrganisationUpdate(Patch):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Proxité Seine-Saint-Denis"}]}
    )
    NULLABLE = frozenset({"siret"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    siret: str | None = Field(default=None, pattern=SIRET_PATTERN)


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: OrganisationKind
    siret: str | None
    created_at: datetime
