"""No small count of the territories can be recovered by subtraction, whichever answers
(the national overview, every department's diagnostic) a caller combines."""

import random
import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.geo import commune
from app.indicators.suppression import Line
from app.mentees.models import Mentee
from app.organisations.models import Organisation
from app.vocabulary import Activity, OrganisationKind, RuralZone
from tests.api.conftest import Actor
from tests.indicators.test_suppression import ranges

COMMUNES = {"48": ["48095", "48061", "48080"], "93": ["93066", "93001", "93008", "93048"]}


def add_young_people(session: Session, insee: str, count: int, organisation: uuid.UUID) -> None:
    place = commune(insee)
    assert place is not None
    for _ in range(count):
        session.add(
            Mentee(
                organisation_id=organisation,
                external_id=uuid.uuid4().hex,
                birth_year=2010,
                qpv=False,
                rural_zone=RuralZone.NONE,
                activity=Activity.MIDDLE_SCHOOL,
                needs=["school_support"],
                languages=["fr"],
                max_travel_km=5,
                waiting_since=date(2026, 1, 1),
                commune_insee=insee,
                commune_name=place.name,
                department=place.department,
                region=place.region,
                lat=place.lat,
                lon=place.lon,
            )
        )


@pytest.fixture
def referrer(session: Session) -> uuid.UUID:
    organisation = Organisation(name="Réseau", kind=OrganisationKind.ASSOCIATION)
    session.add(organisation)
    session.commit()
    return organisation.id


def published_table(client: TestClient, actor: Actor, measure: str):
    """Cells and lines of one measure as a caller sees them: (values, lines, withheld)."""
    overview = client.get("/v1/territories", headers=actor.headers).json()
    values: dict[str, int | None] = {"": overview["national"][measure]}
    lines = [Line("", tuple(d["department"] for d in overview["departments"]))]
    for department in overview["departments"]:
        values[department["department"]] = department[measure]
    for code in COMMUNES:
        body = client.get(f"/v1/territories/departments/{code}", headers=actor.headers).json()
        assert body[measure] == values[code]  # the same cell, withheld the same way
        parts = []
        for c in body["communes"]:
            values[c["insee"]] = c[measure]
            parts.append(c["insee"])
        lines.append(Line(code, tuple(parts)))
    return values, lines


def test_a_small_department_is_withheld_with_its_communes(
    client: TestClient, session: Session, referrer: uuid.UUID, public_body: Actor, admin: Actor
) -> None:
    add_young_people(session, "48095", 3, referrer)
    add_young_people(session, "93066", 40, referrer)
    session.commit()
    lozere = client.get("/v1/territories/departments/48", headers=public_body.headers).json()
    assert lozere["young_people"] is None
    assert all(c["young_people"] is None for c in lozere["communes"])
    overview = client.get("/v1/territories", headers=public_body.headers).json()
    by_code = {d["department"]: d for d in overview["departments"]}
    assert by_code["48"]["young_people"] is None
    # 43 = 40 + 3: the nation would give Lozère away; another department is withheld.
    assert overview["national"]["young_people"] == 43
    assert by_code["93"]["young_people"] is None
    exact = client.get("/v1/territories", headers=admin.headers).json()
    assert {d["department"]: d["young_people"] for d in exact["departments"]}["48"] == 3


@pytest.mark.parametrize("seed", range(4))
def test_no_withheld_count_is_recoverable_across_answers(
    client: TestClient,
    session: Session,
    referrer: uuid.UUID,
    public_body: Actor,
    admin: Actor,
    seed: int,
) -> None:
    rng = random.Random(seed)
    for insees in COMMUNES.values():
        for insee in insees:
            add_young_people(session, insee, rng.choice([0, 1, 1, 2, 3, 4, 6, 9]), referrer)
    session.commit()
    truth, _ = published_table(client, admin, "young_people")
    seen, lines = published_table(client, public_body, "young_people")
    hidden = {key for key, value in seen.items() if value is None}
    assert {k for k, v in truth.items() if v is not None and 0 < v < 5} <= hidden
    exact = {key: int(value or 0) for key, value in truth.items()}
    for key, (low, high) in ranges(exact, lines, hidden).items():
        assert high - low >= 1 - 1e-6, (key, exact[key], low, high)
