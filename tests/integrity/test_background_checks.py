"""Safeguarding across organisations: a background check declared on a volunteer's record
counts for the minors of another organisation's programme only once that programme's
association (or an admin) confirms it, and only up to the date it confirmed."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload
from tests.integrity.test_consents import proposed_mentors
from tests.privacy.test_audit import entries
from tests.runs.conftest import Workers, create

CHECKS = "/v1/consents/background-checks"


def enrolled_employee(
    client: TestClient, association: Actor, company: Actor, **mentor: object
) -> tuple[dict, dict]:
    """An association's programme with a minor waiting, and an employee HR enrolled in it
    with a background check HR declares; the enrolment itself is confirmed."""
    programme = create(client, association, "/v1/programmes", programme_payload())
    create(client, association, "/v1/mentees", mentee_payload(needs=["school_support"]))
    employee = create(
        client,
        company,
        "/v1/mentors",
        mentor_payload(kind="employee", programme_ids=[programme["id"]], **mentor),
    )
    ref = {"mentor_id": employee["id"], "programme_id": programme["id"]}
    confirmed = client.post(
        "/v1/consents/enrolments/confirm", json=ref, headers=association.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return programme, employee


def pending(client: TestClient, actor: Actor) -> list[tuple[str, str, str, str | None]]:
    response = client.get(CHECKS, headers=actor.headers)
    assert response.status_code == 200, response.text
    return [
        (p["mentor_id"], p["programme_id"], p["declared_valid_until"], p["confirmed_valid_until"])
        for p in response.json()["items"]
    ]


def test_a_check_hr_declares_counts_for_an_associations_minors_once_it_confirms(
    client: TestClient, association: Actor, company: Actor, workers: Workers
) -> None:
    workers.start()
    programme, employee = enrolled_employee(client, association, company)
    # The enrolment is confirmed, but not the check HR declared: no minor meets them.
    assert proposed_mentors(client, association) == set()
    assert pending(client, association) == [(employee["id"], programme["id"], "2030-01-01", None)]
    ref = {"mentor_id": employee["id"], "programme_id": programme["id"]}
    # HR cannot vouch for its own declaration in someone else's programme.
    assert client.post(f"{CHECKS}/confirm", json=ref, headers=company.headers).status_code in (
        403,
        404,
    )
    assert proposed_mentors(client, association) == set()
    confirmed = client.post(f"{CHECKS}/confirm", json=ref, headers=association.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["confirmed_valid_until"] == "2030-01-01"
    assert confirmed.json()["confirmed_at"] is not None
    assert pending(client, association) == []
    assert proposed_mentors(client, association) == {employee["id"]}
    confirmations = [
        e
        for e in entries(client, association, action="confirm")
        if e["record_id"] == employee["id"]
    ]
    assert len(confirmations) == 2  # the enrolment, then the check


def test_a_later_date_declared_by_hr_waits_for_a_new_confirmation(
    client: TestClient, association: Actor, company: Actor, workers: Workers
) -> None:
    workers.start()
    programme, employee = enrolled_employee(
        client, association, company, background_check_valid_until="2027-01-15"
    )
    ref = {"mentor_id": employee["id"], "programme_id": programme["id"]}
    assert client.post(f"{CHECKS}/confirm", json=ref, headers=association.headers).is_success
    renewed = client.patch(
        f"/v1/mentors/{employee['id']}",
        json={"background_check_valid_until": "2028-06-30"},
        headers=company.headers,
    )
    assert renewed.status_code == 200, renewed.text
    assert pending(client, association) == [
        (employee["id"], programme["id"], "2028-06-30", "2027-01-15")
    ]
    # Today the confirmed date still holds; after it, only the new confirmation would.
    assert proposed_mentors(client, association) == {employee["id"]}
    assert proposed_mentors(client, association, run_date="2027-02-01") == set()
    assert client.post(f"{CHECKS}/confirm", json=ref, headers=association.headers).is_success
    assert proposed_mentors(client, association, run_date="2027-02-01") == {employee["id"]}


def test_a_check_shortened_by_the_record_counts_only_to_its_new_date(
    client: TestClient, association: Actor, company: Actor, workers: Workers
) -> None:
    workers.start()
    programme, employee = enrolled_employee(client, association, company)
    ref = {"mentor_id": employee["id"], "programme_id": programme["id"]}
    assert client.post(f"{CHECKS}/confirm", json=ref, headers=association.headers).is_success
    client.patch(
        f"/v1/mentors/{employee['id']}",
        json={"background_check_valid_until": None},
        headers=company.headers,
    )
    assert proposed_mentors(client, association) == set()


def test_own_volunteers_and_admins_need_no_confirmation(
    client: TestClient, admin: Actor, association: Actor, company: Actor, workers: Workers
) -> None:
    workers.start()
    programme = create(client, association, "/v1/programmes", programme_payload())
    create(client, association, "/v1/mentees", mentee_payload(needs=["school_support"]))
    own = create(
        client, association, "/v1/mentors", mentor_payload(programme_ids=[programme["id"]])
    )
    ref = {"mentor_id": own["id"], "programme_id": programme["id"]}
    answer = client.post(f"{CHECKS}/confirm", json=ref, headers=association.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["confirmed_at"] is None
    assert proposed_mentors(client, association) == {own["id"]}
    # A check an admin records on HR's employee counts for the programme.
    programme, employee = enrolled_employee(client, association, company)
    client.patch(f"/v1/mentors/{own['id']}", json={"active": False}, headers=association.headers)
    assert proposed_mentors(client, association) == set()
    recorded = client.patch(
        f"/v1/mentors/{employee['id']}",
        json={"background_check_valid_until": "2029-12-31"},
        headers=admin.headers,
    )
    assert recorded.status_code == 200, recorded.text
    assert pending(client, association) == []
    assert employee["id"] in proposed_mentors(client, association)


def test_confirming_needs_an_enrolment_in_ones_own_programme_and_a_declared_check(
    client: TestClient,
    association: Actor,
    other_association: Actor,
    company: Actor,
    public_body: Actor,
) -> None:
    programme, employee = enrolled_employee(
        client, association, company, background_check_valid_until=None
    )
    ref = {"mentor_id": employee["id"], "programme_id": programme["id"]}
    assert pending(client, association) == []
    no_check = client.post(f"{CHECKS}/confirm", json=ref, headers=association.headers)
    assert no_check.status_code == 422, no_check.text
    assert no_check.json()["errors"][0]["field"] == "mentor_id"
    assert (
        client.post(f"{CHECKS}/confirm", json=ref, headers=other_association.headers).status_code
        == 404
    )
    assert pending(client, other_association) == []
    assert client.get(CHECKS, headers=public_body.headers).status_code == 403
    assert client.get(CHECKS, headers=company.headers).status_code == 403
