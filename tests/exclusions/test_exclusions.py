"""Exclusions declared directly: who may declare, list and revoke them; runs honour them."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload, mentor_payload
from tests.runs.conftest import Territory, Workers, create, finished, submit


def declare(client: TestClient, actor: Actor, mentee_id: str, mentor_id: str, **extra):
    body = {"mentee_id": mentee_id, "mentor_id": mentor_id, "reason": "safeguarding", **extra}
    return client.post("/v1/exclusions", json=body, headers=actor.headers)


def proposed_pairs(client: TestClient, actor: Actor) -> set[tuple[str, str]]:
    run = finished(client, actor, submit(client, actor, mode="dry_run")["id"])
    assert run["status"] == "succeeded", run
    response = client.get(
        f"/v1/matching-runs/{run['id']}/proposals?limit=500", headers=actor.headers
    )
    return {(p["mentee_id"], p["mentor_id"]) for p in response.json()["items"]}


def test_a_declared_exclusion_is_honoured_until_revoked(
    client: TestClient, association: Actor, admin: Actor, territory: Territory, workers: Workers
) -> None:
    workers.start()
    pairs = proposed_pairs(client, association)
    mentee_id, mentor_id = sorted(pairs)[0]
    response = declare(client, association, mentee_id, mentor_id)
    assert response.status_code == 201, response.text
    exclusion = response.json()
    assert exclusion["organisation_id"] == str(association.organisation_id)
    assert exclusion["revoked_at"] is None

    after = proposed_pairs(client, association)
    assert (mentee_id, mentor_id) not in after
    assert mentee_id in {mentee for mentee, _ in after}  # matched with someone else

    listed = client.get("/v1/exclusions?active=true", headers=admin.headers).json()
    assert [e["id"] for e in listed["items"]] == [exclusion["id"]]
    revoked = client.post(f"/v1/exclusions/{exclusion['id']}/revoke", headers=admin.headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    again = client.post(f"/v1/exclusions/{exclusion['id']}/revoke", headers=admin.headers)
    assert again.status_code == 409
    assert client.get("/v1/exclusions?active=true", headers=admin.headers).json()["total"] == 0


def test_the_same_pair_twice_is_a_409_naming_the_exclusion_in_force(
    client: TestClient, association: Actor, territory: Territory
) -> None:
    mentee, mentor = territory.mentees[0]["id"], territory.mentors[0]["id"]
    first = declare(client, association, mentee, mentor).json()
    second = declare(client, association, mentee, mentor, reason="incompatibility")
    assert second.status_code == 409, second.text
    assert second.json()["existing_id"] == first["id"]


def test_who_may_declare_list_and_revoke(
    client: TestClient,
    association: Actor,
    other_association: Actor,
    company: Actor,
    admin: Actor,
    territory: Territory,
) -> None:
    mentee, mentor = territory.mentees[0]["id"], territory.mentors[0]["id"]
    # Another association does not refer this young person: as for any unseen record, 404.
    assert declare(client, other_association, mentee, mentor).status_code == 404
    assert declare(client, company, mentee, mentor).status_code == 403
    # A volunteer the association neither sees nor was ever paired with: 404.
    stranger = create(client, other_association, "/v1/mentors", mentor_payload())
    assert declare(client, association, mentee, stranger["id"]).status_code == 404
    # Admins declare for anyone.
    made = declare(client, admin, mentee, stranger["id"])
    assert made.status_code == 201, made.text
    assert client.get("/v1/exclusions", headers=association.headers).status_code == 403
    revoke = client.post(f"/v1/exclusions/{made.json()['id']}/revoke", headers=association.headers)
    assert revoke.status_code == 403
    assert declare(client, association, mentee, mentor, reason="because").status_code == 422


def test_erasing_a_person_erases_their_exclusions(
    client: TestClient, association: Actor, admin: Actor, territory: Territory
) -> None:
    mentee = create(client, association, "/v1/mentees", mentee_payload())
    made = declare(client, association, mentee["id"], territory.mentors[0]["id"])
    assert made.status_code == 201
    deleted = client.delete(f"/v1/mentees/{mentee['id']}", headers=association.headers)
    assert deleted.status_code == 204
    assert client.get("/v1/exclusions", headers=admin.headers).json()["total"] == 0
