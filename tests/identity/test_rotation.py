"""Rotating the identity secret keeps links; retiring a key drops its hashes."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.cli import main
from app.config import get_settings
from app.db import engine_for
from app.identity.rotation import demo_secret_file
from tests.api.conftest import Actor
from tests.identity.test_linking import ZOE, ZOE_AGAIN, refer


def use_key_file(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.delenv("BINOME_IDENTITY_SECRET")
    monkeypatch.setenv("BINOME_IDENTITY_SECRET_FILE", str(path))
    get_settings.cache_clear()


def test_rotation_keeps_old_hashes_valid_and_retiring_drops_them(
    client: TestClient,
    association: Actor,
    other_association: Actor,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    keys = tmp_path / "identity-keys"
    keys.write_text("1:first-secret-of-the-territory\n")
    use_key_file(monkeypatch, keys)
    before = refer(client, association, ZOE)

    assert main(["rotate-identity-secret"]) == 0
    lines = keys.read_text().split()
    assert [line.split(":")[0] for line in lines] == ["2", "1"]
    assert "first-secret-of-the-territory" not in capsys.readouterr().out
    get_settings.cache_clear()

    after = refer(client, other_association, ZOE_AGAIN)
    assert after["followed_elsewhere"] is True  # linked through key 1
    with engine_for(db_url).connect() as connection:
        versions = (
            connection.execute(
                text("SELECT key_version FROM identity_digests ORDER BY key_version")
            )
            .scalars()
            .all()
        )
    assert versions == [1, 1, 2]

    assert main(["rotate-identity-secret", "--retire", "2"]) == 2  # the current key
    assert main(["rotate-identity-secret", "--retire", "1"]) == 0
    assert "1 record(s)" in capsys.readouterr().out
    get_settings.cache_clear()
    assert [line.split(":")[0] for line in keys.read_text().split()] == ["2"]
    seen = client.get(f"/v1/mentees/{before['id']}", headers=association.headers).json()
    assert seen["followed_elsewhere"] is False
    # Re-referred under the current key, the record is linked again.
    again = client.patch(
        f"/v1/mentees/{before['id']}", json={"identity": ZOE}, headers=association.headers
    )
    assert again.json()["followed_elsewhere"] is True


def test_a_secret_registered_under_another_version_is_refused(
    client: TestClient, association: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refer(client, association, ZOE)  # registers key 1 with the test secret
    keys = tmp_path / "identity-keys"
    keys.write_text("1:not-the-registered-secret\n")
    use_key_file(monkeypatch, keys)
    assert main(["rotate-identity-secret"]) == 2


def test_the_demo_creates_its_own_secret_once(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside its SQLite database (where the next start finds it), or in the key file
    named by BINOME_IDENTITY_SECRET_FILE."""
    monkeypatch.delenv("BINOME_IDENTITY_SECRET")
    path = tmp_path / "demo.identity-keys"
    monkeypatch.setenv("BINOME_IDENTITY_SECRET_FILE", str(path))
    get_settings.cache_clear()
    assert main(["demo"]) == 0
    first = path.read_text()
    assert first.startswith("1:")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    get_settings.cache_clear()
    assert main(["demo"]) == 1  # refused on a database that is not empty
    assert path.read_text() == first
    assert demo_secret_file("sqlite:////srv/binome.db") == Path("/srv/binome.db.identity-keys")
