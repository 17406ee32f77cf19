"""The territory's common impact measure: what matching did for its young people."""

from datetime import date

from fastapi.testclient import TestClient

from app.db import utcnow
from tests.api.conftest import Actor, mentee_payload
from tests.runs.conftest import Territory, Workers, finished, submit
from tests.runs.test_effects import post, proposals


def test_impact_follows_the_matches_of_the_territory(
    client: TestClient,
    association: Actor,
    admin: Actor,
    public_body: Actor,
    territory: Territory,
    workers: Workers,
) -> None:
    url = "/v1/territories/departments/93"
    empty = client.get(url, headers=admin.headers).json()["impact"]
    assert empty == {
        "proposed": 0,
        "running": 0,
        "active": 0,
        "completed": 0,
        "ended_early": 0,
        "young_people_mentored": 0,
        "median_days_to_first_meeting": None,
    }
    workers.start()
    run = finished(client, association, submit(client, association, mode="commit")["id"])
    assert run["status"] == "succeeded", run
    made = [p["match_id"] for p in proposals(client, association, run["id"])]
    assert len(made) == 5
    for match_id in made[:3]:
        post(client, association, f"/v1/matches/{match_id}/accept")
        post(client, association, f"/v1/matches/{match_id}/start")
    post(client, association, f"/v1/matches/{made[0]}/close", {"reason": "completed"})
    post(client, association, f"/v1/matches/{made[1]}/close", {"reason": "moved_away"})

    impact = client.get(url, headers=admin.headers).json()["impact"]
    waited = (utcnow().date() - date.fromisoformat(mentee_payload()["waiting_since"])).days
    assert impact == {
        "proposed": 2,
        "running": 1,
        "active": 1,
        "completed": 1,
        "ended_early": 1,
        "young_people_mentored": 3,
        "median_days_to_first_meeting": float(waited),
    }
    public = client.get(url, headers=public_body.headers).json()["impact"]
    assert public["young_people_mentored"] is None  # 3: withheld
    assert public["median_days_to_first_meeting"] is None  # fewer than five matches


def test_communes_count_their_young_people_in_rural_areas(
    client: TestClient, association: Actor, admin: Actor
) -> None:
    for zone in ("frr", "frr_plus", "none"):
        body = mentee_payload(rural_zone=zone, location={"insee": "93001"})
        assert client.post("/v1/mentees", json=body, headers=association.headers).status_code == 201
    communes = client.get("/v1/territories/departments/93", headers=admin.headers).json()
    (aubervilliers,) = [c for c in communes["communes"] if c["insee"] == "93001"]
    assert (aubervilliers["young_people"], aubervilliers["in_rural_area"]) == (3, 2)
