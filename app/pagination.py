"""Offset pagination shared by every list endpoint."""

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


def paginate(session: Session, stmt: Select[Any], page: PageParams) -> tuple[list[Any], int]:
    """Rows of one page (``stmt`` must be ordered) and the total count."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(session.scalars(stmt.limit(page.limit).offset(page.offset)))
    return rows, int(total or 0)


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
