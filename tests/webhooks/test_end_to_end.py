"""A committed run, executed by the real background machinery of each backend (the
service's process pool on SQLite, a ``binome worker`` subprocess on PostgreSQL), and
its events delivered by that machinery's deliverer, without the test's help."""

import time

from tests.runs.conftest import finished, submit
from tests.webhooks.conftest import register


def test_a_committed_run_sends_run_and_match_events(
    client,
    association,
    territory,
    workers,
    receiver,
):
    hook = register(client, association, receiver.url, ["run.succeeded", "match.proposed"])
    workers.start()
    run = submit(client, association, mode="commit")
    done = finished(client, association, run["id"])
    assert done["status"] == "succeeded"
    proposed = done["diff"]["new"]
    assert proposed > 0
    deadline = time.monotonic() + 30
    while len(receiver.requests) < proposed + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    (succeeded,) = receiver.of_type("run.succeeded")
    assert succeeded.json["data"]["run"]["id"] == run["id"]
    assert succeeded.json["data"]["run"]["diff"]["new"] == proposed
    matches = receiver.of_type("match.proposed")
    assert len(matches) == proposed
    assert {m.json["data"]["match"]["run_id"] for m in matches} == {run["id"]}
    log = client.get(
        f"/v1/webhooks/{hook['id']}/deliveries?limit=500", headers=association.headers
    ).json()
    assert log["total"] == proposed + 1
    assert {d["status"] for d in log["items"]} == {"succeeded"}
