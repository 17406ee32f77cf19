"""Import reports stay small whatever the file: values cut, named once, a bounded header."""

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.imports.echo import MAX_ECHO, MAX_HEADER_COLUMNS, MAX_MESSAGE, MAX_ROW_ERRORS
from app.imports.models import IdempotencyKey, ImportReport
from tests.api.conftest import Actor
from tests.imports.conftest import mentee_row, post_import, to_csv

FIFTEEN_MB = 15 * 1024 * 1024


def stored_size(session: Session) -> int:
    session.expire_all()
    reports = session.scalars(select(ImportReport)).all()
    keys = session.scalars(select(IdempotencyKey)).all()
    return sum(len(json.dumps(r.errors)) for r in reports) + sum(
        len(json.dumps(k.response_body)) for k in keys
    )


def test_a_15_mb_external_id_gives_a_small_report(
    client: TestClient, association: Actor, session: Session
) -> None:
    huge = "J" * FIFTEEN_MB
    record = {
        "external_id": huge,
        "birth_year": 1850,
        "location": {"insee": "9" * 5000},
        "activity": "x" * 5000,
        "needs": ["bad"],
    }
    started = time.monotonic()
    response = post_import(
        client, association, "mentees", [record], headers={"Idempotency-Key": "huge-1"}
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 422
    assert len(response.content) < 10_000, len(response.content)
    errors = response.json()["errors"]
    assert len(errors) > 1, "the row has several errors"
    # The row's value is named once, cut to MAX_ECHO characters (and says so).
    named = [e for e in errors if "external_id" in e]
    assert len(named) == 1
    assert named[0]["external_id"].startswith("J" * MAX_ECHO)
    assert len(named[0]["external_id"]) < MAX_ECHO + 40
    assert f"{FIFTEEN_MB - MAX_ECHO} more characters" in named[0]["external_id"]
    for error in errors:
        assert len(error["message"]) <= MAX_MESSAGE + 40
        assert "9" * (MAX_ECHO + 1) not in error["message"]
    assert stored_size(session) < 20_000
    assert elapsed < 60
    # The CSV of errors repeats the (cut) external id on each line of the row.
    report = client.get(
        f"/v1/imports/{response.json()['import_id']}/errors.csv", headers=association.headers
    )
    lines = report.text.strip().splitlines()[1:]
    assert len(lines) == len(errors)
    assert all("J" * MAX_ECHO in line for line in lines)
    assert len(report.content) < 20_000


def test_a_15_mb_csv_cell_is_refused_without_echo(
    client: TestClient, association: Actor, session: Session
) -> None:
    body = to_csv([mentee_row("A" * FIFTEEN_MB)])
    response = post_import(client, association, "mentees", body)
    assert response.status_code == 422
    assert len(response.content) < 2_000
    assert stored_size(session) < 2_000


def test_a_row_lists_a_bounded_number_of_errors(client: TestClient, association: Actor) -> None:
    record = {"external_id": "J-1", **{f"unknown_{i}": i for i in range(500)}}
    response = post_import(client, association, "mentees", [record])
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert len(errors) == MAX_ROW_ERRORS + 1
    assert "not listed" in errors[-1]["message"]
    assert response.json()["counts"]["rejected"] == 1


@pytest.mark.parametrize("columns", [MAX_HEADER_COLUMNS + 1, 200_000])
def test_a_header_beyond_the_column_limit_is_refused(
    client: TestClient, association: Actor, session: Session, columns: int
) -> None:
    header = ",".join(f"c{i}" for i in range(columns))
    body = f"{header}\n{','.join('1' for _ in range(columns))}\n".encode()
    response = post_import(client, association, "mentees", body)
    assert response.status_code == 422
    assert f"the header has {columns} columns" in response.json()["detail"]
    assert len(response.content) < 2_000
    assert stored_size(session) == 0


def test_unknown_columns_are_named_within_bounds(client: TestClient, association: Actor) -> None:
    row = mentee_row("J-1")
    header = list(row) + [f"extra_{'x' * 1000}_{i}" for i in range(50)]
    body = (",".join(header) + "\n" + ",".join(list(row.values()) + ["1"] * 50) + "\n").encode()
    response = post_import(client, association, "mentees", body)
    assert response.status_code == 422
    assert "and 39 more" in response.json()["detail"]
    assert len(response.content) < 5_000
