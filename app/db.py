"""Database engine, declarative base and the per-request session.

Services only ``flush``; the route that owns a write calls ``commit`` once, so a request
either lands completely or not at all.
"""

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, cast

from fastapi import Depends
from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, NullType, TypeDecorator

from app.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON on SQLite, JSONB on PostgreSQL (indexable, containment operator).
JsonList = JSON().with_variant(JSONB(), "postgresql")


def str_enum(enum: type[StrEnum], length: int = 30) -> Enum:
    """Store an enum by its value as a checked VARCHAR (portable, readable in SQL)."""
    return Enum(
        enum,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite forgets the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use app.db.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class json_list_contains(FunctionElement[bool]):  # noqa: N801 - used like a SQL function
    """``json_list_contains(column, value)``: the JSON array column holds ``value``."""

    type = Boolean()
    inherit_cache = True


@compiles(json_list_contains, "postgresql")
def _contains_pg(element: json_list_contains, compiler: Any, **kw: Any) -> str:
    column, value = list(element.clauses)
    return (
        f"({compiler.process(column, **kw)} @> "
        f"jsonb_build_array(CAST({compiler.process(value, **kw)} AS TEXT)))"
    )


@compiles(json_list_contains)
def _contains_default(element: json_list_contains, compiler: Any, **kw: Any) -> str:
    column, value = list(element.clauses)
    return (
        f"EXISTS (SELECT 1 FROM json_each({compiler.process(column, **kw)}) "
        f"WHERE json_each.value = {compiler.process(value, **kw)})"
    )


def contains(column: Any, value: str) -> ColumnElement[bool]:
    return json_list_contains(column, value)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,  # errors (and their logs) never show the values sent
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    settings = get_settings()
    # One connection per request in progress (the overload guard admits at most
    # max_concurrent_requests), and a few for the background threads (housekeeping,
    # queue) — so that an admitted request never waits for a connection.
    return create_engine(
        url,
        # Errors name the statement, never its values: no personal data in the logs, and
        # no megabytes of ids when a statement fails.
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=settings.max_concurrent_requests,
        max_overflow=4,
        pool_timeout=settings.db_pool_timeout_seconds,
        # No JIT compilation: the national tables' grouped queries are estimated costly
        # enough to be compiled, and compiling them took 1.5 of their 3 seconds (measured
        # at 160,000 young people); no query of the service runs long enough to win it back.
        connect_args={"options": "-c jit=off"},
    )


@event.listens_for(Session, "do_orm_execute")
def _sqlite_for_update(state: ORMExecuteState) -> None:
    """``SELECT … FOR UPDATE`` locks on SQLite too: SQLite ignores the clause, and its
    driver opens a transaction only at the first write, so two requests could read the
    same row, both decide, both write. Taking the write lock (``BEGIN IMMEDIATE``) before
    such a read serialises every read-decide-write section, as the row lock does on
    PostgreSQL."""
    statement = state.statement
    if not state.is_select or getattr(statement, "_for_update_arg", None) is None:
        return
    connection = state.session.connection(bind_arguments=state.bind_arguments)
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.driver_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@lru_cache
def _session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def new_session() -> Session:
    return _session_factory(get_engine())()


def get_session() -> Iterator[Session]:
    session = new_session()
    try:
        yield session
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


class ValueList(TypeDecorator[list[Any]]):
    """A list of values bound as ONE parameter, whatever its length: a PostgreSQL array,
    a JSON array on SQLite (read back with ``json_each``). Statements then keep the same
    shape from ten ids to a national scope (no ``IN (?, ?, …)`` of 65,536 parameters)."""

    impl = String
    cache_ok = True

    def __init__(self, item_type: Any) -> None:
        super().__init__()
        self.item_type = item_type

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(self.item_type))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: list[Any] | None, dialect: Any) -> Any:
        values = list(value or ())
        if dialect.name == "postgresql":
            return values
        item = self.item_type.dialect_impl(dialect).bind_processor(dialect)
        return json.dumps([item(v) if item else v for v in values])


class any_of(FunctionElement[bool]):  # noqa: N801 - used like a SQL operator
    """``column = ANY(:values)`` on PostgreSQL, ``column IN (SELECT value FROM
    json_each(:values))`` on SQLite: membership in a list bound as one parameter."""

    # Untyped on purpose: a Boolean element would be compared to 1 on SQLite
    # (``(x IN …) = 1``), which hides the membership from its index.
    type = NullType()  # type: ignore[assignment]
    inherit_cache = True


@compiles(any_of, "postgresql")
def _any_of_pg(element: any_of, compiler: Any, **kw: Any) -> str:
    column, values = list(element.clauses)
    return f"({compiler.process(column, **kw)} = ANY({compiler.process(values, **kw)}))"


@compiles(any_of)
def _any_of_default(element: any_of, compiler: Any, **kw: Any) -> str:
    column, values = list(element.clauses)
    return (
        f"({compiler.process(column, **kw)} IN "
        f"(SELECT value FROM json_each({compiler.process(values, **kw)})))"
    )


def in_values(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values``, with ``values`` bound as a single parameter."""
    element = any_of(column, bindparam(None, list(values), type_=ValueList(column.type)))
    return cast(ColumnElement[bool], element)


BULK_BATCH_ROWS = 5000


def bulk_insert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    between_batches: Callable[[], None] | None = None,
) -> None:
    """Insert ``rows`` (column name → value) in the session's transaction, fast: ``COPY``
    on PostgreSQL, ``executemany`` batches elsewhere. Columns missing from a row take
    their Python-side default, as with the ORM. ``between_batches`` is called after
    every batch (progress, cancellation: raising there aborts the insert)."""
    if not rows:
        return
    given = set(rows[0])  # every row names the same columns
    columns = [c for c in table.columns if c.name in given or c.default is not None]
    defaults = {c.name: c.default for c in columns if c.default is not None and c.name not in given}
    connection = session.connection()
    dialect = connection.dialect

    def complete(row: dict[str, Any]) -> dict[str, Any]:
        if not defaults:
            return row
        extra = {
            name: default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
            for name, default in defaults.items()
        }
        return {**extra, **row}

    for start in range(0, len(rows), BULK_BATCH_ROWS):
        batch = [complete(row) for row in rows[start : start + BULK_BATCH_ROWS]]
        if dialect.name == "postgresql":
            _copy(connection, table, columns, batch)
        else:
            connection.execute(table.insert(), batch)
        if between_batches is not None:
            between_batches()


def _copy(connection: Any, table: Table, columns: list[Any], rows: list[dict[str, Any]]) -> None:
    """``COPY … FROM STDIN`` through psycopg, each value bound as SQLAlchemy would."""
    dialect = connection.dialect
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    process(row[c.name]) if process and row[c.name] is not None else row[c.name]
                    for c, process in zip(columns, processors, strict=True)
                ]
            )


def analyze(engine: Engine, *tables: Table) -> None:
    """Refresh the planner's statistics of ``tables`` after a bulk load (PostgreSQL; its
    autovacuum may be off or late, and a plan made for an empty table stays bad)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table.name}")


def analyze_stale(engine: Engine, *tables: Table, changed: float = 0.1) -> list[str]:
    """``ANALYZE`` those of ``tables`` never analysed, or changed by more than ``changed``
    of their rows since (PostgreSQL): a bulk import followed at once by a run would
    otherwise be planned on the statistics of empty tables. Returns the tables analysed."""
    if engine.dialect.name != "postgresql":
        return []
    names = [t.name for t in tables]
    with engine.connect() as connection:
        stale = [
            str(name)
            for (name,) in connection.execute(
                text(
                    "SELECT s.relname FROM pg_stat_user_tables s "
                    "JOIN pg_class c ON c.oid = s.relid "
                    "WHERE s.relname = ANY(:names) AND s.schemaname = current_schema() AND "
                    "((s.last_analyze IS NULL AND s.last_autoanalyze IS NULL) "
                    " OR s.n_mod_since_analyze > :changed * greatest(c.reltuples, 1))"
                ),
                {"names": names, "changed": changed},
            )
        ]
    if stale:
        analyze(engine, *(t for t in tables if t.name in stale))
    return stale
