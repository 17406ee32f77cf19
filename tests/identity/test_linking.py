"""Two associations refer the same young person: one person for matching, and neither
learns who the other is."""

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import engine_for
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload
from tests.runs.conftest import Workers, create, finished, submit

ZOE = {"first_name": "Zoé-Marie", "last_name": "N'Diaye", "birth_date": "2012-04-02"}
ZOE_AGAIN = {"first_name": "zoe marie", "last_name": "NDIAYE", "birth_date": "2012-04-02"}


def refer(client: TestClient, actor: Actor, identity: dict, **fields: object) -> dict:
    return create(client, actor, "/v1/mentees", mentee_payload(identity=identity, **fields))


def test_two_referrals_of_one_person_are_linked_and_matched_once(
    client: TestClient,
    association: Actor,
    other_association: Actor,
    public_body: Actor,
    workers: Workers,
) -> None:
    programme = create(client, association, "/v1/programmes", programme_payload())
    for _ in range(3):
        create(client, association, "/v1/mentors", mentor_payload(programme_ids=[programme["id"]]))
    mine = refer(client, association, ZOE, needs=["school_support", "confidence"])
    assert mine["followed_elsewhere"] is False
    theirs = refer(client, other_association, ZOE_AGAIN, needs=["orientation"])
    assert theirs["followed_elsewhere"] is True

    seen = client.get(f"/v1/mentees/{mine['id']}", headers=association.headers).json()
    assert seen["followed_elsewhere"] is True
    assert seen["needs_supported_elsewhere"] == []
    text = str(seen)
    assert theirs["id"] not in text
    assert str(other_association.organisation_id) not in text
    assert "identity" not in seen
    refused = client.get(f"/v1/mentees/{theirs['id']}", headers=association.headers)
    assert refused.status_code == 404

    workers.start()
    run = finished(client, association, submit(client, association, mode="dry_run")["id"])
    assert run["status"] == "succeeded", run
    proposals = client.get(
        f"/v1/matching-runs/{run['id']}/proposals", headers=association.headers
    ).json()["items"]
    # One person, one proposal: on either record (the other association's shown without
    # its id, ``mentee_disclosed: false``).
    assert len(proposals) == 1
    assert proposals[0]["mentee_id"] in (mine["id"], None)
    assert run["stats"]["matched"] == 1

    # The Cité éducative declares school support by identity alone: no run proposes it
    # to either record any more.
    declared = client.post(
        "/v1/supports",
        json={"identity": ZOE_AGAIN, "need": "school_support", "start_date": "2026-01-05"},
        headers=public_body.headers,
    )
    assert declared.status_code == 201, declared.text
    run = finished(client, association, submit(client, association, mode="dry_run")["id"])
    proposals = client.get(
        f"/v1/matching-runs/{run['id']}/proposals", headers=association.headers
    ).json()["items"]
    # One person, one proposal: on either record (the other association's shown without
    # its id, ``mentee_disclosed: false``).
    assert len(proposals) == 1
    assert proposals[0]["mentee_id"] in (mine["id"], None)
    assert proposals[0]["need"] != "school_support"

    # Then every other need: nothing is left to propose to this person.
    for need in ("orientation", "confidence"):
        declared = client.post(
            "/v1/supports",
            json={"identity": ZOE_AGAIN, "need": need, "start_date": "2026-01-05"},
            headers=public_body.headers,
        )
        assert declared.status_code == 201, declared.text
        assert declared.json()["mentee_id"] is None
    seen = client.get(f"/v1/mentees/{theirs['id']}", headers=other_association.headers).json()
    assert seen["needs_supported_elsewhere"] == ["school_support", "orientation", "confidence"]

    run = finished(client, association, submit(client, association, mode="dry_run")["id"])
    assert run["status"] == "succeeded", run
    proposals = client.get(
        f"/v1/matching-runs/{run['id']}/proposals", headers=association.headers
    ).json()["items"]
    assert not [p for p in proposals if p["mentee_id"] in (mine["id"], theirs["id"])]
    unmatched = client.get(
        f"/v1/matching-runs/{run['id']}/unmatched", headers=association.headers
    ).json()["items"]
    reasons = {u["mentee_id"]: u["reason"] for u in unmatched}
    assert reasons.get(mine["id"]) == "all_needs_supported"


def test_an_association_detaches_a_wrongly_linked_record_with_a_coded_reason(
    client: TestClient, association: Actor, other_association: Actor
) -> None:
    mine = refer(client, association, ZOE)
    theirs = refer(client, other_association, ZOE_AGAIN)
    assert theirs["followed_elsewhere"] is True
    refused = client.post(
        f"/v1/mentees/{mine['id']}/identity/detach",
        json={"reason": "because"},
        headers=association.headers,
    )
    assert refused.status_code == 422
    outsider = client.post(
        f"/v1/mentees/{theirs['id']}/identity/detach",
        json={"reason": "different_person"},
        headers=association.headers,
    )
    assert outsider.status_code == 404
    detached = client.post(
        f"/v1/mentees/{mine['id']}/identity/detach",
        json={"reason": "different_person"},
        headers=association.headers,
    )
    assert detached.status_code == 200, detached.text
    assert detached.json()["followed_elsewhere"] is False
    seen = client.get(f"/v1/mentees/{theirs['id']}", headers=other_association.headers).json()
    assert seen["followed_elsewhere"] is False

    mine_events = client.get("/v1/identity/events", headers=association.headers).json()
    assert [(e["kind"], e["record_id"], e["reason"]) for e in mine_events["items"]] == [
        ("linked", mine["id"], None),
        ("detached", mine["id"], "different_person"),
    ]
    their_events = client.get("/v1/identity/events", headers=other_association.headers).json()
    assert [(e["kind"], e["record_id"]) for e in their_events["items"]] == [
        ("linked", theirs["id"])
    ]
    again = client.post(
        f"/v1/mentees/{mine['id']}/identity/detach",
        json={"reason": "different_person"},
        headers=association.headers,
    )
    assert again.status_code == 409


def test_linked_volunteer_records_share_the_smallest_capacity(
    client: TestClient,
    association: Actor,
    other_association: Actor,
    company: Actor,
    workers: Workers,
) -> None:
    programme = create(client, association, "/v1/programmes", programme_payload())
    volunteer = {"first_name": "Jean-Luc", "last_name": "Dupré", "birth_date": "1980-02-29"}
    hr = create(
        client, company, "/v1/mentors",
        mentor_payload(kind="employee", identity=volunteer, capacity=1,
                       programme_ids=[programme["id"]]),
    )  # fmt: skip
    assoc = create(
        client, association, "/v1/mentors",
        mentor_payload(identity={**volunteer, "first_name": "jean luc"}, capacity=3,
                       programme_ids=[programme["id"]]),
    )  # fmt: skip
    # An employee HR enrols in another organisation's programme serves once it consents.
    confirmed = client.post(
        "/v1/consents/enrolments/confirm",
        json={"mentor_id": hr["id"], "programme_id": programme["id"]},
        headers=association.headers,
    )
    assert confirmed.status_code == 200, confirmed.text
    young = [refer(client, association, {**ZOE, "first_name": f"P{i}"}) for i in range(3)]
    workers.start()
    run = finished(client, association, submit(client, association, mode="dry_run")["id"])
    assert run["status"] == "succeeded", run
    proposals = client.get(
        f"/v1/matching-runs/{run['id']}/proposals", headers=association.headers
    ).json()["items"]
    assert len(proposals) == 1
    assert proposals[0]["mentor_id"] in (hr["id"], assoc["id"])
    assert proposals[0]["mentee_id"] in {y["id"] for y in young}


def test_erasing_a_record_erases_its_hashes_and_its_links(
    client: TestClient, association: Actor, other_association: Actor, db_url: str
) -> None:
    mine = refer(client, association, ZOE)
    theirs = refer(client, other_association, ZOE_AGAIN)
    erased = client.delete(f"/v1/mentees/{mine['id']}", headers=association.headers)
    assert erased.status_code == 204
    seen = client.get(f"/v1/mentees/{theirs['id']}", headers=other_association.headers).json()
    assert seen["followed_elsewhere"] is False
    with engine_for(db_url).connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM identity_digests")).scalar()
    assert left == 1  # only the remaining record's hash
