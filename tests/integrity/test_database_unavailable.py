"""The database unreachable: a 503 problem with Retry-After, never a 500."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.db import engine_for
from app.main import create_app


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/binome?connect_timeout=2",
        "sqlite:///{tmp}/no/such/directory/binome.db",
    ],
    ids=["postgresql", "sqlite"],
)
def test_unreachable_database_is_503_with_retry_after(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BINOME_DATABASE_URL", url.format(tmp=tmp_path))
    get_settings.cache_clear()
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            for method, path in (("GET", "/v1/organisations"), ("POST", "/v1/mentees")):
                response = client.request(
                    method, path, headers={"X-API-Key": "bnm_whatever"}, json={}
                )
                assert response.status_code == 503, response.text
                assert response.headers["content-type"].startswith("application/problem+json")
                assert int(response.headers["retry-after"]) > 0
                assert response.json()["type"].endswith("/database-unavailable")
    finally:
        engine_for.cache_clear()
        get_settings.cache_clear()
