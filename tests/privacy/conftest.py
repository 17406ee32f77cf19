"""Fixtures of the personal-data tests: the API cast, run executors, database dumps."""

import sqlite3
import subprocess

from sqlalchemy.engine import make_url

from tests.runs.conftest import *  # noqa: F403 - the API cast, territory and workers


def dump_database(db_url: str) -> list[str]:
    """Every line of a full dump of the database (one line per row): ``pg_dump`` on
    PostgreSQL, ``iterdump`` on SQLite — what a backup of it would hold."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(url.database))
        try:
            return list(connection.iterdump())
        finally:
            connection.close()
    command = [
        "pg_dump",
        "--inserts",
        "--no-owner",
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
        str(url.database),
    ]
    dumped = subprocess.run(command, check=True, capture_output=True, text=True)
    return dumped.stdout.splitlines()
