"""Portable day arithmetic for the aggregates (PostgreSQL and SQLite)."""

from typing import Any

from sqlalchemy import Date, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class utc_day(FunctionElement[Any]):  # noqa: N801 - used like a SQL function
    """The UTC calendar day of a timestamp column, as a day number: subtracting two
    gives whole days."""

    type = Integer()
    inherit_cache = True


@compiles(utc_day, "postgresql")
def _utc_day_pg(element: utc_day, compiler: Any, **kw: Any) -> str:
    (column,) = list(element.clauses)
    value = compiler.process(column, **kw)
    if isinstance(column.type, Date):
        return f"({value} - DATE '2000-01-01')"
    return f"(CAST(({value} AT TIME ZONE 'UTC') AS DATE) - DATE '2000-01-01')"


@compiles(utc_day)
def _utc_day_default(element: utc_day, compiler: Any, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return f"CAST(julianday(date({compiler.process(column, **kw)})) - 2451544.5 AS INTEGER)"
