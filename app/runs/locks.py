"""Database locks that keep overlapping runs apart, portable to SQLite and PostgreSQL.

PostgreSQL locks rows (the programmes of a scope) or takes a transaction-level advisory
lock; SQLite has a single writer, so taking the write lock up front (``BEGIN IMMEDIATE``)
serialises the whole check-then-write section.
"""

import uuid
from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.db import in_values
from app.programmes.models import Programme

# pg_advisory_xact_lock key of the results-writing section ("BNMW" in ASCII).
WRITE_LOCK_KEY = 0x424E4D57


def _sqlite_write_lock(session: Session) -> None:
    connection = session.connection()
    raw = connection.connection.driver_connection
    # The sqlite3 driver opens a transaction lazily, at the first write; before it, take
    # the write lock explicitly so that what we read stays true until we commit.
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_programmes(session: Session, programme_ids: Iterable[uuid.UUID]) -> None:
    """Until commit, no other transaction passes the same lock for a shared programme."""
    if session.get_bind().dialect.name == "sqlite":
        _sqlite_write_lock(session)
        return
    ids = sorted(set(programme_ids))
    session.execute(
        select(Programme.id)
        .where(in_values(Programme.id, ids))
        .order_by(Programme.id)
        .with_for_update()
    ).all()


def lock_writes(session: Session) -> None:
    """One results-writing section at a time (short: it only writes what was solved)."""
    if session.get_bind().dialect.name == "sqlite":
        _sqlite_write_lock(session)
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
