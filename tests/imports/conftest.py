"""Import fixtures: the API cast of tests/api, and builders of CSV and JSON files."""

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.config import get_settings
from tests.api.conftest import (  # noqa: F401 - fixtures shared with the API tests
    Actor,
    admin,
    association,
    cast,
    client,
    company,
    other_association,
    other_company,
    public_body,
)

MENTOR_HEADER = [
    "external_id",
    "kind",
    "insee",
    "max_travel_km",
    "remote_ok",
    "capacity",
    "skills",
    "languages",
    "background_check_valid_until",
]
MENTEE_HEADER = [
    "external_id",
    "birth_year",
    "insee",
    "qpv",
    "activity",
    "needs",
    "languages",
    "waiting_since",
]


def mentor_row(external_id: str, **overrides: str) -> dict[str, str]:
    return {
        "external_id": external_id,
        "kind": "volunteer",
        "insee": "93066",
        "max_travel_km": "10",
        "remote_ok": "oui",
        "capacity": "2",
        "skills": "school_support|orientation",
        "languages": "fr|en",
        "background_check_valid_until": "2030-01-01",
        **overrides,
    }


def mentee_row(external_id: str, **overrides: str) -> dict[str, str]:
    return {
        "external_id": external_id,
        "birth_year": "2012",
        "insee": "93066",
        "qpv": "oui",
        "activity": "middle_school",
        "needs": "school_support|confidence",
        "languages": "fr",
        "waiting_since": "2026-09-01",
        **overrides,
    }


def to_csv(rows: list[dict[str, str]], separator: str = ",", bom: bool = False) -> bytes:
    header: list[str] = []
    for row in rows:
        header.extend(name for name in row if name not in header)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def post_import(
    api: TestClient,
    actor: Actor,
    kind: str,
    body: bytes | str | list[Any],
    *,
    content_type: str = "text/csv",
    headers: dict[str, str] | None = None,
    **params: Any,
) -> Response:
    if isinstance(body, list):
        body, content_type = json.dumps(body).encode(), "application/json"
    if isinstance(body, str):
        body = body.encode()
    query = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in params.items()
    }
    return api.post(
        f"/v1/{kind}/import",
        content=body,
        params=query,
        headers={**actor.headers, "content-type": content_type, **(headers or {})},
    )


def listed(api: TestClient, actor: Actor, kind: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/v1/{kind}", params={"limit": 500, **params}, headers=actor.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Override import settings for one test: ``settings_env(IMPORT_BATCH_SIZE=2)``."""

    def apply(**values: Any) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"BINOME_{name}", str(value))
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()
