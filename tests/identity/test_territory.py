"""The diagnostic counts people, not records."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor
from tests.identity.test_linking import ZOE, ZOE_AGAIN, refer


def test_linked_records_count_once_and_duplicates_are_reported(
    client: TestClient,
    admin: Actor,
    association: Actor,
    other_association: Actor,
    public_body: Actor,
) -> None:
    refer(client, association, ZOE, needs=["school_support", "confidence"])
    refer(client, other_association, ZOE_AGAIN, needs=["school_support"])
    refer(client, association, {**ZOE, "first_name": "Inès"}, needs=["orientation"])
    before = client.get("/v1/territories/departments/93", headers=admin.headers).json()
    people = before["cross_organisation"]
    assert people["distinct_young_people"] == 2
    assert people["duplicate_referrals"] == 2
    assert people["duplicates_avoided"] == 0

    declared = client.post(
        "/v1/supports",
        json={"identity": ZOE, "need": "school_support", "start_date": "2026-01-05"},
        headers=public_body.headers,
    )
    assert declared.status_code == 201, declared.text
    after = client.get("/v1/territories/departments/93", headers=admin.headers).json()
    assert after["cross_organisation"]["distinct_young_people"] == 2
    # The need is covered by the Cité éducative on both records: two supports avoided.
    assert after["cross_organisation"]["duplicates_avoided"] == 2
    public = client.get("/v1/territories/departments/93", headers=public_body.headers).json()
    assert public["cross_organisation"]["duplicate_referrals"] is None  # small: withheld


def test_indicators_count_people_and_report_duplicates(
    client: TestClient, admin: Actor, association: Actor, other_association: Actor
) -> None:
    refer(client, association, ZOE, needs=["school_support", "confidence"])
    refer(client, other_association, ZOE_AGAIN, needs=["school_support"])
    refer(client, association, {**ZOE, "first_name": "Inès"}, needs=["orientation"])

    def figures(actor: Actor, **scope: str) -> dict[tuple[str, str | None], float | None]:
        response = client.get("/v1/indicators", params=scope, headers=actor.headers)
        assert response.status_code == 200, response.text
        return {(f["indicator"], f["breakdown"]): f["value"] for f in response.json()["figures"]}

    department = figures(admin, scope="department", code="93")
    assert department[("young_people_referred", None)] == 2
    assert department[("reach_waiting", "all")] == 2
    assert department[("reach_waiting", "need:school_support")] == 1
    assert department[("duplicate_referrals", None)] == 2
    assert department[("duplicates_avoided", None)] == 0
    national = figures(admin, scope="national")
    assert national[("young_people_referred", None)] == 2
    # Each organisation counts its own young people.
    mine = figures(admin, scope="organisation", code=str(association.organisation_id))
    assert mine[("young_people_referred", None)] == 2
    assert mine[("duplicate_referrals", None)] == 1
