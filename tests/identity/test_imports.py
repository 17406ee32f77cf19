"""Identity columns of the imports: hashed like the single-record API, never echoed."""

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from tests.api.conftest import Actor
from tests.imports.conftest import listed, mentee_row, mentor_row, post_import, to_csv

PERSON = {"first_name": "Élodie", "last_name": "D'Almeida", "birth_date": "14/03/2012"}


def test_imported_identities_link_records_of_two_associations(
    client: TestClient, association: Actor, other_association: Actor
) -> None:
    first = post_import(client, association, "mentees", to_csv([mentee_row("A-1", **PERSON)]))
    assert first.status_code == 200, first.text
    same = {"first_name": "elodie", "last_name": "dalmeida", "birth_date": "2012-03-14"}
    second = post_import(
        client, other_association, "mentees", [{**json_mentee("B-7"), "identity": same}]
    )
    assert second.status_code == 200, second.text
    for actor in (association, other_association):
        (record,) = listed(client, actor, "mentees")
        assert record["followed_elsewhere"] is True
    volunteers = post_import(client, association, "mentors", to_csv([mentor_row("V-1", **PERSON)]))
    assert volunteers.status_code == 200, volunteers.text


def json_mentee(external_id: str) -> dict:
    return {
        "external_id": external_id,
        "birth_year": 2012,
        "location": {"insee": "93066"},
        "activity": "middle_school",
        "needs": ["orientation"],
    }


def test_row_errors_about_identity_name_the_column_without_the_value(
    client: TestClient, association: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        mentee_row("A-1", **PERSON, birth_year="2013"),
        mentee_row("A-2", **{**PERSON, "first_name": "-'-"}),
        mentee_row("A-3", **{**PERSON, "birth_date": "31/02/2012"}),
    ]
    response = post_import(client, association, "mentees", to_csv(rows), mode="partial")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["counts"]["rejected"] == 3
    assert [e["column"] for e in report["errors"]] == ["first_name", "first_name", "birth_date"]
    errors = client.get(f"/v1/imports/{report['id']}/errors.csv", headers=association.headers)
    for text in (response.text, errors.text):
        for value in ("Élodie", "lodie", "Almeida", "2012-03-14", "14/03/2012", "31/02/2012"):
            assert value not in text

    monkeypatch.delenv("BINOME_IDENTITY_SECRET")
    get_settings.cache_clear()
    refused = post_import(client, association, "mentees", to_csv([mentee_row("A-9", **PERSON)]))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["column"] == "first_name"
    assert "BINOME_IDENTITY_SECRET" in refused.json()["errors"][0]["message"]
