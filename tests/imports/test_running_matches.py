"""HR's "this is our full pool" never breaks a pair that is already running."""

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.matches.models import Match, MatchStatus
from tests.api.conftest import Actor, mentee_payload, programme_payload
from tests.imports.conftest import listed, mentor_row, post_import, to_csv


def test_deactivated_mentor_keeps_its_active_match(
    client: TestClient, association: Actor, company: Actor, session: Session
) -> None:
    programme = client.post(
        "/v1/programmes", json=programme_payload(), headers=association.headers
    ).json()
    mentee = client.post("/v1/mentees", json=mentee_payload(), headers=association.headers).json()
    rows = [mentor_row("EMP-1", kind="employee"), mentor_row("EMP-2", kind="employee")]
    assert post_import(client, company, "mentors", to_csv(rows)).status_code == 200
    leaving = next(m for m in listed(client, company, "mentors") if m["external_id"] == "EMP-1")
    match = Match(
        organisation_id=association.organisation_id,
        mentee_id=uuid.UUID(mentee["id"]),
        mentor_id=uuid.UUID(leaving["id"]),
        programme_id=uuid.UUID(programme["id"]),
        need="school_support",
        status=MatchStatus.ACTIVE,
    )
    session.add(match)
    session.commit()

    response = post_import(client, company, "mentors", to_csv([rows[1]]), deactivate_missing=True)
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["deactivated"] == 1

    mentor = client.get(f"/v1/mentors/{leaving['id']}", headers=company.headers).json()
    assert mentor["active"] is False
    session.expire_all()
    kept = session.scalars(select(Match).where(Match.id == match.id)).one()
    assert kept.status is MatchStatus.ACTIVE
    assert kept.mentor_id == uuid.UUID(leaving["id"])
