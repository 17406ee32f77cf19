"""Benchmark of the CSV exports against PostgreSQL, through a real server.

Creates a scratch database, writes a committed-looking run of N proposals (N young people,
N/3 volunteers, one programme) straight into the tables, starts the service with uvicorn
and downloads ``GET /v1/matching-runs/{id}/proposals.csv`` and ``…/diff.csv`` streamed,
twice each. Prints seconds, rows/s, MB and the server's peak resident memory (VmHWM),
for N and for N/10 (flat memory: the peak must not grow with N). Usage::

    python -m bench.exports_bench [--rows 100000] [--pg-dsn "host=127.0.0.1 user=postgres"]
"""

import argparse
import os
import subprocess
import sys
import time
import uuid
from datetime import date

import httpx
import psycopg
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app import migrate
from app.auth.service import issue_key
from app.db import make_engine, utcnow
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.organisations.models import Organisation
from app.programmes.models import Programme
from app.runs.models import MatchingRun, RunMode, RunPhase, RunProposal, RunStatus
from app.vocabulary import OrganisationKind, Role
from bench.imports_bench import free_port, memory_kib

PLACE = {
    "commune_insee": "93066",
    "commune_name": "Saint-Denis",
    "department": "93",
    "region": "11",
    "lat": 48.93,
    "lon": 2.35,
}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process: what an export costs, whatever the load."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def populate(url: str, rows: int) -> tuple[str, str]:
    engine = make_engine(url)
    now = utcnow()
    with Session(engine) as session:
        organisation = Organisation(name="Association benchmark", kind=OrganisationKind.ASSOCIATION)
        session.add(organisation)
        session.flush()
        _, key = issue_key(
            session, organisation_id=organisation.id, role=Role.ASSOCIATION, name="bench"
        )
        org = organisation.id
        programme = uuid.uuid4()
        session.execute(
            insert(Programme).values(
                id=programme,
                organisation_id=org,
                name="Parrainage",
                needs=["orientation"],
                departments=["93"],
                communes=[],
                min_age=10,
                max_age=25,
                capacity=rows,
                remote_allowed=False,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
        mentors = [uuid.uuid4() for _ in range(max(1, rows // 3))]
        mentees = [uuid.uuid4() for _ in range(rows)]
        common = {"organisation_id": org, "created_at": now, "updated_at": now, **PLACE}
        for start in range(0, len(mentors), 5000):
            session.execute(
                insert(Mentor),
                [
                    {
                        "id": m,
                        "external_id": f"M-{i}",
                        "kind": "volunteer",
                        "max_travel_km": 10,
                        "remote_ok": False,
                        "capacity": 3,
                        "skills": ["orientation"],
                        "languages": ["fr"],
                        "active": True,
                        **common,
                    }
                    for i, m in enumerate(mentors[start : start + 5000], start=start)
                ],
            )
        for start in range(0, rows, 5000):
            session.execute(
                insert(Mentee),
                [
                    {
                        "id": m,
                        "external_id": f"J-{i}",
                        "birth_year": 2010,
                        "qpv": True,
                        "rural_zone": "none",
                        "activity": "middle_school",
                        "needs": ["orientation"],
                        "languages": ["fr"],
                        "remote_ok": False,
                        "max_travel_km": 5,
                        "waiting_since": date(2026, 9, 1),
                        "active": True,
                        **common,
                    }
                    for i, m in enumerate(mentees[start : start + 5000], start=start)
                ],
            )
        run = uuid.uuid4()
        session.execute(
            insert(MatchingRun).values(
                id=run,
                organisation_id=org,
                mode=RunMode.DRY_RUN,
                status=RunStatus.SUCCEEDED,
                run_date=now.date(),
                requested_programme_ids=[],
                departments=["93"],
                programme_ids=[str(programme)],
                policy={},
                keep_running=True,
                break_running_pairs=False,
                phase=RunPhase.DONE,
                progress=100,
                created_at=now,
                finished_at=now,
                diff={"new": rows, "kept": 0, "replaces": 0, "withdrawn": [], "untouched": 0},
            )
        )
        for start in range(0, rows, 5000):
            session.execute(
                insert(RunProposal),
                [
                    {
                        "id": uuid.uuid4(),
                        "run_id": run,
                        "position": i,
                        "mentee_id": mentees[i],
                        "mentor_id": mentors[i % len(mentors)],
                        "programme_id": programme,
                        "need": "orientation",
                        "meeting_mode": "in_person",
                        "distance_km": 1.5,
                        "score": 420,
                        "score_breakdown": {"distance": 80},
                        "change": "new",
                    }
                    for i in range(start, min(rows, start + 5000))
                ],
            )
        session.commit()
    engine.dispose()
    return key, str(run)


def measure(pg_dsn: str, rows: int) -> None:
    name = f"binome_bench_{uuid.uuid4().hex[:8]}"
    params = psycopg.conninfo.conninfo_to_dict(pg_dsn)
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', 5432)}/{name}"
    )
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    server = None
    try:
        migrate.upgrade(url)
        key, run = populate(url, rows)
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
        idle = memory_kib(server.pid, "VmRSS") / 1024
        for path in ("proposals.csv", "diff.csv") * 2:
            started, cpu = time.perf_counter(), cpu_seconds(server.pid)
            size = lines = 0
            with httpx.stream(
                "GET",
                f"{base}/v1/matching-runs/{run}/{path}",
                headers={"X-API-Key": key},
                timeout=600,
            ) as response:
                assert response.status_code == 200, response.read()[:500]
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    lines += chunk.count(b"\n")
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(server.pid) - cpu
            peak = memory_kib(server.pid, "VmHWM") / 1024
            print(
                f"{rows:>7} rows {path:>13}: {elapsed:6.2f} s (server CPU {cpu:5.2f} s), "
                f"{(lines - 1) / elapsed:8.0f} rows/s, "
                f"{size / 1e6:5.1f} MB, server RSS idle {idle:.0f} MiB, peak {peak:.0f} MiB"
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--pg-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    )
    args = parser.parse_args()
    for rows in (args.rows // 10, args.rows):
        measure(args.pg_dsn, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
