"""The command line a newcomer and an operator use."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cli import main
from app.demo import DEMO_KEYS
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


def test_demo_loads_a_territory_once(
    db_url: str, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BINOME_IDENTITY_SECRET_FILE", str(tmp_path / "identity-keys"))
    assert main(["demo"]) == 0
    assert main(["demo"]) == 0
    assert session.scalar(select(func.count()).select_from(Mentee)) == 80
    assert session.scalar(select(func.count()).select_from(Mentor)) == 40
    with TestClient(create_app()) as client:
        hr = {"X-API-Key": DEMO_KEYS[Role.COMPANY_HR]}
        employees = client.get("/v1/mentors?limit=100", headers=hr).json()["items"]
        assert employees
        assert {m["kind"] for m in employees} == {"employee"}
        public = {"X-API-Key": DEMO_KEYS[Role.PUBLIC_BODY]}
        diagnostic = client.get("/v1/territories/departments/93", headers=public).json()
        assert diagnostic["young_people"] == 80
