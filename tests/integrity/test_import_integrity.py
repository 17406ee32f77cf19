"""Imports: rows that mention a record keep it active; hostile JSON is a 422 naming where,
and a failed import leaves nothing written."""

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentor_payload
from tests.imports.conftest import listed, mentor_row, post_import, to_csv


def test_a_row_with_a_cell_too_many_still_counts_as_mentioned(
    client: TestClient, association: Actor
) -> None:
    pool = [mentor_row(f"M-{i}") for i in range(4)]
    assert post_import(client, association, "mentors", to_csv(pool)).status_code == 200
    lines = to_csv(pool[:3]).decode().splitlines()
    lines[2] += ",extra"  # M-1: one cell too many
    lines[3] = lines[3].rsplit(",", 2)[0]  # M-2: two cells too few
    body = "\r\n".join(lines) + "\r\n"
    response = post_import(
        client, association, "mentors", body, mode="partial", deactivate_missing=True
    )
    assert response.status_code == 200, response.text
    counts = response.json()["counts"]
    assert counts["rejected"] == 2
    assert counts["deactivated"] == 1  # M-3 only: the file does not mention it
    active = {m["external_id"]: m["active"] for m in listed(client, association, "mentors")}
    assert active == {"M-0": True, "M-1": True, "M-2": True, "M-3": False}


def test_a_json_row_with_an_unreadable_external_id_type_counts_as_mentioned(
    client: TestClient, association: Actor
) -> None:
    records = [mentor_payload(external_id="1234"), mentor_payload(external_id="M-2")]
    for record in records:
        record.pop("background_check_valid_until")
    assert post_import(client, association, "mentors", records).status_code == 200
    records[0]["external_id"] = 1234  # a number where a string is expected: rejected
    response = post_import(
        client, association, "mentors", records, mode="partial", deactivate_missing=True
    )
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["deactivated"] == 0


def valid_record(external_id: str) -> str:
    return json.dumps(mentor_payload(external_id=external_id))


HOSTILE = {
    "deep nesting": "[" * 100_000 + "]" * 100_000,
    "huge integer": "1" * 5_000,
    "lone surrogate": json.dumps(mentor_payload(external_id="X")).replace('"X"', '"\\ud800"'),
}


@pytest.mark.parametrize("mode", ["partial", "atomic"])
@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_hostile_json_is_a_422_naming_the_record_and_nothing_is_written(
    client: TestClient, association: Actor, hostile: str, mode: str
) -> None:
    body = f"[{valid_record('M-OK')}, {HOSTILE[hostile]}]"
    key = {"Idempotency-Key": f"hostile-{mode}-{len(hostile)}"}
    for attempt in range(2):  # the idempotent replay answers the same 422
        response = post_import(
            client,
            association,
            "mentors",
            body,
            content_type="application/json",
            headers=key,
            mode=mode,
        )
        assert response.status_code == 422, (attempt, response.text)
        problem = response.json()
        assert problem["errors"][0]["record"] == 2, problem
        assert "offset" in problem["errors"][0]
        assert "record 2" in problem["detail"]
    assert listed(client, association, "mentors") == []
