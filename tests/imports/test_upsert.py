"""Happy paths: CSV and JSON imports create, update and leave unchanged, by external id."""

from fastapi.testclient import TestClient

from tests.api.conftest import mentee_payload, mentor_payload, programme_payload
from tests.imports.conftest import (
    Actor,
    listed,
    mentee_row,
    mentor_row,
    post_import,
    to_csv,
)


def counts(response) -> dict[str, int]:
    assert response.status_code == 200, response.text
    return response.json()["counts"]


def test_post_to_mentors_import_reaches_the_import_route(
    client: TestClient, association: Actor
) -> None:
    response = post_import(client, association, "mentors", to_csv([mentor_row("M-1")]))
    assert response.status_code == 200, response.text
    assert response.headers["location"] == f"/v1/imports/{response.json()['id']}"


def test_csv_import_creates_mentors_with_the_single_record_values(
    client: TestClient, association: Actor
) -> None:
    rows = [mentor_row("M-1"), mentor_row("M-2", insee="", postcode="75011", remote_ok="non")]
    response = post_import(client, association, "mentors", to_csv(rows))
    assert counts(response) == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "deactivated": 0,
        "rejected": 0,
    }
    body = response.json()
    assert body["status"] == "completed"
    assert body["errors"] == []
    mentors = {m["external_id"]: m for m in listed(client, association, "mentors")}
    assert mentors["M-1"]["location"]["commune_name"] == "Saint-Denis"
    assert mentors["M-1"]["skills"] == ["school_support", "orientation"]
    assert mentors["M-1"]["remote_ok"] is True
    assert mentors["M-2"]["location"]["department"] == "75"
    assert mentors["M-2"]["remote_ok"] is False
    assert mentors["M-2"]["organisation_id"] == str(association.organisation_id)

    single = client.post(
        "/v1/mentors",
        json=mentor_payload(external_id="M-3", languages=["fr", "en"], remote_ok=True),
        headers=association.headers,
    ).json()
    fields = ("kind", "capacity", "max_travel_km", "skills", "languages", "location", "active")
    assert {f: single[f] for f in fields} == {f: mentors["M-1"][f] for f in fields}


def test_semicolon_bom_and_french_cells(client: TestClient, association: Actor) -> None:
    rows = [
        mentor_row(
            "M-1",
            remote_ok="VRAI",
            background_check_valid_until="30/06/2027",
            lat="48,9362",
            lon="2,3574",
        )
    ]
    response = post_import(client, association, "mentors", to_csv(rows, ";", bom=True))
    assert counts(response)["created"] == 1
    mentor = listed(client, association, "mentors")[0]
    assert mentor["background_check_valid_until"] == "2027-06-30"
    assert mentor["remote_ok"] is True
    assert mentor["location"]["lat"] == 48.9362


def test_json_import_takes_the_single_record_shape(client: TestClient, association: Actor) -> None:
    records = [mentor_payload(external_id="M-1"), mentor_payload(external_id="M-2")]
    response = post_import(client, association, "mentors", records)
    assert counts(response)["created"] == 2
    assert response.json()["format"] == "json"


def test_reimport_counts_created_updated_unchanged(client: TestClient, association: Actor) -> None:
    first = [mentor_row("M-1"), mentor_row("M-2"), mentor_row("M-3")]
    assert counts(post_import(client, association, "mentors", to_csv(first)))["created"] == 3
    second = [mentor_row("M-1"), mentor_row("M-2", capacity="5"), mentor_row("M-4")]
    assert counts(post_import(client, association, "mentors", to_csv(second))) == {
        "rows": 3,
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "deactivated": 0,
        "rejected": 0,
    }
    mentors = {m["external_id"]: m for m in listed(client, association, "mentors")}
    assert mentors["M-2"]["capacity"] == 5
    assert mentors["M-3"]["active"] is True  # missing from the file: untouched
    assert set(mentors) == {"M-1", "M-2", "M-3", "M-4"}


def test_programme_ids_are_checked_linked_and_compared(
    client: TestClient, association: Actor, settings_env
) -> None:
    settings_env(IMPORT_BATCH_SIZE=2)
    programme = client.post(
        "/v1/programmes", json=programme_payload(), headers=association.headers
    ).json()["id"]
    rows = [mentor_row(f"M-{i}", programme_ids=programme) for i in range(3)]
    assert counts(post_import(client, association, "mentors", to_csv(rows)))["created"] == 3
    assert all(m["programme_ids"] == [programme] for m in listed(client, association, "mentors"))
    assert counts(post_import(client, association, "mentors", to_csv(rows)))["unchanged"] == 3
    rows[0]["programme_ids"] = ""
    assert counts(post_import(client, association, "mentors", to_csv(rows)))["updated"] == 1
    mentors = {m["external_id"]: m for m in listed(client, association, "mentors")}
    assert mentors["M-0"]["programme_ids"] == []
    assert mentors["M-1"]["programme_ids"] == [programme]


def test_mentee_import_for_associations(client: TestClient, association: Actor) -> None:
    rows = [mentee_row("J-1"), mentee_row("J-2", qpv="non", needs="employment")]
    assert counts(post_import(client, association, "mentees", to_csv(rows)))["created"] == 2
    mentees = {m["external_id"]: m for m in listed(client, association, "mentees")}
    assert mentees["J-1"]["qpv"] is True
    assert mentees["J-2"]["needs"] == ["employment"]
    records = [
        mentee_payload(external_id="J-1"),  # the same values as the CSV row
        mentee_payload(external_id="J-2", qpv=True),
        mentee_payload(external_id="J-3"),
    ]
    result = counts(post_import(client, association, "mentees", records))
    assert (result["created"], result["unchanged"], result["updated"]) == (1, 1, 1)


def test_inactive_record_listed_again_is_reactivated(
    client: TestClient, association: Actor
) -> None:
    post_import(client, association, "mentors", to_csv([mentor_row("M-1", active="non")]))
    assert listed(client, association, "mentors")[0]["active"] is False
    response = post_import(client, association, "mentors", to_csv([mentor_row("M-1")]))
    assert counts(response)["updated"] == 1
    assert listed(client, association, "mentors")[0]["active"] is True
