"""Service settings, read from the environment (prefix ``BINOME_``)."""

from functools import lru_cache

from limits import parse
from pydantic import Field, SecretStr, field_validator
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
    retention_days: int = Field(
        default=730,
        ge=1,
        description="young people and volunteers with no activity for this long are erased "
        "by retention (CNIL reference for social support: 2 years after the last contact)",
    )
    retention_interval_hours: float = Field(
        default=24.0, ge=0, description="how often the periodic retention runs (0: never)"
    )
    audit_retention_days: int = Field(
        default=365, ge=1, description="audit log entries are kept this long"
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="where rate-limit counters live: memory:// (one process) or "
        "redis://host:6379 (shared by every process serving the API)",
    )
    rate_limit_failed_auth: str = Field(
        default="20/minute",
        description="failed authentications allowed per client address; empty: no limit",
    )
    rate_limit_per_key: str = Field(
        default="3000/minute", description="requests allowed per API key; empty: no limit"
    )
    rate_limit_key_prefix: str = Field(
        default="binome", description="prefix of the counters' keys in a shared store"
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
    session_secret: str = Field(
        default="",
        description="mixed into the dashboard's session signatures, so that a leaked "
        "database alone cannot forge a session; set it in production",
    )
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    identity_secret: SecretStr | None = Field(
        default=None,
        description="current key of the identity hashes (HMAC-SHA256); without it, "
        "identities are refused",
    )
    identity_key_version: int = Field(
        default=1, ge=1, description="version number of identity_secret"
    )
    identity_previous_secrets: SecretStr | None = Field(
        default=None,
        description="older keys still valid, as version:secret pairs separated by commas",
    )
    identity_secret_file: str = Field(
        default="",
        description="file of version:secret lines (the highest version is current); "
        "replaces the three settings above when set",
    )

    # Webhooks (app/webhooks).
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=50, description="attempts of one delivery before it is failed"
    )
    webhook_backoff_seconds: float = Field(
        default=10.0, gt=0, description="wait before the first retry; doubled at each retry"
    )
    webhook_max_backoff_seconds: float = Field(default=3600.0, gt=0)
    webhook_disable_after: int = Field(
        default=20, ge=1, description="consecutive failed attempts that disable an endpoint"
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_allowed_hosts: str = Field(
        default="",
        description="comma-separated hosts webhook endpoints may use (empty: any); "
        "others are refused at registration and never contacted",
    )
    webhook_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="how often the deliverer looks for due events"
    )

    @field_validator("rate_limit_failed_auth", "rate_limit_per_key")
    @classmethod
    def _rate(cls, value: str) -> str:
        if value.strip():
            try:
                parse(value)
            except ValueError as exc:
                raise ValueError(f"{value!r}: expected a rate such as 20/minute") from exc
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
