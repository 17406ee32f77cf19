"""Overlapping runs never execute at once; cancellation; a killed worker."""

import os
import signal
import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.service import authenticate
from app.db import engine_for, utcnow
from app.errors import Conflict
from app.matches.models import Match
from app.runs import service
from app.runs.executors import executor_for
from app.runs.models import (
    MatchingRun,
    RunMode,
    RunPhase,
    RunProposal,
    RunStatus,
    RunUnmatched,
)
from app.runs.schemas import RunCreate
from tests.api.conftest import Actor
from tests.runs.conftest import (
    Territory,
    Workers,
    finished,
    make_territory,
    solving,
    submit,
    wait_for,
)


def nothing_written(db_url: str, run_id: str) -> None:
    with Session(engine_for(db_url)) as session:
        run_uuid = uuid.UUID(run_id)
        for model in (RunProposal, RunUnmatched):
            count = session.scalar(
                select(func.count()).select_from(model).where(model.run_id == run_uuid)
            )
            assert count == 0, model
        assert session.scalar(select(func.count()).select_from(Match)) == 0


def test_overlapping_submission_is_refused_naming_the_run(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    other = make_territory(client, association, name="Parrainage lycéens 93")
    workers.start()
    workers.start()  # the two disjoint runs are held at once
    workers.hold()
    first = submit(client, association, mode="commit", programme_ids=[territory.programme["id"]])
    solving(client, association, first["id"])

    refused = client.post(
        "/v1/matching-runs", json={"mode": "dry_run"}, headers=association.headers
    )
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["run_id"] == first["id"]
    assert problem["programme_ids"] == [territory.programme["id"]]
    assert first["id"] in problem["detail"]

    # A disjoint scope is accepted, and held like the first.
    second = submit(client, association, mode="dry_run", programme_ids=[other.programme["id"]])
    solving(client, association, second["id"])
    workers.release()
    assert finished(client, association, first["id"])["status"] == "succeeded"
    assert finished(client, association, second["id"])["status"] == "succeeded"
    # Once the first run ended, the same scope can run again.
    third = submit(client, association, mode="dry_run")
    assert finished(client, association, third["id"])["status"] == "succeeded"


def _queue_directly(db_url: str, association: Actor, programme_ids: list[str]) -> str:
    """A queued run that skipped the submission check, as two racing submissions could
    produce: the executors must still keep it from running beside an overlapping one."""
    with Session(engine_for(db_url)) as session:
        run = MatchingRun(
            organisation_id=association.organisation_id,
            mode=RunMode.DRY_RUN,
            status=RunStatus.QUEUED,
            run_date=utcnow().date(),
            requested_programme_ids=[],
            departments=[],
            programme_ids=programme_ids,
            policy={},
            keep_running=True,
            phase=RunPhase.QUEUED,
            progress=0,
        )
        session.add(run)
        session.commit()
        run_id = run.id
    run.job_id = executor_for(db_url).submit(run_id)
    return str(run_id)


def test_overlapping_runs_never_execute_at_once(
    client: TestClient, association: Actor, territory: Territory, workers: Workers, db_url
) -> None:
    workers.start()
    workers.start()  # two workers on PostgreSQL; the pool has two processes on SQLite
    workers.hold()
    first = submit(client, association, mode="commit")
    solving(client, association, first["id"])

    second_id = _queue_directly(db_url, association, [territory.programme["id"]])
    waiting = wait_for(client, association, second_id, lambda r: r["phase"] == "waiting")
    assert waiting["status"] == "queued"

    workers.release()
    first_done = finished(client, association, first["id"])
    second_done = finished(client, association, second_id)
    assert first_done["status"] == second_done["status"] == "succeeded"
    assert second_done["started_at"] >= first_done["finished_at"]


def test_racing_submissions_one_wins(association: Actor, territory: Territory, db_url: str) -> None:
    with Session(engine_for(db_url)) as session:
        caller = authenticate(session, association.key)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        with Session(engine_for(db_url)) as session:
            barrier.wait()
            try:
                service.submit(session, caller, RunCreate(mode=RunMode.DRY_RUN))
                session.commit()
                outcomes.append("queued")
            except Conflict:
                session.rollback()
                outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["conflict", "queued"]


def test_cancel_a_running_run(
    client: TestClient, association: Actor, territory: Territory, workers: Workers, db_url
) -> None:
    workers.start()
    workers.hold()
    run = submit(client, association, mode="commit")
    solving(client, association, run["id"])

    response = client.post(f"/v1/matching-runs/{run['id']}/cancel", headers=association.headers)
    assert response.status_code == 202, response.text
    assert response.json()["cancel_requested"] is True

    done = finished(client, association, run["id"])
    assert done["status"] == "cancelled"
    nothing_written(db_url, run["id"])
    again = client.post(f"/v1/matching-runs/{run['id']}/cancel", headers=association.headers)
    assert again.status_code == 409


def test_cancel_a_queued_run(
    client: TestClient, association: Actor, territory: Territory, workers: Workers, db_url
) -> None:
    workers.start()
    workers.start()
    workers.hold()
    first = submit(client, association, mode="commit")
    solving(client, association, first["id"])
    queued_id = _queue_directly(db_url, association, [territory.programme["id"]])
    wait_for(client, association, queued_id, lambda r: r["phase"] == "waiting")

    response = client.post(f"/v1/matching-runs/{queued_id}/cancel", headers=association.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "cancelled"
    workers.release()
    assert finished(client, association, first["id"])["status"] == "succeeded"
    assert finished(client, association, queued_id)["status"] == "cancelled"
    with Session(engine_for(db_url)) as session:
        assert session.get(MatchingRun, uuid.UUID(queued_id)).started_at is None
        assert (
            session.scalar(
                select(func.count())
                .select_from(RunProposal)
                .where(RunProposal.run_id == uuid.UUID(queued_id))
            )
            == 0
        )


def test_killed_worker_fails_the_run_and_writes_nothing(
    client: TestClient, association: Actor, territory: Territory, workers: Workers, db_url
) -> None:
    process = workers.start()
    workers.hold()
    run = submit(client, association, mode="commit")
    running = solving(client, association, run["id"])

    if process is not None:  # PostgreSQL: kill the worker, another one notices
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        workers.start(run_stale_seconds=1)
        workers.configure(run_stale_seconds=60)  # the service keeps its own setting
    else:  # SQLite: kill the pool process solving the run
        pid = int(running["worker"].rsplit(":", 1)[1])
        assert pid != os.getpid()
        os.kill(pid, signal.SIGKILL)

    failed = finished(client, association, run["id"])
    assert failed["status"] == "failed"
    assert "nothing was written" in failed["error"]
    nothing_written(db_url, run["id"])

    # The executor recovers: the next run succeeds.
    workers.release()
    after = submit(client, association, mode="commit")
    done = finished(client, association, after["id"])
    assert done["status"] == "succeeded", done
    assert done["stats"]["written"]["created"] == 5


@pytest.mark.parametrize("stale", [True, False])
def test_stale_sweep(
    session: Session, association: Actor, territory: Territory, stale: bool
) -> None:
    from datetime import timedelta

    from app.runs.execution import fail_stale_runs

    run = MatchingRun(
        organisation_id=association.organisation_id,
        mode=RunMode.COMMIT,
        status=RunStatus.RUNNING,
        run_date=utcnow().date(),
        requested_programme_ids=[],
        departments=[],
        programme_ids=[territory.programme["id"]],
        policy={},
        keep_running=True,
        phase=RunPhase.SOLVING,
        progress=30,
        worker="elsewhere:1",
        heartbeat_at=utcnow() - timedelta(seconds=300 if stale else 1),
    )
    session.add(run)
    session.commit()
    fail_stale_runs(session, stale_seconds=60)
    session.commit()
    session.refresh(run)
    assert run.status is (RunStatus.FAILED if stale else RunStatus.RUNNING)
