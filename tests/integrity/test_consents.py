"""Cross-organisation links need the other side's consent: an enrolment counts for runs
once the programme's association confirms it; an employer link made by an association
shows the record to the company's HR once HR confirms it."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload
from tests.runs.conftest import Workers, create, finished, submit


def proposed_mentors(client: TestClient, actor: Actor, **body: object) -> set[str]:
    run = finished(client, actor, submit(client, actor, mode="dry_run", **body)["id"])
    assert run["status"] == "succeeded", run
    items = client.get(
        f"/v1/matching-runs/{run['id']}/proposals?limit=500", headers=actor.headers
    ).json()["items"]
    return {p["mentor_id"] for p in items}


def test_an_enrolment_by_hr_counts_once_the_programme_confirms_it(
    client: TestClient, association: Actor, company: Actor, workers: Workers
) -> None:
    workers.start()
    # An adult: the employee's background check (which HR declared) plays no part here.
    programme = create(client, association, "/v1/programmes", programme_payload(max_age=25))
    create(
        client,
        association,
        "/v1/mentees",
        mentee_payload(needs=["school_support"], birth_year=2004, activity="employed"),
    )
    employee = create(
        client,
        company,
        "/v1/mentors",
        mentor_payload(kind="employee", programme_ids=[programme["id"]]),
    )
    assert proposed_mentors(client, association) == set()
    pending = client.get("/v1/consents/enrolments", headers=association.headers).json()
    assert [(p["mentor_id"], p["programme_id"]) for p in pending["items"]] == [
        (employee["id"], programme["id"])
    ]
    ref = {"mentor_id": employee["id"], "programme_id": programme["id"]}
    # HR cannot confirm its own enrolment in someone else's programme.
    assert client.post(
        "/v1/consents/enrolments/confirm", json=ref, headers=company.headers
    ).status_code in (403, 404)
    confirmed = client.post(
        "/v1/consents/enrolments/confirm", json=ref, headers=association.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["confirmed_at"] is not None
    assert client.get("/v1/consents/enrolments", headers=association.headers).json()["total"] == 0
    assert proposed_mentors(client, association) == {employee["id"]}


def test_an_association_enrolling_its_own_volunteer_needs_no_confirmation(
    client: TestClient, association: Actor, workers: Workers
) -> None:
    workers.start()
    programme = create(client, association, "/v1/programmes", programme_payload())
    create(client, association, "/v1/mentees", mentee_payload(needs=["school_support"]))
    volunteer = create(
        client, association, "/v1/mentors", mentor_payload(programme_ids=[programme["id"]])
    )
    assert proposed_mentors(client, association) == {volunteer["id"]}
    assert client.get("/v1/consents/enrolments", headers=association.headers).json()["total"] == 0


def test_hr_sees_an_associations_volunteer_named_as_employee_only_after_confirming(
    client: TestClient, association: Actor, company: Actor
) -> None:
    volunteer = create(
        client,
        association,
        "/v1/mentors",
        mentor_payload(kind="employee", employer_id=str(company.organisation_id)),
    )
    path = f"/v1/mentors/{volunteer['id']}"
    assert client.get(path, headers=company.headers).status_code == 404
    assert client.get("/v1/mentors", headers=company.headers).json()["total"] == 0
    pending = client.get("/v1/consents/employer-links", headers=company.headers).json()
    assert [p["mentor_id"] for p in pending["items"]] == [volunteer["id"]]
    # Another association cannot confirm on the company's behalf.
    ref = {"mentor_id": volunteer["id"]}
    assert client.post(
        "/v1/consents/employer-links/confirm", json=ref, headers=association.headers
    ).status_code in (403, 404)
    confirmed = client.post(
        "/v1/consents/employer-links/confirm", json=ref, headers=company.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    assert client.get(path, headers=company.headers).status_code == 200
    # Naming another employer later: the confirmation was for this company only.
    client.patch(path, json={"kind": "volunteer", "employer_id": None}, headers=association.headers)
    assert client.get(path, headers=company.headers).status_code == 404
