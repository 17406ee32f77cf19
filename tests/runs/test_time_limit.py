"""The solver's time limit is the policy's own: the heartbeat goes on while the engine
solves, so a short stale delay neither refuses nor lowers it."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor
from tests.runs.conftest import Territory, Workers, finished, submit


def test_time_limit_does_not_depend_on_the_stale_delay(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    workers.configure(run_stale_seconds=30)
    workers.start()

    explicit = submit(client, association, policy={"mip_time_limit_s": 300})
    assert explicit["policy"] == {"mip_time_limit_s": 300}
    assert finished(client, association, explicit["id"])["status"] == "succeeded"

    default = submit(client, association, policy={"weights": {"qpv": 150}})
    assert default["policy"] == {"weights": {"qpv": 150}}
    assert finished(client, association, default["id"])["status"] == "succeeded"

    beyond = client.post(
        "/v1/matching-runs",
        json={"policy": {"mip_time_limit_s": 4000}},
        headers=association.headers,
    )
    assert beyond.status_code == 422, beyond.text
    assert beyond.json()["errors"][0]["field"] == "policy.mip_time_limit_s"
