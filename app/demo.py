"""A demo territory in Seine-Saint-Denis, so a fresh install has something to match.

Deterministic (fixed seed). It is loaded only into an empty database (no organisation
yet): never next to real data. Its API keys are random, drawn for this database, and
printed once; only their digests are stored, like every key.
"""

import random
import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.service import Caller, issue_key
from app.db import new_session
from app.followup.history import load_demo_history
from app.identity.rotation import ensure_demo_secret
from app.locations import LocationIn
from app.mentees import service as mentees
from app.mentees.schemas import MenteeCreate
from app.mentors import service as mentors
from app.mentors.schemas import MentorCreate
from app.organisations.models import Organisation
from app.programmes import service as programmes
from app.programmes.schemas import ProgrammeCreate
from app.supports.models import Support
from app.vocabulary import Activity, MentorKind, Need, OrganisationKind, Role, RuralZone

DEMO_ROLES = (Role.ADMIN, Role.ASSOCIATION, Role.COMPANY_HR, Role.PUBLIC_BODY)


class DatabaseNotEmpty(Exception):
    """The demo is refused: the database already holds organisations."""


# Communes of Seine-Saint-Denis, most of them with priority neighbourhoods (QPV).
COMMUNES = [
    "93066",
    "93001",
    "93008",
    "93048",
    "93055",
    "93070",
    "93010",
    "93005",
    "93071",
    "93014",
]
LANGUAGES = ["fr", "ar", "en", "es", "pt", "wol", "ta", "zh"]


def load() -> dict[Role, str]:
    """Load the demo into an empty database; the new API keys, by role (shown once). The
    demo's database gets an identity key of its own (a file beside it), so that its
    referrals may carry an identity."""
    ensure_demo_secret()  # idempotent: a later start of the demo finds the same key
    with new_session() as session:
        if session.scalars(select(Organisation.id).limit(1)).first() is not None:
            raise DatabaseNotEmpty(
                "the database is not empty: the demo is loaded only into a new database "
                "(set BINOME_DATABASE_URL to another one); `binome create-admin-key` "
                "issues a new admin key"
            )
        keys: dict[Role, str] = {}
        _populate(session, random.Random(93), keys)
        session.commit()
    return keys


def key_lines(keys: dict[Role, str]) -> list[str]:
    return [
        "demo territory loaded (Seine-Saint-Denis); its API keys, shown only now:",
        *(f"  {role.value:<12} X-API-Key: {key}" for role, key in keys.items()),
    ]


def _organisation(session: Session, name: str, kind: OrganisationKind) -> Organisation:
    organisation = Organisation(name=name, kind=kind)
    session.add(organisation)
    session.flush()
    return organisation


def _demo_key(
    session: Session, organisation: Organisation, role: Role, keys: dict[Role, str]
) -> Caller:
    key, plaintext = issue_key(session, organisation_id=organisation.id, role=role, name="demo key")
    keys[role] = plaintext
    return Caller(key_id=key.id, organisation_id=organisation.id, role=role)


def _populate(session: Session, rng: random.Random, keys: dict[Role, str]) -> None:
    platform = _organisation(session, "Binôme (plateforme)", OrganisationKind.PUBLIC_BODY)
    admin = _demo_key(session, platform, Role.ADMIN, keys)
    proxite = _organisation(session, "Parrainer 93", OrganisationKind.ASSOCIATION)
    _demo_key(session, proxite, Role.ASSOCIATION, keys)
    emploi = _organisation(session, "Tremplin Emploi Île-de-France", OrganisationKind.ASSOCIATION)
    company = _organisation(session, "Groupe Alto", OrganisationKind.COMPANY)
    _demo_key(session, company, Role.COMPANY_HR, keys)
    cite = _organisation(session, "Cité éducative de Saint-Denis", OrganisationKind.PUBLIC_BODY)
    _demo_key(session, cite, Role.PUBLIC_BODY, keys)
    prefecture = _organisation(
        session, "Préfecture de la Seine-Saint-Denis", OrganisationKind.PUBLIC_BODY
    )

    college = programmes.create(
        session,
        admin,
        ProgrammeCreate(
            organisation_id=proxite.id,
            name="Parrainage collégiens et lycéens",
            needs=[Need.SCHOOL_SUPPORT, Need.ORIENTATION, Need.CONFIDENCE, Need.FRENCH_LANGUAGE],
            departments=["93"],
            min_age=11,
            max_age=18,
            capacity=25,
        ),
    )
    insertion = programmes.create(
        session,
        admin,
        ProgrammeCreate(
            organisation_id=emploi.id,
            name="Vers l'emploi et les études",
            needs=[
                Need.EMPLOYMENT,
                Need.ORIENTATION,
                Need.HIGHER_EDUCATION,
                Need.ENTREPRENEURSHIP,
                Need.DIGITAL,
            ],
            departments=["93"],
            min_age=16,
            max_age=30,
            capacity=20,
            remote_allowed=True,
        ),
    )
    employers = {MentorKind.EMPLOYEE: company.id, MentorKind.CIVIL_SERVANT: prefecture.id}
    kinds = (
        [MentorKind.EMPLOYEE] * 14
        + [MentorKind.CIVIL_SERVANT] * 6
        + [MentorKind.STUDENT] * 8
        + [MentorKind.VOLUNTEER] * 12
    )
    for index, kind in enumerate(kinds):
        submitter = company.id if kind is MentorKind.EMPLOYEE else proxite.id
        joined = [college.id] if index % 3 else [college.id, insertion.id]
        if kind is MentorKind.EMPLOYEE and index % 2:
            joined = [insertion.id]
        mentors.create(
            session,
            admin,
            MentorCreate(
                organisation_id=submitter,
                external_id=f"DEMO-M-{index + 1:03d}",
                kind=kind,
                employer_id=employers.get(kind),
                location=LocationIn(insee=rng.choice(COMMUNES)),
                max_travel_km=rng.choice([5, 8, 10, 15]),
                remote_ok=rng.random() < 0.3,
                capacity=rng.choice([1, 1, 2, 2, 3]),
                skills=rng.sample(list(Need), rng.randint(2, 4)),
                languages=["fr", *rng.sample(LANGUAGES[1:], rng.randint(0, 1))],
                background_check_valid_until=None if index % 7 == 0 else date(2027, 9, 30),
                programme_ids=joined,
            ),
        )
    today = date.today()
    for index in range(80):
        age = rng.randint(12, 24)
        mentee = mentees.create(
            session,
            admin,
            MenteeCreate(
                organisation_id=proxite.id,
                external_id=f"DEMO-J-{index + 1:03d}",
                birth_year=today.year - age,
                location=LocationIn(insee=rng.choice(COMMUNES)),
                qpv=rng.random() < 0.7,
                rural_zone=RuralZone.NONE,
                activity=_activity(age, rng),
                needs=rng.sample(_needs_for(age), rng.randint(1, 3)),
                languages=["fr", *rng.sample(LANGUAGES[1:], rng.randint(0, 1))],
                remote_ok=age >= 16 and rng.random() < 0.4,
                max_travel_km=rng.choice([3, 5, 8]),
                waiting_since=today - timedelta(days=rng.randint(0, 240)),
            ),
        )
        if index % 5 == 0:
            session.add(
                Support(
                    id=uuid.uuid4(),
                    organisation_id=proxite.id,
                    mentee_id=mentee.id,
                    provider_id=cite.id,
                    need=mentee.needs[0],
                    start_date=today - timedelta(days=60),
                )
            )
    session.flush()
    load_demo_history(session, random.Random(94), today)


def _needs_for(age: int) -> list[Need]:
    if age < 16:
        return [Need.SCHOOL_SUPPORT, Need.ORIENTATION, Need.CONFIDENCE, Need.FRENCH_LANGUAGE]
    return [Need.ORIENTATION, Need.EMPLOYMENT, Need.HIGHER_EDUCATION, Need.CONFIDENCE, Need.DIGITAL]


def _activity(age: int, rng: random.Random) -> Activity:
    if age < 15:
        return Activity.MIDDLE_SCHOOL
    if age < 18:
        return rng.choice([Activity.HIGH_SCHOOL, Activity.VOCATIONAL_TRAINING])
    return rng.choice(
        [
            Activity.HIGHER_EDUCATION,
            Activity.JOB_SEEKING,
            Activity.EMPLOYED,
            Activity.NOT_IN_EDUCATION,
        ]
    )
