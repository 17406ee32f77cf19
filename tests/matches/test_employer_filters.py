"""Company HR lists its employees' matches without learning anything of the young people:
the filters on the young person are refused, not silently applied."""

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Actor
from tests.matches.conftest import Pairing


def young_person_filters(pairing: Pairing) -> dict[str, str]:
    return {
        "mentee_id": str(pairing.mentee_ids[0]),
        "need": "school_support",
        "department": "93",
    }


@pytest.mark.parametrize("name", ["mentee_id", "need", "department"])
def test_hr_cannot_filter_on_the_young_person(
    client: TestClient, pairing: Pairing, company: Actor, name: str
) -> None:
    pairing.match()
    value = young_person_filters(pairing)[name]
    response = client.get(f"/v1/matches?{name}={value}", headers=company.headers)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/forbidden")
    assert body["detail"].startswith(f"{name}: ")
    assert "young person" in body["detail"]
    assert [e["field"] for e in body["errors"]] == [f"query.{name}"]


def test_hr_refusal_names_every_young_person_filter(
    client: TestClient, pairing: Pairing, company: Actor
) -> None:
    filters = young_person_filters(pairing)
    response = client.get("/v1/matches", params=filters, headers=company.headers)
    assert response.status_code == 403, response.text
    assert {e["field"] for e in response.json()["errors"]} == {f"query.{n}" for n in filters}


def test_a_filter_that_matches_nothing_is_refused_too(
    client: TestClient, pairing: Pairing, company: Actor
) -> None:
    """The answer must not depend on the value: an empty page would leak as much."""
    pairing.match()
    response = client.get("/v1/matches?department=75", headers=company.headers)
    assert response.status_code == 403


def test_hr_keeps_the_filters_on_its_employees(
    client: TestClient, pairing: Pairing, company: Actor
) -> None:
    match = pairing.match()
    for query in (
        "status=proposed",
        f"programme_id={pairing.programme_id}",
        f"mentor_id={pairing.mentor_id}",
    ):
        response = client.get(f"/v1/matches?{query}", headers=company.headers)
        assert response.status_code == 200, response.text
        assert [m["id"] for m in response.json()["items"]] == [str(match.id)]


@pytest.mark.parametrize("role", ["association", "admin"])
def test_association_and_admin_keep_the_young_person_filters(
    client: TestClient, pairing: Pairing, request: pytest.FixtureRequest, role: str
) -> None:
    actor: Actor = request.getfixturevalue(role)
    first = pairing.match()
    second = pairing.match(mentee=1, need="confidence")
    for name, value, expected in (
        ("mentee_id", pairing.mentee_ids[0], [first.id]),
        ("mentee_id", pairing.mentee_ids[1], [second.id]),
        ("need", "confidence", [second.id]),
        ("department", "93", [first.id, second.id]),
        ("department", "75", []),
    ):
        response = client.get(f"/v1/matches?{name}={value}", headers=actor.headers)
        assert response.status_code == 200, response.text
        assert [m["id"] for m in response.json()["items"]] == [str(i) for i in expected]
