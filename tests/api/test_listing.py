"""Pagination, filters and geocoding as users of the API see them."""

import pytest
from fastapi.testclient import TestClient

from app.pagination import MAX_OFFSET
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload


def post(client: TestClient, actor: Actor, path: str, payload: dict) -> dict:
    response = client.post(path, json=payload, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_pages_cover_every_record_once(client: TestClient, association: Actor) -> None:
    created = {post(client, association, "/v1/mentors", mentor_payload())["id"] for _ in range(7)}
    seen: list[str] = []
    for offset in range(0, 9, 3):
        page = client.get(f"/v1/mentors?limit=3&offset={offset}", headers=association.headers)
        body = page.json()
        assert body["total"] == 7
        assert body["limit"] == 3
        seen += [item["id"] for item in body["items"]]
    assert len(seen) == 7
    assert set(seen) == created


def test_page_size_over_the_maximum_is_a_422_naming_limit(
    client: TestClient, association: Actor
) -> None:
    response = client.get("/v1/mentors?limit=501", headers=association.headers)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "query.limit", "message": "must be at most 500"}]
    assert client.get("/v1/mentors?limit=500", headers=association.headers).json()["limit"] == 500


def test_geocoding_by_insee_code(client: TestClient, association: Actor) -> None:
    mentee = post(client, association, "/v1/mentees", mentee_payload(location={"insee": "93066"}))
    location = mentee["location"]
    assert location["commune_name"] == "Saint-Denis"
    assert location["department"] == "93"
    assert location["region"] == "11"
    assert 48.9 < location["lat"] < 49.0
    assert 2.3 < location["lon"] < 2.4


def test_geocoding_by_postcode(client: TestClient, association: Actor) -> None:
    mentor = post(
        client, association, "/v1/mentors", mentor_payload(location={"postcode": "69003"})
    )
    assert mentor["location"]["commune_insee"] == "69383"
    assert mentor["location"]["department"] == "69"


def test_exact_coordinates_are_kept(client: TestClient, association: Actor) -> None:
    location = {"insee": "93066", "lat": 48.9362, "lon": 2.3574}
    mentor = post(client, association, "/v1/mentors", mentor_payload(location=location))
    assert mentor["location"]["lat"] == 48.9362
    assert mentor["location"]["lon"] == 2.3574


def test_filters_by_department_commune_need_and_status(
    client: TestClient, association: Actor
) -> None:
    saint_denis = post(client, association, "/v1/mentees", mentee_payload(needs=["orientation"]))
    lyon = post(
        client,
        association,
        "/v1/mentees",
        mentee_payload(location={"postcode": "69003"}, needs=["employment"], active=False),
    )

    def listed(query: str) -> set[str]:
        response = client.get(f"/v1/mentees?{query}", headers=association.headers)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert listed("department=93") == {saint_denis["id"]}
    assert listed("commune=69383") == {lyon["id"]}
    assert listed("need=employment") == {lyon["id"]}
    assert listed("active=true") == {saint_denis["id"]}
    assert listed("need=orientation&department=69") == set()


def test_unknown_territory_in_a_filter_is_422(client: TestClient, association: Actor) -> None:
    response = client.get("/v1/mentors?department=99", headers=association.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "department"


def test_programme_filters(client: TestClient, association: Actor) -> None:
    by_department = post(client, association, "/v1/programmes", programme_payload())
    by_commune = post(
        client,
        association,
        "/v1/programmes",
        programme_payload(departments=[], communes=["69383"], needs=["employment"]),
    )

    def listed(query: str) -> set[str]:
        response = client.get(f"/v1/programmes?{query}", headers=association.headers)
        return {item["id"] for item in response.json()["items"]}

    assert listed("commune=93066") == {by_department["id"]}
    assert listed("commune=69383") == {by_commune["id"]}
    assert listed("department=93") == {by_department["id"]}
    assert listed("need=employment") == {by_commune["id"]}


def test_mentor_programme_filter_and_update(client: TestClient, association: Actor) -> None:
    programme = post(client, association, "/v1/programmes", programme_payload())
    mentor = post(client, association, "/v1/mentors", mentor_payload())
    path = f"/v1/mentors?programme_id={programme['id']}"
    assert client.get(path, headers=association.headers).json()["total"] == 0
    patched = client.patch(
        f"/v1/mentors/{mentor['id']}",
        json={"programme_ids": [programme["id"]], "location": {"postcode": "75011"}},
        headers=association.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["location"]["commune_insee"] == "75111"
    assert client.get(path, headers=association.headers).json()["total"] == 1


def test_support_active_on_filter(client: TestClient, association: Actor, public_body) -> None:
    mentee = post(client, association, "/v1/mentees", mentee_payload())
    base = {"mentee_id": mentee["id"], "provider_id": str(public_body.organisation_id)}
    ended = post(
        client,
        association,
        "/v1/supports",
        {**base, "need": "orientation", "start_date": "2025-01-01", "end_date": "2025-06-30"},
    )
    running = post(
        client,
        association,
        "/v1/supports",
        {**base, "need": "confidence", "start_date": "2025-09-01"},
    )
    response = client.get("/v1/supports?active_on=2026-01-01", headers=association.headers)
    assert {item["id"] for item in response.json()["items"]} == {running["id"]}
    assert ended["end_date"] == "2025-06-30"
    bad = {**base, "need": "digital", "start_date": "2025-09-01", "end_date": "2025-01-01"}
    response = client.post("/v1/supports", json=bad, headers=association.headers)
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/v1/mentors", "/v1/mentees", "/v1/organisations", "/v1/matches"])
@pytest.mark.parametrize("offset", ["99999999999999999999", str(MAX_OFFSET + 1)])
def test_an_offset_beyond_the_cap_is_a_named_422(
    client: TestClient, admin: Actor, path: str, offset: str
) -> None:
    response = client.get(f"{path}?offset={offset}", headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["query.offset"]


def test_the_largest_offset_is_an_empty_page(client: TestClient, association: Actor) -> None:
    post(client, association, "/v1/mentors", mentor_payload())
    response = client.get(f"/v1/mentors?offset={MAX_OFFSET}", headers=association.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["items"], body["total"], body["offset"]) == ([], 1, MAX_OFFSET)


def test_support_active_on_takes_an_iso_date_only(client: TestClient, association: Actor) -> None:
    for wrong in ("0", "1700000000", "2026-13-01", "01/02/2026"):
        response = client.get(f"/v1/supports?active_on={wrong}", headers=association.headers)
        assert response.status_code == 422, wrong
        assert response.json()["errors"][0]["field"] == "query.active_on"
