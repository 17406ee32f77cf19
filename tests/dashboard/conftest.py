"""The demo territory with a year of match history, for the dashboard's pages."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import demo
from app.auth.models import ApiKey
from app.auth.service import digest
from app.db import utcnow
from app.matches.models import CloseReason, Match, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.programmes.models import Programme
from app.vocabulary import Role
from tests.api.conftest import *  # noqa: F403 - the API cast and client fixtures


def demo_with_history(session: Session) -> dict[Role, str]:
    """Load the demo, then pair some of its young people over the past year: matches
    started each month, some still active, some completed, some ended early, a few
    proposals; the company's employees among the mentors. Returns the demo's API keys."""
    keys = demo.load()
    rng = random.Random(13)
    association = select(ApiKey.organisation_id).where(
        ApiKey.digest == digest(keys[Role.ASSOCIATION])
    )
    programme = session.scalars(
        select(Programme).where(Programme.organisation_id.in_(association)).order_by(Programme.name)
    ).first()
    assert programme is not None
    mentees = list(session.scalars(select(Mentee).order_by(Mentee.external_id)))[:40]
    mentors = list(session.scalars(select(Mentor).order_by(Mentor.external_id)))
    employees = [m for m in mentors if m.employer_id is not None]
    now = utcnow()
    for index, mentee in enumerate(mentees):
        mentor = employees[index % len(employees)] if index % 3 == 0 else mentors[index]
        started = now - timedelta(days=rng.randint(5, 360))
        since = datetime.combine(mentee.waiting_since, datetime.min.time(), tzinfo=UTC)
        if started < since:  # nobody meets a mentor before being referred
            started = since + (now - since) / 2
        status, ended, reason = MatchStatus.ACTIVE, None, None
        if index % 4 == 1:
            status, ended, reason = (
                MatchStatus.CLOSED,
                started + timedelta(days=60),
                CloseReason.MENTEE_WITHDREW,
            )
        elif index % 4 == 2 and started < now - timedelta(days=200):
            status, ended, reason = (
                MatchStatus.CLOSED,
                started + timedelta(days=180),
                CloseReason.COMPLETED,
            )
        if ended is not None and ended > now:
            status, ended, reason = MatchStatus.ACTIVE, None, None
        proposed = index >= 36
        session.add(
            Match(
                organisation_id=programme.organisation_id,
                mentee_id=mentee.id,
                mentor_id=mentor.id,
                programme_id=programme.id,
                need=mentee.needs[0],
                status=MatchStatus.PROPOSED if proposed else status,
                proposed_at=started - timedelta(days=7),
                accepted_at=None if proposed else started - timedelta(days=3),
                started_at=None if proposed else started,
                ended_at=None if proposed else ended,
                close_reason=None if proposed else reason,
                expires_at=now + timedelta(days=10) if proposed else None,
            )
        )
    session.commit()
    return keys
