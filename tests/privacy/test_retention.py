"""Retention: people without activity for the retention period are erased (dry run by
default), their closed matches kept as anonymous statistics."""

import uuid
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.cli import main
from app.db import engine_for, utcnow
from app.matches import service as matches
from app.matches.models import CloseReason, Match, MatchStatus
from app.mentees.models import Mentee
from app.mentors.models import Mentor
from app.privacy import retention
from app.supports.models import Support
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload

YEARS_AGO = utcnow() - timedelta(days=3 * 365)
MONTHS_AGO = utcnow() - timedelta(days=100)


class People:
    def __init__(self, client: TestClient, session: Session, association: Actor) -> None:
        self.client, self.session, self.association = client, session, association
        self.programme = self._post("/v1/programmes", programme_payload())

    def _post(self, path: str, payload: dict) -> dict:
        response = self.client.post(path, json=payload, headers=self.association.headers)
        assert response.status_code == 201, response.text
        return response.json()

    def mentee(self, last_change: object) -> uuid.UUID:
        mentee_id = uuid.UUID(self._post("/v1/mentees", mentee_payload())["id"])
        self.age(Mentee, mentee_id, last_change)
        return mentee_id

    def mentor(self, last_change: object) -> uuid.UUID:
        mentor_id = uuid.UUID(self._post("/v1/mentors", mentor_payload())["id"])
        self.age(Mentor, mentor_id, last_change)
        return mentor_id

    def age(self, model: type, record_id: uuid.UUID, when: object) -> None:
        self.session.execute(
            update(model).where(model.id == record_id).values(updated_at=when, created_at=when)
        )
        self.session.commit()

    def match(
        self, mentee_id: uuid.UUID, mentor_id: uuid.UUID, status: MatchStatus, when: object
    ) -> uuid.UUID:
        match = matches.propose(
            self.session,
            organisation_id=self.association.organisation_id,
            mentee_id=mentee_id,
            mentor_id=mentor_id,
            programme_id=uuid.UUID(self.programme["id"]),
            need="school_support",
            expires_at=None,
        )
        if status is MatchStatus.CLOSED:
            match.status, match.close_reason = status, CloseReason.COMPLETED
        else:
            match.status = status
        self.session.flush()
        self.session.execute(update(Match).where(Match.id == match.id).values(updated_at=when))
        self.session.commit()
        return match.id


@pytest.fixture
def people(client: TestClient, session: Session, association: Actor) -> People:
    return People(client, session, association)


def test_purge_erases_only_people_inactive_for_the_period(
    people: People, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    forgotten = people.mentee(YEARS_AGO)
    recent = people.mentee(MONTHS_AGO)
    closed_long_ago = people.mentee(YEARS_AGO)
    closed_recently = people.mentee(YEARS_AGO)
    still_matched = people.mentee(YEARS_AGO)
    supported = people.mentee(YEARS_AGO)
    session.add(
        Support(
            organisation_id=people.association.organisation_id,
            mentee_id=supported,
            provider_id=people.association.organisation_id,
            need="confidence",
            start_date=date(2020, 1, 1),
            created_at=YEARS_AGO,
            updated_at=YEARS_AGO,
        )
    )
    session.commit()
    idle_mentor = people.mentor(YEARS_AGO)
    busy_mentor = people.mentor(YEARS_AGO)
    old_match = people.match(closed_long_ago, idle_mentor, MatchStatus.CLOSED, YEARS_AGO)
    people.match(closed_recently, busy_mentor, MatchStatus.CLOSED, MONTHS_AGO)
    people.match(still_matched, busy_mentor, MatchStatus.ACTIVE, YEARS_AGO)

    # Dry run by default: it tells, and changes nothing.
    assert main(["purge"]) == 0
    out = capsys.readouterr().out
    assert "would erase 2 young people and 1 volunteers" in out
    assert session.scalar(select(Mentee.id).where(Mentee.id == forgotten)) == forgotten

    assert main(["purge", "--apply"]) == 0
    assert "erased 2 young people and 1 volunteers" in capsys.readouterr().out
    session.expire_all()
    left = set(session.scalars(select(Mentee.id)))
    assert left == {recent, closed_recently, still_matched, supported}
    assert set(session.scalars(select(Mentor.id))) == {busy_mentor}
    # The closed match stays, anonymous, as a statistic.
    kept = session.get(Match, old_match)
    assert kept is not None
    assert (kept.mentee_id, kept.mentor_id) == (None, None)
    assert (kept.status, kept.close_reason) == (MatchStatus.CLOSED, CloseReason.COMPLETED)
    purged = set(session.scalars(select(AuditEntry.record_id).where(AuditEntry.action == "purge")))
    assert purged == {forgotten, closed_long_ago, idle_mentor}
    # Nothing left to do.
    assert main(["purge", "--apply"]) == 0
    assert "erased 0 young people and 0 volunteers" in capsys.readouterr().out


def test_the_period_is_configurable(people: People, session: Session) -> None:
    months = people.mentee(MONTHS_AGO)
    report = retention.purge(session, apply=False)
    assert report.mentees == []
    report = retention.purge(session, apply=True, retention_days=90)
    session.commit()
    assert report.mentees == [months]


def test_periodic_retention_applies_at_most_once_per_interval(
    people: People, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    forgotten = people.mentee(YEARS_AGO)
    monkeypatch.setattr(retention, "_last_periodic", None)
    report = retention.periodic(engine_for(db_url))
    assert report is not None
    assert report.mentees == [forgotten]
    people.mentee(YEARS_AGO)
    assert retention.periodic(engine_for(db_url)) is None, "not again within the interval"


def test_audit_entries_older_than_a_year_go_with_retention(session: Session) -> None:
    old = audit.record(
        session,
        audit.Action.CREATE,
        audit.RecordType.MENTEE,
        uuid.uuid4(),
        organisation_id=None,
        at=utcnow() - timedelta(days=400),
    )
    session.commit()
    dry = retention.purge(session, apply=False)
    assert dry.audit_entries == 1
    assert retention.purge(session, apply=True).audit_entries == 1
    session.commit()
    assert session.scalar(select(AuditEntry.id).where(AuditEntry.id == old.id)) is None
