"""A run's proposals show another association's young person only by need, commune, age
band and distance: not their id, score or score breakdown."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload
from tests.runs.conftest import Territory, Workers, create, finished, submit


def test_dry_run_proposals_withhold_young_people_referred_by_others(
    client: TestClient,
    association: Actor,
    other_association: Actor,
    admin: Actor,
    territory: Territory,
    workers: Workers,
) -> None:
    workers.start()
    theirs = create(
        client,
        other_association,
        "/v1/mentees",
        mentee_payload(needs=["school_support"], birth_year=2010, location={"insee": "93066"}),
    )
    assert client.get(f"/v1/mentees/{theirs['id']}", headers=association.headers).status_code == 404
    run = finished(client, association, submit(client, association, mode="dry_run")["id"])
    assert run["status"] == "succeeded", run
    items = client.get(
        f"/v1/matching-runs/{run['id']}/proposals?limit=500", headers=association.headers
    ).json()["items"]
    own_ids = {m["id"] for m in territory.mentees}
    hidden = [p for p in items if not p["mentee_disclosed"]]
    shown = [p for p in items if p["mentee_disclosed"]]
    assert shown
    assert {p["mentee_id"] for p in shown} <= own_ids
    assert all(p["score_breakdown"] and p["score"] is not None for p in shown)
    # The other association's young person is proposed (the run may match them), but
    # shown only by what is needed to act.
    assert len(hidden) == 1
    [proposal] = hidden
    assert proposal["mentee_id"] is None
    assert proposal["score"] is None
    assert proposal["score_breakdown"] is None
    assert proposal["need"] == "school_support"
    assert proposal["mentee_commune"] == "93066"
    assert proposal["mentee_age_band"] in {"15_17", "under_15"}
    assert proposal["distance_km"] is not None
    assert theirs["id"] not in str(items)
    # The CSV export withholds them the same way (id, external id and score).
    exported = client.get(
        f"/v1/matching-runs/{run['id']}/proposals.csv", headers=association.headers
    ).content.decode("utf-8-sig")
    assert theirs["id"] not in exported
    assert theirs["external_id"] not in exported
    assert len(exported.strip().splitlines()) == len(items) + 1
    # Admins see everything.
    everything = client.get(
        f"/v1/matching-runs/{run['id']}/proposals?limit=500", headers=admin.headers
    ).json()["items"]
    assert theirs["id"] in {p["mentee_id"] for p in everything}
    assert all(p["mentee_disclosed"] for p in everything)
    exported = client.get(
        f"/v1/matching-runs/{run['id']}/proposals.csv", headers=admin.headers
    ).content.decode("utf-8-sig")
    assert theirs["external_id"] in exported
