"""Offset pagination shared by every list endpoint."""

import threading
import time
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.config import get_settings

T = TypeVar("T")

MAX_OFFSET = 1_000_000_000
"""Beyond any real list, and within what every database accepts as an OFFSET."""


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int | None, Query(ge=1, description="page size")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")] = 0,
) -> PageParams:
    settings = get_settings()
    size = min(limit or settings.default_page_size, settings.max_page_size)
    return PageParams(limit=size, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


COUNT_CACHE_MIN_ROWS = 10_000
"""Counts this large are remembered for :data:`COUNT_CACHE_SECONDS`: paging through
160,000 young people must not count them all again for every page."""
COUNT_CACHE_SECONDS = 5.0
_counts: dict[tuple[Any, ...], tuple[float, int]] = {}
_counts_lock = threading.Lock()


def paginate(session: Session, stmt: Select[Any], page: PageParams) -> tuple[list[Any], int]:
    """Rows of one page (``stmt`` must be ordered, ideally along an index: the page is then
    an index range) and the total count.

    The total is exact; it costs no query when the page is the last one (a short page
    tells it), and a large total (:data:`COUNT_CACHE_MIN_ROWS` or more) is counted again
    at most every :data:`COUNT_CACHE_SECONDS` per server process for the same filter."""
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


def page_of(session: Session, stmt: Select[Any], page: PageParams, schema: type[S]) -> Page[S]:
    """Run ``stmt`` for one page and render its rows with ``schema``."""
    rows, total = paginate(session, stmt, page)
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
