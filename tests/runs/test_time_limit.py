"""The solver's time limit stays within half of the delay after which a silent run is
taken for dead: an explicit one above it is refused, the default one lowered to it."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor
from tests.runs.conftest import Territory, Workers, finished, submit


def test_time_limit_within_half_the_stale_delay(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    workers.configure(run_stale_seconds=30)
    workers.hold()  # keep each run from finishing: the next one would overlap it

    refused = client.post(
        "/v1/matching-runs",
        json={"policy": {"mip_time_limit_s": 20}},
        headers=association.headers,
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "policy.mip_time_limit_s"

    lowered = submit(client, association, policy={"weights": {"qpv": 150}})
    assert lowered["policy"] == {"weights": {"qpv": 150}, "mip_time_limit_s": 15.0}
    cancel = client.post(f"/v1/matching-runs/{lowered['id']}/cancel", headers=association.headers)
    assert cancel.status_code == 202, cancel.text
    assert finished(client, association, lowered["id"])["status"] == "cancelled"

    workers.configure(run_stale_seconds=120)
    default = submit(client, association)
    assert default["policy"] == {}
