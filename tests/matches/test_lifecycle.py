"""Match lifecycle: each legal transition, each illegal one (409), history, scope."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.db import utcnow
from app.matches.models import MatchStatus
from tests.api.conftest import Actor
from tests.matches.conftest import Pairing

ACTIONS = {
    "accept": {},
    "start": {},
    "close": {"reason": "completed"},
    "decline": {"reason": "mentee_declined"},
}
LEGAL = {
    MatchStatus.PROPOSED: {"accept", "decline"},
    MatchStatus.ACCEPTED: {"start", "close"},
    MatchStatus.ACTIVE: {"close"},
    MatchStatus.CLOSED: set(),
    MatchStatus.DECLINED: set(),
    MatchStatus.EXPIRED: set(),
    MatchStatus.SUPERSEDED: set(),
}
RESULT = {
    "accept": "accepted",
    "start": "active",
    "close": "closed",
    "decline": "declined",
}


def act(client: TestClient, actor: Actor, match_id, action: str, body: dict | None = None):
    return client.post(
        f"/v1/matches/{match_id}/{action}",
        json=ACTIONS[action] if body is None else body,
        headers=actor.headers,
    )


def test_full_lifecycle_with_history(
    client: TestClient, pairing: Pairing, association: Actor
) -> None:
    match = pairing.match()
    response = act(client, association, match.id, "accept", {"note": "appel le 3/12"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "accepted"
    assert body["accepted_at"] is not None
    assert body["expires_at"] is None
    assert act(client, association, match.id, "start").json()["status"] == "active"
    closed = act(
        client, association, match.id, "close", {"reason": "completed", "note": "fin d'année"}
    ).json()
    assert closed["status"] == "closed"
    assert closed["close_reason"] == "completed"
    assert closed["reason_note"] == "fin d'année"
    assert closed["ended_at"] is not None

    history = client.get(f"/v1/matches/{match.id}/history", headers=association.headers)
    assert history.status_code == 200, history.text
    events = history.json()["items"]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, "proposed"),
        ("proposed", "accepted"),
        ("accepted", "active"),
        ("active", "closed"),
    ]
    assert events[0]["actor_key_id"] is None  # made by the system (a run)
    assert {e["actor_organisation_id"] for e in events[1:]} == {str(association.organisation_id)}
    assert all(e["actor_key_id"] for e in events[1:])
    assert events[1]["note"] == "appel le 3/12"
    assert events[3]["reason"] == "completed"


def test_decline_with_reason(client: TestClient, pairing: Pairing, association: Actor) -> None:
    match = pairing.match()
    response = act(
        client, association, match.id, "decline", {"reason": "incompatibility", "note": "x"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "declined"
    assert response.json()["decline_reason"] == "incompatibility"


def test_close_from_accepted_is_allowed(
    client: TestClient, pairing: Pairing, association: Actor
) -> None:
    match = pairing.match(MatchStatus.ACCEPTED)
    response = act(client, association, match.id, "close", {"reason": "mentee_withdrew"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("status", list(LEGAL))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_transition_matrix(
    client: TestClient, pairing: Pairing, association: Actor, status: MatchStatus, action: str
) -> None:
    match = pairing.match(status)
    response = act(client, association, match.id, action)
    if action in LEGAL[status]:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == RESULT[action]
    else:
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["status"] == 409
        assert problem["type"].endswith("/conflict")
        assert problem["detail"].startswith(f"cannot {action} a match that is {status.value}")
        assert set(problem["allowed_actions"]) == LEGAL[status]
        assert problem["current_status"] == status.value
        # Nothing changed, nothing recorded.
        history = client.get(f"/v1/matches/{match.id}/history", headers=association.headers)
        assert history.json()["total"] == 1


def test_reasons_are_required_and_coded(
    client: TestClient, pairing: Pairing, association: Actor
) -> None:
    match = pairing.match(MatchStatus.ACTIVE)
    assert act(client, association, match.id, "close", {}).status_code == 422
    bad = act(client, association, match.id, "close", {"reason": "bored"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "reason"


def test_expired_proposal_cannot_be_accepted(
    client: TestClient, pairing: Pairing, association: Actor
) -> None:
    match = pairing.match(expires_at=utcnow() - timedelta(minutes=1))
    read = client.get(f"/v1/matches/{match.id}", headers=association.headers).json()
    assert read["status"] == "expired"
    response = act(client, association, match.id, "accept")
    assert response.status_code == 409
    assert "expired" in response.json()["detail"]
    listed = client.get("/v1/matches?status=expired", headers=association.headers).json()
    assert [m["id"] for m in listed["items"]] == [str(match.id)]
    assert (
        client.get("/v1/matches?status=proposed", headers=association.headers).json()["total"] == 0
    )


def test_expire_due_records_the_expiry(pairing: Pairing, session) -> None:
    from app.matches import service

    due = pairing.match(expires_at=utcnow() - timedelta(minutes=1))
    fresh = pairing.match(mentee=1)
    assert service.expire_due(session) == 1
    session.commit()
    session.refresh(due)
    session.refresh(fresh)
    assert due.status is MatchStatus.EXPIRED
    assert fresh.status is MatchStatus.PROPOSED


def test_list_filters(client: TestClient, pairing: Pairing, association: Actor) -> None:
    first = pairing.match()
    second = pairing.match(MatchStatus.ACTIVE, mentee=1, need="orientation")
    headers = association.headers

    def ids(query: str) -> list[str]:
        response = client.get(f"/v1/matches?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()["items"]]

    assert ids("") == [str(first.id), str(second.id)]
    assert ids("status=active") == [str(second.id)]
    assert ids(f"mentee_id={pairing.mentee_ids[0]}") == [str(first.id)]
    assert ids(f"mentor_id={pairing.mentor_id}") == [str(first.id), str(second.id)]
    assert ids(f"programme_id={pairing.programme_id}&need=orientation") == [str(second.id)]
    assert ids("department=93") == [str(first.id), str(second.id)]
    assert ids("department=75") == []
    assert client.get("/v1/matches?department=XX", headers=headers).status_code == 422


def test_scope(
    client: TestClient,
    pairing: Pairing,
    admin: Actor,
    association: Actor,
    other_association: Actor,
    company: Actor,
    other_company: Actor,
    public_body: Actor,
) -> None:
    match = pairing.match()
    url = f"/v1/matches/{match.id}"
    # Admins see everything.
    assert client.get(url, headers=admin.headers).status_code == 200
    assert client.get("/v1/matches", headers=admin.headers).json()["total"] == 1
    # Another association neither sees nor acts.
    assert client.get(url, headers=other_association.headers).status_code == 404
    assert client.get("/v1/matches", headers=other_association.headers).json()["total"] == 0
    assert act(client, other_association, match.id, "accept").status_code == 404
    # HR sees that its employee is matched, and the status, and nothing of the young person.
    seen = client.get(url, headers=company.headers)
    assert seen.status_code == 200
    assert set(seen.json()) == {
        "id",
        "mentor_id",
        "programme_id",
        "status",
        "proposed_at",
        "accepted_at",
        "started_at",
        "ended_at",
    }
    listed = client.get("/v1/matches", headers=company.headers).json()
    assert listed["total"] == 1
    assert "mentee_id" not in listed["items"][0]
    assert act(client, company, match.id, "accept").status_code == 403
    assert client.get(f"{url}/history", headers=company.headers).status_code == 403
    assert client.get(url, headers=other_company.headers).status_code == 404
    # Public bodies see no individual match.
    assert client.get("/v1/matches", headers=public_body.headers).status_code == 403
    # Admins act on any match.
    assert act(client, admin, match.id, "accept").status_code == 200


def test_referring_association_sees_but_does_not_act(
    client: TestClient, pairing: Pairing, other_association: Actor, session
) -> None:
    """A young person referred by one association, matched in another's programme."""
    from app.mentees.models import Mentee

    match = pairing.match()
    mentee = session.get(Mentee, match.mentee_id)
    mentee.organisation_id = other_association.organisation_id
    session.commit()
    assert (
        client.get(f"/v1/matches/{match.id}", headers=other_association.headers).status_code == 200
    )
    assert act(client, other_association, match.id, "accept").status_code == 403


def test_erasing_a_young_person_keeps_their_match_anonymous(
    client: TestClient, pairing: Pairing, association: Actor
) -> None:
    match = pairing.match(MatchStatus.ACTIVE)
    deleted = client.delete(f"/v1/mentees/{match.mentee_id}", headers=association.headers)
    assert deleted.status_code == 204
    kept = client.get(f"/v1/matches/{match.id}", headers=association.headers)
    assert kept.status_code == 200
    body = kept.json()
    # Unlinked from the person, ended with a coded reason, its statistics kept.
    assert body["mentee_id"] is None
    assert body["status"] == "closed"
    assert body["close_reason"] == "mentee_withdrew"
    assert body["need"] == match.need
    history = client.get(f"/v1/matches/{match.id}/history", headers=association.headers).json()[
        "items"
    ]
    assert [line["to_status"] for line in history][-1] == "closed"
    assert history[-1]["reason"] == "erased"
