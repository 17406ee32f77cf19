"""Matches in a known state, written as a committed run writes them, for follow-up and
indicator tests (the runs themselves are tested in tests/runs)."""

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.matches.models import CloseReason, Match, MatchStatus
from tests.api.conftest import *  # noqa: F403 - the API cast and client fixtures
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload
from tests.runs.conftest import create


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


class Pairs:
    """A programme of an association, and a way to add matches to it."""

    def __init__(self, client: TestClient, session: Session, association: Actor) -> None:
        self.client, self.session, self.association = client, session, association
        self.programme = create(client, association, "/v1/programmes", programme_payload())

    def match(
        self,
        *,
        status: MatchStatus = MatchStatus.ACTIVE,
        started: date | None = date(2026, 1, 5),
        ended: date | None = None,
        reason: CloseReason | None = None,
        mentee: dict[str, Any] | None = None,
        proposed: date | None = None,
    ) -> uuid.UUID:
        mentor = create(
            self.client,
            self.association,
            "/v1/mentors",
            mentor_payload(programme_ids=[self.programme["id"]]),
        )
        young = create(
            self.client, self.association, "/v1/mentees", mentee_payload(**(mentee or {}))
        )
        begun = at(started) if started else None
        match = Match(
            organisation_id=self.association.organisation_id,
            mentee_id=uuid.UUID(young["id"]),
            mentor_id=uuid.UUID(mentor["id"]),
            programme_id=uuid.UUID(self.programme["id"]),
            need=young["needs"][0],
            status=status,
            proposed_at=at(proposed) if proposed else (begun or at(date(2026, 1, 1))),
            accepted_at=begun,
            started_at=begun,
            ended_at=at(ended) if ended else None,
            close_reason=reason,
        )
        self.session.add(match)
        self.session.commit()
        return match.id


@pytest.fixture
def pairs(client: TestClient, session: Session, association: Actor) -> Pairs:
    return Pairs(client, session, association)
