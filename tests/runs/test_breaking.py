"""Running pairs stay fixed unless a run is asked to break them (``break_running_pairs``)."""

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload
from tests.runs.conftest import Workers, create, finished, solving, submit
from tests.runs.test_effects import post, proposals, run


@pytest.fixture
def rematch_worth_it(client: TestClient, association: Actor, workers: Workers) -> dict:
    """An active pair (A with M1) that blocks a second young person: B needs orientation,
    which only M1 offers, while A could be mentored by M2, who came later."""
    workers.start()
    programme = create(
        client,
        association,
        "/v1/programmes",
        programme_payload(needs=["school_support", "orientation"]),
    )

    def volunteer(skills: list[str]) -> dict:
        body = mentor_payload(capacity=1, skills=skills, programme_ids=[programme["id"]])
        return create(client, association, "/v1/mentors", body)

    def young(need: str) -> dict:
        return create(client, association, "/v1/mentees", mentee_payload(needs=[need]))

    m1, a = volunteer(["school_support", "orientation"]), young("school_support")
    first = run(client, association, mode="commit")
    (pair,) = proposals(client, association, first["id"])
    assert (pair["mentee_id"], pair["mentor_id"]) == (a["id"], m1["id"])
    post(client, association, f"/v1/matches/{pair['match_id']}/accept")
    post(client, association, f"/v1/matches/{pair['match_id']}/start")
    m2, b = volunteer(["school_support"]), young("orientation")
    return {"pair": pair["match_id"], "a": a, "b": b, "m1": m1, "m2": m2}


def _pairs(client: TestClient, actor: Actor, run_id: str) -> set[tuple[str, str, str]]:
    return {(p["mentee_id"], p["mentor_id"], p["change"]) for p in proposals(client, actor, run_id)}


def test_running_pairs_stay_unless_asked(
    client: TestClient, association: Actor, rematch_worth_it: dict
) -> None:
    for body in ({}, {"keep_running": False}):
        kept = run(client, association, mode="dry_run", **body)
        assert _pairs(client, association, kept["id"]) == set()  # B waits for M1
        assert kept["diff"]["untouched"] == 1


def test_a_dry_run_shows_the_rematch_and_breaks_nothing(
    client: TestClient, association: Actor, rematch_worth_it: dict
) -> None:
    s = rematch_worth_it
    what_if = run(client, association, keep_running=False, break_running_pairs=True)
    assert _pairs(client, association, what_if["id"]) == {
        (s["a"]["id"], s["m2"]["id"], "replaces"),
        (s["b"]["id"], s["m1"]["id"], "new"),
    }
    pair = client.get(f"/v1/matches/{s['pair']}", headers=association.headers).json()
    assert pair["status"] == "active"


def test_a_committed_rematch_closes_the_broken_pair(
    client: TestClient, association: Actor, rematch_worth_it: dict
) -> None:
    s = rematch_worth_it
    rematch = run(client, association, mode="commit", keep_running=False, break_running_pairs=True)
    assert rematch["break_running_pairs"] is True
    assert rematch["stats"]["written"]["broken"] == 1
    broken = client.get(f"/v1/matches/{s['pair']}", headers=association.headers).json()
    assert broken["status"] == "closed"
    assert broken["close_reason"] == "other"
    history = client.get(f"/v1/matches/{s['pair']}/history", headers=association.headers)
    last = history.json()["items"][-1]
    assert (last["to_status"], last["run_id"]) == ("closed", rematch["id"])
    assert "break_running_pairs" in last["note"]
    live = client.get("/v1/matches?status=proposed", headers=association.headers).json()
    assert {(m["mentee_id"], m["mentor_id"]) for m in live["items"]} == {
        (s["a"]["id"], s["m2"]["id"]),
        (s["b"]["id"], s["m1"]["id"]),
    }


def test_breaking_needs_reconsidering(
    client: TestClient, association: Actor, rematch_worth_it: dict
) -> None:
    response = client.post(
        "/v1/matching-runs", json={"break_running_pairs": True}, headers=association.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "break_running_pairs"


def test_a_rematch_whose_replacement_no_longer_holds_keeps_the_running_pair(
    client: TestClient, association: Actor, rematch_worth_it: dict, workers: Workers
) -> None:
    s = rematch_worth_it
    workers.hold()
    rematch = submit(
        client, association, mode="commit", keep_running=False, break_running_pairs=True
    )
    solving(client, association, rematch["id"])
    # While it solves, M2 — A's replacement mentor — leaves.
    gone = client.patch(
        f"/v1/mentors/{s['m2']['id']}", json={"active": False}, headers=association.headers
    )
    assert gone.status_code == 200, gone.text
    workers.release()
    done = finished(client, association, rematch["id"])
    assert done["status"] == "succeeded", done
    pair = client.get(f"/v1/matches/{s['pair']}", headers=association.headers).json()
    assert pair["status"] == "active"  # not broken for a replacement that cannot be
    assert "broken" not in done["stats"]["written"]
    skipped = {p["mentee_id"]: p["skipped"] for p in proposals(client, association, rematch["id"])}
    assert skipped == {s["a"]["id"]: "mentor_inactive", s["b"]["id"]: "mentor_capacity"}


def test_a_rematch_of_some_departments_leaves_the_others_pairs_alone(
    client: TestClient, association: Actor, workers: Workers
) -> None:
    workers.start()
    programme = create(
        client, association, "/v1/programmes", programme_payload(departments=["93", "95"])
    )
    create(
        client,
        association,
        "/v1/mentors",
        mentor_payload(capacity=2, max_travel_km=30, programme_ids=[programme["id"]]),
    )
    in_95 = create(
        client,
        association,
        "/v1/mentees",
        mentee_payload(location={"insee": "95018"}, max_travel_km=30),
    )
    (pair,) = proposals(client, association, run(client, association, mode="commit")["id"])
    assert pair["mentee_id"] == in_95["id"]
    post(client, association, f"/v1/matches/{pair['match_id']}/accept")
    post(client, association, f"/v1/matches/{pair['match_id']}/start")

    rematch_93 = run(
        client,
        association,
        mode="commit",
        departments=["93"],
        keep_running=False,
        break_running_pairs=True,
    )
    assert rematch_93["stats"]["snapshot"]["reconsidered_matches"] == 0
    match = client.get(f"/v1/matches/{pair['match_id']}", headers=association.headers).json()
    assert match["status"] == "active"
