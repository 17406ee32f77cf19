"""The common impact measure through the API: definitions applied to known matches."""

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from app.matches.models import CloseReason, MatchStatus
from tests.api.conftest import Actor
from tests.followup.conftest import Pairs

PERIOD = {"start": "2025-01-01", "end": str(date.today())}


def figures(
    client: TestClient, actor: Actor, **params: str
) -> dict[tuple[str, str | None], object]:
    response = client.get("/v1/indicators", params={**PERIOD, **params}, headers=actor.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["definition_version"]
    return {(f["indicator"], f["breakdown"]): f["value"] for f in body["figures"]}


@pytest.fixture
def history(pairs: Pairs) -> Pairs:
    """Six matches started on 2026-01-05 by young people waiting since 2025-12-06 (30
    days): two broke down (day 40 and day 200), one completed at day 250, three run on."""
    start = date(2026, 1, 5)
    mentee = {"waiting_since": "2025-12-06"}
    pairs.match(
        status=MatchStatus.CLOSED,
        ended=start + timedelta(days=40),
        reason=CloseReason.MENTEE_WITHDREW,
        mentee=mentee,
    )
    pairs.match(
        status=MatchStatus.CLOSED,
        ended=start + timedelta(days=200),
        reason=CloseReason.MOVED_AWAY,
        mentee=mentee,
    )
    pairs.match(
        status=MatchStatus.CLOSED,
        ended=start + timedelta(days=250),
        reason=CloseReason.COMPLETED,
        mentee=mentee,
    )
    for _ in range(3):
        pairs.match(mentee=mentee)
    return pairs


def test_indicators_follow_their_definitions(
    client: TestClient, history: Pairs, admin: Actor
) -> None:
    got = figures(client, admin, scope="department", code="93")
    assert got[("matches_started", None)] == 6
    assert got[("young_people_mentored", None)] == 6
    assert got[("young_people_referred", None)] == 6
    assert got[("median_days_to_first_meeting", None)] == 30
    assert got[("closed_before_3_months", None)] == pytest.approx(1 / 6, abs=1e-4)
    assert got[("closed_before_6_months", None)] == pytest.approx(1 / 6, abs=1e-4)
    # Kaplan–Meier: 5/6 after day 40; at day 200 five at risk, one breaks down.
    assert got[("retention_6_months", None)] == pytest.approx(5 / 6, abs=1e-4)
    assert got[("retention_12_months", None)] == pytest.approx(5 / 6 * 4 / 5, abs=1e-4)
    assert got[("matches_closed", None)] == 3
    assert got[("matches_closed", "completed")] == 1
    assert got[("reach_mentored", "qpv")] == 6
    assert got[("reach_mentored_share", "minors")] == 1.0
    assert got[("duplicate_referrals", None)] == 0  # no record linked to another
    assert figures(client, admin, scope="department", code="75")[("matches_started", None)] == 0
    assert figures(client, admin)[("matches_started", None)] == 6
    assert figures(client, admin, scope="region", code="11")[("matches_started", None)] == 6


def test_meetings_per_active_month(
    client: TestClient, pairs: Pairs, association: Actor, admin: Actor
) -> None:
    match_id = pairs.match(
        started=date(2026, 3, 1),
        ended=date(2026, 3, 30),
        status=MatchStatus.CLOSED,
        reason=CloseReason.COMPLETED,
    )
    for held, day in enumerate(("2026-03-01", "2026-03-15"), start=1):
        body = {"date": day, "minutes": 60, "mode": "remote"}
        url = f"/v1/matches/{match_id}/meetings"
        assert client.post(url, json=body, headers=association.headers).status_code == 201
        got = figures(client, admin, scope="programme", code=pairs.programme["id"])
        # One, then two meetings over 30 active days (the figures kept in memory
        # follow each meeting recorded).
        rate = got[("meetings_per_active_month", None)]
        assert rate == pytest.approx(held / (30 / 30.4375), abs=1e-3)


def test_small_counts_are_withheld_for_every_role_but_admin(
    client: TestClient, pairs: Pairs, admin: Actor, public_body: Actor, association: Actor
) -> None:
    for _ in range(3):
        pairs.match()
    assert figures(client, admin, scope="department", code="93")[("matches_started", None)] == 3
    for actor in (public_body, association):
        for params in (
            {"scope": "department", "code": "93"},
            {},
            {"scope": "region", "code": "11"},
        ):
            got = figures(client, actor, **params)
            assert got[("matches_started", None)] is None
            assert got[("retention_6_months", None)] is None
            assert got[("median_days_to_first_meeting", None)] is None


def test_organisation_and_programme_scopes_are_their_owners(
    client: TestClient, pairs: Pairs, association: Actor, other_association: Actor, admin: Actor
) -> None:
    programme = {"scope": "programme", "code": pairs.programme["id"]}
    own = {"scope": "organisation", "code": str(association.organisation_id)}
    for params in (programme, own):
        assert (
            client.get("/v1/indicators", params=params, headers=association.headers).status_code
            == 200
        )
        assert (
            client.get(
                "/v1/indicators", params=params, headers=other_association.headers
            ).status_code
            == 403
        )
        assert client.get("/v1/indicators", params=params, headers=admin.headers).status_code == 200
    for wrong in (
        {"scope": "department", "code": "999"},
        {"scope": "programme"},
        {"scope": "region", "code": "99"},
        {"scope": "organisation", "code": "x"},
        {"start": "2026-02-01", "end": "2026-01-01"},
        # A number is not a date, although pydantic would read it as a Unix timestamp.
        {"start": "0"},
        {"end": "20260101"},
    ):
        assert client.get("/v1/indicators", params=wrong, headers=admin.headers).status_code == 422
