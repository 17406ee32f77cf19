"""A run's rows written fast: tuples straight into ``COPY`` on PostgreSQL.

The generic :func:`app.db.bulk_insert` takes one dict per row and passes every value
through its column's bind processor: at national scale (a hundred thousand proposals,
matches and history lines) that per-value Python work cost more than the database's own.
The results writer builds its rows as tuples of values PostgreSQL's ``COPY`` takes as
they are (UUIDs, numbers, aware UTC datetimes, plain strings); JSON columns are named and
serialised here. SQLite keeps the generic path (``executemany`` batches through the
column types), so what it stores is unchanged.
"""

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from app.db import BULK_BATCH_ROWS, bulk_insert

Row = tuple[Any, ...]


def _batches(rows: Iterable[Row]) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BULK_BATCH_ROWS)):
        yield batch


def write_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    json_columns: Sequence[str] = (),
    between_batches: Callable[[int], None] | None = None,
) -> int:
    """Insert ``rows`` (one value per name of ``columns``, in that order) in the session's
    transaction; returns how many. Rows are consumed a batch at a time (never all held as
    SQL-ready values at once); ``between_batches`` is called with each batch's size (it
    may raise to stop: the caller rolls back). Every column of ``table`` with a
    Python-side default must be given (no default is filled in here)."""
    missing = [c.name for c in table.columns if c.default is not None and c.name not in columns]
    if missing:
        raise ValueError(f"{table.name}: no value for {', '.join(missing)}")
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    encoded = [columns.index(name) for name in json_columns]
    count = 0
    for batch in _batches(rows):
        if postgresql:
            _copy(connection, table, columns, batch, encoded)
        else:
            bulk_insert(session, table, [dict(zip(columns, row, strict=True)) for row in batch])
        count += len(batch)
        if between_batches is not None:
            between_batches(len(batch))
    return count


def _copy(
    connection: Any, table: Table, columns: Sequence[str], batch: list[Row], encoded: list[int]
) -> None:
    """One ``COPY … FROM STDIN`` of ``batch``; JSON values serialised as SQLAlchemy's
    JSON type does (``json.dumps``), ``None`` left SQL ``NULL`` as ``bulk_insert`` does."""
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        if not encoded:
            for row in batch:
                copy.write_row(row)
            return
        for row in batch:
            values = list(row)
            for index in encoded:
                if values[index] is not None:
                    values[index] = json.dumps(values[index])
            copy.write_row(values)
