"""Query filters shared by list endpoints (territory, need)."""

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, WithJsonSchema
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.expression import ColumnElement

from app.errors import ValidationFailed
from app.fields import commune_schema, department_schema
from app.geo import commune, is_known_department


class TerritoryFilter(BaseModel):
    department: str | None = None
    commune: str | None = None
    commune_department: str | None = None

    def located(
        self, department_col: InstrumentedAttribute[str], commune_col: InstrumentedAttribute[str]
    ) -> list[ColumnElement[bool]]:
        """Conditions on a located record's own department / commune columns."""
        conditions: list[ColumnElement[bool]] = []
        if self.department is not None:
            conditions.append(department_col == self.department)
        if self.commune is not None:
            conditions.append(commune_col == self.commune)
        return conditions


def territory_filter(
    department: Annotated[
        str | None,
        Query(description="department code, e.g. 93 or 2A", max_length=3),
        WithJsonSchema(department_schema()),
    ] = None,
    commune_insee: Annotated[
        str | None,
        Query(alias="commune", description="INSEE commune code", max_length=5),
        WithJsonSchema(commune_schema()),
    ] = None,
) -> TerritoryFilter:
    errors = []
    if department is not None and not is_known_department(department):
        errors.append({"field": "department", "message": f"unknown department {department!r}"})
    found = commune(commune_insee) if commune_insee is not None else None
    if commune_insee is not None and found is None:
        errors.append({"field": "commune", "message": f"unknown INSEE code {commune_insee!r}"})
    if errors:
        raise ValidationFailed(errors)
    return TerritoryFilter(
        department=department,
        commune=commune_insee,
        commune_department=found.department if found else None,
    )


TerritoryDep = Annotated[TerritoryFilter, Depends(territory_filter)]
