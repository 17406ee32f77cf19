import datetime as dt

from pydantic import BaseModel, Field

from app.indicators.scopes import ScopeKind


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
