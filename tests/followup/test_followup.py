"""Meetings and check-ins of running pairs, one at a time and by CSV."""

from datetime import date, timedelta

from fastapi.testclient import TestClient

from app.matches.models import CloseReason, MatchStatus
from tests.api.conftest import Actor
from tests.followup.conftest import Pairs


def meet(client: TestClient, actor: Actor, match_id: object, **body: object):
    payload = {"date": "2026-02-01", "minutes": 60, "mode": "in_person", **body}
    return client.post(f"/v1/matches/{match_id}/meetings", json=payload, headers=actor.headers)


def test_the_association_records_and_reads_meetings(
    client: TestClient, pairs: Pairs, association: Actor
) -> None:
    match_id = pairs.match()
    assert meet(client, association, match_id).status_code == 201
    assert meet(client, association, match_id, date="2026-01-20", mode="remote").status_code == 201
    listed = client.get(f"/v1/matches/{match_id}/meetings", headers=association.headers).json()
    assert [(m["date"], m["mode"], m["minutes"]) for m in listed] == [
        ("2026-01-20", "remote", 60),
        ("2026-02-01", "in_person", 60),
    ]


def test_meetings_outside_the_life_of_the_match_are_refused(
    client: TestClient, pairs: Pairs, association: Actor
) -> None:
    closed = pairs.match(
        status=MatchStatus.CLOSED, ended=date(2026, 3, 1), reason=CloseReason.COMPLETED
    )
    before = meet(client, association, closed, date="2026-01-01")
    assert before.status_code == 422
    assert "before the match started" in before.json()["detail"]
    after = meet(client, association, closed, date="2026-03-02")
    assert after.status_code == 422
    assert "after the match was closed" in after.json()["detail"]
    future = meet(client, association, pairs.match(), date=str(date.today() + timedelta(days=1)))
    assert future.status_code == 422
    assert "future" in future.json()["detail"]
    accepted = pairs.match(status=MatchStatus.ACCEPTED, started=None)
    assert meet(client, association, accepted).status_code == 409
    assert meet(client, association, closed, minutes=0).status_code == 422
    assert meet(client, association, closed, mode="phone").status_code == 422
    assert client.get(f"/v1/matches/{closed}/meetings", headers=association.headers).json() == []


def test_only_the_running_association_writes_follow_up(
    client: TestClient,
    pairs: Pairs,
    other_association: Actor,
    company: Actor,
    public_body: Actor,
    admin: Actor,
) -> None:
    match_id = pairs.match()
    assert meet(client, other_association, match_id).status_code == 404
    assert meet(client, public_body, match_id).status_code == 403
    assert client.get(f"/v1/matches/{match_id}/meetings", headers=company.headers).status_code in (
        403,
        404,
    )
    assert meet(client, admin, match_id).status_code == 201


def test_check_ins_carry_two_ratings_and_a_coded_concern(
    client: TestClient, pairs: Pairs, association: Actor
) -> None:
    match_id = pairs.match()
    url = f"/v1/matches/{match_id}/check-ins"
    body = {"date": "2026-02-01", "mentor_rating": 4, "mentee_rating": 2, "concern": "scheduling"}
    assert client.post(url, json=body, headers=association.headers).status_code == 201
    for wrong in (
        {"date": "2026-02-01"},
        {"date": "2026-02-01", "mentor_rating": 6},
        {"date": "2026-02-01", "mentee_rating": 3, "concern": "a free text note"},
    ):
        assert client.post(url, json=wrong, headers=association.headers).status_code == 422
    (read,) = client.get(url, headers=association.headers).json()
    assert (read["mentor_rating"], read["mentee_rating"], read["concern"]) == (4, 2, "scheduling")


def csv_import(client: TestClient, actor: Actor, text: str):
    return client.post(
        "/v1/meetings/import",
        content=text.encode(),
        headers={**actor.headers, "Content-Type": "text/csv"},
    )


def test_meetings_import_all_or_nothing(
    client: TestClient, pairs: Pairs, association: Actor, other_association: Actor
) -> None:
    first, second = pairs.match(), pairs.match()
    good = f"match_id;date;minutes;mode\n{first};2026-02-01;45;remote\n{second};2026-02-03;60;in_person\n"
    bad = (
        good
        + f"{second};2025-12-01;60;in_person\nnot-an-id;2026-02-01;60;remote\n{first};2026-02-01;60;walk\n"
    )
    refused = csv_import(client, association, bad)
    assert refused.status_code == 422, refused.text
    assert [(e["row"], e["field"]) for e in refused.json()["errors"]] == [
        (4, "date"),
        (5, "match_id"),
        (6, "mode"),
    ]
    assert client.get(f"/v1/matches/{first}/meetings", headers=association.headers).json() == []
    assert csv_import(client, other_association, good).status_code == 422  # not its matches
    done = csv_import(client, association, good)
    assert done.status_code == 201
    assert done.json() == {"created": 2}
    assert (
        len(client.get(f"/v1/matches/{second}/meetings", headers=association.headers).json()) == 1
    )
    wrong_header = csv_import(client, association, "match;date;minutes;mode\n")
    assert wrong_header.status_code == 422
    assert "missing: match_id" in wrong_header.json()["detail"]
