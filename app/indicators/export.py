"""The open export: one row per figure, described by a Frictionless Table Schema."""

import csv
import io
from typing import Any

from app.indicators.definitions import INDICATORS, Unit
from app.indicators.schemas import IndicatorsRead
from app.indicators.scopes import ScopeKind

COLUMNS = (
    "scope",
    "code",
    "period_start",
    "period_end",
    "as_of",
    "indicator",
    "breakdown",
    "value",
    "unit",
    "status",
    "definition_version",
)


def table_schema() -> dict[str, Any]:
    """The Frictionless Table Schema (https://specs.frictionlessdata.io/table-schema/)
    of ``GET /v1/indicators.csv``."""

    def text(name: str, description: str, **constraints: Any) -> dict[str, Any]:
        field: dict[str, Any] = {"name": name, "type": "string", "description": description}
        if constraints:
            field["constraints"] = constraints
        return field

    return {
        "fields": [
            text(
                "scope",
                "what the figures describe",
                required=True,
                enum=[kind.value for kind in ScopeKind],
            ),
            text(
                "code",
                "department or region code, organisation or programme id; empty for national",
            ),
            {
                "name": "period_start",
                "type": "date",
                "format": "%Y-%m-%d",
                "description": "first day of the period",
                "constraints": {"required": True},
            },
            {
                "name": "period_end",
                "type": "date",
                "format": "%Y-%m-%d",
                "description": "last day of the period",
                "constraints": {"required": True},
            },
            {
                "name": "as_of",
                "type": "date",
                "format": "%Y-%m-%d",
                "description": "last day the data describes",
                "constraints": {"required": True},
            },
            text(
                "indicator",
                "see docs/indicators.md",
                required=True,
                enum=sorted({i.key for i in INDICATORS}),
            ),
            text("breakdown", "close reason or group; empty for the whole scope"),
            {
                "name": "value",
                "type": "number",
                "description": "empty when withheld or not available",
                "constraints": {"minimum": 0},
            },
            text("unit", "unit of the value", required=True, enum=[u.value for u in Unit]),
            text(
                "status",
                "published, withheld or not_available",
                required=True,
                enum=["published", "withheld", "not_available"],
            ),
            text("definition_version", "version of the definitions", required=True),
        ],
        "missingValues": [""],
    }


def to_csv(result: IndicatorsRead) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for figure in result.figures:
        writer.writerow(
            [
                result.scope.value,
                result.code or "",
                result.period_start.isoformat(),
                result.period_end.isoformat(),
                result.as_of.isoformat(),
                figure.indicator,
                figure.breakdown or "",
                "" if figure.value is None else _number(figure.value),
                figure.unit,
                figure.status,
                result.definition_version,
            ]
        )
    return out.getvalue()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
