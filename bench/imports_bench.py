"""Benchmark of ``POST /v1/mentors/import`` against PostgreSQL, through a real server.

Creates a scratch database, migrates it, starts the service with uvicorn, generates a CSV
of N realistic mentors on real communes (semicolon-separated, as French spreadsheet
software writes it) and posts it streamed from disk, three times:

1. into an empty pool (every row created),
2. the same file again (every row compared, unchanged),
3. the file with every capacity changed (every row updated), with ``deactivate_missing``.

Prints rows/s, seconds and the server's peak resident memory (VmHWM), then drops the
database. Usage::

    python -m bench.imports_bench [--rows 100000] [--pg-dsn "host=127.0.0.1 user=postgres"]
"""

import argparse
import csv
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.orm import Session

from app import migrate
from app.auth.service import issue_key
from app.db import make_engine
from app.geo import all_communes
from app.organisations.models import Organisation
from app.vocabulary import Need, OrganisationKind, Role

HEADER = [
    "external_id",
    "kind",
    "insee",
    "max_travel_km",
    "remote_ok",
    "capacity",
    "skills",
    "languages",
    "background_check_valid_until",
]
LANGUAGES = ["fr", "en", "ar", "es", "pt", "wol", "tr", "ro"]


def write_csv(path: Path, rows: int, seed: int, capacity_shift: int = 0) -> None:
    rng = random.Random(seed)
    communes = [c.insee for c in all_communes()]
    needs = [need.value for need in Need]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\ufeff")
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        for index in range(rows):
            writer.writerow(
                [
                    f"BEN-{index:07d}",
                    rng.choice(["volunteer", "student"]),
                    rng.choice(communes),
                    rng.choice([5, 10, 15, 20, 30]),
                    rng.choice(["oui", "non"]),
                    (rng.randint(1, 3) + capacity_shift - 1) % 5 + 1,
                    "|".join(rng.sample(needs, rng.randint(1, 3))),
                    "|".join(["fr", *rng.sample(LANGUAGES[1:], rng.randint(0, 2))]),
                    f"{rng.randint(2027, 2030)}-{rng.randint(1, 12):02d}-28",
                ]
            )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=test")
    args = parser.parse_args()

    params = psycopg.conninfo.conninfo_to_dict(args.pg_dsn)
    name = f"binome_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', 5432)}/{name}"
    )
    with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    server = None
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            organisation = Organisation(
                name="Association benchmark", kind=OrganisationKind.ASSOCIATION
            )
            session.add(organisation)
            session.flush()
            _, key = issue_key(
                session, organisation_id=organisation.id, role=Role.ASSOCIATION, name="bench"
            )
            session.commit()
        engine.dispose()

        port = free_port()
        env = {**os.environ, "BINOME_DATABASE_URL": url, "BINOME_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        print(f"server idle RSS: {memory_kib(server.pid, 'VmRSS') / 1024:.0f} MiB")

        with tempfile.TemporaryDirectory() as tmp:
            first = Path(tmp) / "pool.csv"
            changed = Path(tmp) / "pool-changed.csv"
            write_csv(first, args.rows, seed=1)
            write_csv(changed, args.rows, seed=1, capacity_shift=1)
            size = first.stat().st_size
            print(f"file: {args.rows} rows, {size / 1e6:.1f} MB")
            runs = [
                ("create", first, {}),
                ("unchanged", first, {}),
                ("update", changed, {"deactivate_missing": "true"}),
            ]
            for label, path, query in runs:
                with path.open("rb") as body:
                    started = time.perf_counter()
                    response = httpx.post(
                        f"{base}/v1/mentors/import",
                        content=body,
                        params=query,
                        headers={"X-API-Key": key, "content-type": "text/csv"},
                        timeout=600,
                    )
                    elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    print(response.status_code, response.text[:2000])
                    return 1
                counts = response.json()["counts"]
                peak = memory_kib(server.pid, "VmHWM") / 1024
                print(
                    f"{label:>9}: {elapsed:6.2f} s, {args.rows / elapsed:8.0f} rows/s, "
                    f"server peak RSS {peak:.0f} MiB, counts {counts}"
                )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
