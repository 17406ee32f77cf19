"""Benchmark of the indicators and the territorial diagnostic at national scale.

Creates a scratch PostgreSQL database, migrates it, and writes directly with ``COPY`` a
national population: 160,000 young people and 80,000 mentors on real communes (drawn in
proportion to population), 300 associations running 3 programmes per department,
100,000 matches (proposed, accepted, active and closed, started over two years) and
their meetings every two weeks for a year. Then it times, through the HTTP application
(in process, public-body key: suppression on), each endpoint repeatedly and prints
p50 / p95 / max, and drops the database (unless ``--keep``; ``--reuse NAME`` times a kept
one again). Maps and charts are timed too. Usage::

    python -m bench.indicators_bench [--young 160000] [--mentors 80000] [--matches 100000]
"""

import argparse
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import migrate
from app.auth.service import issue_key
from app.config import get_settings
from app.db import make_engine
from app.geo import all_communes
from app.organisations.models import Organisation
from app.vocabulary import Activity, MentorKind, Need, OrganisationKind, Role

NEEDS = [n.value for n in Need]
REASONS = [
    "completed",
    "mentee_withdrew",
    "mentor_withdrew",
    "incompatibility",
    "moved_away",
    "other",
]
TODAY = date.today()


def copy(conn: psycopg.Connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as out:
        for row in rows:
            out.write_row(row)


def populate(dsn: str, n_young: int, n_mentors: int, n_matches: int, seed: int) -> None:
    rng = random.Random(seed)
    places = [c for c in all_communes() if c.population]
    weights = [c.population or 0 for c in places]
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        orgs = [(uuid.uuid4(), f"Association {i}", "association") for i in range(300)]
        copy(
            conn,
            "organisations",
            ["id", "name", "kind", "created_at", "updated_at"],
            [(o, n, k, now, now) for o, n, k in orgs],
        )
        departments = sorted({c.department for c in places})
        programmes = []
        for i, dep in enumerate(departments):
            for j in range(3):
                org = orgs[(i * 3 + j) % len(orgs)][0]
                programmes.append((uuid.uuid4(), org, dep))
        copy(
            conn,
            "programmes",
            [
                "id",
                "organisation_id",
                "name",
                "needs",
                "departments",
                "communes",
                "min_age",
                "max_age",
                "capacity",
                "remote_allowed",
                "active",
                "created_at",
                "updated_at",
            ],
            [
                (
                    p,
                    o,
                    f"Programme {d}",
                    json.dumps(NEEDS),
                    json.dumps([d]),
                    "[]",
                    11,
                    30,
                    400,
                    False,
                    True,
                    now,
                    now,
                )
                for p, o, d in programmes
            ],
        )
        by_dep: dict[str, list[tuple[uuid.UUID, uuid.UUID, str]]] = {}
        for programme in programmes:
            by_dep.setdefault(programme[2], []).append(programme)

        def place_rows(n: int) -> list:
            return rng.choices(places, weights=weights, k=n)

        young = []
        for i, c in enumerate(place_rows(n_young)):
            programme = rng.choice(by_dep[c.department])
            created = now - timedelta(days=rng.randint(0, 700))
            young.append(
                (
                    uuid.uuid4(),
                    programme[1],
                    f"J{i}",
                    rng.randint(1996, 2014),
                    rng.random() < 0.3,
                    rng.choice(["none"] * 8 + ["frr", "frr_plus"]),
                    rng.choice(list(Activity)).value,
                    json.dumps(rng.sample(NEEDS, rng.randint(1, 3))),
                    '["fr"]',
                    rng.random() < 0.3,
                    rng.choice([5, 10, 20]),
                    (created - timedelta(days=rng.randint(0, 60))).date(),
                    True,
                    c.insee,
                    c.name,
                    c.department,
                    c.region,
                    c.lat,
                    c.lon,
                    created,
                    created,
                    programme[0],
                )
            )
        copy(
            conn,
            "mentees",
            [
                "id",
                "organisation_id",
                "external_id",
                "birth_year",
                "qpv",
                "rural_zone",
                "activity",
                "needs",
                "languages",
                "remote_ok",
                "max_travel_km",
                "waiting_since",
                "active",
                "commune_insee",
                "commune_name",
                "department",
                "region",
                "lat",
                "lon",
                "created_at",
                "updated_at",
            ],
            [row[:-1] for row in young],
        )
        copy(
            conn,
            "mentee_programmes",
            ["mentee_id", "programme_id"],
            [(row[0], row[-1]) for row in young],
        )
        mentors = []
        for i, c in enumerate(place_rows(n_mentors)):
            programme = rng.choice(by_dep[c.department])
            mentors.append(
                (
                    uuid.uuid4(),
                    programme[1],
                    f"M{i}",
                    rng.choice(list(MentorKind)).value,
                    10,
                    False,
                    rng.randint(1, 3),
                    json.dumps(rng.sample(NEEDS, rng.randint(2, 4))),
                    '["fr"]',
                    date(2030, 1, 1),
                    True,
                    c.insee,
                    c.name,
                    c.department,
                    c.region,
                    c.lat,
                    c.lon,
                    now,
                    now,
                    programme[0],
                    c.department,
                )
            )
        copy(
            conn,
            "mentors",
            [
                "id",
                "organisation_id",
                "external_id",
                "kind",
                "max_travel_km",
                "remote_ok",
                "capacity",
                "skills",
                "languages",
                "background_check_valid_until",
                "active",
                "commune_insee",
                "commune_name",
                "department",
                "region",
                "lat",
                "lon",
                "created_at",
                "updated_at",
            ],
            [row[:-2] for row in mentors],
        )
        mentors_by_dep: dict[str, list[tuple]] = {}
        for row in mentors:
            mentors_by_dep.setdefault(row[-1], []).append(row)
        matches = []
        for young_row in rng.sample(young, n_matches):
            dep = young_row[15]
            mentor = rng.choice(mentors_by_dep.get(dep) or mentors)
            proposed = now - timedelta(days=rng.randint(0, 700))
            status = rng.choices(
                ["proposed", "accepted", "active", "closed", "declined"], [5, 5, 55, 30, 5]
            )[0]
            started = ended = reason = accepted = None
            if status in ("accepted", "active", "closed"):
                accepted = proposed + timedelta(days=rng.randint(1, 10))
            if status in ("active", "closed"):
                started = accepted + timedelta(days=rng.randint(1, 20))  # type: ignore[operator]
                if started > now:
                    started = now
            if status == "closed":
                ended = min(now, started + timedelta(days=rng.randint(10, 500)))  # type: ignore[operator]
                reason = rng.choice(REASONS)
            if status == "declined":
                ended = proposed + timedelta(days=3)
            matches.append(
                (
                    uuid.uuid4(),
                    young_row[-1] and mentor[1],
                    young_row[0],
                    mentor[0],
                    young_row[-1],
                    json.loads(young_row[7])[0],
                    status,
                    proposed,
                    proposed + timedelta(days=14) if status == "proposed" else None,
                    accepted,
                    started,
                    ended,
                    reason,
                    now,
                    now,
                )
            )
        copy(
            conn,
            "matches",
            [
                "id",
                "organisation_id",
                "mentee_id",
                "mentor_id",
                "programme_id",
                "need",
                "status",
                "proposed_at",
                "expires_at",
                "accepted_at",
                "started_at",
                "ended_at",
                "close_reason",
                "created_at",
                "updated_at",
            ],
            matches,
        )
        # A meeting every two weeks over the last year of each started match.
        conn.execute(
            """
            INSERT INTO meetings (id, match_id, organisation_id, held_on, minutes, mode,
                                  created_at, updated_at)
            SELECT gen_random_uuid(), m.id, m.organisation_id, d::date, 60,
                   CASE WHEN random() < 0.3 THEN 'remote' ELSE 'in_person' END, now(), now()
            FROM matches m,
                 generate_series(
                     GREATEST(m.started_at, now() - interval '365 days'),
                     COALESCE(m.ended_at, now()),
                     interval '14 days') AS d
            WHERE m.started_at IS NOT NULL
            """
        )
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        # As autovacuum would: visibility maps set, statistics fresh.
        conn.execute("VACUUM ANALYZE")


def timed(
    client: TestClient, url: str, headers: dict[str, str], repeat: int
) -> tuple[float, list[float]]:
    """(first call, the calls after it) in ms: the first one computes the national
    tables if the data changed since they were last computed."""
    start = time.perf_counter()
    client.get(url, headers=headers)
    first = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    return first, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--young", type=int, default=160_000)
    parser.add_argument("--mentors", type=int, default=80_000)
    parser.add_argument("--matches", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--pg-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=test")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (its name is printed)"
    )
    parser.add_argument("--reuse", metavar="NAME", help="time a database kept by --keep")
    args = parser.parse_args()
    params = psycopg.conninfo.conninfo_to_dict(args.pg_dsn)
    name = args.reuse or f"binome_bench_ind_{uuid.uuid4().hex[:6]}"
    if not args.reuse:
        with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    dsn = psycopg.conninfo.make_conninfo(args.pg_dsn, dbname=name)
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', 5432)}/{name}"
    )
    try:
        if not args.reuse:
            migrate.upgrade(url)
            started = time.perf_counter()
            populate(dsn, args.young, args.mentors, args.matches, seed=1)
            with psycopg.connect(dsn) as conn:
                meetings = conn.execute("SELECT count(*) FROM meetings").fetchone()
            print(
                f"population written in {time.perf_counter() - started:.0f} s "
                f"({meetings[0] if meetings else 0} meetings) into {name}"
            )
        engine = make_engine(url)
        with Session(engine) as session:
            organisation = Organisation(name="Préfecture", kind=OrganisationKind.PUBLIC_BODY)
            session.add(organisation)
            session.flush()
            _, key = issue_key(
                session, organisation_id=organisation.id, role=Role.PUBLIC_BODY, name="bench"
            )
            session.commit()
        engine.dispose()
        os.environ["BINOME_DATABASE_URL"] = url
        get_settings.cache_clear()
        from app.main import create_app

        headers = {"X-API-Key": key}
        year = f"start={TODAY - timedelta(days=364)}&end={TODAY}"
        endpoints = [
            ("department diagnostic 59 (Nord)", "/v1/territories/departments/59"),
            ("department diagnostic 93", "/v1/territories/departments/93"),
            ("department diagnostic 48 (Lozère)", "/v1/territories/departments/48"),
            ("national overview", "/v1/territories"),
            ("indicators department 59", f"/v1/indicators?scope=department&code=59&{year}"),
            ("indicators region 32", f"/v1/indicators?scope=region&code=32&{year}"),
            ("indicators national", f"/v1/indicators?{year}"),
            ("indicators national CSV", f"/v1/indicators.csv?{year}"),
            ("map of France SVG", "/v1/maps/departments.svg"),
            ("map of France PNG", "/v1/maps/departments.png?indicator=matched_share"),
            ("map of department 59 SVG", "/v1/maps/departments/59.svg"),
            ("map of department 59 PNG", "/v1/maps/departments/59.png"),
            ("monthly chart 59 PNG", "/v1/charts/monthly.png?department=59"),
            ("monthly chart national SVG", "/v1/charts/monthly.svg"),
        ]
        print(f"{'endpoint':<36} {'first ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        with TestClient(create_app()) as client:
            for label, path in endpoints:
                first, times = timed(client, path, headers, args.repeat)
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                print(
                    f"{label:<36} {first:8.0f} {statistics.median(times):8.0f} {p95:8.0f} "
                    f"{times[-1]:8.0f}"
                )
    finally:
        from app.db import engine_for

        engine_for.cache_clear()
        if not (args.keep or args.reuse):
            with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
