"""Each kind of bad input gets a precise error, and nothing is half-written."""

import json

import pytest
from fastapi.testclient import TestClient

from tests.imports.conftest import (
    MENTOR_HEADER,
    Actor,
    listed,
    mentee_row,
    mentor_row,
    post_import,
    to_csv,
)


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    return body


def nothing_written(client: TestClient, actor: Actor) -> None:
    assert listed(client, actor, "mentors") == []


def test_wrong_encoding_names_the_line(client: TestClient, association: Actor) -> None:
    text = to_csv([mentor_row("M-1"), mentor_row("M-2")]).decode()
    body = text.replace("M-2", "Hélène-2").encode("cp1252")
    error = problem(post_import(client, association, "mentors", body), 422)
    assert error["type"].endswith("/invalid-import-file")
    assert error["errors"] == [{"line": 3, "message": error["detail"]}]
    assert "line 3 is not valid UTF-8" in error["detail"]
    assert "CSV UTF-8" in error["detail"]
    nothing_written(client, association)


def test_utf16_file_is_named(client: TestClient, association: Actor) -> None:
    body = to_csv([mentor_row("M-1")]).decode().encode("utf-16")
    error = problem(post_import(client, association, "mentors", body), 422)
    assert "UTF-16" in error["detail"]


@pytest.mark.parametrize("mode", ["atomic", "partial"])
def test_decoding_error_late_in_the_file_writes_nothing(
    client: TestClient, association: Actor, settings_env, mode: str
) -> None:
    settings_env(IMPORT_BATCH_SIZE=1)
    rows = [mentor_row(f"M-{i}") for i in range(5)]
    body = to_csv(rows) + b"M-9,volunteer,93066,10,oui,2,orientation,fr,2030-01-01\r\n"
    body += b"M-\xe9,volunteer,93066,10,oui,2,orientation,fr,2030-01-01\r\n"
    error = problem(post_import(client, association, "mentors", body, mode=mode), 422)
    assert error["errors"][0]["line"] == 8
    nothing_written(client, association)


def test_charset_other_than_utf8_is_415(client: TestClient, association: Actor) -> None:
    response = post_import(
        client, association, "mentors", b"x", content_type="text/csv; charset=iso-8859-1"
    )
    assert "UTF-8" in problem(response, 415)["detail"]


def test_unsupported_media_type_is_415(client: TestClient, association: Actor) -> None:
    response = post_import(
        client, association, "mentors", b"x", content_type="application/vnd.ms-excel"
    )
    assert "text/csv" in problem(response, 415)["detail"]


def test_ragged_rows_are_reported_with_their_row(client: TestClient, association: Actor) -> None:
    text = to_csv([mentor_row("M-1"), mentor_row("M-2"), mentor_row("M-3")]).decode()
    lines = text.split("\r\n")
    lines[2] += ",extra"  # row 3 has one cell too many
    lines[3] = lines[3].rsplit(",", 2)[0]  # row 4 lacks two cells
    body = "\r\n".join(lines).encode()
    error = problem(post_import(client, association, "mentors", body), 422)
    assert error["type"].endswith("/import-rejected")
    assert [(e["row"], e["message"]) for e in error["errors"]] == [
        (3, f"this row has {len(MENTOR_HEADER) + 1} cells, the header has {len(MENTOR_HEADER)}"),
        (4, f"this row has {len(MENTOR_HEADER) - 2} cells, the header has {len(MENTOR_HEADER)}"),
    ]
    assert error["counts"]["rejected"] == 2
    nothing_written(client, association)


def test_duplicate_external_ids_in_one_file(client: TestClient, association: Actor) -> None:
    rows = [mentor_row("M-1"), mentor_row("M-2"), mentor_row("M-1", capacity="4")]
    error = problem(post_import(client, association, "mentors", to_csv(rows)), 422)
    assert error["errors"] == [
        {
            "row": 4,
            "column": "external_id",
            "field": "external_id",
            "message": "this external_id already appears on row 2; each person appears once "
            "per file",
            "external_id": "M-1",
        }
    ]
    nothing_written(client, association)


def test_duplicates_across_batches_in_partial_mode_keep_the_first(
    client: TestClient, association: Actor, settings_env
) -> None:
    settings_env(IMPORT_BATCH_SIZE=1)
    rows = [mentor_row("M-1"), mentor_row("M-2"), mentor_row("M-1", capacity="4")]
    response = post_import(client, association, "mentors", to_csv(rows), mode="partial")
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["created"] == 2
    assert response.json()["errors"][0]["row"] == 4
    mentors = {m["external_id"]: m for m in listed(client, association, "mentors")}
    assert mentors["M-1"]["capacity"] == 2


def test_formula_is_stored_as_text_and_escaped_in_csv_output(
    client: TestClient, association: Actor
) -> None:
    formula = "=cmd|' /C calc'!A0"
    rows = [mentor_row(formula), mentor_row("M-2", skills="@SUM(1+1)")]
    response = post_import(client, association, "mentors", to_csv(rows), mode="partial")
    assert response.status_code == 200, response.text
    assert [m["external_id"] for m in listed(client, association, "mentors")] == [formula]
    error = response.json()["errors"][0]
    assert (error["row"], error["column"], error["field"]) == (3, "skills", "skills[0]")

    report = client.get(
        f"/v1/imports/{response.json()['id']}/errors.csv", headers=association.headers
    )
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "row;column;field;external_id;message"
    assert lines[1].startswith("3;skills;skills[0];M-2;")
    for cell in (cell for line in lines for cell in line.split(";")):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_formula_cell_in_errors_csv_is_prefixed(client: TestClient, association: Actor) -> None:
    rows = [mentor_row("=HYPERLINK(1)", capacity="9")]
    response = post_import(client, association, "mentors", to_csv(rows))
    import_id = problem(response, 422)["import_id"]
    report = client.get(f"/v1/imports/{import_id}/errors.csv", headers=association.headers)
    assert ";'=HYPERLINK(1);" in report.content.decode("utf-8-sig")


def test_unknown_column_is_reported_not_dropped(client: TestClient, association: Actor) -> None:
    rows = [{**mentor_row("M-1"), "skils": "orientation", "shoe_size": "42"}]
    error = problem(post_import(client, association, "mentors", to_csv(rows)), 422)
    assert error["errors"][0]["column"] == "skils"
    assert "unknown column 'skils' (did you mean 'skills'?)" in error["detail"]
    assert "'shoe_size'" in error["detail"]
    nothing_written(client, association)


def test_missing_required_column(client: TestClient, association: Actor) -> None:
    row = mentor_row("M-1")
    del row["skills"]
    error = problem(post_import(client, association, "mentors", to_csv([row])), 422)
    assert error["errors"][0]["column"] == "skills"
    assert "missing required column" in error["detail"]


def test_duplicate_column(client: TestClient, association: Actor) -> None:
    body = b"external_id,kind,insee,skills,kind\r\nM-1,volunteer,93066,orientation,student\r\n"
    error = problem(post_import(client, association, "mentors", body), 422)
    assert "'kind' appears twice" in error["detail"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf", "the file is empty"),
        (b"\r\n  \r\n", "the file is empty"),
        (b"external_id,kind,insee,skills\r\n", "header but no rows"),
        (b"external_id,kind,insee,skills\r\n,,,\r\n\r\n , ,,\r\n", "header but no rows"),
    ],
)
def test_empty_files(client: TestClient, association: Actor, body: bytes, message: str) -> None:
    error = problem(post_import(client, association, "mentors", body), 422)
    assert message in error["detail"]


@pytest.mark.parametrize(("body", "message"), [(b"", "body is empty"), (b"[]", "list is empty")])
def test_empty_json(client: TestClient, association: Actor, body: bytes, message: str) -> None:
    response = post_import(client, association, "mentors", body, content_type="application/json")
    assert message in problem(response, 422)["detail"]


def test_malformed_quotes_name_the_line(client: TestClient, association: Actor) -> None:
    body = to_csv([mentor_row("M-1")]) + b'M-2,volunteer,93066,10,"oui"x,2,orientation,fr,\r\n'
    error = problem(post_import(client, association, "mentors", body), 422)
    assert error["errors"][0]["line"] == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"external_id": "M-1"}', "must be a JSON list"),
        (b'[{"external_id": "M-1"}', "malformed JSON"),
        (b'[{"external_id": "M-1"}] []', "unexpected data after"),
        (b'[{"external_id": "M-1"} {"a": 1}]', "expected ',' or ']'"),
    ],
)
def test_malformed_json(client: TestClient, association: Actor, body: bytes, message: str) -> None:
    response = post_import(client, association, "mentors", body, content_type="application/json")
    assert message in problem(response, 422)["detail"]


def test_json_row_errors_name_position_and_field(client: TestClient, association: Actor) -> None:
    from tests.api.conftest import mentor_payload

    records = [
        mentor_payload(external_id="M-1"),
        "not an object",
        mentor_payload(external_id="M-3", location={"insee": "99999"}, colour="blue"),
    ]
    error = problem(post_import(client, association, "mentors", records), 422)
    found = {(e["row"], e.get("field")) for e in error["errors"]}
    assert found == {(2, None), (3, "colour"), (3, "location.insee")}
    assert all("column" not in e for e in error["errors"])
    nothing_written(client, association)


def test_a_row_reports_its_field_and_geocoding_errors_together(
    client: TestClient, association: Actor
) -> None:
    rows = [mentor_row("M-1"), mentor_row("M-2", insee="99999", capacity="6")]
    error = problem(post_import(client, association, "mentors", to_csv(rows)), 422)
    assert sorted((e["row"], e["column"], e["field"]) for e in error["errors"]) == [
        (3, "capacity", "capacity"),
        (3, "insee", "location.insee"),
    ]
    assert error["counts"]["rejected"] == 1
    assert any("99999" in e["message"] for e in error["errors"])
    nothing_written(client, association)


def test_a_malformed_location_is_reported_once(client: TestClient, association: Actor) -> None:
    rows = [mentor_row("M-1", insee="", postcode="0001", capacity="6")]
    error = problem(post_import(client, association, "mentors", to_csv(rows)), 422)
    assert sorted(e["field"] for e in error["errors"]) == ["capacity", "location.postcode"]


def test_a_mentee_row_reports_every_error(client: TestClient, association: Actor) -> None:
    rows = [mentee_row("J-1", insee="99999", birth_year="1950", activity="astronaut")]
    error = problem(post_import(client, association, "mentees", to_csv(rows)), 422)
    assert sorted(e["field"] for e in error["errors"]) == [
        "activity",
        "birth_year",
        "location.insee",
    ]


@pytest.mark.parametrize(
    ("override", "column", "field"),
    [
        ({"insee": "99999"}, "insee", "location.insee"),
        ({"insee": "", "postcode": "00001"}, "postcode", "location.postcode"),
        ({"insee": ""}, "insee", "location"),
        ({"capacity": "6"}, "capacity", "capacity"),
        ({"capacity": "deux"}, "capacity", "capacity"),
        ({"skills": ""}, "skills", "skills"),
        ({"skills": "orientation|astrology"}, "skills", "skills[1]"),
        ({"languages": "French"}, "languages", "languages[0]"),
        (
            {"background_check_valid_until": "31/02/2027"},
            "background_check_valid_until",
            "background_check_valid_until",
        ),
        ({"remote_ok": "peut-être"}, "remote_ok", "remote_ok"),
        ({"kind": "employee"}, "employer_id", "employer_id"),
        (
            {"programme_ids": "8d0e5f3c-0000-4000-8000-000000000000"},
            "programme_ids",
            "programme_ids[0]",
        ),
        ({"programme_ids": "not-a-uuid"}, "programme_ids", "programme_ids[0]"),
        ({"external_id": ""}, "external_id", "external_id"),
    ],
)
def test_row_errors_name_row_and_column(
    client: TestClient, association: Actor, override: dict, column: str, field: str
) -> None:
    rows = [mentor_row("M-1"), {**mentor_row("M-2"), **override}]
    error = problem(post_import(client, association, "mentors", to_csv(rows)), 422)
    assert [(e["row"], e["column"], e["field"]) for e in error["errors"]] == [(3, column, field)]
    assert error["errors"][0]["message"]
    nothing_written(client, association)


def test_too_large_declared_length_is_413(
    client: TestClient, association: Actor, settings_env
) -> None:
    settings_env(MAX_IMPORT_BYTES=2048)
    rows = [mentor_row(f"M-{i}") for i in range(40)]
    response = post_import(client, association, "mentors", to_csv(rows))
    assert "2048 bytes" in problem(response, 413)["detail"]
    nothing_written(client, association)


def test_too_large_streamed_body_is_413(
    client: TestClient, association: Actor, settings_env
) -> None:
    settings_env(MAX_IMPORT_BYTES=2048)
    body = to_csv([mentor_row(f"M-{i}") for i in range(40)])

    def chunks():
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    response = client.post(
        "/v1/mentors/import",
        content=chunks(),
        headers={**association.headers, "content-type": "text/csv"},
    )
    problem(response, 413)
    nothing_written(client, association)


def test_errors_are_capped_and_counted(
    client: TestClient, association: Actor, settings_env
) -> None:
    settings_env(IMPORT_MAX_ERRORS=3)
    rows = [mentor_row(f"M-{i}", capacity="9") for i in range(5)]
    error = problem(post_import(client, association, "mentors", to_csv(rows)), 422)
    assert [e["row"] for e in error["errors"]] == [2, 3, 4]
    assert error["errors_truncated"] is True
    assert error["counts"]["rejected"] == 5
    report = client.get(f"/v1/imports/{error['import_id']}", headers=association.headers).json()
    assert report["errors_truncated"] is True
    assert len(report["errors"]) == 3


def test_json_body_is_streamed_across_chunks(
    client: TestClient, association: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.imports import reading
    from tests.api.conftest import mentor_payload

    monkeypatch.setattr(reading, "JSON_CHUNK", 7)
    records = [mentor_payload(external_id=f"Élève-{i}", max_travel_km=100 + i) for i in range(4)]
    body = json.dumps(records, ensure_ascii=False, indent=1).encode()
    response = post_import(client, association, "mentors", body, content_type="application/json")
    assert response.status_code == 200, response.text
    mentors = sorted(listed(client, association, "mentors"), key=lambda m: m["max_travel_km"])
    assert [m["max_travel_km"] for m in mentors] == [100, 101, 102, 103]
    assert mentors[0]["external_id"] == "Élève-0"


def test_nul_characters_in_a_json_import_are_reported_not_a_server_error(
    client: TestClient, association: Actor
) -> None:
    records = [{"external_id": "M-1\u0000", "kind": "volunteer", "sk\u0000ills": []}]
    response = post_import(client, association, "mentors", records)
    assert response.status_code == 422, response.text
    report = client.get(
        f"/v1/imports/{response.json()['import_id']}", headers=association.headers
    ).json()
    assert report["counts"]["rejected"] == 1
    assert any("\\x00" in (error.get("field") or "") for error in report["errors"])
