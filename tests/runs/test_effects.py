"""What runs read from and do to matches: never-again pairs, capacity, expiry, active
matches as support, reconsidered proposals and the diff; scope and validation."""

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db import engine_for, utcnow
from app.matches.models import Match
from app.mentors.models import Mentor
from app.runs.snapshot import snapshot_session
from tests.api.conftest import Actor, mentee_payload, mentor_payload, programme_payload
from tests.runs.conftest import Territory, Workers, create, finished, submit


def run(client: TestClient, actor: Actor, **body) -> dict:
    done = finished(client, actor, submit(client, actor, **body)["id"])
    assert done["status"] == "succeeded", done
    return done


def proposals(client: TestClient, actor: Actor, run_id: str) -> list[dict]:
    response = client.get(f"/v1/matching-runs/{run_id}/proposals?limit=500", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def unmatched(client: TestClient, actor: Actor, run_id: str) -> dict[str, str]:
    response = client.get(f"/v1/matching-runs/{run_id}/unmatched", headers=actor.headers)
    return {u["mentee_id"]: u["reason"] for u in response.json()["items"]}


def post(client: TestClient, actor: Actor, path: str, body: dict | None = None) -> dict:
    response = client.post(path, json=body or {}, headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def single_seat(client: TestClient, association: Actor) -> dict:
    """One volunteer with room for one young person, two young people wanting one."""
    programme = create(client, association, "/v1/programmes", programme_payload())
    mentor = create(
        client,
        association,
        "/v1/mentors",
        mentor_payload(capacity=1, programme_ids=[programme["id"]]),
    )
    mentees = [
        create(client, association, "/v1/mentees", mentee_payload(needs=["school_support"]))
        for _ in range(2)
    ]
    return {"programme": programme, "mentor": mentor, "mentees": mentees}


def test_never_again_pairs(
    client: TestClient, association: Actor, territory: Territory, workers: Workers
) -> None:
    workers.start()
    first = run(client, association, mode="commit")
    pairs = {p["mentee_id"]: p for p in proposals(client, association, first["id"])}
    declined, closed = sorted(pairs)[:2]
    post(
        client,
        association,
        f"/v1/matches/{pairs[declined]['match_id']}/decline",
        {"reason": "incompatibility"},
    )
    closing = pairs[closed]["match_id"]
    post(client, association, f"/v1/matches/{closing}/accept")
    post(client, association, f"/v1/matches/{closing}/start")
    post(client, association, f"/v1/matches/{closing}/close", {"reason": "incompatibility"})

    second = run(client, association, mode="dry_run")
    again = {p["mentee_id"]: p for p in proposals(client, association, second["id"])}
    assert second["stats"]["snapshot"]["excluded_pairs"] == 2
    for mentee in (declined, closed):
        assert mentee in again  # matched again, with someone else
        assert again[mentee]["mentor_id"] != pairs[mentee]["mentor_id"]


def test_capacity_released_on_close(
    client: TestClient, association: Actor, single_seat: dict, workers: Workers
) -> None:
    workers.start()
    first = run(client, association, mode="commit")
    [proposal] = proposals(client, association, first["id"])
    waiting = next(m["id"] for m in single_seat["mentees"] if m["id"] != proposal["mentee_id"])
    assert unmatched(client, association, first["id"]) == {waiting: "capacity_exhausted"}

    match_id = proposal["match_id"]
    post(client, association, f"/v1/matches/{match_id}/accept")
    post(client, association, f"/v1/matches/{match_id}/start")
    full = run(client, association, mode="dry_run")
    assert proposals(client, association, full["id"]) == []
    # The matched young person's need is covered by the active match.
    assert unmatched(client, association, full["id"]) == {
        waiting: "capacity_exhausted",
        proposal["mentee_id"]: "all_needs_supported",
    }

    post(client, association, f"/v1/matches/{match_id}/close", {"reason": "completed"})
    freed = run(client, association, mode="dry_run")
    assert len(proposals(client, association, freed["id"])) == 1


def test_expired_proposal_frees_capacity(
    client: TestClient, association: Actor, single_seat: dict, workers: Workers, db_url: str
) -> None:
    workers.start()
    first = run(client, association, mode="commit")
    [proposal] = proposals(client, association, first["id"])
    assert proposals(client, association, run(client, association, mode="dry_run")["id"]) == []

    with engine_for(db_url).begin() as connection:
        connection.execute(update(Match).values(expires_at=utcnow() - timedelta(minutes=1)))
    match = client.get(f"/v1/matches/{proposal['match_id']}", headers=association.headers)
    assert match.json()["status"] == "expired"
    committed = run(client, association, mode="commit")
    assert len(proposals(client, association, committed["id"])) == 1
    history = client.get(
        f"/v1/matches/{proposal['match_id']}/history", headers=association.headers
    ).json()
    # Recorded once, by the committed run or by the housekeeping sweep that may pass first.
    expiries = [item for item in history["items"] if item["to_status"] == "expired"]
    assert len(expiries) == 1
    assert history["items"][-1]["to_status"] == "expired"
    assert committed["stats"]["written"]["expired"] <= 1


def test_reconsidering_unaccepted_proposals(
    client: TestClient,
    association: Actor,
    territory: Territory,
    workers: Workers,
    db_url: str,
) -> None:
    workers.start()
    first = run(client, association, mode="commit")
    before = {p["match_id"] for p in proposals(client, association, first["id"])}

    # Default: running matches stay; nothing new to propose.
    kept = run(client, association, mode="commit")
    assert kept["diff"] == {
        "new": 0,
        "kept": 0,
        "replaces": 0,
        "withdrawn": [],
        "untouched": 5,
        "changes": [],
    }
    assert proposals(client, association, kept["id"]) == []

    # Asked to reconsider: the same optimum keeps every proposal as it is.
    same = run(client, association, mode="commit", keep_running=False)
    assert same["diff"]["kept"] == 5
    assert same["diff"]["changes"] == []
    assert {p["match_id"] for p in proposals(client, association, same["id"])} == before

    # A volunteer leaves: their proposals are replaced or withdrawn.
    gone = territory.mentors[0]["id"]
    held = sum(p["mentor_id"] == gone for p in proposals(client, association, same["id"]))
    gone_id = uuid.UUID(gone)
    with engine_for(db_url).begin() as connection:
        connection.execute(update(Mentor).where(Mentor.id == gone_id).values(active=False))
    third = run(client, association, mode="commit", keep_running=False)
    diff = client.get(f"/v1/matching-runs/{third['id']}/diff", headers=association.headers).json()
    made = proposals(client, association, third["id"])
    assert len(made) == 4  # two volunteers left, two seats each
    assert diff["counts"]["new"] + diff["counts"]["kept"] + diff["counts"]["replaces"] == 4
    superseded = client.get("/v1/matches?status=superseded", headers=association.headers)
    moved = diff["counts"]["replaces"] + diff["counts"]["withdrawn"]
    assert superseded.json()["total"] == moved
    assert superseded.json()["total"] >= held  # at least the leaving volunteer's
    # Each pair not proposed again says why: the leaving volunteer's are no longer
    # feasible; no other pair changes (every seat left is taken already: nothing to
    # gain by moving anyone).
    changes = third["diff"]["changes"]
    assert len(changes) == moved == held
    assert {c["reason"] for c in changes} == {"no_longer_feasible"}
    assert {c["mentor_id"] for c in changes} == {gone}
    replaced = [e for e in diff["items"] if e["change"] == "replaces"]
    assert {e["proposal_id"] for e in replaced} == {
        p["id"] for p in made if p["change"] == "replaces"
    }
    assert all(e["previous_match_id"] for e in replaced)
    # Entries: the proposals in order, then the withdrawn proposals; paged like any list.
    assert diff["total"] == len(made) + diff["counts"]["withdrawn"]
    assert [e["proposal_id"] for e in diff["items"][: len(made)]] == [p["id"] for p in made]
    withdrawn = {e["match_id"] for e in diff["items"] if e["change"] == "withdrawn"}
    assert len(withdrawn) == diff["counts"]["withdrawn"]
    assert withdrawn <= {m["id"] for m in superseded.json()["items"]}
    url = f"/v1/matching-runs/{third['id']}/diff"
    pages = [
        client.get(f"{url}?limit=1&offset={i}", headers=association.headers).json()["items"]
        for i in range(diff["total"])
    ]
    assert [p[0] for p in pages] == diff["items"]
    only = client.get(f"{url}?change=withdrawn", headers=association.headers).json()
    assert only["total"] == diff["counts"]["withdrawn"]
    assert {e["match_id"] for e in only["items"]} == withdrawn
    live = client.get("/v1/matches?status=proposed", headers=association.headers).json()
    assert live["total"] == 4
    assert gone not in {m["mentor_id"] for m in live["items"]}


def test_scope_and_validation(
    client: TestClient,
    admin: Actor,
    association: Actor,
    other_association: Actor,
    company: Actor,
    public_body: Actor,
    territory: Territory,
    workers: Workers,
) -> None:
    theirs = create(client, other_association, "/v1/programmes", programme_payload())
    url = "/v1/matching-runs"

    def status(actor: Actor, body: dict) -> tuple[int, dict]:
        response = client.post(url, json=body, headers=actor.headers)
        return response.status_code, response.json()

    code, body = status(association, {"programme_ids": [theirs["id"]]})
    assert code == 422
    assert body["errors"][0]["field"] == "programme_ids[0]"
    code, body = status(association, {"departments": ["13"]})
    assert (code, body["errors"][0]["field"]) == (422, "departments")
    code, body = status(association, {"policy": {"weights": {"qpv": 5000}}})
    assert (code, body["errors"][0]["field"]) == (422, "policy.weights.qpv")
    code, body = status(association, {"policy": {"colour": "blue"}})
    assert (code, body["errors"][0]["field"]) == (422, "policy.colour")
    code, body = status(association, {"policy": {"mip_time_limit_s": 4000}})
    assert (code, body["errors"][0]["field"]) == (422, "policy.mip_time_limit_s")
    assert status(company, {})[0] == 403
    assert status(public_body, {})[0] == 403

    workers.start()
    mine = run(client, association, mode="dry_run", departments=["93"])
    assert mine["programme_ids"] == [territory.programme["id"]]
    assert client.get(f"{url}/{mine['id']}", headers=other_association.headers).status_code == 404
    assert client.get(url, headers=other_association.headers).json()["total"] == 0
    assert (
        client.get(f"{url}/{mine['id']}/proposals", headers=other_association.headers).status_code
        == 404
    )
    assert client.get(url, headers=admin.headers).json()["total"] == 1
    # An admin's default scope is every active programme.
    everything = run(client, admin, mode="dry_run")
    assert set(everything["programme_ids"]) == {territory.programme["id"], theirs["id"]}


def test_snapshot_is_consistent(db_url: str, association: Actor, client: TestClient) -> None:
    """Rows committed while a snapshot is open are invisible to it."""
    from sqlalchemy import func, select

    engine = engine_for(db_url)
    with snapshot_session(engine) as snapshot:
        before = snapshot.scalar(select(func.count()).select_from(Mentor))
        create(client, association, "/v1/mentors", mentor_payload())
        with Session(engine) as other:
            assert other.scalar(select(func.count()).select_from(Mentor)) == before + 1
        assert snapshot.scalar(select(func.count()).select_from(Mentor)) == before
