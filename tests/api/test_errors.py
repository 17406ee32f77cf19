"""Every error, whatever its cause, is an RFC 9457 problem document."""

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


def fields(body: dict) -> set[str]:
    return {error["field"] for error in body["errors"]}


def test_unknown_route_is_a_problem(client: TestClient, admin: Actor) -> None:
    assert_problem(client.get("/v1/nowhere", headers=admin.headers), 404)


def test_wrong_method_is_a_problem(client: TestClient, admin: Actor) -> None:
    assert_problem(client.put("/v1/organisations", headers=admin.headers), 405)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/v1/mentees/7a0c8a57-5b8e-4a57-9d8b-1f0e2c3d4b5a", "GET, PATCH, DELETE"),
        ("PUT", "/v1/mentors", "GET, POST"),
        ("POST", "/v1/territories", "GET"),
    ],
)
def test_a_405_lists_every_method_of_the_path(
    client: TestClient, admin: Actor, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path, headers=admin.headers)
    assert_problem(response, 405)
    assert response.headers["allow"] == allowed


def test_missing_key_is_401(client: TestClient) -> None:
    assert_problem(client.get("/v1/organisations"), 401)


def test_unknown_key_is_401(client: TestClient) -> None:
    assert_problem(client.get("/v1/organisations", headers={"X-API-Key": "bnm_nope"}), 401)


def test_malformed_json_is_400(client: TestClient, admin: Actor) -> None:
    response = client.post(
        "/v1/organisations",
        content=b'{"name": "x", "kind": ',
        headers={**admin.headers, "content-type": "application/json"},
    )
    body = assert_problem(response, 400)
    assert "JSON" in body["detail"]


def test_invalid_utf8_in_json_is_malformed_json(client: TestClient, admin: Actor) -> None:
    response = client.post(
        "/v1/organisations",
        content=b'{"name": "Asso \xff", "kind": "association"}',
        headers={**admin.headers, "content-type": "application/json"},
    )
    body = assert_problem(response, 400)
    assert body["type"].endswith("/malformed-json")
    assert "UTF-8" in body["detail"]
    assert "0xff" in body["detail"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml; charset=utf-8", None],
)
def test_a_json_endpoint_refuses_another_media_type(
    client: TestClient, admin: Actor, content_type: str | None
) -> None:
    headers = dict(admin.headers)
    if content_type is not None:
        headers["content-type"] = content_type
    response = client.post(
        "/v1/organisations",
        content=b'{"name": "A", "kind": "association"}',
        headers=headers,
    )
    body = assert_problem(response, 415)
    assert body["type"].endswith("/unsupported-media-type")
    assert "application/json" in body["detail"]
    assert (content_type or "no Content-Type").split(";")[0] in body["detail"]
    assert client.get("/v1/organisations", headers=admin.headers).json()["total"] == 1


def test_an_optional_json_body_refuses_another_media_type(
    client: TestClient, association: Actor
) -> None:
    response = client.post(
        "/v1/matches/8d0e5f3c-0000-4000-8000-000000000000/accept",
        content=b"note=x",
        headers={**association.headers, "content-type": "text/plain"},
    )
    assert_problem(response, 415)


def test_a_json_media_type_with_a_suffix_is_json(client: TestClient, admin: Actor) -> None:
    response = client.post(
        "/v1/organisations",
        content=b'{"name": "A", "kind": "association"}',
        headers={**admin.headers, "content-type": "application/merge-patch+json"},
    )
    assert response.status_code == 201, response.text


def test_unknown_field_is_named(client: TestClient, admin: Actor) -> None:
    body = assert_problem(
        client.post(
            "/v1/organisations",
            json={"name": "A", "kind": "association", "colour": "blue"},
            headers=admin.headers,
        ),
        422,
    )
    assert fields(body) == {"colour"}


def test_enum_field_is_named(client: TestClient, admin: Actor) -> None:
    body = assert_problem(
        client.post("/v1/organisations", json={"name": "A", "kind": "club"}, headers=admin.headers),
        422,
    )
    assert fields(body) == {"kind"}


def test_bad_query_parameter_is_named(client: TestClient, admin: Actor) -> None:
    body = assert_problem(client.get("/v1/mentors?limit=0", headers=admin.headers), 422)
    assert fields(body) == {"query.limit"}


def test_bad_path_uuid_is_422(client: TestClient, admin: Actor) -> None:
    body = assert_problem(client.get("/v1/mentors/not-a-uuid", headers=admin.headers), 422)
    assert fields(body) == {"path.mentor_id"}


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"needs": ["astrology"]}, "needs[0]"),
        ({"needs": []}, "needs"),
        ({"departments": ["99"]}, "departments[0]"),
        ({"communes": ["00000"]}, "communes[0]"),
        ({"capacity": -1}, "capacity"),
        ({"min_age": 2}, "min_age"),
        ({"needs": ["orientation", "orientation"]}, "needs"),
    ],
)
def test_programme_field_errors(
    client: TestClient, association: Actor, override: dict, field: str
) -> None:
    response = client.post(
        "/v1/programmes", json=programme_payload(**override), headers=association.headers
    )
    assert field in fields(assert_problem(response, 422))


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"location": {"insee": "99999"}}, "location.insee"),
        ({"location": {"postcode": "00001"}}, "location.postcode"),
        ({"location": {"postcode": "9320"}}, "location.postcode"),
        ({"location": {"insee": "93066", "lat": 95, "lon": 2}}, "location.lat"),
        ({"capacity": 6}, "capacity"),
        ({"skills": []}, "skills"),
        ({"languages": ["French"]}, "languages[0]"),
        ({"background_check_valid_until": "2026-13-01"}, "background_check_valid_until"),
        ({"external_id": ""}, "external_id"),
        ({"max_travel_km": -3}, "max_travel_km"),
        ({"kind": "employee"}, "employer_id"),
        ({"programme_ids": ["8d0e5f3c-0000-4000-8000-000000000000"]}, "programme_ids[0]"),
    ],
)
def test_mentor_field_errors(
    client: TestClient, association: Actor, override: dict, field: str
) -> None:
    response = client.post(
        "/v1/mentors", json=mentor_payload(**override), headers=association.headers
    )
    assert field in fields(assert_problem(response, 422))


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"birth_year": 1950}, "birth_year"),
        ({"waiting_since": "2999-01-01"}, "waiting_since"),
        ({"rural_zone": "mountain"}, "rural_zone"),
        ({"activity": "astronaut"}, "activity"),
        ({"location": {}}, "location"),
    ],
)
def test_mentee_field_errors(
    client: TestClient, association: Actor, override: dict, field: str
) -> None:
    response = client.post(
        "/v1/mentees", json=mentee_payload(**override), headers=association.headers
    )
    assert field in fields(assert_problem(response, 422))


def test_duplicate_external_id_is_409_and_keeps_the_first(
    client: TestClient, association: Actor
) -> None:
    payload = mentor_payload(external_id="M-1")
    assert client.post("/v1/mentors", json=payload, headers=association.headers).status_code == 201
    second = mentor_payload(external_id="M-1", capacity=5)
    assert_problem(client.post("/v1/mentors", json=second, headers=association.headers), 409)
    listed = client.get("/v1/mentors?external_id=M-1", headers=association.headers).json()
    assert listed["total"] == 1
    assert listed["items"][0]["capacity"] == 2


def test_a_nul_character_never_causes_a_server_error(client: TestClient, admin: Actor) -> None:
    response = client.post(
        "/v1/organisations",
        json={"name": "Asso\u0000", "kind": "association"},
        headers=admin.headers,
    )
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:  # PostgreSQL cannot store it: nothing was written
        assert_problem(response, 422)
        listed = client.get("/v1/organisations?name=Asso", headers=admin.headers).json()
        assert listed["total"] == 0


@pytest.mark.parametrize("field", ["skills", "languages", "capacity", "location", "kind"])
def test_patch_cannot_null_a_required_value(
    client: TestClient, association: Actor, field: str
) -> None:
    mentor = client.post("/v1/mentors", json=mentor_payload(), headers=association.headers).json()
    path = f"/v1/mentors/{mentor['id']}"
    body = assert_problem(client.patch(path, json={field: None}, headers=association.headers), 422)
    assert fields(body) == {field}
    assert client.get(path, headers=association.headers).json()["skills"] == mentor["skills"]
    assert client.get("/v1/mentors", headers=association.headers).status_code == 200


def test_patch_clears_a_nullable_value(client: TestClient, association: Actor) -> None:
    mentor = client.post("/v1/mentors", json=mentor_payload(), headers=association.headers).json()
    path = f"/v1/mentors/{mentor['id']}"
    cleared = client.patch(
        path, json={"background_check_valid_until": None}, headers=association.headers
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["background_check_valid_until"] is None


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/matches", "match"),
        ("/v1/matching-runs", "matching run"),
        ("/v1/mentors", "mentor"),
        ("/v1/mentees", "mentee"),
        ("/v1/programmes", "programme"),
        ("/v1/organisations", "organisation"),
        ("/v1/supports", "support"),
    ],
)
def test_not_found_names_the_record_in_the_singular(
    client: TestClient, admin: Actor, path: str, name: str
) -> None:
    record_id = "8d0e5f3c-0000-4000-8000-000000000000"
    body = assert_problem(client.get(f"{path}/{record_id}", headers=admin.headers), 404)
    assert body["detail"] == f"no {name} {record_id}"


def test_an_unknown_commune_is_named_once(client: TestClient, association: Actor) -> None:
    response = client.post(
        "/v1/mentees",
        json=mentee_payload(location={"insee": "99999"}),
        headers=association.headers,
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {"field": "location.insee", "message": "unknown INSEE commune code '99999'"}
    ]
    assert body["detail"] == "location.insee: unknown INSEE commune code '99999'"


def test_a_method_the_written_out_path_does_not_serve_is_405_not_a_bad_id(
    client: TestClient, admin: Actor
) -> None:
    # /v1/mentors/import also fits /v1/mentors/{mentor_id}, which serves DELETE.
    response = client.delete("/v1/mentors/import", headers=admin.headers)
    assert_problem(response, 405)
    assert response.headers["allow"] == "POST"
    assert_problem(client.delete("/v1/mentors/not-an-id", headers=admin.headers), 422)


def test_a_method_the_path_does_not_serve_is_405_whatever_its_query(
    client: TestClient, admin: Actor
) -> None:
    # DELETE /v1/mentors/{mentor_id} does not declare the import's query parameters: the
    # request is answered 405 before its parameters are looked at.
    response = client.delete(
        "/v1/mentors/import?mode=atomic&deactivate_missing=true", headers=admin.headers
    )
    assert_problem(response, 405)
    assert response.headers["allow"] == "POST"


def test_a_405_speaks_french_when_asked(client: TestClient, admin: Actor) -> None:
    response = client.put("/v1/mentors", headers={**admin.headers, "Accept-Language": "fr"})
    assert_problem(response, 405)
    assert response.json()["detail"] == "PUT n'est pas accepté ici ; méthodes acceptées : GET, POST"
