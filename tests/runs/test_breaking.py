"""Running pairs stay fixed unless a run is asked to break them (``break_running_pairs``)."""

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload
from tests.runs.conftest import Workers, create
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
    last = history.json()[-1]
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
