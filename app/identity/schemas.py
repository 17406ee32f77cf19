from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.identity.normalise import normalise_name
from app.identity.vocabulary import DetachReason

Name = Annotated[str, Field(min_length=1, max_length=100)]


class IdentityIn(BaseModel):
    """Who the person is, sent once to compute a keyed hash and then forgotten: the
    service stores neither the names nor the birth date (nor echoes them in errors)."""

    model_config = ConfigDict(
        extra="forbid",
        hide_input_in_errors=True,
        json_schema_extra={
            "examples": [
                {"first_name": "Zoé-Marie", "last_name": "N'Diaye", "birth_date": "2011-04-02"}
            ]
        },
    )

    first_name: Name
    last_name: Name
    birth_date: date

    @field_validator("first_name", "last_name")
    @classmethod
    def _has_letters(cls, value: str) -> str:
        # The message must not repeat the value (it is personal data).
        if not normalise_name(value):
            raise ValueError("must contain at least one letter or digit")
        return value

    def __repr__(self) -> str:  # never in a log line or a traceback
        return "IdentityIn(<withheld>)"

    __str__ = __repr__


def check_birth_year(identity: IdentityIn | None, birth_year: int | None) -> None:
    """``birth_date`` must agree with the record's ``birth_year``."""
    if identity is not None and birth_year is not None and identity.birth_date.year != birth_year:
        raise ValueError("identity.birth_date must fall in birth_year")


class DetachIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "different_person"}]}
    )

    reason: DetachReason = Field(description="why this record is not the same person")


class IdentityStatus(BaseModel):
    """What an organisation learns about its own record — never the other records."""

    has_identity: bool
    detached: bool
    followed_elsewhere: bool
    needs_supported_elsewhere: list[str]
