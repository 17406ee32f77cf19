"""``GET /v1/indicators`` (JSON), ``GET /v1/indicators.csv`` and its Table Schema."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field, WithJsonSchema

from app.auth.deps import CallerDep
from app.db import SessionDep
from app.fields import IsoDay, department_schema
from app.indicators import export, service
from app.indicators.schemas import IndicatorsRead
from app.indicators.scopes import Period, Scope, ScopeKind, regions

router = APIRouter(tags=["indicators"])


ScopeCode = Annotated[
    str,
    Field(max_length=36),
    WithJsonSchema(
        {
            "anyOf": [
                department_schema(),
                {"type": "string", "enum": sorted(regions())},
                {"type": "string", "format": "uuid"},
            ]
        }
    ),
]
"""A department or region code, or an organisation or programme id: which one the scope
says (a rule across two parameters, checked by ``Scope.parse``)."""


class IndicatorQuery:
    def __init__(
        self,
        scope: Annotated[ScopeKind, Query(description="what the figures describe")] = (
            ScopeKind.NATIONAL
        ),
        code: Annotated[
            ScopeCode | None,
            Query(
                description=(
                    "department or region code, organisation or programme id, as the "
                    "scope says; none for the national scope"
                ),
                examples=["93"],
            ),
        ] = None,
        start: Annotated[IsoDay | None, Query(description="first day (default: end − 364)")] = None,
        end: Annotated[IsoDay | None, Query(description="last day (default: today)")] = None,
    ) -> None:
        self.scope = Scope.parse(scope, code)
        self.period = Period.of(start, end, date.today())


QueryDep = Annotated[IndicatorQuery, Depends()]


def indicators_of(session: SessionDep, caller: CallerDep, query: QueryDep) -> IndicatorsRead:
    result = service.compute(session, caller, query.scope, query.period)
    return IndicatorsRead.of(result)


@router.get("/v1/indicators", response_model=IndicatorsRead)
def get_indicators(result: Annotated[IndicatorsRead, Depends(indicators_of)]) -> IndicatorsRead:
    """The common impact measure of a scope over a period (docs/indicators.md). Counts
    from 1 to 4, and the cells that would reveal them, are withheld except for admins.
    Geographic scopes are open to every role; an organisation's figures to itself; a
    programme's to the association running it."""
    return result


@router.get(
    "/v1/indicators.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def get_indicators_csv(result: Annotated[IndicatorsRead, Depends(indicators_of)]) -> Response:
    """The same figures as CSV, one row per figure, described by
    ``/v1/indicators/schema.json``."""
    return Response(
        export.to_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Link": '</v1/indicators/schema.json>; rel="describedby"'},
    )


@router.get("/v1/indicators/schema.json")
def get_schema() -> dict[str, Any]:
    """Frictionless Table Schema of the CSV export."""
    return export.table_schema()
