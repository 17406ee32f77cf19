"""Clear identity values are never kept, logged or echoed."""

import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from app.config import get_settings
from app.db import Base, engine_for
from tests.api.conftest import Actor, mentee_payload, mentor_payload

FIRST, LAST, BORN = "Aïssatou", "Kervégan-Lefèvre", "2011-07-23"
IDENTITY = {"first_name": FIRST, "last_name": LAST, "birth_date": BORN}
NEEDLES = ("aïssatou", "aissatou", "kervégan", "kervegan", "lefèvre", "lefevre", BORN, "23/07/2011")


def database_text(url: str) -> str:
    """Everything the database holds: its files for SQLite (the WAL too), a pg_dump for
    PostgreSQL (or every row of every table when pg_dump is missing)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine_for(url).dispose()
        path = Path(str(parsed.database))
        files = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
        return "".join(p.read_bytes().decode("utf-8", "replace") for p in files)
    if shutil.which("pg_dump"):
        out = subprocess.run(
            ["pg_dump", "-h", parsed.host or "127.0.0.1", "-U", parsed.username or "postgres",
             "-p", str(parsed.port or 5432), parsed.database or ""],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return out.stdout
    chunks = []
    with engine_for(url).connect() as connection:
        for table in Base.metadata.sorted_tables:
            chunks.extend(repr(row) for row in connection.execute(select(table)))
    return "\n".join(chunks)


def assert_nowhere(*texts: str) -> None:
    for blob in texts:
        lowered = blob.lower()
        for needle in NEEDLES:
            assert needle.lower() not in lowered, needle


def test_a_referral_with_identity_leaves_no_clear_value_in_the_database_or_the_logs(
    client: TestClient,
    association: Actor,
    company: Actor,
    public_body: Actor,
    db_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    created = client.post(
        "/v1/mentees", json=mentee_payload(birth_year=2011, identity=IDENTITY),
        headers=association.headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    updated = client.patch(
        f"/v1/mentees/{created.json()['id']}", json={"identity": IDENTITY},
        headers=association.headers,
    )  # fmt: skip
    assert updated.status_code == 200, updated.text
    mentor = client.post(
        "/v1/mentors",
        json=mentor_payload(identity=IDENTITY, kind="employee"),
        headers=company.headers,
    )
    assert mentor.status_code == 201, mentor.text
    support = client.post(
        "/v1/supports",
        json={"identity": IDENTITY, "need": "orientation", "start_date": "2026-01-05"},
        headers=public_body.headers,
    )
    assert support.status_code == 201, support.text
    # Refused requests do not echo the values either.
    wrong_year = client.post(
        "/v1/mentees", json=mentee_payload(birth_year=2012, identity=IDENTITY),
        headers=association.headers,
    )  # fmt: skip
    assert wrong_year.status_code == 422
    assert wrong_year.json()["errors"][0]["field"] == "identity"
    bad_date = client.post(
        "/v1/mentees",
        json=mentee_payload(identity={**IDENTITY, "birth_date": f"{BORN}x"}),
        headers=association.headers,
    )
    assert bad_date.status_code == 422

    with engine_for(db_url).connect() as connection:
        digests = connection.execute(text("SELECT count(*) FROM identity_digests")).scalar()
    assert digests == 3  # one hash per record, under the one configured key
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    responses = [r.text for r in (created, updated, mentor, support, wrong_year, bad_date)]
    assert_nowhere(database_text(db_url), log_text, *responses)


def test_identity_is_refused_without_a_secret(
    client: TestClient, association: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BINOME_IDENTITY_SECRET")
    get_settings.cache_clear()
    response = client.post(
        "/v1/mentees", json=mentee_payload(birth_year=2011, identity=IDENTITY),
        headers=association.headers,
    )  # fmt: skip
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "identity"
    assert "BINOME_IDENTITY_SECRET" in problem["detail"]
    # Without identity, referring works as before.
    plain = client.post("/v1/mentees", json=mentee_payload(), headers=association.headers)
    assert plain.status_code == 201
    assert plain.json()["followed_elsewhere"] is False
