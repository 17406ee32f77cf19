"""API fixtures: a client and a small cast of organisations with their keys."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.service import issue_key
from app.main import create_app
from app.organisations.models import Organisation
from app.vocabulary import OrganisationKind, Role


@dataclass
class Actor:
    """An organisation and an API key with one role."""

    organisation_id: uuid.UUID
    role: Role
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


class Cast:
    def __init__(self, session: Session) -> None:
        self.session = session

    def actor(self, kind: OrganisationKind, role: Role, name: str | None = None) -> Actor:
        organisation = Organisation(name=name or f"{kind.value} {uuid.uuid4().hex[:6]}", kind=kind)
        self.session.add(organisation)
        self.session.flush()
        _, key = issue_key(self.session, organisation_id=organisation.id, role=role, name="test")
        self.session.commit()
        return Actor(organisation.id, role, key)


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def cast(session: Session) -> Cast:
    return Cast(session)


@pytest.fixture
def admin(cast: Cast) -> Actor:
    return cast.actor(OrganisationKind.PUBLIC_BODY, Role.ADMIN, "Plateforme Binôme")


@pytest.fixture
def association(cast: Cast) -> Actor:
    return cast.actor(OrganisationKind.ASSOCIATION, Role.ASSOCIATION, "Proxité 93")


@pytest.fixture
def other_association(cast: Cast) -> Actor:
    return cast.actor(OrganisationKind.ASSOCIATION, Role.ASSOCIATION, "Article 1")


@pytest.fixture
def company(cast: Cast) -> Actor:
    return cast.actor(OrganisationKind.COMPANY, Role.COMPANY_HR, "Société Générale RH")


@pytest.fixture
def other_company(cast: Cast) -> Actor:
    return cast.actor(OrganisationKind.COMPANY, Role.COMPANY_HR, "Orange RH")


@pytest.fixture
def public_body(cast: Cast) -> Actor:
    return cast.actor(OrganisationKind.PUBLIC_BODY, Role.PUBLIC_BODY, "Cité éducative Saint-Denis")


def programme_payload(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Parrainage collégiens 93",
        "needs": ["school_support", "orientation", "confidence"],
        "departments": ["93"],
        "min_age": 11,
        "max_age": 18,
        "capacity": 50,
        **overrides,
    }


def mentor_payload(**overrides: Any) -> dict[str, Any]:
    return {
        "external_id": f"M-{uuid.uuid4().hex[:8]}",
        "kind": "volunteer",
        "location": {"insee": "93066"},
        "max_travel_km": 10,
        "capacity": 2,
        "skills": ["school_support", "orientation"],
        "languages": ["fr"],
        "background_check_valid_until": "2030-01-01",
        **overrides,
    }


def mentee_payload(**overrides: Any) -> dict[str, Any]:
    return {
        "external_id": f"J-{uuid.uuid4().hex[:8]}",
        "birth_year": 2012,
        "location": {"insee": "93066"},
        "qpv": True,
        "activity": "middle_school",
        "needs": ["school_support", "confidence"],
        "languages": ["fr"],
        "max_travel_km": 5,
        "waiting_since": "2026-09-01",
        **overrides,
    }
