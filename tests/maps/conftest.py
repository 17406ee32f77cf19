"""A small territory with matches in every state, written straight to the database so
that the pictures have history to show without running the matcher."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import utcnow
from app.matches.models import CloseReason, Match, MatchStatus
from tests.api.conftest import *  # noqa: F403 - the API cast and client fixtures
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload


def create(client: TestClient, actor: Actor, path: str, payload: dict) -> dict:
    response = client.post(path, json=payload, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class History:
    programme: dict
    mentees: list[dict] = field(default_factory=list)
    mentors: list[dict] = field(default_factory=list)
    employees: list[dict] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)


def add_match(
    session: Session,
    history: History,
    mentee: dict,
    mentor: dict,
    status: MatchStatus,
    started: datetime | None = None,
    ended: datetime | None = None,
    reason: CloseReason | None = None,
) -> Match:
    match = Match(
        organisation_id=uuid.UUID(history.programme["organisation_id"]),
        mentee_id=uuid.UUID(mentee["id"]),
        mentor_id=uuid.UUID(mentor["id"]),
        programme_id=uuid.UUID(history.programme["id"]),
        need="school_support",
        status=status,
        proposed_at=(started or utcnow()) - timedelta(days=10),
        accepted_at=None if status is MatchStatus.PROPOSED else (started or utcnow()),
        started_at=started,
        ended_at=ended,
        close_reason=reason,
        expires_at=utcnow() + timedelta(days=14) if status is MatchStatus.PROPOSED else None,
    )
    session.add(match)
    session.commit()
    history.matches.append(match)
    return match


def make_history(
    client: TestClient, session: Session, association: Actor, company: Actor
) -> History:
    """In Seine-Saint-Denis, ten young people and six volunteers (two of them a company's
    employees): three matches still running, two closed (one completed, one ended early
    after a month), one proposal; four young people wait with nothing."""
    programme = create(client, association, "/v1/programmes", programme_payload())
    history = History(programme)
    for i in range(10):
        insee = "93066" if i < 7 else "93001"
        history.mentees.append(
            create(
                client,
                association,
                "/v1/mentees",
                mentee_payload(location={"insee": insee}, programme_ids=[programme["id"]]),
            )
        )
    for _ in range(4):
        history.mentors.append(
            create(
                client,
                association,
                "/v1/mentors",
                mentor_payload(capacity=1, programme_ids=[programme["id"]]),
            )
        )
    for _ in range(2):
        employee = create(
            client, company, "/v1/mentors", mentor_payload(kind="employee", capacity=2)
        )
        history.employees.append(employee)
    now = utcnow()
    m, e = history.mentees, history.mentors + history.employees
    add_match(session, history, m[0], e[0], MatchStatus.ACTIVE, now - timedelta(days=250))
    add_match(session, history, m[1], e[1], MatchStatus.ACTIVE, now - timedelta(days=40))
    add_match(session, history, m[2], e[4], MatchStatus.ACCEPTED)
    add_match(
        session, history, m[3], e[2], MatchStatus.CLOSED,
        now - timedelta(days=300), now - timedelta(days=100), CloseReason.COMPLETED,
    )  # fmt: skip
    add_match(
        session, history, m[4], e[5], MatchStatus.CLOSED,
        now - timedelta(days=90), now - timedelta(days=60), CloseReason.MENTEE_WITHDREW,
    )  # fmt: skip
    add_match(session, history, m[5], e[5], MatchStatus.PROPOSED)
    return history


@pytest.fixture
def history(client: TestClient, session: Session, association: Actor, company: Actor) -> History:
    return make_history(client, session, association, company)
