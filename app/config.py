"""Service settings, read from the environment (prefix ``BINOME_``)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BINOME_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./binome.db",
        description="SQLAlchemy URL; PostgreSQL as postgresql+psycopg://user@host/db",
    )
    default_page_size: int = Field(default=50, ge=1, le=1000)
    max_page_size: int = Field(default=500, ge=1, le=10_000)
    max_import_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    idempotency_retention_hours: int = Field(default=24, ge=1)
    proposal_expiry_days: int = Field(default=14, ge=1)
    run_pool_workers: int = Field(default=2, ge=1, le=32)
    log_level: str = "INFO"
    import_max_errors: int = Field(
        default=1000, ge=1, description="row errors kept in an import report and its response"
    )
    import_batch_size: int = Field(default=2000, ge=1, le=50_000)
    run_heartbeat_seconds: float = Field(
        default=5.0, gt=0, le=300, description="how often a running run proves it is alive"
    )
    run_stale_seconds: float = Field(
        default=120.0,
        gt=0,
        description="a running run silent for this long is marked failed (its process died)",
    )
    run_worker_concurrency: int = Field(
        default=1, ge=1, le=16, description="runs one `binome worker` process executes at once"
    )
    max_concurrent_requests: int = Field(
        default=16,
        ge=1,
        le=200,
        description="requests one server process works on at once (each may hold a "
        "database connection: the pool is sized from it)",
    )
    request_queue_depth: int = Field(
        default=64, ge=0, description="requests waiting for capacity before a 503 at once"
    )
    request_queue_timeout_seconds: float = Field(
        default=2.0, gt=0, description="longest wait for capacity before a 503"
    )
    db_pool_timeout_seconds: float = Field(
        default=10.0, gt=0, description="longest wait for a database connection"
    )
    run_hold_file: str = Field(
        default="",
        description="testing aid: while this file exists, runs wait in the phase it names "
        "(loading, solving or writing; empty file: solving), still cancellable; empty in "
        "production",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
