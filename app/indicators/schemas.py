import datetime as dt
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from app.indicators.scopes import ScopeKind

if TYPE_CHECKING:
    from app.indicators.service import Indicators


class FigureRead(BaseModel):
    indicator: str
    breakdown: str | None = Field(
        description="the close reason or group the figure is about; null for the whole scope"
    )
    value: float | None = Field(description="null when withheld or not available")
    unit: str
    status: str = Field(description="published, withheld (small count) or not_available")


class IndicatorsRead(BaseModel):
    scope: ScopeKind
    code: str | None
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    definition_version: str = Field(description="the docs/indicators.md version behind figures")
    exact: bool = Field(description="true for admins: no small count withheld")
    figures: list[FigureRead]

    @classmethod
    def of(cls, result: "Indicators") -> "IndicatorsRead":
        """The API's rendering of computed indicators (JSON, CSV and the dashboard)."""
        return cls(
            scope=result.scope.kind,
            code=result.scope.code,
            period_start=result.period.start,
            period_end=result.period.end,
            as_of=result.period.as_of,
            definition_version=result.definition_version,
            exact=result.exact,
            figures=[
                FigureRead(
                    indicator=f.indicator,
                    breakdown=f.breakdown,
                    value=f.value,
                    unit=f.unit,
                    status=f.status,
                )
                for f in result.figures
            ],
        )
