"""The unmatched young people of a run, filtered by the engine's reason codes."""

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import utcnow
from app.matching import REASONS
from app.runs.models import MatchingRun, RunMode, RunPhase, RunStatus, RunUnmatched
from app.runs.router import UnmatchedReason
from tests.api.conftest import Actor, mentee_payload


@pytest.fixture
def run_id(client: TestClient, session: Session, association: Actor) -> uuid.UUID:
    """A finished run of ``association`` that left two young people unmatched."""
    mentees = []
    for _ in range(2):
        response = client.post("/v1/mentees", json=mentee_payload(), headers=association.headers)
        assert response.status_code == 201, response.text
        mentees.append(uuid.UUID(response.json()["id"]))
    run = MatchingRun(
        organisation_id=association.organisation_id,
        mode=RunMode.DRY_RUN,
        status=RunStatus.SUCCEEDED,
        phase=RunPhase.DONE,
        run_date=utcnow().date(),
        requested_programme_ids=[],
        departments=[],
        programme_ids=[],
        policy={},
    )
    session.add(run)
    session.flush()
    for position, (mentee_id, reason) in enumerate(
        zip(mentees, ("no_programme", "capacity_exhausted"), strict=True)
    ):
        session.add(
            RunUnmatched(
                run_id=run.id,
                position=position,
                mentee_id=mentee_id,
                reason=reason,
                sentence=f"{reason} sentence",
            )
        )
    session.commit()
    return run.id


def test_the_reason_filter_knows_the_engine_codes() -> None:
    assert tuple(UnmatchedReason) == REASONS


def test_an_unknown_reason_is_a_named_422(
    client: TestClient, association: Actor, run_id: uuid.UUID
) -> None:
    response = client.get(
        f"/v1/matching-runs/{run_id}/unmatched?reason=bogus", headers=association.headers
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["query.reason"]
    assert "no_programme" in errors[0]["message"]


@pytest.mark.parametrize("reason", REASONS)
def test_each_reason_code_filters(
    client: TestClient, association: Actor, run_id: uuid.UUID, reason: str
) -> None:
    response = client.get(
        f"/v1/matching-runs/{run_id}/unmatched?reason={reason}", headers=association.headers
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [u["reason"] for u in items] == (
        [reason] if reason in ("no_programme", "capacity_exhausted") else []
    )


def test_without_reason_every_unmatched_is_listed(
    client: TestClient, association: Actor, run_id: uuid.UUID
) -> None:
    response = client.get(f"/v1/matching-runs/{run_id}/unmatched", headers=association.headers)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 2
