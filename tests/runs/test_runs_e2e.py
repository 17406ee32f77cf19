"""A run end to end through the API, on each database and its executor."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor
from tests.runs.conftest import Territory, Workers, finished, solving, submit


def test_commit_run_end_to_end(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    workers.start()
    workers.hold()
    run = submit(client, association, mode="commit")
    assert run["phase"] == "queued"
    assert run["programme_ids"] == [territory.programme["id"]]

    running = solving(client, association, run["id"])
    assert running["started_at"] is not None
    assert running["worker"]
    workers.release()

    done = finished(client, association, run["id"])
    assert done["status"] == "succeeded", done
    assert done["phase"] == "done"
    assert done["progress"] == 100
    assert done["error"] is None
    assert done["timings"]["duration_seconds"] is not None
    stats = done["stats"]
    assert stats["matched"] == 5
    assert stats["unmatched"] == 1
    assert stats["unmatched_by_reason"]["no_programme"] == 1
    assert stats["written"]["created"] == 5
    assert done["diff"]["new"] == 5

    proposals = client.get(
        f"/v1/matching-runs/{run['id']}/proposals?limit=2", headers=association.headers
    ).json()
    assert proposals["total"] == 5
    assert len(proposals["items"]) == 2
    first = proposals["items"][0]
    assert first["score"] == sum(first["score_breakdown"].values())
    assert first["distance_km"] is not None
    assert first["meeting_mode"] == "in_person"
    assert first["change"] == "new"
    assert first["match_id"] is not None

    unmatched = client.get(
        f"/v1/matching-runs/{run['id']}/unmatched", headers=association.headers
    ).json()
    assert [(u["mentee_id"], u["reason"]) for u in unmatched["items"]] == [
        (territory.unmatchable["id"], "no_programme")
    ]
    assert unmatched["items"][0]["sentence"]

    matches = client.get(f"/v1/matches?run_id={run['id']}", headers=association.headers).json()
    assert matches["total"] == 5
    assert {m["status"] for m in matches["items"]} == {"proposed"}
    assert all(m["expires_at"] for m in matches["items"])

    accepted = client.post(f"/v1/matches/{first['match_id']}/accept", headers=association.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"

    listed = client.get("/v1/matching-runs?status=succeeded", headers=association.headers)
    assert [r["id"] for r in listed.json()["items"]] == [run["id"]]


def test_dry_run_writes_no_match(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    workers.start()
    run = submit(client, association, mode="dry_run")
    done = finished(client, association, run["id"])
    assert done["status"] == "succeeded", done
    assert done["stats"]["matched"] == 5
    proposals = client.get(
        f"/v1/matching-runs/{run['id']}/proposals", headers=association.headers
    ).json()
    assert proposals["total"] == 5
    assert all(p["match_id"] is None for p in proposals["items"])
    assert client.get("/v1/matches", headers=association.headers).json()["total"] == 0
