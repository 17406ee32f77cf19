"""Finding things again: the list of imports, sorting, and query strings checked."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload, mentor_payload


def _import(client: TestClient, actor: Actor, kind: str, csv: str, **params: str):
    return client.post(
        f"/v1/{kind}/import",
        content=csv.encode(),
        params=params,
        headers={**actor.headers, "content-type": "text/csv"},
    )


MENTEES = (
    "external_id;birth_year;insee;needs;activity\nJ-1;2012;93066;school_support;middle_school\n"
)
BAD_MENTEES = (
    "external_id;birth_year;insee;needs;activity\nJ-2;1850;93066;school_support;middle_school\n"
)
MENTORS = "external_id;kind;insee;max_travel_km;capacity;skills;languages\nM-1;volunteer;93066;5;1;orientation;fr\n"


def test_imports_are_listed_with_filters(
    client: TestClient, association: Actor, other_association: Actor, admin: Actor
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    ok = _import(client, association, "mentees", MENTEES).json()
    rejected = _import(client, association, "mentees", BAD_MENTEES)
    assert rejected.status_code == 422
    mentors = _import(client, association, "mentors", MENTORS).json()
    _import(client, other_association, "mentees", MENTEES)

    listed = client.get("/v1/imports", headers=association.headers).json()
    assert listed["total"] == 3  # not the other association's
    assert listed["items"][0]["id"] == mentors["id"]  # newest first
    assert "errors" not in listed["items"][0]

    def ids(**params: str) -> set[str]:
        response = client.get("/v1/imports", params=params, headers=association.headers)
        assert response.status_code == 200, response.text
        return {i["id"] for i in response.json()["items"]}

    assert ids(kind="mentors") == {mentors["id"]}
    assert ids(status="rejected") == {rejected.json()["import_id"]}
    assert ids(kind="mentees", status="completed") == {ok["id"]}
    assert len(ids(created_after=before.isoformat())) == 3
    assert ids(created_before=before.isoformat()) == set()
    assert client.get("/v1/imports", headers=admin.headers).json()["total"] == 4
    assert client.get("/v1/imports?kind=robots", headers=association.headers).status_code == 422


def test_lists_sort_on_documented_fields(client: TestClient, association: Actor) -> None:
    for external_id in ("B", "C", "A"):
        response = client.post(
            "/v1/mentors", json=mentor_payload(external_id=external_id), headers=association.headers
        )
        assert response.status_code == 201

    def order(sort: str) -> list[str]:
        response = client.get(f"/v1/mentors?sort={sort}", headers=association.headers)
        assert response.status_code == 200, response.text
        return [m["external_id"] for m in response.json()["items"]]

    assert order("external_id") == ["A", "B", "C"]
    assert order("-external_id") == ["C", "B", "A"]
    assert order("created_at") == ["B", "C", "A"]
    assert order("-created_at") == ["A", "C", "B"]
    # Paging a sorted list never repeats nor skips.
    pages = [
        client.get(
            f"/v1/mentors?sort=-external_id&limit=1&offset={i}", headers=association.headers
        ).json()["items"][0]["external_id"]
        for i in range(3)
    ]
    assert pages == ["C", "B", "A"]
    response = client.get("/v1/mentors?sort=password", headers=association.headers)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "query.sort"
    assert "external_id" in error["message"]


def test_sort_on_young_people_matches_and_runs(client: TestClient, association: Actor) -> None:
    for year in (2010, 2013, 2011):
        client.post(
            "/v1/mentees", json=mentee_payload(birth_year=year), headers=association.headers
        )
    years = [
        m["birth_year"]
        for m in client.get("/v1/mentees?sort=-birth_year", headers=association.headers).json()[
            "items"
        ]
    ]
    assert years == [2013, 2011, 2010]
    for path in ("/v1/matches?sort=-proposed_at", "/v1/matching-runs?sort=-finished_at,created_at"):
        assert client.get(path, headers=association.headers).status_code == 200, path


def test_unknown_query_parameters_are_named_in_a_422(
    client: TestClient, association: Actor
) -> None:
    response = client.get(
        "/v1/mentees?departement=93&qpv=true&colour=red", headers=association.headers
    )
    assert response.status_code == 422
    body = response.json()
    assert [e["field"] for e in body["errors"]] == ["query.colour", "query.departement"]
    assert "department" in body["errors"][1]["message"]  # says what is accepted
    # Declared parameters, including those of shared dependencies, are accepted.
    ok = client.get(
        "/v1/mentees?department=93&qpv=true&limit=5&offset=0", headers=association.headers
    )
    assert ok.status_code == 200
    assert client.get("/healthz?verbose=1").status_code == 422
