"""Concurrent state changes: exactly one of N parallel transitions wins, the rest 409."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import engine_for
from app.matches.models import Match, MatchEvent, MatchStatus
from tests.api.conftest import Actor
from tests.matches.conftest import Pairing

PARALLEL = 8
BODIES = {"accept": {}, "decline": {"reason": "mentee_declined"}}


def race(client: TestClient, actor: Actor, match_id: object, actions: list[str]) -> list[int]:
    """Fire every action at once (a barrier releases them together)."""
    barrier = threading.Barrier(len(actions))

    def call(action: str) -> int:
        barrier.wait()
        response = client.post(
            f"/v1/matches/{match_id}/{action}", json=BODIES[action], headers=actor.headers
        )
        assert response.status_code in (200, 409), response.text
        if response.status_code == 409:
            assert response.headers["content-type"].startswith("application/problem+json")
        return response.status_code

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(call, actions))


def test_parallel_accepts_one_wins(
    client: TestClient, pairing: Pairing, association: Actor, db_url: str
) -> None:
    for round_ in range(3):
        match = pairing.match(mentee=round_ % 2, need=("school_support", "confidence")[round_ // 2])
        codes = race(client, association, match.id, ["accept"] * PARALLEL)
        assert Counter(codes) == {200: 1, 409: PARALLEL - 1}
        with Session(engine_for(db_url)) as session:
            events = session.scalars(
                select(MatchEvent.to_status).where(MatchEvent.match_id == match.id)
            ).all()
            assert sorted(events) == sorted([MatchStatus.PROPOSED, MatchStatus.ACCEPTED])


def test_parallel_accept_and_decline_leave_a_consistent_history(
    client: TestClient, pairing: Pairing, association: Actor, db_url: str
) -> None:
    for round_ in range(3):
        match = pairing.match(mentee=round_ % 2, need=("school_support", "confidence")[round_ // 2])
        actions = ["accept", "decline"] * (PARALLEL // 2)
        codes = race(client, association, match.id, actions)
        assert Counter(codes) == {200: 1, 409: PARALLEL - 1}
        with Session(engine_for(db_url)) as session:
            stored = session.get_one(Match, match.id)
            events = session.scalars(
                select(MatchEvent).where(MatchEvent.match_id == match.id)
            ).all()
            moves = sorted((e.from_status or "", e.to_status) for e in events)
            assert len(moves) == 2
            assert ("", MatchStatus.PROPOSED) in moves
            assert ("proposed", stored.status) in moves
            if stored.status is MatchStatus.ACCEPTED:
                assert stored.decline_reason is None
                assert stored.accepted_at is not None
            else:
                assert stored.status is MatchStatus.DECLINED
                assert stored.decline_reason is not None
                assert stored.accepted_at is None
