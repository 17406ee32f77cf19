"""Reusable, validated field types for the API schemas."""

import re
from datetime import date
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from app.geo import commune, departments, is_known_department
from app.vocabulary import LANGUAGE_PATTERN, Need


def unique_items(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(value)
    return values


UNIQUE_ITEMS = Field(json_schema_extra={"uniqueItems": True})
"""With ``AfterValidator(unique_items)``: the schema says that a value is listed once."""


def _known_department(code: str) -> str:
    if not is_known_department(code):
        raise ValueError(f"unknown department code {code!r}")
    return code


def _known_commune(code: str) -> str:
    if commune(code) is None:
        raise ValueError(f"unknown INSEE commune code {code!r}")
    return code


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day_only(value: object) -> object:
    # pydantic reads a number (or a string of digits) as a Unix timestamp: a query
    # parameter whose schema says a date takes an ISO date and nothing else.
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError(f"{value[:40]!r} is not a date (YYYY-MM-DD)")
    if not isinstance(value, str | date):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDay = Annotated[date, BeforeValidator(_iso_day_only)]
"""A calendar day written YYYY-MM-DD (no timestamp), for query parameters."""

NeedList = Annotated[
    list[Need],
    Field(min_length=1, max_length=len(Need), description="needs, most important first"),
    AfterValidator(unique_items),
    UNIQUE_ITEMS,
]
OptionalNeedList = Annotated[
    list[Need], Field(max_length=len(Need)), AfterValidator(unique_items), UNIQUE_ITEMS
]
Language = Annotated[str, Field(pattern=LANGUAGE_PATTERN, examples=["fr"])]
LanguageList = Annotated[
    list[Language], Field(max_length=10), AfterValidator(unique_items), UNIQUE_ITEMS
]
COMMUNE_FORMAT = "insee-commune"
"""The schema's ``format`` of an INSEE commune code: a code of the reference data (about
35,000, too many for an ``enum``; the ``pattern`` states their shape)."""
COMMUNE_PATTERN = r"^(?:[0-9]{2}|2[AB])[0-9]{3}$"
POSTCODE_FORMAT = "fr-postcode"
"""The schema's ``format`` of a postcode: one of the reference data (see COMMUNE_FORMAT)."""
POSTCODE_PATTERN = r"^[0-9]{5}$"


def department_schema() -> dict[str, object]:
    """The JSON schema of a department code: one of the reference data's."""
    return {"type": "string", "enum": list(departments())}


def commune_schema(pattern: str = COMMUNE_PATTERN) -> dict[str, object]:
    """The JSON schema of an INSEE commune code (see COMMUNE_FORMAT)."""
    return {
        "type": "string",
        "pattern": pattern,
        "format": COMMUNE_FORMAT,
        "description": f"INSEE commune code of the reference data (format `{COMMUNE_FORMAT}`)",
    }


DepartmentCode = Annotated[
    str,
    Field(min_length=2, max_length=3),
    AfterValidator(_known_department),
    WithJsonSchema(department_schema()),
]
CommuneCode = Annotated[
    str,
    Field(min_length=5, max_length=5),
    AfterValidator(_known_commune),
    WithJsonSchema(commune_schema()),
]
ExternalId = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$", examples=["EMP-0042"])
]
TravelKm = Annotated[int, Field(ge=0, le=300, description="maximum travel distance, km")]


class Patch(BaseModel):
    """Body of a PATCH: a field left out keeps its value; ``null`` clears it, which only
    the fields listed in ``NULLABLE`` accept (a required value is never silently lost)."""

    model_config = ConfigDict(extra="forbid")
    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The schema says what ``_not_null`` checks: only ``NULLABLE`` fields take null."""
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for name, prop in target.get("properties", {}).items():
            branches = prop.get("anyOf")
            if name in cls.NULLABLE or not branches or {"type": "null"} not in branches:
                continue
            rest = [branch for branch in branches if branch != {"type": "null"}]
            del prop["anyOf"]
            if prop.get("default", ...) is None:
                del prop["default"]
            if len(rest) == 1:
                prop.update(rest[0])
            else:
                prop["anyOf"] = rest
        return schema

    @field_validator("*", mode="after")
    @classmethod
    def _not_null(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value
