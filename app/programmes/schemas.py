import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.fields import UNIQUE_ITEMS, CommuneCode, DepartmentCode, NeedList, Patch, unique_items

Age = Annotated[int, Field(ge=3, le=30)]


class ProgrammeBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    needs: NeedList
    departments: Annotated[list[DepartmentCode], AfterValidator(unique_items), UNIQUE_ITEMS] = []
    communes: Annotated[list[CommuneCode], AfterValidator(unique_items), UNIQUE_ITEMS] = []
    min_age: Age
    max_age: Age
    capacity: int = Field(ge=0, le=1_000_000, description="maximum running matches")
    remote_allowed: bool = False
    active: bool = True


class ProgrammeCreate(ProgrammeBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Parrainage collégiens Saint-Denis",
                    "needs": ["school_support", "orientation", "confidence"],
                    "departments": ["93"],
                    "min_age": 11,
                    "max_age": 16,
                    "capacity": 120,
                    "remote_allowed": False,
                }
            ],
            # what _coherent checks first: at least one department or commune
            "anyOf": [
                {"required": ["departments"], "properties": {"departments": {"minItems": 1}}},
                {"required": ["communes"], "properties": {"communes": {"minItems": 1}}},
            ],
        },
    )
    organisation_id: uuid.UUID | None = Field(
        default=None, description="running association; defaults to the caller's"
    )

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if not self.departments and not self.communes:
            raise ValueError("a programme covers at least one department or commune")
        if self.min_age > self.max_age:
            raise ValueError("min_age must not exceed max_age")
        return self


class ProgrammeUpdate(Patch):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"capacity": 80, "needs": ["school_support", "orientation"]}]
        },
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)
    needs: NeedList | None = None
    departments: (
        Annotated[list[DepartmentCode], AfterValidator(unique_items), UNIQUE_ITEMS] | None
    ) = None
    communes: Annotated[list[CommuneCode], AfterValidator(unique_items), UNIQUE_ITEMS] | None = None
    min_age: Age | None = None
    max_age: Age | None = None
    capacity: int | None = Field(default=None, ge=0, le=1_000_000)
    remote_allowed: bool | None = None
    active: bool | None = None


class ProgrammeRead(ProgrammeBase):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    created_at: datetime
