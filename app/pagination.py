"""Pagination, sorting and query checking shared by every list endpoint.

- ``limit`` (at most ``BINOME_MAX_PAGE_SIZE``) and ``offset``: a larger ``limit`` is a 422
  naming it, not silently capped;
- ``sort``: one of the fields a list documents, ``-field`` for descending; ties broken by
  id, so pages never overlap;
- an unknown query parameter is a 422 naming it (``reject_unknown_query``, installed on
  every route by ``app.main``), not silently ignored.
"""

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel, WithJsonSchema
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.errors import ValidationFailed, field_error

T = TypeVar("T")

MAX_OFFSET = 1_000_000_000
"""Beyond any real list, and within what every database accepts as an OFFSET."""
MAX_PAGE_SIZE = Settings.model_fields["max_page_size"].default
"""The largest ``limit`` by default, stated in the schema (``maximum``); a deployment that
sets ``BINOME_MAX_PAGE_SIZE`` enforces its own."""


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[
        int | None,
        Query(ge=1, description="page size (default 50, at most `BINOME_MAX_PAGE_SIZE`, 500)"),
        # the bound is stated here and enforced by page_params, whose 422 names the
        # setting's value
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")] = 0,
) -> PageParams:
    settings = get_settings()
    if limit is not None and limit > settings.max_page_size:
        raise field_error("query.limit", f"must be at most {settings.max_page_size}")
    return PageParams(limit=limit or settings.default_page_size, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Sort:
    """An ``ORDER BY`` chosen by the client among documented columns."""

    def __init__(self, columns: list[Any]) -> None:
        self.columns = columns

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        """``stmt`` ordered by the client's choice (its own order when none)."""
        return stmt.order_by(None).order_by(*self.columns) if self.columns else stmt


def sorting(fields: Mapping[str, Any], tiebreak: Any) -> Callable[..., Sort]:
    """A ``sort`` query parameter over ``fields`` (name → column); ``tiebreak`` (a unique
    column) keeps the order total."""
    names = ", ".join(sorted(fields))
    name = "(?:" + "|".join(re.escape(field) for field in sorted(fields)) + ")"
    # what sort_param accepts: nothing, or fields separated by commas (spaces around them)
    pattern = rf"^(?:\s*-?{name}\s*(?:,\s*-?{name}\s*)*)?$"

    def sort_param(
        sort: Annotated[
            str | None,
            Query(
                description=f"order by one of: {names}; `-field` for descending; "
                "several separated by commas",
                examples=[f"-{next(iter(fields))}"],
            ),
            WithJsonSchema({"type": "string", "pattern": pattern}),
        ] = None,
    ) -> Sort:
        if not sort:
            return Sort([])
        columns = []
        for part in sort.split(","):
            name = part.strip().removeprefix("-")
            if name not in fields:
                raise field_error("query.sort", f"unknown sort field {name!r}; one of: {names}")
            column = fields[name]
            columns.append(column.desc() if part.strip().startswith("-") else column.asc())
        return Sort([*columns, tiebreak])

    return sort_param


def _query_names(dependant: Dependant) -> Iterator[str]:
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def reject_unknown_query(request: Request) -> None:
    """422 for each query parameter the operation does not declare (a misspelt filter
    would otherwise return everything, unfiltered)."""
    route = request.scope.get("route")
    dependant: Dependant | None = getattr(route, "dependant", None)
    if dependant is None or not request.query_params:
        return
    known = set(_query_names(dependant))
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        accepted = ", ".join(sorted(known)) or "none"
        raise ValidationFailed(
            [
                {
                    "field": f"query.{name}",
                    "message": f"unknown query parameter; accepted: {accepted}",
                }
                for name in unknown
            ]
        )


COUNT_CACHE_MIN_ROWS = 10_000
"""Counts this large are remembered for :data:`COUNT_CACHE_SECONDS`: paging through
160,000 young people must not count them all again for every page."""
COUNT_CACHE_SECONDS = 5.0
_counts: dict[tuple[Any, ...], tuple[float, int]] = {}
_counts_lock = threading.Lock()


def paginate(session: Session, stmt: Select[Any], page: PageParams) -> tuple[list[Any], int]:
    """Rows of one page (``stmt`` must be ordered, ideally along an index: the page is then
    an index range) and the total count.

    A total below :data:`COUNT_CACHE_MIN_ROWS` is exact; it costs no query when the page
    is the last one (a short page tells it). A larger total is counted again at most every
    :data:`COUNT_CACHE_SECONDS` per server process for the same filter, so it may be that
    many seconds old."""
    rows = list(session.scalars(stmt.limit(page.limit).offset(page.offset)))
    if 0 < len(rows) < page.limit or (not rows and page.offset == 0):
        return rows, page.offset + len(rows)
    return rows, _count(session, stmt)


def _count(session: Session, stmt: Select[Any]) -> int:
    cache_key = stmt._generate_cache_key()
    key = (
        id(session.get_bind()),
        cache_key.key if cache_key is not None else None,
        tuple(repr(bind.effective_value) for bind in cache_key.bindparams)
        if cache_key is not None
        else None,
    )
    now = time.monotonic()
    with _counts_lock:
        remembered = _counts.get(key) if cache_key is not None else None
    if remembered is not None and now - remembered[0] < COUNT_CACHE_SECONDS:
        return remembered[1]
    counted = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    total = int(counted or 0)
    if total >= COUNT_CACHE_MIN_ROWS and cache_key is not None:
        with _counts_lock:
            if len(_counts) > 1000:  # a bound on memory: forget everything, rarely
                _counts.clear()
            _counts[key] = (now, total)
    return total


S = TypeVar("S", bound=BaseModel)


def page_of(
    session: Session,
    stmt: Select[Any],
    page: PageParams,
    schema: type[S],
    sort: Sort | None = None,
) -> Page[S]:
    """Run ``stmt`` (ordered as ``sort`` says, if given) for one page and render its rows
    with ``schema``."""
    rows, total = paginate(session, sort.apply(stmt) if sort else stmt, page)
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
