"""National tables kept in memory are recomputed after any change of the data."""

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.indicators import memo
from app.organisations.models import Organisation
from app.vocabulary import OrganisationKind
from tests.api.conftest import Actor, mentee_payload


def young_people(client: TestClient, actor: Actor) -> int:
    body = client.get("/v1/territories", headers=actor.headers).json()
    return body["national"]["young_people"]


def test_figures_follow_creations_updates_and_erasures(
    client: TestClient, association: Actor, admin: Actor
) -> None:
    assert young_people(client, admin) == 0
    created = [
        client.post("/v1/mentees", json=mentee_payload(), headers=association.headers).json()
        for _ in range(3)
    ]
    assert young_people(client, admin) == 3
    url = f"/v1/mentees/{created[0]['id']}"
    assert client.patch(url, json={"active": False}, headers=association.headers).status_code == 200
    assert young_people(client, admin) == 2
    assert (
        client.delete(f"/v1/mentees/{created[1]['id']}", headers=association.headers).status_code
        == 204
    )
    assert young_people(client, admin) == 1


def test_one_freshness_check_per_transaction_until_the_session_writes(session: Session) -> None:
    checks: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "count(*)" in statement.lower() and "union all" in statement.lower():
            checks.append(statement)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count)
    try:
        assert memo.remembered(session, "a", lambda: 1) == 1
        assert memo.remembered(session, "b", lambda: 2) == 2
        assert len(checks) == 1
        organisation = Organisation(name="Nouvelle association", kind=OrganisationKind.ASSOCIATION)
        session.add(organisation)
        session.flush()
        # The session wrote: the data may have changed, the check is made again.
        assert memo.remembered(session, "a", lambda: 3) in (1, 3)
        assert len(checks) == 2
        session.commit()
        memo.remembered(session, "a", lambda: 4)
        assert len(checks) == 3
    finally:
        event.remove(bind, "before_cursor_execute", count)
