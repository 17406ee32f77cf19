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
