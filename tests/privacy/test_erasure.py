"""Erasure erases: after ``DELETE`` of a person, no copy of their data is left anywhere."""

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import Actor
from tests.imports.conftest import mentee_row, post_import, to_csv
from tests.privacy.conftest import dump_database
from tests.runs.conftest import Territory, Workers, finished, submit

EXTERNAL_ID = "JEUNE-ERASE-7f3a91"
NOTES = ("note-accept-qz81 premier contact", "note-close-qz82 objectifs atteints")


def _traces(lines: list[str], *needles: str) -> list[str]:
    return [line for line in lines if any(needle in line for needle in needles)]


def _id_forms(record_id: str) -> tuple[str, str]:
    """How an id appears in a dump: with dashes (PostgreSQL), as 32 hex digits (SQLite)."""
    return record_id, uuid.UUID(record_id).hex


def _young_person_through_everything(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> dict[str, Any]:
    """The young person is imported (a rejected file naming them, then a partial one
    with a duplicate row), matched by a dry run and a committed run, and their match
    accepted, started and closed with notes. Returns the ids to look at afterwards."""
    bad = to_csv([mentee_row(EXTERNAL_ID, birth_year="1850")])
    rejected = post_import(
        client, association, "mentees", bad, headers={"Idempotency-Key": "erase-1"}
    )
    assert rejected.status_code == 422
    assert EXTERNAL_ID in rejected.text
    twice = to_csv([mentee_row(EXTERNAL_ID), mentee_row(EXTERNAL_ID)])
    partial = post_import(
        client,
        association,
        "mentees",
        twice,
        mode="partial",
        headers={"Idempotency-Key": "erase-2"},
    )
    assert partial.status_code == 200, partial.text
    assert EXTERNAL_ID in partial.text
    found = client.get(
        "/v1/mentees", params={"external_id": EXTERNAL_ID}, headers=association.headers
    ).json()["items"]
    mentee_id = found[0]["id"]

    workers.start()
    dry = finished(client, association, submit(client, association, mode="dry_run")["id"])
    run = finished(client, association, submit(client, association, mode="commit")["id"])
    assert dry["status"] == run["status"] == "succeeded", (dry, run)
    matches = client.get(
        "/v1/matches", params={"mentee_id": mentee_id}, headers=association.headers
    ).json()["items"]
    assert len(matches) == 1, "the young person is matched"
    match_id = matches[0]["id"]
    for action, body in (
        ("accept", {"note": NOTES[0]}),
        ("start", {}),
        ("close", {"reason": "completed", "note": NOTES[1]}),
    ):
        response = client.post(
            f"/v1/matches/{match_id}/{action}", json=body, headers=association.headers
        )
        assert response.status_code == 200, response.text
    return {
        "mentee_id": mentee_id,
        "match_id": match_id,
        "imports": [rejected.json()["import_id"], partial.json()["id"]],
        "runs": [dry["id"], run["id"]],
        "bodies": {"erase-1": bad, "erase-2": twice},
    }


def test_erased_young_person_leaves_no_trace_in_a_database_dump(
    client: TestClient,
    association: Actor,
    territory: Territory,
    workers: Workers,
    db_url: str,
) -> None:
    ids = _young_person_through_everything(client, association, territory, workers)
    before = dump_database(db_url)
    assert _traces(before, EXTERNAL_ID), "the dump shows the person before the erasure"
    assert _traces(before, *NOTES)

    erased = client.delete(f"/v1/mentees/{ids['mentee_id']}", headers=association.headers)
    assert erased.status_code == 204

    after = dump_database(db_url)
    assert _traces(after, EXTERNAL_ID) == []
    assert _traces(after, *NOTES) == []
    # The person's id survives only in the audit log, as the tombstone of the erasure.
    lines = _traces(after, *_id_forms(ids["mentee_id"]))
    assert lines
    assert all("audit_log" in line for line in lines), lines

    # Every way of reading a copy back is clean too.
    for import_id in ids["imports"]:
        report = client.get(f"/v1/imports/{import_id}", headers=association.headers)
        assert report.status_code == 200
        assert EXTERNAL_ID not in report.text
        assert report.json()["counts"]["rejected"] == 1, "anonymous counts stay"
        errors = client.get(f"/v1/imports/{import_id}/errors.csv", headers=association.headers)
        assert errors.status_code == 200
        assert EXTERNAL_ID not in errors.text
    for key, body in ids["bodies"].items():
        replay = post_import(
            client,
            association,
            "mentees",
            body,
            headers={"Idempotency-Key": key},
            **({"mode": "partial"} if key == "erase-2" else {}),
        )
        assert EXTERNAL_ID not in replay.text
    for run_id in ids["runs"]:
        proposals = client.get(
            f"/v1/matching-runs/{run_id}/proposals",
            params={"limit": 500},
            headers=association.headers,
        )
        assert ids["mentee_id"] not in proposals.text
        assert (
            client.get(f"/v1/matching-runs/{run_id}", headers=association.headers).json()["stats"][
                "matched"
            ]
            >= 1
        ), "the run's anonymous statistics stay"

    # The match stays as an anonymous record, with its history of status changes.
    match = client.get(f"/v1/matches/{ids['match_id']}", headers=association.headers).json()
    assert match["mentee_id"] is None
    assert match["reason_note"] is None
    assert (match["status"], match["close_reason"]) == ("closed", "completed")
    history = client.get(
        f"/v1/matches/{ids['match_id']}/history", headers=association.headers
    ).json()["items"]
    assert [line["to_status"] for line in history] == ["proposed", "accepted", "active", "closed"]
    assert all(line["note"] is None for line in history)

    audit = client.get(
        "/v1/audit-log",
        params={"action": "erase", "record_id": ids["mentee_id"]},
        headers=association.headers,
    ).json()
    assert audit["total"] == 1
    assert audit["items"][0]["record_type"] == "mentee"


def test_erased_volunteer_leaves_no_trace(
    client: TestClient,
    association: Actor,
    territory: Territory,
    workers: Workers,
    db_url: str,
) -> None:
    workers.start()
    run = finished(client, association, submit(client, association, mode="commit")["id"])
    assert run["status"] == "succeeded", run
    mentor = territory.mentors[0]
    matches = client.get(
        "/v1/matches", params={"mentor_id": mentor["id"]}, headers=association.headers
    ).json()["items"]
    assert matches, "the volunteer was matched"
    client.post(
        f"/v1/matches/{matches[0]['id']}/accept",
        json={"note": NOTES[0]},
        headers=association.headers,
    )
    assert (
        client.delete(
            f"/v1/mentors/{mentor['id']}", params={"erase": "true"}, headers=association.headers
        ).status_code
        == 204
    )

    after = dump_database(db_url)
    assert _traces(after, mentor["external_id"], NOTES[0]) == []
    lines = _traces(after, *_id_forms(mentor["id"]))
    assert lines
    assert all("audit_log" in line for line in lines), lines
    ended = client.get(f"/v1/matches/{matches[0]['id']}", headers=association.headers).json()
    assert (ended["mentor_id"], ended["status"], ended["close_reason"]) == (
        None,
        "closed",
        "mentor_withdrew",
    )
