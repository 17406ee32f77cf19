"""After a run, the territory tells which needs went unanswered and why."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload
from tests.runs.conftest import Territory, Workers, finished, submit


def test_diagnostic_reports_the_latest_run_reasons(
    client: TestClient,
    association: Actor,
    admin: Actor,
    public_body: Actor,
    territory: Territory,
    workers: Workers,
) -> None:
    before = client.get("/v1/territories/departments/93", headers=admin.headers).json()
    assert before["unanswered"] is None
    for _ in range(4):  # five more young people than the three mentors can take
        client.post(
            "/v1/mentees",
            json=mentee_payload(needs=["school_support"]),
            headers=association.headers,
        )
    workers.start()
    run = submit(client, association, mode="dry_run")
    done = finished(client, association, run["id"])
    assert done["status"] == "succeeded", done
    by_reason = done["stats"]["unmatched_by_reason"]

    exact = client.get("/v1/territories/departments/93", headers=admin.headers).json()
    unanswered = exact["unanswered"]
    assert unanswered["run_id"] == run["id"]
    expected = {r: n for r, n in by_reason.items() if n and r != "all_needs_supported"}
    assert unanswered["reasons"] == expected
    assert unanswered["reasons"]["no_programme"] == 1
    assert unanswered["needs_by_reason"]["no_programme"] == {"entrepreneurship": 1}
    assert unanswered["reasons"]["capacity_exhausted"] == 3
    assert unanswered["needs_by_reason"]["capacity_exhausted"]["school_support"] == 3

    public = client.get("/v1/territories/departments/93", headers=public_body.headers).json()
    assert public["unanswered"]["reasons"]["no_programme"] is None  # small count withheld
