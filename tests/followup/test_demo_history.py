"""The demo loads a year of follow-up, written within the rules of the service."""

from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli import main
from app.followup.models import Meeting
from app.main import create_app
from app.matches.models import ENGAGED_STATUSES, Match
from app.mentors.models import Mentor
from app.programmes.models import Programme
from app.vocabulary import Role
from tests.test_cli import printed_keys


def test_the_demo_has_a_year_of_follow_up(
    db_url: str, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    keys = printed_keys(capsys.readouterr().out)
    matches = list(session.scalars(select(Match)))
    assert len(matches) >= 15
    running = Counter(m.mentor_id for m in matches if m.status in ENGAGED_STATUSES)
    for mentor in session.scalars(select(Mentor)):
        assert running[mentor.id] <= mentor.capacity
    by_programme = Counter(m.programme_id for m in matches if m.status in ENGAGED_STATUSES)
    for programme in session.scalars(select(Programme)):
        assert by_programme[programme.id] <= programme.capacity
    for meeting in session.scalars(select(Meeting)):
        match = session.get(Match, meeting.match_id)
        assert match is not None
        assert match.started_at is not None
        assert match.started_at.date() <= meeting.held_on
        assert match.ended_at is None or meeting.held_on <= match.ended_at.date()
    with TestClient(create_app()) as client:
        admin = {"X-API-Key": keys[Role.ADMIN.value]}
        body = client.get("/v1/indicators?scope=department&code=93", headers=admin).json()
        got = {(f["indicator"], f["breakdown"]): f["value"] for f in body["figures"]}
        assert got[("matches_started", None)] >= 15
        assert got[("meetings_per_active_month", None)] > 1
        assert got[("retention_6_months", None)] is not None
