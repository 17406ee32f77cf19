"""Rate limits: failed authentications per client address, requests per key; 429 with
Retry-After; shared between processes through Redis."""

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.main import create_app
from tests.api.conftest import Actor

BAD = {"X-API-Key": "bnm_not-a-key"}


@pytest.fixture
def limits_env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("BINOME_RATE_LIMIT_FAILED_AUTH", "5/minute")
    monkeypatch.setenv("BINOME_RATE_LIMIT_PER_KEY", "8/minute")
    monkeypatch.setenv("BINOME_RATE_LIMIT_KEY_PREFIX", f"test-{uuid.uuid4().hex}")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def assert_429(response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/rate-limited")
    assert 1 <= int(response.headers["retry-after"]) <= 60


def test_failed_authentications_are_limited_per_address(
    limits_env: pytest.MonkeyPatch, admin: Actor
) -> None:
    with TestClient(create_app()) as client:
        codes = [client.get("/v1/organisations", headers=BAD).status_code for _ in range(5)]
        assert codes == [401] * 5
        assert_429(client.get("/v1/organisations", headers=BAD))
        # Locked out: even a valid key is refused from this address until the window moves.
        assert_429(client.get("/v1/organisations", headers=admin.headers))


def test_requests_are_limited_per_key(
    limits_env: pytest.MonkeyPatch, admin: Actor, association: Actor
) -> None:
    with TestClient(create_app()) as client:
        for _ in range(8):
            assert client.get("/v1/programmes", headers=association.headers).status_code == 200
        assert_429(client.get("/v1/programmes", headers=association.headers))
        # Another key has its own allowance.
        assert client.get("/v1/programmes", headers=admin.headers).status_code == 200


def test_redis_shares_the_counters_between_processes(
    limits_env: pytest.MonkeyPatch, association: Actor
) -> None:
    limits_env.setenv("BINOME_RATE_LIMIT_STORAGE", "redis://127.0.0.1:6379/0")
    get_settings.cache_clear()
    first, second = create_app(), create_app()  # two processes serving the same API
    with TestClient(first) as one, TestClient(second) as two:
        for index in range(8):
            client = one if index % 2 else two
            assert client.get("/v1/programmes", headers=association.headers).status_code == 200
        assert_429(one.get("/v1/programmes", headers=association.headers))
        assert_429(two.get("/v1/programmes", headers=association.headers))


def test_an_unreachable_counter_store_lets_requests_through(
    limits_env: pytest.MonkeyPatch, association: Actor
) -> None:
    limits_env.setenv("BINOME_RATE_LIMIT_STORAGE", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        for _ in range(10):
            assert client.get("/v1/programmes", headers=association.headers).status_code == 200


def test_an_invalid_rate_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINOME_RATE_LIMIT_PER_KEY", "lots")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="expected a rate"):
        get_settings()
    get_settings.cache_clear()
