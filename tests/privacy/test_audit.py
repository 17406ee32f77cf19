"""The audit log: every write appends who, when, what — never a personal value."""

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.db import utcnow
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload
from tests.imports.conftest import mentee_row, post_import, to_csv
from tests.runs.conftest import Workers, finished, submit


def entries(client: TestClient, actor: Actor, **params: object) -> list[dict]:
    response = client.get("/v1/audit-log", params={"limit": 500, **params}, headers=actor.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_every_write_is_recorded_without_personal_values(
    client: TestClient, admin: Actor, association: Actor, workers: Workers
) -> None:
    h = association.headers
    programme = client.post("/v1/programmes", json=programme_payload(), headers=h).json()
    mentor = client.post(
        "/v1/mentors", json=mentor_payload(programme_ids=[programme["id"]]), headers=h
    ).json()
    mentee = client.post(
        "/v1/mentees", json=mentee_payload(external_id="SECRET-EXT-1"), headers=h
    ).json()
    client.patch(f"/v1/mentees/{mentee['id']}", json={"max_travel_km": 7}, headers=h)
    support = client.post(
        "/v1/supports",
        json={
            "mentee_id": mentee["id"],
            "provider_id": str(association.organisation_id),
            "need": "confidence",
            "start_date": "2026-01-01",
        },
        headers=h,
    ).json()
    client.delete(f"/v1/supports/{support['id']}", headers=h)
    imported = post_import(client, association, "mentees", to_csv([mentee_row("SECRET-EXT-2")]))
    assert imported.status_code == 200, imported.text
    workers.start()
    run = finished(client, association, submit(client, association, mode="commit")["id"])
    match = client.get("/v1/matches", headers=h).json()["items"][0]
    client.post(f"/v1/matches/{match['id']}/accept", json={"note": "SECRET-NOTE"}, headers=h)
    key = client.post(
        "/v1/api-keys",
        json={
            "organisation_id": str(association.organisation_id),
            "role": "association",
            "name": "second",
        },
        headers=admin.headers,
    ).json()
    client.post(f"/v1/api-keys/{key['id']}/revoke", headers=admin.headers)
    client.delete(f"/v1/mentees/{mentee['id']}", headers=h)

    seen = entries(client, association)
    recorded = {(e["action"], e["record_type"], e["record_id"]) for e in seen}
    expected = {
        ("create", "programme", programme["id"]),
        ("create", "mentor", mentor["id"]),
        ("create", "mentee", mentee["id"]),
        ("update", "mentee", mentee["id"]),
        ("create", "support", support["id"]),
        ("delete", "support", support["id"]),
        ("import", "import", imported.json()["id"]),
        ("run", "matching_run", run["id"]),
        ("create", "match", match["id"]),
        ("accept", "match", match["id"]),
        ("issue", "api_key", key["id"]),
        ("revoke", "api_key", key["id"]),
        ("erase", "mentee", mentee["id"]),
    }
    assert expected <= recorded, expected - recorded
    mine = [e for e in seen if e["action"] == "create" and e["record_type"] == "mentee"]
    assert mine[0]["actor_organisation_id"] == str(association.organisation_id)
    assert mine[0]["actor_key_id"] is not None
    imports = [e for e in seen if e["action"] == "import"]
    assert imports[0]["counts"]["created"] == 1
    revoke = next(e for e in seen if e["action"] == "revoke")
    assert revoke["actor_organisation_id"] == str(admin.organisation_id)
    everything = client.get("/v1/audit-log?limit=500", headers=admin.headers).text
    assert "SECRET" not in everything


def test_each_organisation_reads_its_own_entries_page_by_page(
    client: TestClient, association: Actor, other_association: Actor
) -> None:
    for _ in range(3):
        client.post("/v1/mentees", json=mentee_payload(), headers=association.headers)
    client.post("/v1/mentees", json=mentee_payload(), headers=other_association.headers)
    page = "/v1/audit-log?record_type=mentee&limit=2"
    first = client.get(page, headers=association.headers).json()
    second = client.get(page + "&offset=2", headers=association.headers).json()
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    ids = {e["id"] for e in first["items"]} | {e["id"] for e in second["items"]}
    assert len(ids) == 3
    theirs = entries(client, other_association, record_type="mentee")
    assert len(theirs) == 1
    assert theirs[0]["organisation_id"] == str(other_association.organisation_id)


def test_the_log_is_append_only(
    client: TestClient, admin: Actor, association: Actor, session: Session
) -> None:
    client.post("/v1/mentees", json=mentee_payload(), headers=association.headers)
    entry_id = entries(client, admin)[0]["id"]
    for method in ("PUT", "PATCH", "DELETE"):
        response = client.request(method, f"/v1/audit-log/{entry_id}", headers=admin.headers)
        assert response.status_code in (404, 405)
        assert client.request(method, "/v1/audit-log", headers=admin.headers).status_code == 405
    # Not even the database lets the row change.
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(update(AuditEntry).values(action="delete"))
    session.rollback()
    assert entries(client, admin)[0]["action"] == "create"


def test_entries_older_than_the_retention_are_pruned(session: Session) -> None:
    old = audit.record(
        session,
        audit.Action.CREATE,
        audit.RecordType.MENTEE,
        uuid.uuid4(),
        organisation_id=None,
        at=utcnow() - timedelta(days=366),
    )
    recent = audit.record(
        session,
        audit.Action.CREATE,
        audit.RecordType.MENTEE,
        uuid.uuid4(),
        organisation_id=None,
        at=utcnow() - timedelta(days=300),
    )
    session.commit()
    assert audit.prune(session, 365) == 1
    session.commit()
    left = {row[0] for row in session.execute(text("SELECT id FROM audit_log"))}
    assert left == {recent.id if session.bind.dialect.name == "postgresql" else recent.id.hex}
    assert old.id not in left


def test_audit_counts_refuse_anything_but_numbers(session: Session) -> None:
    with pytest.raises(TypeError):
        audit.record(
            session,
            audit.Action.IMPORT,
            audit.RecordType.IMPORT,
            None,
            organisation_id=None,
            counts={"external_id": "X"},  # type: ignore[dict-item]
        )
