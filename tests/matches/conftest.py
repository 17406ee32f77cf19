"""Fixtures of the match tests: the API cast, and pairs created directly in the database."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import utcnow
from app.matches import service
from app.matches.models import Match, MatchStatus
from tests.api.conftest import *  # noqa: F403 - the API cast and client fixtures
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload


def create(client: TestClient, actor: Actor, path: str, payload: dict) -> dict:
    response = client.post(path, json=payload, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class Pairing:
    """A programme of ``association``, a volunteer employed by ``company`` serving in it,
    and two young people referred by ``association``."""

    session: Session
    association: Actor
    programme_id: uuid.UUID
    mentor_id: uuid.UUID
    mentee_ids: list[uuid.UUID]

    def match(
        self,
        status: MatchStatus = MatchStatus.PROPOSED,
        *,
        mentee: int = 0,
        expires_at: datetime | None = None,
        need: str = "school_support",
    ) -> Match:
        match = service.propose(
            self.session,
            organisation_id=self.association.organisation_id,
            mentee_id=self.mentee_ids[mentee],
            mentor_id=self.mentor_id,
            programme_id=self.programme_id,
            need=need,
            expires_at=expires_at or utcnow() + timedelta(days=14),
            distance_km=1.5,
            score=420,
        )
        match.status = status
        self.session.commit()
        return match


@pytest.fixture
def pairing(client, session, association, company) -> Pairing:
    programme = create(client, association, "/v1/programmes", programme_payload())
    mentor = create(
        client,
        company,
        "/v1/mentors",
        mentor_payload(kind="employee", programme_ids=[programme["id"]]),
    )
    mentees = [create(client, association, "/v1/mentees", mentee_payload()) for _ in range(2)]
    return Pairing(
        session,
        association,
        uuid.UUID(programme["id"]),
        uuid.UUID(mentor["id"]),
        [uuid.UUID(m["id"]) for m in mentees],
    )
