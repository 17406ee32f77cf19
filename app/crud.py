"""Small persistence helpers shared by the domain services."""

import uuid
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.db import Base
from app.errors import NotFound

M = TypeVar("M", bound=Base)


def get_visible(
    session: Session,
    model: type[M],
    record_id: uuid.UUID,
    scope: ColumnElement[bool] | None,
    *,
    for_update: bool = False,
) -> M:
    """The record if it exists *and* the caller may see it; otherwise a 404, so that
    records outside a caller's scope cannot be told apart from missing ones."""
    stmt = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    if scope is not None:
        stmt = stmt.where(scope)
    if for_update:
        stmt = stmt.with_for_update()
    record = session.scalars(stmt).first()
    if record is None:
        raise NotFound(f"no {model.__tablename__.rstrip('s')} {record_id}")
    return record


def assign(record: Base, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(record, name, value)
