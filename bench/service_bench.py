"""End-to-end benchmark of the service on PostgreSQL, as a user runs it.

1. generates the bench population (``bench.population``: real communes, 101
   departments, their programmes) at ``--scale`` young people and half as many
   volunteers;
2. creates a scratch database, starts ``uvicorn app.main:app --workers 2`` and one
   ``binome worker``, creates the programmes and imports the volunteers and the young
   people through the HTTP API (CSV imports);
3. submits a committed run and waits for it: each phase, duration, worker peak memory;
4. drives read load at ``--rps`` requests/s (open loop, loopback only, bounded number of
   requests in flight) on ``GET /v1/mentees/{id}``, ``/v1/mentees?limit=50``,
   ``/v1/matches?limit=50`` and ``/v1/matching-runs/{id}/proposals?limit=100``;
5. overloads the server (``--overload-rps``) for a few seconds: 503s, ``/healthz``
   latency meanwhile, and how soon a read is fast again once the load stops;

then prints one table and drops the database. The load generator shares the machine
with the server: its own CPU use is part of what is measured. Usage::

    python -m bench.service_bench --scale 20000 [--rps 200] [--seconds 10]
        [--policy '{"pricing": false}'] [--dry-run]

``--policy`` passes engine policy overrides to the run (default: the default policy);
``--dry-run`` times a dry run too, before the committed one. After the read load, the
territory diagnostic of a few departments and the national overview are timed one
request at a time (``--sequential`` requests each).
"""

import argparse
import asyncio
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import migrate
from app.auth.service import issue_key
from app.db import make_engine, utcnow
from app.organisations.models import Organisation
from app.vocabulary import OrganisationKind, Role
from bench.imports_bench import free_port, memory_kib
from bench.population import synthetic_problem

ACTIVITY_BY_AGE = [(15, "middle_school"), (18, "high_school"), (21, "higher_education")]
RURAL = {"none": "none", "FRR": "frr", "FRR+": "frr_plus"}


def activity(age: int) -> str:
    return next((name for limit, name in ACTIVITY_BY_AGE if age < limit), "job_seeking")


def write_mentors(path: Path, mentors: Any, programme_ids: dict[str, str], near: Any) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            [
                "external_id",
                "kind",
                "insee",
                "lat",
                "lon",
                "max_travel_km",
                "remote_ok",
                "capacity",
                "skills",
                "languages",
                "background_check_valid_until",
                "programme_ids",
            ]
        )
        for m in mentors:
            writer.writerow(
                [
                    m.id,
                    "volunteer",
                    near(m.lat, m.lon),
                    f"{m.lat:.5f}",
                    f"{m.lon:.5f}",
                    int(m.max_travel_km),
                    "oui" if m.remote_ok else "non",
                    m.capacity,
                    "|".join(sorted(m.skills)),
                    "|".join(sorted(m.languages)),
                    m.background_check_valid_until.isoformat()
                    if m.background_check_valid_until
                    else "",
                    "|".join(programme_ids[p] for p in sorted(m.programme_ids)),
                ]
            )


def write_mentees(path: Path, mentees: Any, programme_ids: dict[str, str], year: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            [
                "external_id",
                "birth_year",
                "insee",
                "lat",
                "lon",
                "qpv",
                "rural_zone",
                "activity",
                "needs",
                "languages",
                "remote_ok",
                "max_travel_km",
                "waiting_since",
                "programme_ids",
            ]
        )
        for m in mentees:
            writer.writerow(
                [
                    m.id,
                    m.birth_year,
                    m.commune_insee,
                    f"{m.lat:.5f}",
                    f"{m.lon:.5f}",
                    "oui" if m.qpv else "non",
                    RURAL[m.rural_zone],
                    activity(year - m.birth_year),
                    "|".join(m.needs),
                    "|".join(sorted(m.languages)),
                    "oui" if m.remote_ok else "non",
                    int(m.max_travel_km),
                    m.waiting_since.isoformat(),
                    "|".join(programme_ids[p] for p in sorted(m.enrolled_programme_ids)),
                ]
            )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def open_loop(
    base: str,
    headers: dict[str, str],
    paths: list[str],
    rps: float,
    seconds: float,
    max_in_flight: int = 512,
) -> dict[str, Any]:
    """Requests sent at a fixed rate whatever the answers (open loop), at most
    ``max_in_flight`` at once; latency, status codes, achieved rate."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    dropped = 0
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as c:
        in_flight = 0
        tasks: list[asyncio.Task[None]] = []

        async def one(path: str) -> None:
            nonlocal in_flight
            started = time.perf_counter()
            try:
                response = await c.get(path)
                code = response.status_code
            except httpx.HTTPError:
                code = 0
            statuses[code] = statuses.get(code, 0) + 1
            if code == 200:
                latencies.append(time.perf_counter() - started)
            in_flight -= 1

        start = time.perf_counter()
        sent = 0
        rng = random.Random(7)
        while (now := time.perf_counter() - start) < seconds:
            due = int(now * rps)
            while sent < due:
                sent += 1
                if in_flight >= max_in_flight:
                    dropped += 1
                    continue
                in_flight += 1
                tasks.append(asyncio.create_task(one(rng.choice(paths))))
            await asyncio.sleep(0.002)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {
        "sent": sent,
        "rps": statuses.get(200, 0) / elapsed,
        "statuses": statuses,
        "dropped": dropped,
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
    }


def wait_http(base: str, path: str = "/healthz", timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base}{path} did not answer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=160_000, help="young people")
    parser.add_argument("--rps", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint")
    parser.add_argument("--overload-rps", type=float, default=1000.0)
    parser.add_argument("--pg-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=test")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--policy", type=json.loads, default=None, help="policy overrides (JSON)")
    parser.add_argument("--dry-run", action="store_true", help="time a dry run first")
    parser.add_argument("--sequential", type=int, default=20, help="diagnostic requests each")
    args = parser.parse_args()

    params = psycopg.conninfo.conninfo_to_dict(args.pg_dsn)
    name = f"binome_bench_svc_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', 5432)}/{name}"
    )
    rows: list[tuple[str, str]] = []
    load_before = os.getloadavg()
    today = utcnow().date()
    started = time.perf_counter()
    problem = synthetic_problem(args.scale, args.scale // 2, seed=1, run_date=today)
    rows.append(("generate population", f"{time.perf_counter() - started:.1f} s"))

    with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    processes: list[subprocess.Popen[bytes]] = []
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            organisation = Organisation(name="Réseau national", kind=OrganisationKind.ASSOCIATION)
            session.add(organisation)
            session.flush()
            _, key = issue_key(
                session, organisation_id=organisation.id, role=Role.ASSOCIATION, name="bench"
            )
            session.commit()
        env = {
            **os.environ,
            "BINOME_DATABASE_URL": url,
            "BINOME_LOG_LEVEL": "WARNING",
            "BINOME_RUN_STALE_SECONDS": "120",
        }
        port = free_port()
        processes.append(
            subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)),
                    *("--workers", "2", "--log-level", "warning", "--no-access-log"),
                ],
                env=env,
            )
        )
        worker = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env)
        processes.append(worker)
        base = f"http://127.0.0.1:{port}"
        wait_http(base)
        headers = {"X-API-Key": key}
        client = httpx.Client(base_url=base, headers=headers, timeout=900)

        programme_ids: dict[str, str] = {}
        started = time.perf_counter()
        for p in problem.programmes:
            communes = sorted(t for t in p.territories if len(t) == 5)
            response = client.post(
                "/v1/programmes",
                json={
                    "name": p.id,
                    "needs": sorted(p.needs),
                    "departments": sorted(t for t in p.territories if len(t) != 5),
                    "communes": communes,
                    "min_age": p.min_age,
                    "max_age": p.max_age,
                    "capacity": p.capacity,
                    "remote_allowed": p.remote_allowed,
                },
            )
            assert response.status_code == 201, response.text
            programme_ids[p.id] = response.json()["id"]
        rows.append(
            (
                f"create {len(programme_ids)} programmes",
                f"{time.perf_counter() - started:.1f} s",
            )
        )

        with tempfile.TemporaryDirectory() as tmp:
            mentors_csv, mentees_csv = Path(tmp) / "mentors.csv", Path(tmp) / "mentees.csv"
            from app.geo import all_communes

            places = [(c.lat, c.lon, c.insee) for c in all_communes() if c.lat is not None]

            def near(lat: float, lon: float) -> str:
                return min(places, key=lambda c: (c[0] - lat) ** 2 + (c[1] - lon) ** 2)[2]

            # Volunteers carry their commune through the mentees' draw: nearest commune.
            cache: dict[tuple[float, float], str] = {}

            def nearest(lat: float, lon: float) -> str:
                k = (round(lat, 1), round(lon, 1))
                if k not in cache:
                    cache[k] = near(lat, lon)
                return cache[k]

            write_mentors(mentors_csv, problem.mentors, programme_ids, nearest)
            write_mentees(mentees_csv, problem.mentees, programme_ids, today.year)
            for label, path, endpoint, count in (
                ("volunteers", mentors_csv, "/v1/mentors/import", len(problem.mentors)),
                ("young people", mentees_csv, "/v1/mentees/import", len(problem.mentees)),
            ):
                with path.open("rb") as body:
                    started = time.perf_counter()
                    response = client.post(
                        endpoint, content=body, headers={"content-type": "text/csv"}
                    )
                    elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text[:2000]
                rows.append(
                    (
                        f"import {count} {label}",
                        f"{elapsed:.1f} s, {count / elapsed:,.0f} rows/s",
                    )
                )

        body: dict[str, Any] = {} if args.policy is None else {"policy": args.policy}

        def run_to_end(mode: str) -> tuple[dict[str, Any], float, int, list[tuple[str, int]]]:
            response = client.post("/v1/matching-runs", json={"mode": mode, **body})
            assert response.status_code == 202, response.text
            run_id = response.json()["id"]
            submitted = time.perf_counter()
            peak = 0
            progress_seen: list[tuple[str, int]] = []
            while True:
                run = client.get(f"/v1/matching-runs/{run_id}").json()
                peak = max(peak, memory_kib(worker.pid, "VmHWM"))
                if not progress_seen or progress_seen[-1] != (run["phase"], run["progress"]):
                    progress_seen.append((run["phase"], run["progress"]))
                if run["status"] in ("succeeded", "failed", "cancelled"):
                    return run, time.perf_counter() - submitted, peak, progress_seen
                time.sleep(0.25)

        if args.policy is not None:
            rows.append(("run policy overrides", json.dumps(args.policy)))
        if args.dry_run:
            run, wall, _, _ = run_to_end("dry_run")
            if run["status"] != "succeeded":
                print(run)
                return 1
            stats = run["stats"]
            rows.append(("dry run: submission → succeeded", f"{wall:.1f} s wall"))
            rows.append(
                (
                    "  matched, bound, status",
                    f"{stats['matched']:,}, {stats.get('bound_matched', '?'):,}, "
                    f"{stats.get('status', '?')}",
                )
            )
        run, wall, peak, progress_seen = run_to_end("commit")
        if run["status"] != "succeeded":
            print(run)
            return 1
        run_id = run["id"]
        phases = run["timings"]["phases"]
        stats = run["stats"]
        rows.append(("committed run: submission → succeeded", f"{wall:.1f} s wall"))
        rows.append(
            (
                "  duration_seconds (started → finished)",
                f"{run['timings']['duration_seconds']:.1f} s",
            )
        )
        for phase in ("queued", "loading", "solving", "writing"):
            rows.append((f"  {phase}", f"{phases[phase]:.1f} s"))
        rows.append(
            (
                "  matched / young people",
                f"{stats['matched']:,} / {stats['snapshot']['mentees']:,}, "
                f"{stats['written'].get('created', 0):,} matches written",
            )
        )
        rows.append(
            (
                "  engine status, bound, gap",
                f"{stats.get('status', '?')}, {stats.get('bound_matched', '?'):,}, "
                f"{stats.get('gap', '?')}",
            )
        )
        rows.append(("  worker peak memory (VmHWM)", f"{peak / 1024:,.0f} MiB"))
        rows.append(("  progress seen", " ".join(f"{p}:{v}" for p, v in progress_seen[:12])))

        with engine.connect() as connection:
            mentee_ids = [
                str(i)
                for i in connection.execute(
                    text("SELECT id FROM mentees ORDER BY random() LIMIT 2000")
                ).scalars()
            ]
        engine.dispose()
        offsets = range(0, max(1, args.scale - 50), max(1, args.scale // 200))
        endpoints = {
            "GET /v1/mentees/{id}": [f"/v1/mentees/{i}" for i in mentee_ids],
            "GET /v1/mentees?limit=50": [f"/v1/mentees?limit=50&offset={o}" for o in offsets],
            "GET /v1/matches?limit=50": [f"/v1/matches?limit=50&offset={o // 2}" for o in offsets],
            "GET /v1/matching-runs/{id}/proposals?limit=100": [
                f"/v1/matching-runs/{run_id}/proposals?limit=100&offset={o // 2}" for o in offsets
            ],
        }
        for endpoint, paths in endpoints.items():
            result = asyncio.run(open_loop(base, headers, paths, args.rps, args.seconds))
            errors = {k: v for k, v in result["statuses"].items() if k != 200}
            rows.append(
                (
                    f"{endpoint} at {args.rps:g} rps",
                    f"{result['rps']:.0f} rps ok, p50 {result['p50']:.0f} / "
                    f"p95 {result['p95']:.0f} / p99 {result['p99']:.0f} ms, errors {errors or 0}",
                )
            )

        # The shared diagnostic, one request at a time (the first one of each path
        # computes what later ones reuse: reported apart).
        for path in (
            "/v1/territories/departments/59",
            "/v1/territories/departments/93",
            "/v1/territories/departments/48",
            "/v1/territories",
        ):
            times = []
            for _ in range(args.sequential + 1):
                t0 = time.perf_counter()
                response = client.get(path)
                assert response.status_code == 200, response.text[:500]
                times.append((time.perf_counter() - t0) * 1000)
            later = times[1:]
            rows.append(
                (
                    f"GET {path}, one at a time",
                    f"first {times[0]:,.0f} ms, then p50 {percentile(later, 0.5):,.0f} / "
                    f"p95 {percentile(later, 0.95):,.0f} ms",
                )
            )

        # Overload: far above capacity, then how soon reads are fast again.
        paths = endpoints["GET /v1/mentees?limit=50"]

        health_failures = 0

        async def overload() -> tuple[dict[str, Any], list[float]]:
            health: list[float] = []

            async def probe() -> None:
                nonlocal health_failures
                async with httpx.AsyncClient(base_url=base, timeout=60) as c:
                    for _ in range(20):
                        t0 = time.perf_counter()
                        try:
                            await c.get("/healthz")
                        except httpx.HTTPError:  # e.g. a kept-alive connection closed
                            health_failures += 1
                        else:
                            health.append((time.perf_counter() - t0) * 1000)
                        await asyncio.sleep(0.2)

            load, _ = await asyncio.gather(
                open_loop(base, headers, paths, args.overload_rps, 4.0, 1024), probe()
            )
            return load, health

        load, health = asyncio.run(overload())
        stopped = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            try:
                ok = client.get(paths[0]).status_code == 200
            except httpx.HTTPError:  # a connection the overload left broken
                ok = False
            if ok and time.perf_counter() - t0 < 0.1:
                break
            time.sleep(0.05)
        rows.append(
            (
                f"overload at {args.overload_rps:g} rps (4 s)",
                f"{load['rps']:.0f} rps ok, statuses {load['statuses']}, "
                f"p99 ok {load['p99']:.0f} ms",
            )
        )
        rows.append(
            (
                "  /healthz meanwhile",
                f"max {max(health, default=0):.0f} ms, {health_failures} connection errors",
            )
        )
        rows.append(("  fast again after the load", f"{time.perf_counter() - stopped:.2f} s"))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if not args.keep:
            with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for label, value in rows:  # what was measured, even if a later step failed
            print(f"| {label} | {value} |", file=sys.stderr, flush=True)

    load_after = os.getloadavg()
    rows.append(
        (
            "machine load (1-min average)",
            f"{load_before[0]:.1f} before, {load_after[0]:.1f} after, {os.cpu_count()} CPUs",
        )
    )
    width = max(len(label) for label, _ in rows)
    print(f"\nservice benchmark, {args.scale:,} young people, {args.scale // 2:,} volunteers")
    for label, value in rows:
        print(f"| {label.ljust(width)} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
