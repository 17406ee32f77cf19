"""A SQLite server stopped by SIGTERM, with its run pool busy, stops cleanly."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from app.vocabulary import Role

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sigterm_leaves_no_leaked_semaphore_and_fails_the_cut_run(tmp_path: Path) -> None:
    port = _free_port()
    hold = tmp_path / "hold"
    hold.touch()  # the run stays in its solving phase: the pool is busy at the signal
    env = {
        **os.environ,
        "BINOME_DATABASE_URL": f"sqlite:///{tmp_path / 'binome.db'}",
        "BINOME_RUN_HOLD_FILE": str(hold),
        "BINOME_RUN_HEARTBEAT_SECONDS": "0.2",
        "PYTHONUNBUFFERED": "1",  # the demo's keys reach the log before readiness
    }
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        # The demo's keys are random: printed once by the server at its start.
        printed = re.search(
            rf"{Role.ASSOCIATION.value}\s+X-API-Key: (\S+)", log_path.read_text(errors="replace")
        )
        assert printed is not None, log_path.read_text(errors="replace")
        headers = {"X-API-Key": printed.group(1)}
        run = httpx.post(f"{base}/v1/matching-runs", json={"mode": "dry_run"}, headers=headers)
        assert run.status_code == 202, run.text
        url = f"{base}/v1/matching-runs/{run.json()['id']}"
        while httpx.get(url, headers=headers).json()["phase"] != "solving":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        server.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once it has shut down gracefully
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
    time.sleep(1.5)  # the resource tracker reports after the server process ends
    log.close()
    output = log_path.read_text("utf-8", "replace")
    assert "Application shutdown complete" in output
    assert "leaked semaphore" not in output
    assert "Traceback" not in output
    # The run cut short is failed at once, not left "running" until the stale sweep.
    engine = create_engine(env["BINOME_DATABASE_URL"])
    with engine.connect() as connection:
        status, error = connection.execute(
            text("SELECT status, error FROM matching_runs WHERE id = :id"),
            {"id": run.json()["id"].replace("-", "")},
        ).one()
    engine.dispose()
    assert status == "failed"
    assert "service stopped" in error
