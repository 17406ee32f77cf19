"""``binome import`` and ``binome run`` against the application, ``--version``, ``--help``."""

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from app import cli_api
from app.cli import COMMANDS, main
from app.main import create_app
from tests.imports.conftest import mentee_row, to_csv


@pytest.fixture
def through_app(monkeypatch):
    """The commands' HTTP client, bound to the application under test."""
    clients = []

    def make_client(url: str, api_key: str) -> TestClient:
        client = TestClient(create_app(), headers={"X-API-Key": api_key})
        clients.append(client)
        return client

    monkeypatch.setattr(cli_api, "make_client", make_client)
    return clients


def test_version_and_help_describe_every_command_and_option() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "binome 0.1.0"
    main_help = subprocess.run(
        [sys.executable, "-m", "app.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in [*COMMANDS, *cli_api.COMMANDS]:
        assert name in main_help
        text = subprocess.run(
            [sys.executable, "-m", "app.cli", name, "--help"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        options = [line.split()[0] for line in text.splitlines() if line.startswith("  --")]
        for option in options:
            if option in ("--help",):
                continue
            line = next(line for line in text.splitlines() if line.startswith(f"  {option}"))
            described = text.split(line, 1)[1].split("\n  -", 1)[0]
            assert len((line + described).split()) > 2, f"{name} {option} has no description"
        if name == "serve":
            assert "(default: 8000)" in text
            assert "--forwarded-allow-ips" in text


def test_import_a_file_from_the_terminal(
    tmp_path, through_app, association, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "jeunes.csv"
    path.write_bytes(to_csv([mentee_row(f"J-{i}") for i in range(30)], separator=";"))
    code = main(["import", str(path), "--kind", "mentees", "--api-key", association.key])
    assert code == 0
    out = capsys.readouterr()
    assert "completed" in out.out
    assert "created 30" in out.out
    assert "sending jeunes.csv" in out.err  # the progress bar
    client = through_app[0]
    listed = client.get("/v1/mentees?limit=100").json()
    assert listed["total"] == 30

    bad = tmp_path / "bad.csv"
    bad.write_bytes(to_csv([mentee_row("J-x", birth_year="1850")]))
    assert main(["import", str(bad), "--kind", "mentees", "--api-key", association.key]) == 1
    assert "birth_year" in capsys.readouterr().err


def test_run_from_the_terminal_follows_it_to_its_end(
    through_app, association, territory, workers, capsys: pytest.CaptureFixture[str]
) -> None:
    workers.start()
    code = main(
        [
            "run",
            "--departments",
            "93",
            "--mode",
            "commit",
            "--poll",
            "0.05",
            "--api-key",
            association.key,
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out
    summary = json.loads(out.out.strip().splitlines()[-1])
    assert summary["status"] == "succeeded"
    assert summary["proposals"] == summary["diff"]["new"] > 0
    assert "%" in out.err  # the progress bar
    # A run refused by the service: the problem's detail, exit code 1.
    assert main(["run", "--departments", "01", "--api-key", association.key]) == 1
    assert "departments" in capsys.readouterr().err
