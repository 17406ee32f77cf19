"""Imports sent as people send files: ``curl -F file=@pool.csv`` (multipart/form-data)."""

import json

from tests.imports.conftest import listed, mentee_row, to_csv


def test_a_csv_uploaded_as_a_form_is_imported(client, association):
    body = to_csv([mentee_row("J-1"), mentee_row("J-2")], separator=";", bom=True)
    response = client.post(
        "/v1/mentees/import",
        files={"file": ("jeunes.csv", body, "text/csv")},
        headers=association.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["created"] == 2
    assert response.json()["format"] == "csv"
    assert {m["external_id"] for m in listed(client, association, "mentees")} == {"J-1", "J-2"}


def test_format_from_the_file_name_when_the_type_is_generic(client, association):
    records = [{**json.loads('{"birth_year": 2012}'), **_json_mentee("J-9")}]
    response = client.post(
        "/v1/mentees/import?mode=partial",
        files={"file": ("jeunes.json", json.dumps(records).encode(), "application/octet-stream")},
        headers=association.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["format"] == "json"


def _json_mentee(external_id: str) -> dict:
    return {
        "external_id": external_id,
        "birth_year": 2012,
        "location": {"insee": "93066"},
        "activity": "middle_school",
        "needs": ["school_support"],
    }


def test_a_form_without_file_or_of_unknown_type_is_refused(client, association):
    no_file = client.post(
        "/v1/mentees/import",
        data={"other": "x"},
        files={"x": ("a.csv", b"a")},
        headers=association.headers,
    )
    assert no_file.status_code == 422
    assert no_file.json()["errors"][0]["field"] == "file"
    unknown = client.post(
        "/v1/mentees/import",
        files={"file": ("photo.png", b"\x89PNG", "image/png")},
        headers=association.headers,
    )
    assert unknown.status_code == 415


def test_an_oversized_upload_is_413(client, association, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("BINOME_MAX_IMPORT_BYTES", "2048")
    get_settings.cache_clear()
    body = to_csv([mentee_row(f"J-{i}") for i in range(100)])
    response = client.post(
        "/v1/mentees/import",
        files={"file": ("big.csv", body, "text/csv")},
        headers=association.headers,
    )
    assert response.status_code == 413
