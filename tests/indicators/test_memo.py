"""National tables kept in memory are recomputed after any change of the data."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload


def young_people(client: TestClient, actor: Actor) -> int:
    body = client.get("/v1/territories", headers=actor.headers).json()
    return body["national"]["young_people"]


def test_figures_follow_creations_updates_and_erasures(
    client: TestClient, association: Actor, admin: Actor
) -> None:
    assert young_people(client, admin) == 0
    created = [
        client.post("/v1/mentees", json=mentee_payload(), headers=association.headers).json()
        for _ in range(3)
    ]
    assert young_people(client, admin) == 3
    url = f"/v1/mentees/{created[0]['id']}"
    assert client.patch(url, json={"active": False}, headers=association.headers).status_code == 200
    assert young_people(client, admin) == 2
    assert (
        client.delete(f"/v1/mentees/{created[1]['id']}", headers=association.headers).status_code
        == 204
    )
    assert young_people(client, admin) == 1
