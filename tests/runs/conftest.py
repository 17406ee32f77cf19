"""Fixtures of the run tests: a small territory to match, and the executors.

On PostgreSQL, runs execute in real ``binome worker`` subprocesses (started per test);
on SQLite, in the service's process pool. ``BINOME_RUN_HOLD_FILE`` lets a test hold a
run in its solving phase for as long as it needs (no sleeps, no timing assumptions).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.config import get_settings
from app.db import engine_for
from app.runs.worker import is_postgres
from tests.api.conftest import *  # noqa: F403 - the API cast and client fixtures
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120.0
FINAL = {"succeeded", "failed", "cancelled"}


def create(client: TestClient, actor: Actor, path: str, payload: dict) -> dict:
    response = client.post(path, json=payload, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()


def submit(client: TestClient, actor: Actor, **body: Any) -> dict:
    response = client.post("/v1/matching-runs", json=body, headers=actor.headers)
    assert response.status_code == 202, response.text
    run = response.json()
    assert response.headers["location"] == f"/v1/matching-runs/{run['id']}"
    assert run["status"] == "queued"
    return run


def wait_for(
    client: TestClient,
    actor: Actor,
    run_id: str,
    until: Callable[[dict], bool],
    timeout: float = TIMEOUT,
) -> dict:
    """Poll the run until ``until(run)``; fails after a generous timeout."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/matching-runs/{run_id}", headers=actor.headers)
        assert response.status_code == 200, response.text
        run = response.json()
        if until(run):
            return run
        if time.monotonic() > deadline:
            pytest.fail(f"run {run_id} stuck: {run}")
        time.sleep(0.05)


def finished(client: TestClient, actor: Actor, run_id: str) -> dict:
    return wait_for(client, actor, run_id, lambda r: r["status"] in FINAL)


def solving(client: TestClient, actor: Actor, run_id: str) -> dict:
    return wait_for(
        client, actor, run_id, lambda r: r["status"] == "running" and r["phase"] == "solving"
    )


@dataclass
class Territory:
    """A programme of ``association`` in Seine-Saint-Denis with three volunteers (two
    mentees each), five young people it can match and one whose need no programme
    addresses."""

    programme: dict
    mentors: list[dict]
    mentees: list[dict]
    unmatchable: dict
    extra: dict[str, Any] = field(default_factory=dict)


def make_territory(client: TestClient, association: Actor, **programme: Any) -> Territory:
    prog = create(client, association, "/v1/programmes", programme_payload(**programme))
    mentors = [
        create(client, association, "/v1/mentors", mentor_payload(programme_ids=[prog["id"]]))
        for _ in range(3)
    ]
    mentees = [
        create(client, association, "/v1/mentees", mentee_payload(needs=["school_support"]))
        for _ in range(5)
    ]
    unmatchable = create(
        client, association, "/v1/mentees", mentee_payload(needs=["entrepreneurship"])
    )
    return Territory(prog, mentors, mentees, unmatchable)


@pytest.fixture
def territory(client: TestClient, association: Actor) -> Territory:
    return make_territory(client, association)


class Workers:
    """Run executors for the database under test, configured through the environment."""

    def __init__(self, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.db_url = db_url
        self.monkeypatch = monkeypatch
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []
        self.postgres = is_postgres(db_url)
        self.hold_file = tmp_path / "hold"

    def hold(self) -> None:
        """Runs reaching their solving phase stay there until :meth:`release`."""
        self.hold_file.touch()

    def release(self) -> None:
        self.hold_file.unlink(missing_ok=True)

    def configure(self, **settings: Any) -> None:
        """Settings of the runs submitted from now on (and of workers started after)."""
        for name, value in settings.items():
            self.monkeypatch.setenv(f"BINOME_{name.upper()}", str(value))
        get_settings.cache_clear()

    def start(self, **settings: Any) -> subprocess.Popen[bytes] | None:
        """On PostgreSQL, a ``binome worker`` subprocess; on SQLite, the pool of the
        service process is used (it reads the settings at submission)."""
        self.configure(**settings)
        if not self.postgres:
            return None
        with (self.tmp_path / f"worker-{len(self.processes)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker"],
                cwd=PROJECT_ROOT,
                env={**os.environ, "BINOME_DATABASE_URL": self.db_url},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        self.release()
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Workers]:
    if is_postgres(db_url):
        # Jobs of earlier tests point at runs that were wiped, and workers killed by
        # earlier tests look alive until their heartbeat is 30 s old: drop both.
        with engine_for(db_url).begin() as connection:
            connection.execute(
                text(
                    "TRUNCATE procrastinate.procrastinate_jobs, "
                    "procrastinate.procrastinate_workers CASCADE"
                )
            )
    pool = Workers(db_url, monkeypatch, tmp_path)
    pool.configure(run_heartbeat_seconds=0.2, run_stale_seconds=60, run_hold_file=pool.hold_file)
    yield pool
    pool.stop()


def new_id() -> str:
    return str(uuid.uuid4())
