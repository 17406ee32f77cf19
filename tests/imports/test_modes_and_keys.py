"""Atomic and partial modes, idempotency keys, deactivation of missing records, reports."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.imports.models import IdempotencyKey, ImportReport
from tests.api.conftest import programme_payload
from tests.imports.conftest import Actor, listed, mentee_row, mentor_row, post_import, to_csv


def reports(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(ImportReport)) or 0)


MIXED = [mentor_row("M-1"), mentor_row("M-2", capacity="7"), mentor_row("M-3", insee="99999")]


def test_atomic_mode_writes_nothing_and_reports_every_error(
    client: TestClient, association: Actor
) -> None:
    response = post_import(client, association, "mentors", to_csv(MIXED))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["title"] == "Import rejected"
    assert body["detail"] == "2 rows of 3 are invalid; nothing was written (atomic mode)"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "capacity"), (4, "insee")]
    assert body["counts"] == {
        "rows": 3,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "deactivated": 0,
        "rejected": 2,
    }
    assert listed(client, association, "mentors") == []
    report = client.get(f"/v1/imports/{body['import_id']}", headers=association.headers)
    assert report.status_code == 200
    assert report.json()["status"] == "rejected"
    assert report.json()["errors"] == body["errors"]


def test_atomic_failure_leaves_existing_records_as_they_were(
    client: TestClient, association: Actor, settings_env
) -> None:
    settings_env(IMPORT_BATCH_SIZE=1)
    post_import(client, association, "mentors", to_csv([mentor_row("M-1"), mentor_row("M-2")]))
    rows = [mentor_row("M-1", capacity="5"), mentor_row("M-4"), mentor_row("M-2", capacity="0")]
    response = post_import(client, association, "mentors", to_csv(rows), deactivate_missing=True)
    assert response.status_code == 422
    mentors = {m["external_id"]: m for m in listed(client, association, "mentors")}
    assert set(mentors) == {"M-1", "M-2"}
    assert mentors["M-1"]["capacity"] == 2


def test_partial_mode_writes_the_valid_rows(client: TestClient, association: Actor) -> None:
    response = post_import(client, association, "mentors", to_csv(MIXED), mode="partial")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "completed"
    assert body["mode"] == "partial"
    assert body["counts"]["created"] == 1
    assert body["counts"]["rejected"] == 2
    assert [e["row"] for e in body["errors"]] == [3, 4]
    assert [m["external_id"] for m in listed(client, association, "mentors")] == ["M-1"]


def test_idempotency_key_replays_the_first_response(
    client: TestClient, association: Actor, session: Session
) -> None:
    key = {"Idempotency-Key": "hr-pool-2026-11-26"}
    body = to_csv([mentor_row("M-1"), mentor_row("M-2")])
    first = post_import(client, association, "mentors", body, headers=key)
    assert first.status_code == 200
    assert "idempotency-replayed" not in first.headers
    client.patch(
        f"/v1/mentors/{listed(client, association, 'mentors')[0]['id']}",
        json={"capacity": 4},
        headers=association.headers,
    )
    again = post_import(client, association, "mentors", body, headers=key)
    assert again.status_code == 200
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    assert reports(session) == 1
    assert 4 in {m["capacity"] for m in listed(client, association, "mentors")}  # not rewritten


def test_idempotency_key_replays_a_rejection_too(client: TestClient, association: Actor) -> None:
    key = {"Idempotency-Key": "k-1"}
    first = post_import(client, association, "mentors", to_csv(MIXED), headers=key)
    again = post_import(client, association, "mentors", to_csv(MIXED), headers=key)
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again.headers["content-type"].startswith("application/problem+json")


def test_idempotency_key_with_another_body_is_422(client: TestClient, association: Actor) -> None:
    key = {"Idempotency-Key": "k-1"}
    assert post_import(client, association, "mentors", to_csv([mentor_row("M-1")]), headers=key)
    other = post_import(client, association, "mentors", to_csv([mentor_row("M-2")]), headers=key)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    same_body_other_mode = post_import(
        client, association, "mentors", to_csv([mentor_row("M-1")]), headers=key, mode="partial"
    )
    assert same_body_other_mode.status_code == 422
    assert [m["external_id"] for m in listed(client, association, "mentors")] == ["M-1"]


def test_idempotency_keys_are_per_organisation(
    client: TestClient, association: Actor, other_association: Actor
) -> None:
    key = {"Idempotency-Key": "k-1"}
    body = to_csv([mentor_row("M-1")])
    assert post_import(client, association, "mentors", body, headers=key).status_code == 200
    response = post_import(client, other_association, "mentors", body, headers=key)
    assert response.status_code == 200
    assert "idempotency-replayed" not in response.headers
    assert len(listed(client, other_association, "mentors")) == 1


def test_expired_idempotency_key_is_purged(
    client: TestClient, association: Actor, session: Session
) -> None:
    key = {"Idempotency-Key": "k-1"}
    body = to_csv([mentor_row("M-1")])
    post_import(client, association, "mentors", body, headers=key)
    session.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    again = post_import(client, association, "mentors", body, headers=key)
    assert again.status_code == 200
    assert "idempotency-replayed" not in again.headers
    assert again.json()["counts"]["unchanged"] == 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


def test_invalid_idempotency_key_is_422(client: TestClient, association: Actor) -> None:
    response = post_import(
        client,
        association,
        "mentors",
        to_csv([mentor_row("M-1")]),
        headers={"Idempotency-Key": "has space"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"


def test_deactivate_missing_deactivates_never_deletes(
    client: TestClient, association: Actor
) -> None:
    programme = client.post(
        "/v1/programmes", json=programme_payload(), headers=association.headers
    ).json()["id"]
    pool = [mentor_row(f"M-{i}", programme_ids=programme) for i in range(4)]
    post_import(client, association, "mentors", to_csv(pool))
    response = post_import(
        client,
        association,
        "mentors",
        to_csv([*pool[:2], mentor_row("M-9")]),
        deactivate_missing=True,
    )
    assert response.status_code == 200, response.text
    assert response.json()["counts"] == {
        "rows": 3,
        "created": 1,
        "updated": 0,
        "unchanged": 2,
        "deactivated": 2,
        "rejected": 0,
    }
    mentors = {m["external_id"]: m for m in listed(client, association, "mentors")}
    assert {k: m["active"] for k, m in mentors.items()} == {
        "M-0": True,
        "M-1": True,
        "M-2": False,
        "M-3": False,
        "M-9": True,
    }
    assert mentors["M-3"]["programme_ids"] == [programme]  # links kept
    again = post_import(
        client,
        association,
        "mentors",
        to_csv([*pool[:2], mentor_row("M-9")]),
        deactivate_missing=True,
    )
    assert again.json()["counts"]["deactivated"] == 0  # already inactive


def test_deactivate_missing_keeps_rows_present_but_rejected(
    client: TestClient, association: Actor
) -> None:
    post_import(client, association, "mentors", to_csv([mentor_row("M-1"), mentor_row("M-2")]))
    rows = [mentor_row("M-1"), mentor_row("M-2", capacity="9")]
    response = post_import(
        client, association, "mentors", to_csv(rows), deactivate_missing=True, mode="partial"
    )
    assert response.json()["counts"]["deactivated"] == 0
    assert all(m["active"] for m in listed(client, association, "mentors"))


def test_deactivate_missing_only_touches_the_importing_organisation(
    client: TestClient, association: Actor, other_association: Actor
) -> None:
    post_import(client, other_association, "mentors", to_csv([mentor_row("M-1")]))
    post_import(client, association, "mentors", to_csv([mentor_row("M-2")]))
    post_import(
        client, association, "mentors", to_csv([mentor_row("M-3")]), deactivate_missing=True
    )
    assert listed(client, other_association, "mentors")[0]["active"] is True


def test_deactivate_missing_for_mentees(client: TestClient, association: Actor) -> None:
    post_import(client, association, "mentees", to_csv([mentee_row("J-1"), mentee_row("J-2")]))
    response = post_import(
        client, association, "mentees", to_csv([mentee_row("J-1")]), deactivate_missing=True
    )
    assert response.json()["counts"]["deactivated"] == 1
    active = {m["external_id"]: m["active"] for m in listed(client, association, "mentees")}
    assert active == {"J-1": True, "J-2": False}
