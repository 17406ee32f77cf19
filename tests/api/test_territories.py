"""The shared territorial diagnostic: aggregated, without personal data."""

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.matches.models import Match, MatchStatus
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload


def test_counts_waiting_and_supported_needs_per_commune(
    client: TestClient, admin: Actor, association: Actor, public_body: Actor
) -> None:
    young = []
    for _ in range(6):
        response = client.post(
            "/v1/mentees",
            json=mentee_payload(needs=["school_support", "confidence"]),
            headers=association.headers,
        )
        young.append(response.json()["id"])
    client.post(
        "/v1/mentees", json=mentee_payload(location={"insee": "93001"}), headers=association.headers
    )
    for _ in range(2):
        client.post("/v1/mentors", json=mentor_payload(), headers=association.headers)
    client.post(
        "/v1/supports",
        json={
            "mentee_id": young[0],
            "provider_id": str(public_body.organisation_id),
            "need": "school_support",
            "start_date": "2026-01-01",
        },
        headers=association.headers,
    )

    exact = client.get("/v1/territories/departments/93", headers=admin.headers).json()
    assert exact["young_people"] == 7
    assert exact["mentors"] == 2
    assert exact["needs"]["school_support"] == {"waiting": 6, "supported": 1, "mentors": 2}
    saint_denis = next(c for c in exact["communes"] if c["insee"] == "93066")
    assert saint_denis["needs"]["confidence"]["waiting"] == 6

    public = client.get("/v1/territories/departments/93", headers=public_body.headers).json()
    aubervilliers = next(c for c in public["communes"] if c["insee"] == "93001")
    assert aubervilliers["young_people"] is None  # one young person: withheld
    assert public["needs"]["school_support"]["waiting"] == 6
    assert public["needs"]["school_support"]["supported"] is None


def test_unknown_department_is_422(client: TestClient, public_body: Actor) -> None:
    response = client.get("/v1/territories/departments/99", headers=public_body.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.department"


def test_an_active_match_counts_as_support(
    client: TestClient, admin: Actor, association: Actor, session: Session
) -> None:
    programme = client.post(
        "/v1/programmes", json=programme_payload(), headers=association.headers
    ).json()
    mentor = client.post("/v1/mentors", json=mentor_payload(), headers=association.headers).json()
    mentee = client.post(
        "/v1/mentees", json=mentee_payload(needs=["orientation"]), headers=association.headers
    ).json()
    session.add(
        Match(
            organisation_id=association.organisation_id,
            mentee_id=uuid.UUID(mentee["id"]),
            mentor_id=uuid.UUID(mentor["id"]),
            programme_id=uuid.UUID(programme["id"]),
            need="orientation",
            status=MatchStatus.ACTIVE,
        )
    )
    session.commit()
    body = client.get("/v1/territories/departments/93", headers=admin.headers).json()
    assert body["needs"]["orientation"]["supported"] == 1
    assert body["needs"]["orientation"]["waiting"] == 0
