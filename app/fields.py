"""Reusable, validated field types for the API schemas."""

from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from app.geo import commune, is_known_department
from app.vocabulary import LANGUAGE_PATTERN, Need


def unique_items(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(value)
    return values


def _known_department(code: str) -> str:
    if not is_known_department(code):
        raise ValueError(f"unknown department code {code!r}")
    return code


def _known_commune(code: str) -> str:
    if commune(code) is None:
        raise ValueError(f"unknown INSEE commune code {code!r}")
    return code


NeedList = Annotated[
    list[Need],
    Field(min_length=1, max_length=len(Need), description="needs, most important first"),
    AfterValidator(unique_items),
]
OptionalNeedList = Annotated[list[Need], Field(max_length=len(Need)), AfterValidator(unique_items)]
Language = Annotated[str, Field(pattern=LANGUAGE_PATTERN, examples=["fr"])]
LanguageList = Annotated[list[Language], Field(max_length=10), AfterValidator(unique_items)]
DepartmentCode = Annotated[
    str, Field(min_length=2, max_length=3), AfterValidator(_known_department)
]
CommuneCode = Annotated[str, Field(min_length=5, max_length=5), AfterValidator(_known_commune)]
ExternalId = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$", examples=["EMP-0042"])
]
TravelKm = Annotated[int, Field(ge=0, le=300, description="maximum travel distance, km")]


class Patch(BaseModel):
    """Body of a PATCH: a field left out keeps its value; ``null`` clears it, which only
    the fields listed in ``NULLABLE`` accept (a required value is never silently lost)."""

    model_config = ConfigDict(extra="forbid")
    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _not_null(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value
