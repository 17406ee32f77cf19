"""Workers and liveness from the queue itself, with real worker processes."""

import json
import os
import signal
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.config import get_settings
from app.runs.executors import HOUSEKEEPING_MAX_SECONDS
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload
from tests.runs.conftest import Territory, Workers, create, finished, submit, wait_for


def test_a_run_queued_with_no_worker_alive_says_so(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    """Regression: with no worker alive a run stayed ``queued`` forever while /readyz
    said ready, without a word. On SQLite the service's own pool executes runs: never
    waiting for a worker."""
    if not workers.postgres:
        workers.start()
        run = submit(client, association)
        assert run["waiting_for_worker"] is False
        assert finished(client, association, run["id"])["status"] == "succeeded"
        assert client.get("/readyz").json()["executor"] == "pool"
        return
    run = submit(client, association)
    assert run["waiting_for_worker"] is True
    shown = client.get(f"/v1/matching-runs/{run['id']}", headers=association.headers).json()
    assert shown["waiting_for_worker"] is True
    listed = client.get("/v1/matching-runs", headers=association.headers).json()
    assert [r["waiting_for_worker"] for r in listed["items"]] == [True]
    ready = client.get("/readyz").json()
    assert ready["live_workers"] == 0
    assert ready["queued_runs"] == 1
    assert [w["code"] for w in ready["warnings"]] == ["waiting_for_worker"]

    workers.start()
    done = finished(client, association, run["id"])
    assert done["status"] == "succeeded", done
    assert done["waiting_for_worker"] is False
    ready = client.get("/readyz").json()
    assert ready["live_workers"] == 1
    assert ready["warnings"] == []


def test_a_killed_worker_fails_its_run_with_no_other_worker(
    client: TestClient, association: Actor, territory: Territory, workers: Workers, db_url: str
) -> None:
    """Regression: a worker killed with ``kill -9`` left its run ``running`` past the
    stale delay when no other worker ran (it was failed only when one started). The
    service process's own housekeeping fails it within the delay."""
    stale = 3.0
    process = workers.start(run_stale_seconds=stale)
    workers.hold()
    run = submit(client, association, mode="commit")
    running = wait_for(
        client,
        association,
        run["id"],
        lambda r: r["status"] == "running" and r["phase"] == "solving",
    )
    if process is not None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    else:
        os.kill(int(running["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
    killed = time.monotonic()
    failed = wait_for(client, association, run["id"], lambda r: r["status"] != "running", 30)
    assert failed["status"] == "failed", failed
    assert "nothing was written" in failed["error"]
    # Within the stale delay from the last heartbeat, plus the sweep's period (≤ 5 s).
    assert time.monotonic() - killed < stale + HOUSEKEEPING_MAX_SECONDS + 2.0
    assert client.get("/v1/matches", headers=association.headers).json()["total"] == 0


def test_two_workers_execute_two_separate_runs_at_once(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    """Two runs of programmes that share nothing execute at the same time, each in its
    own process; a third overlapping one of them is still refused."""
    other = create(
        client,
        association,
        "/v1/programmes",
        programme_payload(name="Parrainage Nord", departments=["59"]),
    )
    for _ in range(2):
        create(
            client,
            association,
            "/v1/mentors",
            mentor_payload(programme_ids=[other["id"]], location={"insee": "59350"}),
        )
        create(client, association, "/v1/mentees", mentee_payload(location={"insee": "59350"}))
    workers.start()
    workers.start()  # a second process on PostgreSQL; the pool has two on SQLite
    workers.hold()
    first = submit(client, association, programme_ids=[territory.programme["id"]])
    second = submit(client, association, programme_ids=[other["id"]])

    def both_solving() -> list[dict]:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            runs = [
                client.get(f"/v1/matching-runs/{r['id']}", headers=association.headers).json()
                for r in (first, second)
            ]
            if all(r["phase"] == "solving" for r in runs):
                return runs
            time.sleep(0.1)
        raise AssertionError(f"not both solving: {runs}")

    runs = both_solving()
    assert runs[0]["worker"] != runs[1]["worker"]
    refused = client.post(
        "/v1/matching-runs",
        json={"programme_ids": [other["id"]]},
        headers=association.headers,
    )
    assert refused.status_code == 409, refused.text
    workers.release()
    for run in (first, second):
        assert finished(client, association, run["id"])["status"] == "succeeded"


def test_status_reports_database_migration_queue_and_workers(
    db_url: str, workers: Workers, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["migration"] == "latest"
    assert report["queued_runs"] == 0
    if not workers.postgres:
        assert report["executor"] == "pool"
        return
    assert report["live_workers"] == 0
    assert [w["code"] for w in report["warnings"]] == ["waiting_for_worker"]
    workers.start()
    deadline = time.monotonic() + 60
    while report["live_workers"] != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
        main(["status"])
        report = json.loads(capsys.readouterr().out)
    assert report["live_workers"] == 1
    assert report["warnings"] == []


def test_status_fails_when_not_migrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BINOME_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        assert main(["status"]) == 1
    finally:
        get_settings.cache_clear()
    assert "binome migrate" in json.loads(capsys.readouterr().out)["migration"]
