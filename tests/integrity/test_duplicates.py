"""The same record posted twice: a 409 naming the field and the record that exists."""

import datetime as dt
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.supports.models import Support
from tests.api.conftest import Actor, mentee_payload, mentor_payload


def test_the_same_support_twice_is_a_409_naming_the_first(
    client: TestClient, association: Actor, public_body: Actor
) -> None:
    mentee = client.post("/v1/mentees", json=mentee_payload(), headers=association.headers).json()
    support = {
        "mentee_id": mentee["id"],
        "provider_id": str(public_body.organisation_id),
        "need": "school_support",
        "start_date": "2026-09-01",
    }
    first = client.post("/v1/supports", json=support, headers=association.headers)
    assert first.status_code == 201, first.text
    second = client.post("/v1/supports", json=support, headers=association.headers)
    assert second.status_code == 409, second.text
    problem = second.json()
    assert problem["existing_id"] == first.json()["id"]
    assert first.json()["id"] in problem["detail"]
    assert {e["field"] for e in problem["errors"]} == {
        "mentee_id",
        "need",
        "provider_id",
        "start_date",
    }
    listed = client.get(f"/v1/supports?mentee_id={mentee['id']}", headers=association.headers)
    assert listed.json()["total"] == 1
    # Another need, or another start, is another support.
    other = client.post(
        "/v1/supports", json={**support, "start_date": "2026-10-01"}, headers=association.headers
    )
    assert other.status_code == 201


def test_the_database_refuses_a_duplicate_support_too(
    client: TestClient, association: Actor, public_body: Actor, session: Session
) -> None:
    """Two concurrent posts both pass the check: the unique constraint stops the second."""
    mentee = client.post("/v1/mentees", json=mentee_payload(), headers=association.headers).json()
    values = {
        "organisation_id": association.organisation_id,
        "mentee_id": mentee["id"],
        "provider_id": public_body.organisation_id,
        "need": "school_support",
    }
    for _ in range(2):
        session.add(
            Support(
                **{**values, "mentee_id": uuid.UUID(mentee["id"])},
                start_date=dt.date(2026, 9, 1),
            )
        )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


@pytest.mark.parametrize("kind", ["mentors", "mentees"])
def test_a_duplicate_external_id_names_the_field_and_the_existing_record(
    client: TestClient, association: Actor, kind: str
) -> None:
    payload = (mentor_payload if kind == "mentors" else mentee_payload)(external_id="X-1")
    first = client.post(f"/v1/{kind}", json=payload, headers=association.headers)
    assert first.status_code == 201, first.text
    second = client.post(f"/v1/{kind}", json=payload, headers=association.headers)
    assert second.status_code == 409, second.text
    problem = second.json()
    assert problem["existing_id"] == first.json()["id"]
    assert [e["field"] for e in problem["errors"]] == ["external_id"]
