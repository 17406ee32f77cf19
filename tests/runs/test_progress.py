"""A running run shows how far its solve has got, not only its phase."""

from fastapi.testclient import TestClient

from app.runs.execution import SOLVING_PROGRESS
from tests.api.conftest import Actor
from tests.runs.conftest import Territory, Workers, finished, submit, wait_for


def test_progress_moves_while_the_engine_solves(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    workers.start()
    workers.hold()  # the solve pauses at its first step, once its candidates are known
    run = submit(client, association, mode="dry_run")
    start, end = SOLVING_PROGRESS
    held = wait_for(
        client,
        association,
        run["id"],
        lambda r: r["phase"] == "solving" and r["progress"] > start,
    )
    assert held["progress"] < end
    workers.release()
    done = finished(client, association, run["id"])
    assert (done["status"], done["progress"]) == ("succeeded", 100)
