"""The territory diagnostic counts people, checked against an independent count.

Random referrals by two associations, some of the same people written differently,
some without identity; supports recorded on records and declared by identity alone;
volunteers submitted twice. The reference groups records by the person's name and
birth date as a human would (folded, accents and punctuation removed): it shares no
code with the service's hashing or SQL.
"""

import random
import unicodedata
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Actor, mentee_payload, mentor_payload
from tests.runs.conftest import create

PEOPLE = [
    ("Zoé-Marie", "N'Diaye", "2012-04-02"),
    ("Inès", "Benali", "2011-11-30"),
    ("Lucas", "Martin", "2012-01-15"),
    ("Aïcha", "Traoré", "2013-06-07"),
    ("Yanis", "Le Gall", "2012-09-21"),
]
NEEDS = ["school_support", "orientation", "confidence", "digital"]
COMMUNES = ["93066", "93048", "93008"]  # Saint-Denis, Montreuil, Bobigny


def unaccented(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def spelled(rng: random.Random, text: str) -> str:
    """The same name as another actor might type it."""
    plain = unaccented(text)
    return rng.choice([text, text.upper(), plain.lower(), plain.replace("-", " ")])


def folded(text: str) -> str:
    return "".join(c for c in unaccented(text).lower() if c.isalnum())


@dataclass
class Reference:
    needs: dict[str, set[str]] = field(default_factory=dict)
    supported: dict[str, set[str]] = field(default_factory=dict)
    mentors: set[str] = field(default_factory=set)

    def waiting(self, need: str) -> int:
        return sum(
            1
            for person, needs in self.needs.items()
            if need in needs and need not in self.supported.get(person, set())
        )

    def supported_count(self, need: str) -> int:
        return sum(
            1
            for person, needs in self.needs.items()
            if need in needs and need in self.supported.get(person, set())
        )


def identity_of(rng: random.Random, person: tuple[str, str, str]) -> dict[str, str]:
    first, last, born = person
    return {"first_name": spelled(rng, first), "last_name": spelled(rng, last), "birth_date": born}


@pytest.mark.parametrize("seed", range(6))
def test_diagnostic_counts_each_person_once(
    seed: int,
    client: TestClient,
    admin: Actor,
    association: Actor,
    other_association: Actor,
    public_body: Actor,
) -> None:
    rng = random.Random(seed)
    reference = Reference()
    records: list[tuple[str, str]] = []  # (organisation, person) of each record
    for number in range(rng.randint(6, 12)):
        actor = rng.choice([association, other_association])
        needs = rng.sample(NEEDS, rng.randint(1, 3))
        fields: dict[str, object] = {
            "needs": needs,
            "location": {"insee": rng.choice(COMMUNES)},
            "birth_year": 2012,
        }
        if rng.random() < 0.75:
            person = rng.choice(PEOPLE)
            fields["identity"] = identity_of(rng, person)
            fields["birth_year"] = int(person[2][:4])
            key = folded(person[0] + person[1]) + person[2]
        else:
            key = f"anonymous-{number}"
        record = create(client, actor, "/v1/mentees", mentee_payload(**fields))
        records.append((str(actor.organisation_id), key))
        reference.needs.setdefault(key, set()).update(needs)
        if rng.random() < 0.3:
            need = rng.choice(needs)
            support = {"mentee_id": record["id"], "need": need, "start_date": "2026-01-05"}
            create(client, actor, "/v1/supports", support)
            reference.supported.setdefault(key, set()).add(need)
    for _ in range(rng.randint(0, 3)):
        person = rng.choice(PEOPLE)
        need = rng.choice(NEEDS)
        support = {"identity": identity_of(rng, person), "need": need, "start_date": "2026-01-05"}
        create(client, public_body, "/v1/supports", support)
        reference.supported.setdefault(folded(person[0] + person[1]) + person[2], set()).add(need)
    for number in range(rng.randint(1, 6)):
        actor = rng.choice([association, other_association])
        fields = {"skills": rng.sample(NEEDS, 2), "location": {"insee": rng.choice(COMMUNES)}}
        if rng.random() < 0.7:
            person = rng.choice(PEOPLE[:3])
            fields["identity"] = {
                **identity_of(rng, person),
                "birth_date": "1985" + person[2][4:],
            }
            reference.mentors.add(folded(person[0] + person[1]))
        else:
            reference.mentors.add(f"volunteer-{number}")
        create(client, actor, "/v1/mentors", mentor_payload(**fields))

    figures = client.get("/v1/territories/departments/93", headers=admin.headers).json()
    assert figures["young_people"] == len(reference.needs)
    assert figures["in_qpv"] == len(reference.needs)
    assert figures["mentors"] == len(reference.mentors)
    for need in NEEDS:
        assert figures["needs"][need]["waiting"] == reference.waiting(need), need
        assert figures["needs"][need]["supported"] == reference.supported_count(need), need
    # Each person is counted in one commune: the communes add up to the department.
    for measure in ("young_people", "mentors"):
        assert sum(c[measure] for c in figures["communes"]) == figures[measure]
    for need in NEEDS:
        waiting = sum(c["needs"][need]["waiting"] for c in figures["communes"])
        assert waiting == figures["needs"][need]["waiting"]
    people = figures["cross_organisation"]
    assert people["distinct_young_people"] == len(reference.needs)
    organisations: dict[str, set[str]] = {}
    for organisation, key in records:
        organisations.setdefault(key, set()).add(organisation)
    linked = sum(1 for _, key in records if len(organisations[key]) > 1)
    assert people["duplicate_referrals"] == linked
