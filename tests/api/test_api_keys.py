"""Listing API keys answers a page like every other list."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor


def issue(client: TestClient, admin: Actor, organisation_id: str, name: str) -> dict:
    response = client.post(
        "/v1/api-keys",
        json={"organisation_id": organisation_id, "role": "association", "name": name},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_api_keys_are_paginated(client: TestClient, admin: Actor, association: Actor) -> None:
    organisation_id = str(association.organisation_id)
    issued = [issue(client, admin, organisation_id, f"bo {i}")["id"] for i in range(3)]
    every = client.get("/v1/api-keys", headers=admin.headers)
    assert every.status_code == 200, every.text
    body = every.json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert body["total"] == 5  # the admin's key, the association's, and the three issued
    assert all("key" not in item for item in body["items"])

    seen = []
    for offset in (0, 2, 4):
        page = client.get(f"/v1/api-keys?limit=2&offset={offset}", headers=admin.headers).json()
        assert (page["total"], page["limit"], page["offset"]) == (5, 2, offset)
        seen += [item["id"] for item in page["items"]]
    assert sorted(seen) == sorted(item["id"] for item in body["items"])

    mine = client.get(
        f"/v1/api-keys?organisation_id={organisation_id}", headers=admin.headers
    ).json()
    assert mine["total"] == 4
    assert [item["id"] for item in mine["items"]][1:] == issued


def test_api_key_pages_are_validated(client: TestClient, admin: Actor) -> None:
    response = client.get("/v1/api-keys?limit=0", headers=admin.headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.limit"]
