"""POST /v1/supports/import: supports declared by identity, in bulk."""

from fastapi.testclient import TestClient

from tests.api.conftest import Actor
from tests.identity.test_linking import refer
from tests.imports.conftest import post_import, to_csv

ZOE = {"first_name": "Zoé-Marie", "last_name": "N'Diaye", "birth_date": "02/04/2012"}


def support_row(external_id: str, **overrides: str) -> dict[str, str]:
    return {
        "external_id": external_id,
        **ZOE,
        "need": "school_support",
        "start_date": "2026-01-05",
        **overrides,
    }


def test_a_public_body_imports_supports_that_cover_every_record_of_the_person(
    client: TestClient, association: Actor, other_association: Actor, public_body: Actor
) -> None:
    mine = refer(
        client, association, {**ZOE, "birth_date": "2012-04-02"},
        needs=["school_support", "orientation"],
    )  # fmt: skip
    rows = [
        support_row("CE-1"),
        support_row("CE-2", need="orientation", end_date="2030-06-30"),
        support_row("CE-3", first_name="Inès", need="confidence"),
    ]
    first = post_import(client, public_body, "supports", to_csv(rows))
    assert first.status_code == 200, first.text
    assert first.json()["counts"] | {} == {
        "rows": 3, "created": 3, "updated": 0, "unchanged": 0, "deactivated": 0, "rejected": 0,
    }  # fmt: skip
    seen = client.get(f"/v1/mentees/{mine['id']}", headers=association.headers).json()
    assert seen["followed_elsewhere"] is True
    assert seen["needs_supported_elsewhere"] == ["school_support", "orientation"]
    # A record referred later is covered too.
    later = refer(client, other_association, {**ZOE, "birth_date": "2012-04-02"})
    assert later["needs_supported_elsewhere"] == ["school_support", "orientation"]

    # Upsert by the provider's external id: same file, nothing changes; one end date set.
    again = post_import(client, public_body, "supports", to_csv(rows))
    assert again.json()["counts"]["unchanged"] == 3
    rows[0]["end_date"] = "2026-02-01"
    changed = post_import(client, public_body, "supports", to_csv(rows))
    assert (changed.json()["counts"]["updated"], changed.json()["counts"]["unchanged"]) == (1, 2)
    seen = client.get(f"/v1/mentees/{mine['id']}", headers=association.headers).json()
    assert seen["needs_supported_elsewhere"] == ["orientation"]
    listed = client.get("/v1/supports?limit=10", headers=public_body.headers).json()
    assert listed["total"] == 3
    assert {s["mentee_id"] for s in listed["items"]} == {None}


def test_bad_rows_are_reported_by_column_atomically_or_partially(
    client: TestClient, public_body: Actor
) -> None:
    rows = [
        support_row("CE-1"),
        support_row("CE-2", need="cooking"),
        support_row("CE-3", end_date="2025-01-01"),
        support_row("CE-1", need="orientation"),
        support_row("CE-5", birth_date="2012-13-45"),
    ]
    atomic = post_import(client, public_body, "supports", to_csv(rows))
    assert atomic.status_code == 422, atomic.text
    assert client.get("/v1/supports", headers=public_body.headers).json()["total"] == 0
    partial = post_import(
        client, public_body, "supports", to_csv(rows), mode="partial",
        headers={"Idempotency-Key": "supports-2026-01"},
    )  # fmt: skip
    assert partial.status_code == 200, partial.text
    report = partial.json()
    assert report["counts"]["created"] == 1
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (3, "need"), (4, "end_date"), (5, "external_id"), (6, "birth_date"),
    ]  # fmt: skip
    for value in ("Zoé", "Diaye", "02/04/2012", "2012-13-45"):
        assert value not in partial.text
    replay = post_import(
        client, public_body, "supports", to_csv(rows), mode="partial",
        headers={"Idempotency-Key": "supports-2026-01"},
    )  # fmt: skip
    assert replay.headers["Idempotency-Replayed"] == "true"
    assert replay.json() == report
    json_rows = [{"external_id": "J-1", "identity": {**ZOE, "birth_date": "2012-04-02"},
                  "need": "digital", "start_date": "2026-03-01"}]  # fmt: skip
    from_json = post_import(client, public_body, "supports", json_rows)
    assert from_json.status_code == 200, from_json.text
    assert from_json.json()["counts"]["created"] == 1
