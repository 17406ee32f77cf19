"""Where a person is: given as an INSEE code or a postcode, stored geocoded."""

from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from app.errors import ValidationFailed
from app.fields import POSTCODE_FORMAT, POSTCODE_PATTERN, commune_schema
from app.geo import GeocodingError, Place, geocode


class LocationIn(BaseModel):
    """A commune, by INSEE code or postcode; exact coordinates are optional."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"insee": "93066"}, {"postcode": "93200"}],
            # what _one_code checks: a code, and both coordinates or neither
            "allOf": [
                {
                    "anyOf": [
                        {"required": ["insee"], "properties": {"insee": {"type": "string"}}},
                        {
                            "required": ["postcode"],
                            "properties": {"postcode": {"type": "string"}},
                        },
                    ]
                },
                {
                    "anyOf": [
                        {
                            "required": ["lat", "lon"],
                            "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                        },
                        {"properties": {"lat": {"type": "null"}, "lon": {"type": "null"}}},
                    ]
                },
            ],
        },
    )

    # geocode() reads a code in either case (Corsica: 2A or 2a)
    insee: (
        Annotated[str, WithJsonSchema(commune_schema(r"^(?:[0-9]{2}|2[ABab])[0-9]{3}$"))] | None
    ) = Field(default=None, min_length=5, max_length=5, examples=["93066"])
    postcode: (
        Annotated[
            str,
            WithJsonSchema(
                {
                    "type": "string",
                    "pattern": POSTCODE_PATTERN,
                    "format": POSTCODE_FORMAT,
                    "description": "a postcode of the reference data (format "
                    f"`{POSTCODE_FORMAT}`); with `insee`, one that serves the commune",
                }
            ),
        ]
        | None
    ) = Field(default=None, pattern=POSTCODE_PATTERN, examples=["93200"])
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _one_code(self) -> Self:
        if self.insee is None and self.postcode is None:
            raise ValueError("give an INSEE commune code (insee) or a postcode")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class LocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    commune_insee: str
    commune_name: str
    department: str
    region: str
    lat: float
    lon: float


class LocatedMixin:
    """Geocoded location columns shared by mentors and mentees."""

    commune_insee: Mapped[str] = mapped_column(String(5), index=True)
    commune_name: Mapped[str] = mapped_column(String(120))
    department: Mapped[str] = mapped_column(String(3), index=True)
    region: Mapped[str] = mapped_column(String(3))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    @property
    def location(self) -> "LocatedMixin":
        """The record itself seen as a location, so read schemas nest it as ``location``."""
        return self


def resolve(location: LocationIn, field_prefix: str = "location") -> Place:
    """Geocode offline; an unknown code is a 422 naming the field."""
    try:
        return geocode(
            insee=location.insee, postcode=location.postcode, lat=location.lat, lon=location.lon
        )
    except GeocodingError as exc:
        raise ValidationFailed(
            [{"field": f"{field_prefix}.{exc.field}", "message": exc.message}]
        ) from exc


def location_columns(place: Place) -> dict[str, Any]:
    return {
        "commune_insee": place.commune_insee,
        "commune_name": place.commune_name,
        "department": place.department,
        "region": place.region,
        "lat": place.lat,
        "lon": place.lon,
    }
