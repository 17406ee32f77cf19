"""Migration 0008 rebuilds ``matches`` on SQLite: the match history must survive it."""

import sqlite3
import uuid
from pathlib import Path

from alembic import command
from sqlalchemy import text

from app import migrate
from app.db import make_engine


def test_rebuilding_matches_on_sqlite_keeps_their_history(tmp_path: Path) -> None:
    path = tmp_path / "before.db"
    url = f"sqlite:///{path}"
    command.upgrade(migrate.alembic_config(url), "0004")
    match_id = uuid.uuid4().hex
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA foreign_keys=OFF")  # the match's parents are not needed here
    connection.execute(
        "INSERT INTO matches (id, organisation_id, mentee_id, mentor_id, programme_id, need, "
        "status, proposed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'orientation', "
        "'closed', '2026-01-01', '2026-01-01', '2026-01-01')",
        (match_id, *(uuid.uuid4().hex for _ in range(4))),
    )
    connection.execute(
        "INSERT INTO match_events (id, match_id, to_status, at) "
        "VALUES (?, ?, 'closed', '2026-01-01')",
        (uuid.uuid4().hex, match_id),
    )
    connection.commit()
    connection.close()

    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM match_events")).scalar() == 1
        assert db.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
