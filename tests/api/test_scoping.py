"""Each role sees and changes only what its organisation owns; the rest is a 404."""

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload


def create(client: TestClient, actor: Actor, path: str, payload: dict) -> dict:
    response = client.post(path, json=payload, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def world(client, admin, association, other_association, company, other_company, public_body):
    """Two associations, two companies, a public body, with records of their own."""
    programme = create(client, association, "/v1/programmes", programme_payload())
    other_programme = create(client, other_association, "/v1/programmes", programme_payload())
    volunteer = create(client, association, "/v1/mentors", mentor_payload())
    employee = create(
        client,
        company,
        "/v1/mentors",
        mentor_payload(kind="employee", programme_ids=[programme["id"]]),
    )
    other_employee = create(client, other_company, "/v1/mentors", mentor_payload(kind="employee"))
    mentee = create(client, association, "/v1/mentees", mentee_payload())
    other_mentee = create(client, other_association, "/v1/mentees", mentee_payload())
    support = create(
        client,
        association,
        "/v1/supports",
        {
            "mentee_id": mentee["id"],
            "provider_id": str(public_body.organisation_id),
            "need": "school_support",
            "start_date": "2026-01-05",
        },
    )
    return {
        "programme": programme,
        "other_programme": other_programme,
        "volunteer": volunteer,
        "employee": employee,
        "other_employee": other_employee,
        "mentee": mentee,
        "other_mentee": other_mentee,
        "support": support,
    }


def ids(client: TestClient, actor: Actor, path: str) -> set[str]:
    response = client.get(path, headers=actor.headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_admin_sees_everything(client, admin, world) -> None:
    assert len(ids(client, admin, "/v1/mentors")) == 3
    assert len(ids(client, admin, "/v1/mentees")) == 2
    assert len(ids(client, admin, "/v1/supports")) == 1


def test_association_sees_its_mentees_only(client, association, world) -> None:
    assert ids(client, association, "/v1/mentees") == {world["mentee"]["id"]}
    path = f"/v1/mentees/{world['other_mentee']['id']}"
    assert client.get(path, headers=association.headers).status_code == 404
    assert client.patch(path, json={"qpv": False}, headers=association.headers).status_code == 404
    assert client.delete(path, headers=association.headers).status_code == 404


def test_association_sees_its_volunteers_and_those_in_its_programmes(
    client, association, world
) -> None:
    assert ids(client, association, "/v1/mentors") == {
        world["volunteer"]["id"],
        world["employee"]["id"],
    }
    other = f"/v1/mentors/{world['other_employee']['id']}"
    assert client.get(other, headers=association.headers).status_code == 404


def test_association_cannot_edit_a_volunteer_it_did_not_submit(client, association, world) -> None:
    path = f"/v1/mentors/{world['employee']['id']}"
    assert client.get(path, headers=association.headers).status_code == 200
    response = client.patch(path, json={"capacity": 5}, headers=association.headers)
    assert response.status_code == 404


def test_association_cannot_edit_another_programme(client, association, world) -> None:
    path = f"/v1/programmes/{world['other_programme']['id']}"
    assert client.get(path, headers=association.headers).status_code == 200  # public catalogue
    assert client.patch(path, json={"capacity": 1}, headers=association.headers).status_code == 404
    assert client.delete(path, headers=association.headers).status_code == 404


def test_association_cannot_create_for_another_organisation(
    client, association, other_association, world
) -> None:
    payload = programme_payload(organisation_id=str(other_association.organisation_id))
    assert (
        client.post("/v1/programmes", json=payload, headers=association.headers).status_code == 403
    )


def test_hr_sees_only_its_employees(client, company, world) -> None:
    assert ids(client, company, "/v1/mentors") == {world["employee"]["id"]}
    other = f"/v1/mentors/{world['other_employee']['id']}"
    assert client.get(other, headers=company.headers).status_code == 404
    assert client.patch(other, json={"capacity": 3}, headers=company.headers).status_code == 404


def test_hr_sees_no_young_person(client, company, world) -> None:
    assert client.get("/v1/mentees", headers=company.headers).status_code == 403
    path = f"/v1/mentees/{world['mentee']['id']}"
    assert client.get(path, headers=company.headers).status_code == 403
    assert client.get("/v1/supports", headers=company.headers).status_code == 403
    assert (
        client.post("/v1/mentees", json=mentee_payload(), headers=company.headers).status_code
        == 403
    )


def test_hr_submits_only_employees_of_its_own_company(client, company, other_company) -> None:
    volunteer = mentor_payload(kind="volunteer")
    assert client.post("/v1/mentors", json=volunteer, headers=company.headers).status_code == 422
    poached = mentor_payload(kind="employee", employer_id=str(other_company.organisation_id))
    response = client.post("/v1/mentors", json=poached, headers=company.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "employer_id"


def test_public_body_reads_no_personal_data(client, public_body, world) -> None:
    for path in ("/v1/mentors", "/v1/mentees"):
        assert client.get(path, headers=public_body.headers).status_code == 403
    # Supports: only those it declared by identity alone (none here), never a record's.
    supports = client.get("/v1/supports", headers=public_body.headers)
    assert supports.status_code == 200
    assert supports.json()["total"] == 0
    assert client.get("/v1/programmes", headers=public_body.headers).status_code == 200
    payload = programme_payload()
    assert (
        client.post("/v1/programmes", json=payload, headers=public_body.headers).status_code == 403
    )


def test_only_admins_manage_organisations_and_keys(client, association, company, admin) -> None:
    org = {"name": "Nouvelle asso", "kind": "association"}
    for actor in (association, company):
        assert client.post("/v1/organisations", json=org, headers=actor.headers).status_code == 403
        assert client.get("/v1/api-keys", headers=actor.headers).status_code == 403
    created = client.post("/v1/organisations", json=org, headers=admin.headers)
    assert created.status_code == 201
    key = client.post(
        "/v1/api-keys",
        json={"organisation_id": created.json()["id"], "role": "association", "name": "bo"},
        headers=admin.headers,
    )
    assert key.status_code == 201
    fresh = {"X-API-Key": key.json()["key"]}
    assert client.get("/v1/programmes", headers=fresh).status_code == 200
    revoked = client.post(f"/v1/api-keys/{key.json()['id']}/revoke", headers=admin.headers)
    assert revoked.status_code == 200
    assert client.get("/v1/programmes", headers=fresh).status_code == 401


def test_a_role_cannot_be_given_to_the_wrong_kind_of_organisation(client, admin, company) -> None:
    response = client.post(
        "/v1/api-keys",
        json={"organisation_id": str(company.organisation_id), "role": "association", "name": "x"},
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"


def test_support_for_a_mentee_outside_scope_is_404(client, association, public_body, world) -> None:
    payload = {
        "mentee_id": world["other_mentee"]["id"],
        "provider_id": str(public_body.organisation_id),
        "need": "orientation",
        "start_date": "2026-01-05",
    }
    assert client.post("/v1/supports", json=payload, headers=association.headers).status_code == 404


def test_erasing_a_mentee_erases_their_supports(client, association, admin, world) -> None:
    path = f"/v1/mentees/{world['mentee']['id']}"
    assert client.delete(path, headers=association.headers).status_code == 204
    assert client.get(path, headers=admin.headers).status_code == 404
    support = f"/v1/supports/{world['support']['id']}"
    assert client.get(support, headers=admin.headers).status_code == 404


def test_unknown_id_is_404(client, admin) -> None:
    assert client.get(f"/v1/mentors/{uuid.uuid4()}", headers=admin.headers).status_code == 404
