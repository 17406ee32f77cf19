"""Benchmark of ``POST /v1/supports/import`` against PostgreSQL, through a real server.

A scratch database, the service under uvicorn with an identity secret, a public body
(a *Cité éducative*) posting a CSV of N supports declared by identity (semicolon
separated, French dates), three times: into an empty table (created), the same file
(unchanged), every end date changed (updated). Prints seconds and rows/s, then drops the
database. Usage::

    python -m bench.supports_bench [--rows 100000] [--pg-dsn "host=127.0.0.1 user=postgres"]
"""

import argparse
import csv
import os
import random
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
from app.organisations.models import Organisation
from app.vocabulary import Need, OrganisationKind, Role
from bench.imports_bench import free_port, memory_kib

HEADER = ["external_id", "first_name", "last_name", "birth_date", "need", "start_date", "end_date"]
FIRST = ["Zoé", "Inès", "Mamadou", "Léa", "Yanis", "Aïcha", "Noah", "Chloé", "Adam", "Maëlys"]
LAST = ["N'Diaye", "Martin", "Benali", "Dupont-Moreau", "Traoré", "Nguyen", "Da Silva", "Petit"]


def write_csv(path: Path, rows: int, seed: int, end_year: int = 2027) -> None:
    rng = random.Random(seed)
    needs = [need.value for need in Need]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        for index in range(rows):
            writer.writerow(
                [
                    f"CE93-{index:07d}",
                    f"{rng.choice(FIRST)}-{index % 997}",
                    rng.choice(LAST),
                    f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2005, 2016)}",
                    rng.choice(needs),
                    "01/09/2026",
                    f"30/06/{end_year}",
                ]
            )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process: comparable across machine loads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
                name="Cité éducative benchmark", kind=OrganisationKind.PUBLIC_BODY
            )
            session.add(organisation)
            session.flush()
            _, key = issue_key(
                session, organisation_id=organisation.id, role=Role.PUBLIC_BODY, name="bench"
            )
            session.commit()
        engine.dispose()

        port = free_port()
        env = {
            **os.environ,
            "BINOME_DATABASE_URL": url,
            "BINOME_LOG_LEVEL": "WARNING",
            "BINOME_IDENTITY_SECRET": uuid.uuid4().hex,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port),
             "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)

        with tempfile.TemporaryDirectory() as tmp:
            first = Path(tmp) / "supports.csv"
            changed = Path(tmp) / "supports-changed.csv"
            write_csv(first, args.rows, seed=1)
            write_csv(changed, args.rows, seed=1, end_year=2028)
            print(f"file: {args.rows} rows, {first.stat().st_size / 1e6:.1f} MB")
            for label, path in (("create", first), ("unchanged", first), ("update", changed)):
                cpu_before = cpu_seconds(server.pid)
                with path.open("rb") as body:
                    started = time.perf_counter()
                    response = httpx.post(
                        f"{base}/v1/supports/import",
                        content=body,
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
                    f"server CPU {cpu_seconds(server.pid) - cpu_before:5.2f} s, "
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
