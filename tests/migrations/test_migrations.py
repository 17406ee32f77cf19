"""Migrations build the schema the models describe, and undo it cleanly."""

from alembic import command
from sqlalchemy import inspect

from app import migrate
from app.db import engine_for


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
