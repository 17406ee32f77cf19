"""Migrations build the schema the models describe, and undo it cleanly."""

import os
import subprocess
import sys
import uuid

from alembic import command
from sqlalchemy import inspect

from app import migrate
from app.db import engine_for, make_engine
from app.runs.executors import QueueExecutor


def test_models_and_migrations_agree(db_url: str) -> None:
    # ``alembic check`` autogenerates against the migrated database: any drift fails.
    command.check(migrate.alembic_config(db_url))


def test_upgrade_downgrade_round_trip(db_url: str) -> None:
    engine = engine_for(db_url)
    migrate.downgrade(db_url, "base")
    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert not {t for t in remaining if not t.startswith("procrastinate")}
    migrate.upgrade(db_url)
    with engine.connect() as connection:
        assert migrate.at_head(connection)
    assert {"organisations", "mentors", "mentees", "supports"} <= set(
        inspect(engine).get_table_names()
    )


def test_replicas_starting_together_migrate_once(empty_pg_url: str) -> None:
    # PostgreSQL only: on SQLite one file is migrated by one process before serving.
    replicas = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "migrate"],
            cwd=migrate.PROJECT_ROOT,
            env={**os.environ, "BINOME_DATABASE_URL": empty_pg_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [replica.communicate(timeout=120)[0].decode() for replica in replicas]
    # None fails on a table or a version row that another one created.
    assert [r.returncode for r in replicas] == [0, 0, 0], outputs
    engine = make_engine(empty_pg_url)
    try:
        with engine.connect() as connection:
            assert migrate.at_head(connection)
    finally:
        engine.dispose()


def test_runs_queue_after_a_migration_recreated_the_queue(empty_pg_url: str) -> None:
    # A serving process keeps its queue connections across a migration (a rolling
    # upgrade, or a downgrade and upgrade): queueing a run must still work afterwards.
    migrate.upgrade(empty_pg_url)
    executor = QueueExecutor(empty_pg_url)
    try:
        for _ in range(6):  # past psycopg's threshold for preparing statements
            assert executor.submit(uuid.uuid4()) is not None
        migrate.downgrade(empty_pg_url, "base")
        migrate.upgrade(empty_pg_url)
        assert executor.submit(uuid.uuid4()) is not None
    finally:
        executor.app.close()
