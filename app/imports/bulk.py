"""Batched writes inside the session's transaction.

PostgreSQL gets ``COPY`` (rows streamed in the copy protocol; updates go through a
temporary table and one ``UPDATE … FROM``). Other backends (SQLite) get executemany
INSERT / UPDATE statements. Either way: one round trip per batch, not one per row.
"""

from enum import Enum
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

UPDATES_TABLE = "binome_import_updates"


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if not is_postgres(session):
        session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    _copy(session, statement, columns, rows)


def update_rows(session: Session, table: Table, rows: list[dict[str, Any]], key: str) -> None:
    """Update rows by primary key ``id``; each dict holds ``key`` (the id) and the same
    columns to set."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    if not is_postgres(session):
        session.execute(update(table).where(table.c.id == bindparam(key)), rows)
        return
    driver = _driver(session)
    names = sql.SQL(", ").join(map(sql.Identifier, ["id", *columns]))
    with driver.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {tmp} ON COMMIT DROP AS "
                "SELECT {names} FROM {table} WITH NO DATA"
            ).format(
                tmp=sql.Identifier(UPDATES_TABLE), names=names, table=sql.Identifier(table.name)
            )
        )
        cursor.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(UPDATES_TABLE)))
    copy_rows = [{"id": row[key], **{name: row[name] for name in columns}} for row in rows]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(UPDATES_TABLE), names)
    _copy(session, statement, ["id", *columns], copy_rows)
    assignments = sql.SQL(", ").join(
        sql.SQL("{col} = source.{col}").format(col=sql.Identifier(name)) for name in columns
    )
    with driver.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "UPDATE {table} AS target SET {assignments} FROM {tmp} AS source "
                "WHERE target.id = source.id"
            ).format(
                table=sql.Identifier(table.name),
                assignments=assignments,
                tmp=sql.Identifier(UPDATES_TABLE),
            )
        )


def _driver(session: Session) -> Any:
    """The psycopg connection of the session's current transaction."""
    return session.connection().connection.driver_connection


def _copy(
    session: Session, statement: sql.Composed, columns: list[str], rows: list[dict[str, Any]]
) -> None:
    with _driver(session).cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([_adapt(row[name]) for name in columns])


def _adapt(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return Jsonb([item.value if isinstance(item, Enum) else item for item in value])
    return value
