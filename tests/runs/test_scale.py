"""Runs at scale: statements that keep their shape, honest phases, cancellation in every
phase, the run date."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.auth.service import Caller, authenticate
from app.db import analyze_stale, engine_for, utcnow
from app.runs import service
from app.runs.execution import execute_run
from app.runs.options import ExecutionOptions
from app.runs.schemas import RunCreate
from app.runs.snapshot import SNAPSHOT_TABLES
from tests.api.conftest import Actor, mentee_payload, mentor_payload
from tests.runs.conftest import (
    Territory,
    Workers,
    create,
    finished,
    submit,
    wait_for,
)

MANY = 60
"""Young people in the scope of the statement-shape test: an IN list of their ids would
need more parameters than any statement of a run may have."""
MAX_PARAMETERS = 12


@contextmanager
def statements(db_url: str) -> Iterator[list[tuple[str, int, bool]]]:
    """Every statement the engine of ``db_url`` executes meanwhile: SQL, parameter count
    (of one row, for executemany), executemany."""
    engine = engine_for(db_url)
    seen: list[tuple[str, int, bool]] = []

    def capture(
        _conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, executemany: bool
    ) -> None:
        one = parameters[0] if executemany and parameters else parameters
        seen.append((sql, len(one or ()), executemany))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def test_no_statement_of_a_run_grows_with_its_scope(
    client: TestClient, association: Actor, territory: Territory, session: Session, db_url: str
) -> None:
    """Regression: the snapshot and the re-validation bound every id of the scope as a
    parameter (``IN (…)``), past 65,535 of them PostgreSQL refused the statement. A
    committed rematch that reconsiders earlier proposals, executed in this process so
    that its statements are seen: each has a handful of parameters, whatever the scope."""
    programme_id = territory.programme["id"]
    for _ in range(MANY):
        create(client, association, "/v1/mentees", mentee_payload(needs=["school_support"]))
    for _ in range(10):
        create(client, association, "/v1/mentors", mentor_payload(programme_ids=[programme_id]))
    caller = Caller(
        key_id=authenticate(session, association.key).key_id,
        organisation_id=association.organisation_id,
        role=association.role,
    )
    options = ExecutionOptions(database_url=db_url, heartbeat_seconds=0.2)

    def run(**body: Any) -> dict[str, Any]:
        created = service.submit(session, caller, RunCreate(mode="commit", **body))
        session.commit()
        with statements(db_url) as seen:
            assert execute_run(created.id, options) == "succeeded"
        session.expire_all()
        done = service.get(session, caller, created.id)
        return {"seen": seen, "stats": done.stats, "diff": done.diff}

    first = run()
    assert first["stats"]["snapshot"]["mentees"] > MANY
    assert first["stats"]["written"]["created"] == 26  # every volunteer's capacity
    second = run(keep_running=False)
    assert second["stats"]["snapshot"]["reconsidered_matches"] == 26
    assert second["diff"]["kept"] + second["diff"]["replaces"] == 26
    for sql, count, many in first["seen"] + second["seen"]:
        assert count <= MAX_PARAMETERS or many, (count, sql[:300])
    if db_url.startswith("postgresql"):
        # Rows go through COPY, not statements with a parameter per value.
        inserts = [sql for sql, _, _ in first["seen"] if sql.startswith("INSERT INTO matches")]
        assert inserts == []


def test_phases_and_duration_cover_all_the_work(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    """Regression: ``finished_at`` was taken before the results were written, so the
    duration left the writing out."""
    workers.start()
    run = submit(client, association, mode="commit")
    done = finished(client, association, run["id"])
    assert done["status"] == "succeeded", done
    phases = done["stats"]["phases"]
    assert set(phases) == {"queued", "loading", "solving", "writing"}
    assert all(value >= 0 for value in phases.values())
    work = phases["loading"] + phases["solving"] + phases["writing"]
    assert done["timings"]["duration_seconds"] >= work - 0.01
    assert done["timings"]["phases"] == phases
    assert abs(done["timings"]["queued_seconds"] - phases["queued"]) < 0.01


@pytest.mark.parametrize("phase", ["loading", "solving", "writing"])
def test_cancel_is_honoured_within_two_seconds_in_every_phase(
    client: TestClient, association: Actor, territory: Territory, workers: Workers, phase: str
) -> None:
    """Regression: a cancel sent while the run loaded took effect once the loading ended
    (13 s later at 20,000 young people). Held in the phase, the run stops within 2 s of
    the request and writes nothing."""
    if phase == "writing" and not workers.postgres:
        pytest.skip("SQLite has one writer: a cancel waits for the results being written")
    workers.start()
    workers.hold_file.write_text(phase)
    run = submit(client, association, mode="commit")
    wait_for(
        client, association, run["id"], lambda r: r["status"] == "running" and r["phase"] == phase
    )
    time.sleep(0.3)  # the run is inside the phase, waiting between two steps
    asked = time.monotonic()
    response = client.post(f"/v1/matching-runs/{run['id']}/cancel", headers=association.headers)
    assert response.status_code == 202, response.text
    done = wait_for(client, association, run["id"], lambda r: r["status"] != "running", 2.0)
    assert done["status"] == "cancelled", done
    assert time.monotonic() - asked < 2.0
    assert client.get("/v1/matches", headers=association.headers).json()["total"] == 0
    proposals = client.get(f"/v1/matching-runs/{run['id']}/proposals", headers=association.headers)
    assert proposals.json()["total"] == 0


def test_progress_moves_while_loading(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    workers.start(run_heartbeat_seconds=0.1)
    workers.hold_file.write_text("loading")
    run = submit(client, association, mode="dry_run")
    held = wait_for(
        client,
        association,
        run["id"],
        lambda r: r["phase"] == "loading" and r["progress"] > 5,
    )
    assert 5 < held["progress"] <= 30
    first_beat = held["heartbeat_at"]
    later = wait_for(client, association, run["id"], lambda r: r["heartbeat_at"] != first_beat)
    assert later["status"] == "running"
    workers.release()
    assert finished(client, association, run["id"])["status"] == "succeeded"


def test_run_date_decides_background_checks(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    """A run dated after the volunteers' background checks expire proposes nothing, and
    says why; dated today it matches."""
    today = utcnow().date()
    expiring = create(
        client,
        association,
        "/v1/programmes",
        {
            "name": "Rentrée",
            "needs": ["orientation"],
            "departments": ["93"],
            "min_age": 11,
            "max_age": 18,
            "capacity": 10,
        },
    )
    create(
        client,
        association,
        "/v1/mentors",
        mentor_payload(
            programme_ids=[expiring["id"]],
            skills=["orientation"],
            background_check_valid_until=(today + timedelta(days=30)).isoformat(),
        ),
    )
    young = create(client, association, "/v1/mentees", mentee_payload(needs=["orientation"]))
    workers.start()
    now = submit(client, association, programme_ids=[expiring["id"]])
    assert now["run_date"] == today.isoformat()
    assert finished(client, association, now["id"])["stats"]["matched"] == 1
    later_day = today + timedelta(days=60)
    later = submit(
        client, association, programme_ids=[expiring["id"]], run_date=later_day.isoformat()
    )
    assert later["run_date"] == later_day.isoformat()
    done = finished(client, association, later["id"])
    assert done["stats"]["matched"] == 0, done
    unmatched = client.get(
        f"/v1/matching-runs/{later['id']}/unmatched", headers=association.headers
    ).json()["items"]
    reasons = {u["mentee_id"]: u["reason"] for u in unmatched}
    assert reasons[young["id"]] == "no_background_checked_mentor"


@pytest.mark.parametrize(
    ("days", "message"), [(-1, "must not be in the past"), (367, "at most 366 days ahead")]
)
def test_run_date_bounds(
    client: TestClient, association: Actor, territory: Territory, days: int, message: str
) -> None:
    day = utcnow().date() + timedelta(days=days)
    response = client.post(
        "/v1/matching-runs", json={"run_date": day.isoformat()}, headers=association.headers
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(
        e["field"] == "run_date" and message in e["message"] for e in response.json()["errors"]
    ), response.json()
    assert client.get("/v1/matching-runs", headers=association.headers).json()["total"] == 0


def test_a_failing_statement_is_logged_without_its_values(db_url: str) -> None:
    """Regression: a failed snapshot query logged its 4.7 MB of bound ids (and the values
    of personal fields): errors now name the statement, never its parameters."""
    secret = "J-0042-personal"
    with pytest.raises(DBAPIError) as raised, engine_for(db_url).connect() as connection:
        connection.execute(text("SELECT * FROM no_such_table WHERE id = :id"), {"id": secret})
    assert "no_such_table" in str(raised.value)
    assert secret not in str(raised.value)


def test_tables_a_run_reads_are_analysed_when_their_statistics_are_stale(
    client: TestClient, association: Actor, territory: Territory, db_url: str
) -> None:
    """A bulk import followed at once by a run was planned on the statistics of empty
    tables (autovacuum may be off or late): the run analyses what changed a lot."""
    engine = engine_for(db_url)
    if not db_url.startswith("postgresql"):
        assert analyze_stale(engine, *SNAPSHOT_TABLES) == []
        return
    deadline = time.monotonic() + 10
    analysed: list[str] = []
    while "mentees" not in analysed and time.monotonic() < deadline:
        # Statistics counters reach pg_stat_user_tables within a second or so.
        create(client, association, "/v1/mentees", mentee_payload())
        analysed = analyze_stale(engine, *SNAPSHOT_TABLES, changed=0.0)
    assert "mentees" in analysed
