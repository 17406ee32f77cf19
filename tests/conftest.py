"""Test databases: every DB-backed test runs on SQLite and on PostgreSQL.

Both are built by the real Alembic migrations. PostgreSQL tests skip when no server
answers, except under ``CI=true`` where a missing server is a failure.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import migrate
from app.config import get_settings
from app.db import Base, engine_for

# Tests call the API far faster, and with far more wrong keys, than any client should:
# rate limits are off unless a test sets them (tests/integrity/test_rate_limits.py).
os.environ.setdefault("BINOME_RATE_LIMIT_FAILED_AUTH", "")
os.environ.setdefault("BINOME_RATE_LIMIT_PER_KEY", "")

PG_ADMIN_DSN = os.environ.get(
    "BINOME_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test"
)


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _create_pg_database() -> tuple[str, str]:
    name = f"binome_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_DSN)
    user, host = params.get("user", "postgres"), params.get("host", "127.0.0.1")
    url = f"postgresql+psycopg://{user}@{host}:{params.get('port', 5432)}/{name}"
    return name, url


def _drop_pg_database(name: str, url: str) -> None:
    engine_for(url).dispose()
    engine_for.cache_clear()
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def _webhooks_stay_local(monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhook endpoints registered by any test (the OpenAPI fuzzer's included) may only
    point at this machine: no test ever sends a request elsewhere."""
    monkeypatch.setenv("BINOME_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1,localhost")
    get_settings.cache_clear()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "binome.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(url)
        yield url
        return
    _require_pg()
    name, url = _create_pg_database()
    try:
        migrate.upgrade(url)
        yield url
    finally:
        _drop_pg_database(name, url)


def _require_pg() -> None:
    if not _pg_available():
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail("PostgreSQL is required under CI=true but does not answer")
        pytest.skip("PostgreSQL not reachable")


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A new PostgreSQL database, not migrated, for tests about migrating itself."""
    _require_pg()
    name, url = _create_pg_database()
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wipe(url: str) -> None:
    engine = engine_for(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def db_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean, migrated database that the app under test is configured to use."""
    _wipe(database_url)
    monkeypatch.setenv("BINOME_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with Session(engine_for(db_url), expire_on_commit=False) as db_session:
        yield db_session
