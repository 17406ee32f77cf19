"""The open export validates against its own published Table Schema."""

import csv
import io
from pathlib import Path

from fastapi.testclient import TestClient
from frictionless import Resource, Schema

from tests.api.conftest import Actor
from tests.followup.conftest import Pairs


def test_the_csv_export_validates_against_its_table_schema(
    client: TestClient, pairs: Pairs, public_body: Actor, admin: Actor, tmp_path: Path
) -> None:
    for _ in range(6):
        pairs.match()
    schema_response = client.get("/v1/indicators/schema.json")
    assert schema_response.status_code == 200
    schema = Schema.from_descriptor(schema_response.json())
    for actor in (admin, public_body):
        response = client.get(
            "/v1/indicators.csv",
            params={"scope": "department", "code": "93"},
            headers=actor.headers,
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        path = tmp_path / f"indicators-{actor.role.value}.csv"
        path.write_bytes(response.content)
        report = Resource(path=path.name, basepath=str(tmp_path), schema=schema).validate()
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
        rows = list(csv.DictReader(io.StringIO(response.text)))
        json_figures = client.get(
            "/v1/indicators", params={"scope": "department", "code": "93"}, headers=actor.headers
        ).json()["figures"]
        assert len(rows) == len(json_figures)
        started = next(r for r in rows if r["indicator"] == "matches_started")
        assert started["value"] == "6"
        statuses = {r["status"] for r in rows}
        assert "published" in statuses
        assert "not_available" not in statuses  # every indicator is computed


def test_a_row_breaking_the_schema_is_caught(client: TestClient, tmp_path: Path) -> None:
    schema = Schema.from_descriptor(client.get("/v1/indicators/schema.json").json())
    path = tmp_path / "bad.csv"
    path.write_text(
        "scope,code,period_start,period_end,as_of,indicator,breakdown,value,unit,status,"
        "definition_version\nplanet,,2026-01-01,2026-02-01,2026-02-01,matches_started,,-3,"
        "matches,published,x\n"
    )
    assert not Resource(path=path.name, basepath=str(tmp_path), schema=schema).validate().valid
