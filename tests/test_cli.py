"""The command line a newcomer and an operator use."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cli import main
from app.main import create_app
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.vocabulary import Role


def test_create_admin_key_prints_a_working_key(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-admin-key", "--organisation", "Plateforme"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    with TestClient(create_app()) as client:
        response = client.get("/v1/api-keys", headers={"X-API-Key": key})
    assert response.status_code == 200
    assert [k["role"] for k in response.json()["items"]] == ["admin"]


def printed_keys(out: str) -> dict[str, str]:
    return {
        line.split()[0]: line.split("X-API-Key: ")[1]
        for line in out.splitlines()
        if "X-API-Key: " in line
    }


def test_demo_loads_a_territory_once(
    db_url: str,
    session: Session,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BINOME_IDENTITY_SECRET_FILE", str(tmp_path / "identity-keys"))
    assert main(["demo"]) == 0
    keys = printed_keys(capsys.readouterr().out)
    assert set(keys) == {role.value for role in Role}
    # Refused on a database that is not empty: nothing added, no key printed.
    assert main(["demo"]) == 1
    again = capsys.readouterr()
    assert printed_keys(again.out) == {}
    assert "not empty" in again.err
    assert session.scalar(select(func.count()).select_from(Mentee)) == 80
    assert session.scalar(select(func.count()).select_from(Mentor)) == 40
    with TestClient(create_app()) as client:
        hr = {"X-API-Key": keys["company_hr"]}
        employees = client.get("/v1/mentors?limit=100", headers=hr).json()["items"]
        assert employees
        assert {m["kind"] for m in employees} == {"employee"}
        public = {"X-API-Key": keys["public_body"]}
        diagnostic = client.get("/v1/territories/departments/93", headers=public).json()
        assert diagnostic["young_people"] == 80


def test_demo_refuses_a_database_with_real_data(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-admin-key", "--organisation", "Plateforme"]) == 0
    capsys.readouterr()
    assert main(["demo"]) == 1
    assert printed_keys(capsys.readouterr().out) == {}
    with TestClient(create_app()) as client:
        for well_known in ("bnm_demo_admin", "bnm_demo_association"):
            response = client.get("/v1/api-keys", headers={"X-API-Key": well_known})
            assert response.status_code == 401


def test_demo_keys_differ_from_one_database_to_another(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings

    assert main(["demo"]) == 0
    first = printed_keys(capsys.readouterr().out)
    monkeypatch.setenv("BINOME_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    get_settings.cache_clear()
    assert main(["demo"]) == 0
    second = printed_keys(capsys.readouterr().out)
    assert set(first) == set(second)
    assert not set(first.values()) & set(second.values())
