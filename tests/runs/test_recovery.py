"""A run left running by a process that died (killed service, lost machine) never blocks
its scope: the next submission, a cancel, or the service's own start end it."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import engine_for, utcnow
from app.main import create_app
from app.runs import executors
from app.runs.locks import lock_writes
from app.runs.models import MatchingRun, RunMode, RunPhase, RunStatus
from app.runs.worker import is_postgres
from tests.api.conftest import Actor
from tests.runs.conftest import Territory, Workers, finished

STALE_SECONDS = 60


def _left_behind(
    db_url: str, association: Actor, programme_id: str, status: RunStatus, silent_for: float
) -> uuid.UUID:
    """A run as a dead service process leaves it: no heartbeat for ``silent_for`` s."""
    running = status is RunStatus.RUNNING
    with Session(engine_for(db_url)) as session:
        run = MatchingRun(
            organisation_id=association.organisation_id,
            mode=RunMode.COMMIT,
            status=status,
            run_date=utcnow().date(),
            requested_programme_ids=[programme_id],
            departments=[],
            programme_ids=[programme_id],
            policy={},
            keep_running=True,
            phase=RunPhase.SOLVING if running else RunPhase.QUEUED,
            progress=30 if running else 0,
            worker="gone:4242" if running else None,
            heartbeat_at=utcnow() - timedelta(seconds=silent_for) if running else None,
        )
        session.add(run)
        session.commit()
        return run.id


def _status(db_url: str, run_id: uuid.UUID) -> tuple[RunStatus, str | None]:
    with Session(engine_for(db_url)) as session:
        run = session.get(MatchingRun, run_id)
        assert run is not None
        return run.status, run.error


@pytest.mark.parametrize("silent_for", [STALE_SECONDS + 30, 1])
def test_a_dead_run_does_not_block_an_overlapping_submission(
    client: TestClient,
    association: Actor,
    territory: Territory,
    workers: Workers,
    db_url: str,
    silent_for: float,
) -> None:
    workers.configure(run_stale_seconds=STALE_SECONDS)
    programme_id = territory.programme["id"]
    dead = _left_behind(db_url, association, programme_id, RunStatus.RUNNING, silent_for)
    response = client.post(
        "/v1/matching-runs", json={"programme_ids": [programme_id]}, headers=association.headers
    )
    if silent_for < STALE_SECONDS:  # alive as far as anyone can tell: still refused
        assert response.status_code == 409, response.text
        assert response.json()["run_id"] == str(dead)
        assert _status(db_url, dead)[0] is RunStatus.RUNNING
        return
    assert response.status_code == 202, response.text
    status, error = _status(db_url, dead)
    assert status is RunStatus.FAILED
    assert error is not None
    assert "stopped answering" in error


def test_cancel_ends_a_dead_run_at_once(
    client: TestClient,
    association: Actor,
    territory: Territory,
    workers: Workers,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The service's periodic sweep would fail the dead run first (it runs every few
    # seconds): this test is about the cancel alone.
    monkeypatch.setattr(executors, "housekeeping", lambda *_: None)
    workers.configure(run_stale_seconds=STALE_SECONDS)
    dead = _left_behind(
        db_url, association, territory.programme["id"], RunStatus.RUNNING, STALE_SECONDS + 30
    )
    response = client.post(f"/v1/matching-runs/{dead}/cancel", headers=association.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "cancelled"
    assert _status(db_url, dead)[0] is RunStatus.CANCELLED


def test_the_service_takes_over_what_a_dead_predecessor_left(
    association: Actor,
    territory: Territory,
    workers: Workers,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workers.configure(run_stale_seconds=STALE_SECONDS)
    programme_id = territory.programme["id"]
    dead = _left_behind(db_url, association, programme_id, RunStatus.RUNNING, STALE_SECONDS + 30)
    # Committed, never handed to an executor: its process died in between.
    waiting = _left_behind(db_url, association, programme_id, RunStatus.QUEUED, 0)
    if is_postgres(db_url):
        workers.start()  # a worker fails the dead run as it starts
    # A new service process: its own executor, started with the application.
    monkeypatch.setattr(executors, "_executors", {})
    with TestClient(create_app()) as restarted:
        run = finished(restarted, association, str(waiting))
        assert run["status"] == "succeeded", run
        assert _status(db_url, dead)[0] is RunStatus.FAILED


def test_a_run_being_written_is_not_taken_for_dead(
    client: TestClient, association: Actor, territory: Territory, workers: Workers, db_url: str
) -> None:
    # Its heartbeat waits for the row its writer holds: a sweep meanwhile (here, the one
    # of an overlapping submission) must leave it to finish, not fail it afterwards.
    workers.configure(run_stale_seconds=STALE_SECONDS)
    programme_id = territory.programme["id"]
    writing = _left_behind(db_url, association, programme_id, RunStatus.RUNNING, STALE_SECONDS + 30)
    locked = threading.Event()

    def write_results() -> None:
        with Session(engine_for(db_url)) as session:
            lock_writes(session)
            run = session.get(MatchingRun, writing, with_for_update=True)
            assert run is not None
            run.status, run.phase, run.progress = RunStatus.SUCCEEDED, RunPhase.DONE, 100
            session.flush()
            locked.set()
            time.sleep(1.0)  # a long write
            session.commit()

    writer = threading.Thread(target=write_results)
    writer.start()
    locked.wait(timeout=30)
    client.post(
        "/v1/matching-runs", json={"programme_ids": [programme_id]}, headers=association.headers
    )
    writer.join(timeout=60)
    assert _status(db_url, writing)[0] is RunStatus.SUCCEEDED
