"""Liveness and readiness, as an orchestrator probes them."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.main import create_app


def test_liveness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_ready_when_migrated(client: TestClient, db_url: str) -> None:
    """Ready; on PostgreSQL with no worker alive, a warning says runs will wait."""
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["queued_runs"] == 0
    if db_url.startswith("postgresql"):
        assert body["executor"] == "queue"
        assert body["live_workers"] == 0
        assert [w["code"] for w in body["warnings"]] == ["waiting_for_worker"]
    else:
        assert body == {
            "status": "ready",
            "executor": "pool",
            "live_workers": None,
            "queued_runs": 0,
            "warnings": [],
        }


def test_not_ready_before_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINOME_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as client:
            response = client.get("/readyz")
    finally:
        get_settings.cache_clear()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "migration" in response.json()["detail"]


def test_not_ready_without_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "BINOME_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    )
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as client:
            response = client.get("/readyz")
    finally:
        get_settings.cache_clear()
    assert response.status_code == 503
    assert "unreachable" in response.json()["detail"]
