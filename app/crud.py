"""Small persistence helpers shared by the domain services."""

import re
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Select, Table, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.db import Base
from app.errors import Conflict, NotFound

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
        raise NotFound(f"no {record_name(model)} {record_id}")
    return record


def record_name(model: type[Base]) -> str:
    """What one record is called in messages: ``MatchingRun`` → ``matching run``."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", model.__name__).lower()


def assign(record: Base, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(record, name, value)


def narrowed(
    stmt: Select[tuple[M]],
    *conditions: ColumnElement[bool] | None,
    equal: Iterable[tuple[Any, Any]] = (),
) -> Select[tuple[M]]:
    """``stmt`` restricted by every condition given and every ``column == value`` pair
    whose value is given (``None`` means "no filter")."""
    stmt = stmt.where(*(condition for condition in conditions if condition is not None))
    return stmt.where(*(column == value for column, value in equal if value is not None))


def linked_to(
    link: Table, owner_column: str, owner_id: Any, programme_id: uuid.UUID | None
) -> ColumnElement[bool] | None:
    """The record is linked to the programme through the association table ``link``."""
    if programme_id is None:
        return None
    return exists().where(link.c[owner_column] == owner_id, link.c.programme_id == programme_id)


def refuse_duplicate(
    session: Session,
    model: type[Base],
    where: Iterable[ColumnElement[bool]],
    *,
    fields: Iterable[str],
    what: str,
) -> None:
    """A 409 naming the fields and the existing record when a record with the same
    identity exists (a unique constraint backs this check against concurrent inserts)."""
    existing = session.scalar(select(model.id).where(*where).limit(1))  # type: ignore[attr-defined]
    if existing is None:
        return
    names = list(fields)
    raise Conflict(
        f"{what} already exists: {record_name(model)} {existing}",
        extra={
            "existing_id": str(existing),
            "errors": [
                {"field": name, "message": f"already recorded on {record_name(model)} {existing}"}
                for name in names
            ],
        },
    )
