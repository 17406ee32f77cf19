"""The organisation that submitted a record owns it; a volunteer ever matched is never
hard-deleted: deactivated, running matches ended with a coded reason, history kept."""

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import engine_for
from app.matches.models import Match, MatchEvent, MatchStatus
from tests.api.conftest import Actor, mentor_payload
from tests.matches.conftest import Pairing, create


def test_an_employer_sees_but_does_not_change_an_associations_volunteer(
    client: TestClient, association: Actor, company: Actor
) -> None:
    volunteer = create(
        client,
        association,
        "/v1/mentors",
        mentor_payload(kind="employee", employer_id=str(company.organisation_id)),
    )
    path = f"/v1/mentors/{volunteer['id']}"
    confirm = client.post(
        "/v1/consents/employer-links/confirm",
        json={"mentor_id": volunteer["id"]},
        headers=company.headers,
    )
    assert confirm.status_code == 200, confirm.text
    assert client.get(path, headers=company.headers).status_code == 200
    assert client.delete(path, headers=company.headers).status_code == 404
    reassigned = client.patch(path, json={"employer_id": None}, headers=company.headers)
    assert reassigned.status_code == 404, reassigned.text
    assert client.patch(path, json={"capacity": 5}, headers=company.headers).status_code == 404
    kept = client.get(path, headers=association.headers).json()
    assert kept["capacity"] == volunteer["capacity"]
    assert kept["employer_id"] == str(company.organisation_id)


def test_hr_still_manages_the_employees_it_submitted(client: TestClient, company: Actor) -> None:
    employee = create(client, company, "/v1/mentors", mentor_payload(kind="employee"))
    path = f"/v1/mentors/{employee['id']}"
    assert client.patch(path, json={"capacity": 4}, headers=company.headers).status_code == 200
    assert client.delete(path, headers=company.headers).status_code == 204
    assert client.get(path, headers=company.headers).status_code == 404


def test_a_matched_volunteer_removed_from_the_pool_is_deactivated_and_history_kept(
    client: TestClient, pairing: Pairing, association: Actor, company: Actor, db_url: str
) -> None:
    # The pairing's volunteer serves in the association's programme; the company that
    # submitted the record owns it.
    accepted = pairing.match(MatchStatus.ACCEPTED)
    proposed = pairing.match(mentee=1)
    path = f"/v1/mentors/{pairing.mentor_id}"
    assert client.delete(path, headers=association.headers).status_code == 404
    response = client.delete(path, headers=company.headers)
    assert response.status_code == 204, response.text
    record = client.get(path, headers=company.headers)
    assert record.status_code == 200
    assert record.json()["active"] is False
    with Session(engine_for(db_url)) as session:
        closed = session.get_one(Match, accepted.id)
        declined = session.get_one(Match, proposed.id)
        assert (closed.status, closed.close_reason) == ("closed", "mentor_withdrew")
        assert (declined.status, declined.decline_reason) == ("declined", "unavailable")
        history = session.scalars(
            select(MatchEvent).where(MatchEvent.match_id == accepted.id).order_by(MatchEvent.at)
        ).all()
        assert [e.to_status for e in history][-1] == MatchStatus.CLOSED
        assert history[-1].actor_organisation_id == company.organisation_id
    # The association still reads the match and its history.
    history_path = f"/v1/matches/{accepted.id}/history"
    assert client.get(history_path, headers=association.headers).status_code == 200
