"""Events reach a real HTTP receiver, signed, only for organisations that may read them."""

import hashlib
import hmac
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import engine_for, utcnow
from app.matches.models import MatchStatus
from app.runs.execution import mark_failed
from app.runs.models import MatchingRun, RunMode, RunPhase, RunStatus
from app.webhooks.models import WebhookDelivery
from tests.webhooks.conftest import register, settle


def expected_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, written from docs/webhooks.md."""
    parts = dict(p.split("=", 1) for p in headers["binome-signature"].split(","))
    mac = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
    fresh = abs(time.time() - int(parts["t"])) < 300
    return fresh and hmac.compare_digest(mac.hexdigest(), parts["v1"])


def test_accepted_match_is_posted_signed_with_external_ids(
    client, db_url, pairing, receiver, association
):
    hook = register(client, association, receiver.url, ["match.accepted"])
    assert hook["secret"].startswith("whsec_")
    assert (
        "secret" not in client.get(f"/v1/webhooks/{hook['id']}", headers=association.headers).json()
    )
    match = pairing.match()
    response = client.post(f"/v1/matches/{match.id}/accept", json={}, headers=association.headers)
    assert response.status_code == 200, response.text
    settle(db_url)

    (request,) = receiver.of_type("match.accepted")
    assert request.path == "/hooks"
    assert request.headers["content-type"] == "application/json"
    assert expected_signature(hook["secret"], request.headers, request.body)
    assert not expected_signature("another secret of 16+", request.headers, request.body)
    event = request.json
    assert event["type"] == "match.accepted"
    assert request.headers["binome-event-id"] == event["id"]
    data = event["data"]["match"]
    assert data["id"] == str(match.id)
    assert data["status"] == "accepted"
    mentee = client.get(f"/v1/mentees/{match.mentee_id}", headers=association.headers).json()
    assert data["mentee_external_id"] == mentee["external_id"]
    assert data["mentor_external_id"]

    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=association.headers)
    assert log.status_code == 200
    (delivery,) = log.json()["items"]
    assert delivery["status"] == "succeeded"
    assert delivery["attempts"] == 1
    assert delivery["log"][0]["status_code"] == 200


def test_only_organisations_that_may_read_receive(
    client, db_url, pairing, receiver, association, other_association, admin
):
    register(
        client, other_association, receiver.url + "/other", ["match.accepted", "match.declined"]
    )
    register(client, admin, receiver.url + "/admin", ["match.accepted"])
    mine = register(client, association, receiver.url + "/mine", ["match.declined"])
    match = pairing.match()
    client.post(f"/v1/matches/{match.id}/accept", json={}, headers=association.headers)
    other = pairing.match(mentee=1)
    client.post(
        f"/v1/matches/{other.id}/decline",
        json={"reason": "unavailable"},
        headers=association.headers,
    )
    settle(db_url)
    paths = sorted((r.path, r.headers["binome-event-type"]) for r in receiver.requests)
    assert paths == [("/hooks/admin", "match.accepted"), ("/hooks/mine", "match.declined")]
    # Nor may one organisation read another's endpoint or its log.
    assert (
        client.get(f"/v1/webhooks/{mine['id']}", headers=other_association.headers).status_code
        == 404
    )
    assert (
        client.get(
            f"/v1/webhooks/{mine['id']}/deliveries", headers=other_association.headers
        ).status_code
        == 404
    )


def test_roles_without_individual_records_register_nothing(client, company, public_body, receiver):
    for actor in (company, public_body):
        response = client.post(
            "/v1/webhooks",
            json={"url": receiver.url, "events": ["match.accepted"]},
            headers=actor.headers,
        )
        assert response.status_code == 403


def test_bad_registrations_are_422_naming_the_field(client, association):
    cases = [
        ({"url": "ftp://example.org/x", "events": ["match.accepted"]}, "url"),
        # Tests only let endpoints point at this machine (BINOME_WEBHOOK_ALLOWED_HOSTS).
        ({"url": "https://example.org/x", "events": ["match.accepted"]}, "url"),
        ({"url": "https://example.org/x", "events": []}, "events"),
        ({"url": "https://example.org/x", "events": ["match.teleported"]}, "events"),
        ({"url": "https://example.org/x", "events": ["ping"]}, "events"),
        ({"url": "https://example.org/x", "events": ["run.failed"], "secret": "short"}, "secret"),
    ]
    for body, field in cases:
        response = client.post("/v1/webhooks", json=body, headers=association.headers)
        assert response.status_code == 422, body
        assert any(e["field"].startswith(field) for e in response.json()["errors"]), response.json()


def test_a_change_rolled_back_sends_nothing(client, db_url, pairing, receiver, association):
    from app.auth.service import authenticate
    from app.matches import service

    register(client, association, receiver.url, ["match.accepted"])
    match = pairing.match()
    with Session(engine_for(db_url)) as session:
        caller = authenticate(session, association.key)
        service.accept(session, caller, match.id, None)
        session.rollback()
    settle(db_url)
    assert receiver.requests == []
    with Session(engine_for(db_url)) as session:
        assert session.query(WebhookDelivery).count() == 0


def test_failed_attempts_are_retried_with_backoff(client, db_url, pairing, receiver, association):
    receiver.statuses = [500, 503, 200]
    hook = register(client, association, receiver.url, ["match.accepted"])
    match = pairing.match()
    client.post(f"/v1/matches/{match.id}/accept", json={}, headers=association.headers)
    settle(db_url)
    engine = engine_for(db_url)
    base = get_settings().webhook_backoff_seconds
    delays = []
    for _ in range(2):
        with Session(engine) as session:
            delivery = session.query(WebhookDelivery).one()
            assert delivery.status == "pending"
            last = delivery.log[-1]
            delays.append((delivery.next_attempt_at - utcnow()).total_seconds())
            assert last["status_code"] in (500, 503)
            # Time passes: the retry is due.
            session.execute(
                update(WebhookDelivery).values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
            session.commit()
        settle(db_url)
    assert base * 0.9 < delays[0] <= base
    assert 2 * base * 0.9 < delays[1] <= 2 * base
    assert len(receiver.requests) == 3
    assert len({r.headers["binome-event-id"] for r in receiver.requests}) == 1
    (delivery,) = client.get(
        f"/v1/webhooks/{hook['id']}/deliveries", headers=association.headers
    ).json()["items"]
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["log"]] == [500, 503, 200]
    assert "receiver says no" in delivery["log"][0]["error"]


def test_an_endpoint_failing_repeatedly_is_disabled_then_reenabled(
    client, db_url, pairing, receiver, association, monkeypatch
):
    monkeypatch.setenv("BINOME_WEBHOOK_DISABLE_AFTER", "3")
    monkeypatch.setenv("BINOME_WEBHOOK_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    receiver.statuses = [500]
    hook = register(client, association, receiver.url, ["match.accepted", "match.declined"])
    engine = engine_for(db_url)
    for mentee in (0, 1):
        match = pairing.match(mentee=mentee)
        client.post(f"/v1/matches/{match.id}/accept", json={}, headers=association.headers)
    for _ in range(3):
        settle(db_url)
        with Session(engine) as session:
            session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
            session.commit()
    settle(db_url)
    read = client.get(f"/v1/webhooks/{hook['id']}", headers=association.headers).json()
    assert read["active"] is False
    assert read["consecutive_failures"] == 3
    assert "3 consecutive failed attempts" in read["disabled_reason"]
    assert len(receiver.requests) == 3  # nothing more once disabled
    items = client.get(
        f"/v1/webhooks/{hook['id']}/deliveries?status=failed", headers=association.headers
    ).json()["items"]
    assert len(items) == 1
    assert items[0]["attempts"] == 2  # max attempts reached

    receiver.statuses = [200]
    response = client.patch(
        f"/v1/webhooks/{hook['id']}", json={"active": True}, headers=association.headers
    )
    assert response.json()["active"] is True
    assert response.json()["consecutive_failures"] == 0
    settle(db_url)
    pending = client.get(
        f"/v1/webhooks/{hook['id']}/deliveries?status=succeeded", headers=association.headers
    )
    assert pending.json()["total"] == 1  # the second event, retried once re-enabled


def test_redelivery_sends_the_same_event_again(client, db_url, pairing, receiver, association):
    hook = register(client, association, receiver.url, ["match.accepted"])
    match = pairing.match()
    client.post(f"/v1/matches/{match.id}/accept", json={}, headers=association.headers)
    settle(db_url)
    (first,) = client.get(
        f"/v1/webhooks/{hook['id']}/deliveries", headers=association.headers
    ).json()["items"]
    response = client.post(
        f"/v1/webhooks/{hook['id']}/deliveries/{first['id']}/redeliver", headers=association.headers
    )
    assert response.status_code == 202
    assert response.json()["redelivery_of"] == first["id"]
    settle(db_url)
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    detail = client.get(
        f"/v1/webhooks/{hook['id']}/deliveries/{response.json()['id']}", headers=association.headers
    ).json()
    assert detail["status"] == "succeeded"
    assert detail["payload"]["data"]["match"]["id"] == str(match.id)


def test_ping(client, db_url, receiver, association):
    hook = register(client, association, receiver.url, ["run.succeeded"])
    response = client.post(f"/v1/webhooks/{hook['id']}/ping", headers=association.headers)
    assert response.status_code == 202
    settle(db_url)
    (request,) = receiver.requests
    assert request.json["type"] == "ping"


def _queued_run(db_url: str, organisation_id: uuid.UUID) -> uuid.UUID:
    run = MatchingRun(
        organisation_id=organisation_id,
        mode=RunMode.DRY_RUN,
        status=RunStatus.QUEUED,
        run_date=utcnow().date(),
        requested_programme_ids=[],
        departments=[],
        programme_ids=[str(uuid.uuid4())],
        policy={},
        keep_running=True,
        phase=RunPhase.QUEUED,
    )
    with Session(engine_for(db_url)) as session:
        session.add(run)
        session.commit()
        return run.id


def test_runs_ending_are_events(client, db_url, receiver, association, other_association):
    register(client, association, receiver.url, ["run.cancelled", "run.failed", "run.succeeded"])
    register(client, other_association, receiver.url + "/other", ["run.cancelled", "run.failed"])
    cancelled = _queued_run(db_url, association.organisation_id)
    failed = _queued_run(db_url, association.organisation_id)
    response = client.post(f"/v1/matching-runs/{cancelled}/cancel", headers=association.headers)
    assert response.status_code == 202, response.text
    mark_failed(engine_for(db_url), failed, "the solver fell over")
    settle(db_url)
    got = {r.json["data"]["run"]["id"]: r.json for r in receiver.requests}
    assert set(got) == {str(cancelled), str(failed)}
    assert got[str(cancelled)]["type"] == "run.cancelled"
    assert got[str(cancelled)]["data"]["run"]["finished_at"] is not None
    assert got[str(failed)]["type"] == "run.failed"
    assert got[str(failed)]["data"]["run"]["error"] == "the solver fell over"
    assert all(r.path == "/hooks" for r in receiver.requests)


def test_import_and_erasure_are_events(client, db_url, receiver, association):
    register(client, association, receiver.url, ["import.finished", "erasure.done"])
    csv = (
        "external_id;birth_year;insee;needs;activity\nJ-1;2012;93066;school_support;middle_school\n"
    )
    response = client.post(
        "/v1/mentees/import",
        content=csv.encode(),
        headers={**association.headers, "content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    mentee_id = client.get("/v1/mentees?external_id=J-1", headers=association.headers).json()[
        "items"
    ][0]["id"]
    assert client.delete(f"/v1/mentees/{mentee_id}", headers=association.headers).status_code == 204
    settle(db_url)
    by_type = {r.json["type"]: r.json["data"] for r in receiver.requests}
    assert by_type["import.finished"]["import"]["counts"]["created"] == 1
    assert by_type["import.finished"]["import"]["id"] == response.json()["id"]
    # The record's id only: its external id would outlive the erasure in the log.
    assert by_type["erasure.done"] == {
        "mentee_id": mentee_id,
        "organisation_id": str(association.organisation_id),
    }


@pytest.mark.parametrize("status", [MatchStatus.PROPOSED])
def test_unsubscribed_events_write_nothing(client, db_url, pairing, association, status):
    match = pairing.match(status)
    client.post(f"/v1/matches/{match.id}/accept", json={}, headers=association.headers)
    with Session(engine_for(db_url)) as session:
        assert session.query(WebhookDelivery).count() == 0
